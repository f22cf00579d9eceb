-- A replayed message shows its intent's unattached card once more, never twice more.
-- See docs/architecture.md, "Durability".
-- AlterTable
ALTER TABLE "trade_intents" ADD COLUMN     "cardResentAt" TIMESTAMP(3);
