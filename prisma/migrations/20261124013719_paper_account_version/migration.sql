-- AlterTable
ALTER TABLE "paper_accounts" ADD COLUMN     "version" INTEGER NOT NULL DEFAULT 0;
