-- AlterTable
ALTER TABLE "trade_intents" ADD COLUMN     "swap" JSONB;
