-- A question and its answer share their createdAt (one statement writes both): the LLM history is
-- read in insertion order instead, so an answer never comes before its question.
-- DropIndex
DROP INDEX "conversation_turns_userId_createdAt_idx";

-- AlterTable
ALTER TABLE "conversation_turns" ADD COLUMN     "seq" BIGSERIAL NOT NULL;

-- CreateIndex
CREATE INDEX "conversation_turns_userId_seq_idx" ON "conversation_turns"("userId", "seq");
