-- The background pass expires unanswered "cancel open orders" cards as it expires order cards: it
-- looks for open requests past their expiry on every pass, so that look is one index lookup.
-- See core/conversation/cancel-expiry.ts.
-- CreateIndex
CREATE INDEX "cancel_requests_status_expiresAt_idx" ON "cancel_requests"("status", "expiresAt");
