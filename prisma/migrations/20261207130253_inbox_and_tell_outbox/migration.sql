-- The inbox (inbound_events, replacing processed_deliveries) and the told-status outbox of
-- trade intents. See docs/architecture.md, "Durability".
-- AlterTable
ALTER TABLE "trade_intents" ADD COLUMN     "nextTellAt" TIMESTAMP(3),
ADD COLUMN     "tellAttempts" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "tellFailure" TEXT,
ADD COLUMN     "tellPending" BOOLEAN NOT NULL DEFAULT false,
ADD COLUMN     "toldStatus" "IntentStatus";

-- Intents from before the outbox: their cards show their status already.
UPDATE "trade_intents" SET "toldStatus" = "status";

-- CreateTable
CREATE TABLE "inbound_events" (
    "id" BIGSERIAL NOT NULL,
    "platform" "Platform" NOT NULL,
    "deliveryId" TEXT NOT NULL,
    "chatKey" TEXT NOT NULL,
    "message" JSONB NOT NULL,
    "receivedAt" TIMESTAMP(3) NOT NULL,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "handledAt" TIMESTAMP(3),

    CONSTRAINT "inbound_events_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "inbound_events_handledAt_id_idx" ON "inbound_events"("handledAt", "id");

-- CreateIndex
CREATE INDEX "inbound_events_receivedAt_idx" ON "inbound_events"("receivedAt");

-- CreateIndex
CREATE UNIQUE INDEX "inbound_events_platform_deliveryId_key" ON "inbound_events"("platform", "deliveryId");

-- CreateIndex
CREATE INDEX "trade_intents_tellPending_updatedAt_idx" ON "trade_intents"("tellPending", "updatedAt");

-- The inbox replaces the de-duplication table: deliveries handled before the upgrade stay
-- known (a late redelivery is still dropped), as handled events with no message.
INSERT INTO "inbound_events" ("platform", "deliveryId", "chatKey", "message", "receivedAt", "handledAt")
SELECT "platform", "deliveryId", '', '{}'::jsonb, "receivedAt", "receivedAt" FROM "processed_deliveries";

-- DropTable
DROP TABLE "processed_deliveries";
