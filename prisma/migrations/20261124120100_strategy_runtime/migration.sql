-- AlterTable
ALTER TABLE "strategies" ADD COLUMN     "limitsConfirmedAt" TIMESTAMP(3),
ADD COLUMN     "peakEquity" DECIMAL(38,18),
ADD COLUMN     "state" JSONB NOT NULL DEFAULT '{}';

-- AlterTable
ALTER TABLE "strategy_runs" ADD COLUMN     "tick" TIMESTAMP(3) NOT NULL;

-- AlterTable
ALTER TABLE "trade_intents" ADD COLUMN     "strategyTag" TEXT;

-- CreateIndex
CREATE UNIQUE INDEX "strategy_runs_strategyId_tick_key" ON "strategy_runs"("strategyId", "tick");

-- CreateIndex
CREATE INDEX "trade_intents_strategyId_status_idx" ON "trade_intents"("strategyId", "status");
