-- AlterTable
ALTER TABLE "paper_accounts" ADD COLUMN     "dayRealizedPnl" DECIMAL(38,18) NOT NULL DEFAULT 0,
ADD COLUMN     "dayRealizedPnlDate" TEXT;
