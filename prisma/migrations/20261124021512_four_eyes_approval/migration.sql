-- AlterEnum
ALTER TYPE "IntentStatus" ADD VALUE 'awaiting_approval';

-- AlterTable
ALTER TABLE "trade_intents" ADD COLUMN     "approvalMessageId" TEXT;
