-- AlterTable
ALTER TABLE "trade_intents" ADD COLUMN     "sharedChat" BOOLEAN NOT NULL DEFAULT false;
