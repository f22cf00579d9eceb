-- AlterTable
ALTER TABLE "inbound_events" ADD COLUMN     "handlerId" UUID;

-- AlterTable
ALTER TABLE "trade_intents" ADD COLUMN     "heldBy" UUID;

-- CreateTable
CREATE TABLE "arbion_processes" (
    "id" UUID NOT NULL,
    "host" TEXT NOT NULL,
    "pid" INTEGER NOT NULL,
    "startedAt" TIMESTAMP(3) NOT NULL,
    "heartbeatAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "arbion_processes_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "arbion_processes_heartbeatAt_idx" ON "arbion_processes"("heartbeatAt");
