-- "cancel all" shows a card listing the orders, and its Confirm is claimed once from this row.
-- See core/conversation/order-cancels.ts.
-- CreateEnum
CREATE TYPE "CancelRequestStatus" AS ENUM ('open', 'confirmed', 'kept', 'expired');

-- CreateTable
CREATE TABLE "cancel_requests" (
    "id" UUID NOT NULL,
    "userId" UUID NOT NULL,
    "platform" "Platform" NOT NULL,
    "workspaceExternalId" TEXT NOT NULL DEFAULT '',
    "chatId" TEXT NOT NULL,
    "orderIds" UUID[],
    "status" "CancelRequestStatus" NOT NULL DEFAULT 'open',
    "expiresAt" TIMESTAMP(3) NOT NULL,
    "decidedAt" TIMESTAMP(3),
    "doneAt" TIMESTAMP(3),
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "cancel_requests_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "cancel_requests_userId_createdAt_idx" ON "cancel_requests"("userId", "createdAt");

-- AddForeignKey
ALTER TABLE "cancel_requests" ADD CONSTRAINT "cancel_requests_userId_fkey" FOREIGN KEY ("userId") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;
