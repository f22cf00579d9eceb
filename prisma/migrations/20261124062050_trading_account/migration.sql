-- AlterTable
ALTER TABLE "broker_connections" ADD COLUMN     "liveRequestedAt" TIMESTAMP(3);

-- AlterTable
ALTER TABLE "users" ADD COLUMN     "tradingAccountId" UUID;

-- AddForeignKey
ALTER TABLE "users" ADD CONSTRAINT "users_tradingAccountId_fkey" FOREIGN KEY ("tradingAccountId") REFERENCES "broker_accounts"("id") ON DELETE SET NULL ON UPDATE CASCADE;
