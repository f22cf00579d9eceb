-- CreateTable
CREATE TABLE "operator_secrets" (
    "name" TEXT NOT NULL,
    "ciphertext" BYTEA NOT NULL,
    "keyId" TEXT NOT NULL,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "operator_secrets_pkey" PRIMARY KEY ("name")
);
