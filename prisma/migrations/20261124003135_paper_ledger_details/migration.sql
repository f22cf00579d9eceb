-- AlterTable
ALTER TABLE "paper_fills" ADD COLUMN     "realizedPnl" DECIMAL(38,18) NOT NULL DEFAULT 0;

-- AlterTable
ALTER TABLE "paper_orders" ADD COLUMN     "optionExpiry" TEXT,
ADD COLUMN     "optionRight" "OptionRight",
ADD COLUMN     "optionStrike" DECIMAL(38,18),
ADD COLUMN     "optionUnderlying" TEXT,
ADD COLUMN     "triggeredAt" TIMESTAMP(3);

-- CreateIndex
CREATE INDEX "paper_fills_filledAt_idx" ON "paper_fills"("filledAt");
