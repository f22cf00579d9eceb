-- Short per-user card numbers ("Card #12", "confirm 12"): a counter on the user, bumped by the
-- statement that inserts each intent (src/core/intents/intent-insert.ts).
-- AlterTable
ALTER TABLE "trade_intents" ADD COLUMN     "cardNumber" INTEGER;

-- AlterTable
ALTER TABLE "users" ADD COLUMN     "lastCardNumber" INTEGER NOT NULL DEFAULT 0;

-- Existing intents are numbered in the order they were made, per user, and each counter starts
-- after its user's last number.
UPDATE "trade_intents" AS intent SET "cardNumber" = numbered.number
FROM (
  SELECT id, (row_number() OVER (PARTITION BY "userId" ORDER BY "createdAt", id))::integer AS number
  FROM "trade_intents"
) AS numbered
WHERE intent.id = numbered.id;

UPDATE "users" SET "lastCardNumber" = last.number
FROM (SELECT "userId", max("cardNumber") AS number FROM "trade_intents" GROUP BY "userId") AS last
WHERE "users".id = last."userId";

-- CreateIndex
CREATE UNIQUE INDEX "trade_intents_userId_cardNumber_key" ON "trade_intents"("userId", "cardNumber");
