-- "Cancel open orders" cards are numbered like order cards (one counter per user), and keep their
-- message id, so "confirm 14" answers them in every channel. See core/conversation/card-answers.ts.
-- AlterTable
ALTER TABLE "cancel_requests" ADD COLUMN     "cardMessageId" TEXT,
ADD COLUMN     "cardNumber" INTEGER;

-- CreateIndex
CREATE UNIQUE INDEX "cancel_requests_userId_cardNumber_key" ON "cancel_requests"("userId", "cardNumber");
