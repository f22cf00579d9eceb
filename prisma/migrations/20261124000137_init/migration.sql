-- CreateEnum
CREATE TYPE "Platform" AS ENUM ('telegram', 'slack', 'discord', 'console', 'web');

-- CreateEnum
CREATE TYPE "WorkspaceRole" AS ENUM ('viewer', 'trader', 'admin');

-- CreateEnum
CREATE TYPE "BrokerProvider" AS ENUM ('paper', 'schwab', 'etrade', 'alpaca', 'coinbase', 'cdp_wallet');

-- CreateEnum
CREATE TYPE "TradingMode" AS ENUM ('paper', 'live');

-- CreateEnum
CREATE TYPE "ConnectionStatus" AS ENUM ('pending', 'active', 'needs_reauth', 'error', 'revoked');

-- CreateEnum
CREATE TYPE "HealthStatus" AS ENUM ('unknown', 'healthy', 'degraded', 'down');

-- CreateEnum
CREATE TYPE "AssetClass" AS ENUM ('equity', 'option', 'crypto');

-- CreateEnum
CREATE TYPE "OrderSide" AS ENUM ('buy', 'sell');

-- CreateEnum
CREATE TYPE "OrderType" AS ENUM ('market', 'limit', 'stop', 'stop_limit');

-- CreateEnum
CREATE TYPE "TimeInForce" AS ENUM ('day', 'gtc', 'ioc', 'fok');

-- CreateEnum
CREATE TYPE "OptionRight" AS ENUM ('call', 'put');

-- CreateEnum
CREATE TYPE "PositionEffect" AS ENUM ('open', 'close');

-- CreateEnum
CREATE TYPE "IntentStatus" AS ENUM ('proposed', 'confirmed', 'submitting', 'submitted', 'partially_filled', 'filled', 'rejected', 'cancelled', 'expired', 'failed');

-- CreateEnum
CREATE TYPE "IntentSource" AS ENUM ('chat', 'strategy', 'alert');

-- CreateEnum
CREATE TYPE "OrderStatus" AS ENUM ('pending', 'accepted', 'partially_filled', 'filled', 'cancel_requested', 'cancelled', 'rejected', 'expired', 'unknown');

-- CreateEnum
CREATE TYPE "StrategyKind" AS ENUM ('wheel', 'collar', 'ai_driven');

-- CreateEnum
CREATE TYPE "StrategyStatus" AS ENUM ('active', 'paused', 'halted', 'stopped');

-- CreateEnum
CREATE TYPE "ExecutionMode" AS ENUM ('ask', 'auto');

-- CreateEnum
CREATE TYPE "StrategyRunStatus" AS ENUM ('running', 'succeeded', 'failed', 'skipped');

-- CreateEnum
CREATE TYPE "AlertKind" AS ENUM ('price_above', 'price_below', 'stop_loss', 'take_profit', 'trailing_stop');

-- CreateEnum
CREATE TYPE "AlertAction" AS ENUM ('notify', 'close_position');

-- CreateEnum
CREATE TYPE "AlertStatus" AS ENUM ('active', 'triggered', 'cancelled');

-- CreateEnum
CREATE TYPE "ConversationRole" AS ENUM ('user', 'assistant', 'tool');

-- CreateEnum
CREATE TYPE "LinkTokenPurpose" AS ENUM ('broker_link', 'identity_link');

-- CreateEnum
CREATE TYPE "OAuthFlow" AS ENUM ('oauth2', 'oauth1');

-- CreateEnum
CREATE TYPE "ActorKind" AS ENUM ('user', 'system', 'strategy', 'broker', 'llm');

-- CreateTable
CREATE TABLE "users" (
    "id" UUID NOT NULL,
    "displayName" TEXT,
    "timezone" TEXT NOT NULL DEFAULT 'America/New_York',
    "tradingHaltedAt" TIMESTAMP(3),
    "tradingHaltReason" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "users_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "risk_profiles" (
    "userId" UUID NOT NULL,
    "maxOrderNotional" DECIMAL(38,18),
    "maxPositionFraction" DECIMAL(38,18),
    "dailyLossLimit" DECIMAL(38,18),
    "allowedAssetClasses" "AssetClass"[] DEFAULT ARRAY['equity', 'option', 'crypto']::"AssetClass"[],
    "approvalThreshold" DECIMAL(38,18),
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "risk_profiles_pkey" PRIMARY KEY ("userId")
);

-- CreateTable
CREATE TABLE "channel_identities" (
    "id" UUID NOT NULL,
    "userId" UUID NOT NULL,
    "platform" "Platform" NOT NULL,
    "platformWorkspaceId" TEXT NOT NULL DEFAULT '',
    "platformUserId" TEXT NOT NULL,
    "displayName" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "channel_identities_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "workspaces" (
    "id" UUID NOT NULL,
    "platform" "Platform" NOT NULL,
    "externalId" TEXT NOT NULL,
    "name" TEXT,
    "approvalThreshold" DECIMAL(38,18),
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "workspaces_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "workspace_members" (
    "workspaceId" UUID NOT NULL,
    "userId" UUID NOT NULL,
    "role" "WorkspaceRole" NOT NULL DEFAULT 'viewer',
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "workspace_members_pkey" PRIMARY KEY ("workspaceId","userId")
);

-- CreateTable
CREATE TABLE "broker_connections" (
    "id" UUID NOT NULL,
    "userId" UUID NOT NULL,
    "provider" "BrokerProvider" NOT NULL,
    "mode" "TradingMode" NOT NULL DEFAULT 'paper',
    "status" "ConnectionStatus" NOT NULL DEFAULT 'pending',
    "label" TEXT,
    "credentialCiphertext" BYTEA,
    "credentialKeyId" TEXT,
    "accessTokenExpiresAt" TIMESTAMP(3),
    "refreshTokenExpiresAt" TIMESTAMP(3),
    "liveEnabledAt" TIMESTAMP(3),
    "healthStatus" "HealthStatus" NOT NULL DEFAULT 'unknown',
    "healthDetail" TEXT,
    "lastHealthCheckAt" TIMESTAMP(3),
    "lastError" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,
    "revokedAt" TIMESTAMP(3),

    CONSTRAINT "broker_connections_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "broker_accounts" (
    "id" UUID NOT NULL,
    "connectionId" UUID NOT NULL,
    "externalId" TEXT NOT NULL,
    "displayNumber" TEXT,
    "accountType" TEXT,
    "currency" TEXT NOT NULL DEFAULT 'USD',
    "isDefault" BOOLEAN NOT NULL DEFAULT false,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "broker_accounts_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "trade_intents" (
    "id" UUID NOT NULL,
    "userId" UUID NOT NULL,
    "connectionId" UUID,
    "brokerAccountId" UUID,
    "source" "IntentSource" NOT NULL DEFAULT 'chat',
    "strategyId" UUID,
    "strategyRunId" UUID,
    "status" "IntentStatus" NOT NULL DEFAULT 'proposed',
    "mode" "TradingMode" NOT NULL DEFAULT 'paper',
    "side" "OrderSide" NOT NULL,
    "assetClass" "AssetClass" NOT NULL,
    "symbol" TEXT NOT NULL,
    "quantity" DECIMAL(38,18),
    "notional" DECIMAL(38,18),
    "fractionOfPosition" DECIMAL(38,18),
    "orderType" "OrderType" NOT NULL,
    "limitPrice" DECIMAL(38,18),
    "stopPrice" DECIMAL(38,18),
    "timeInForce" "TimeInForce" NOT NULL DEFAULT 'day',
    "optionUnderlying" TEXT,
    "optionExpiry" DATE,
    "optionRight" "OptionRight",
    "optionStrike" DECIMAL(38,18),
    "positionEffect" "PositionEffect",
    "quotedPrice" DECIMAL(38,18),
    "estimatedCost" DECIMAL(38,18),
    "riskChecks" JSONB NOT NULL DEFAULT '[]',
    "orderHash" TEXT NOT NULL,
    "clientOrderId" TEXT NOT NULL,
    "platform" "Platform" NOT NULL,
    "workspaceExternalId" TEXT NOT NULL DEFAULT '',
    "chatId" TEXT NOT NULL,
    "threadId" TEXT,
    "requestMessageId" TEXT,
    "cardMessageId" TEXT,
    "requesterIdentityId" UUID,
    "requiresApproval" BOOLEAN NOT NULL DEFAULT false,
    "approverUserId" UUID,
    "approvedAt" TIMESTAMP(3),
    "expiresAt" TIMESTAMP(3) NOT NULL,
    "confirmedAt" TIMESTAMP(3),
    "statusReason" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "trade_intents_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "orders" (
    "id" UUID NOT NULL,
    "intentId" UUID NOT NULL,
    "connectionId" UUID,
    "brokerAccountId" UUID,
    "provider" "BrokerProvider" NOT NULL,
    "brokerOrderId" TEXT,
    "clientOrderId" TEXT NOT NULL,
    "status" "OrderStatus" NOT NULL DEFAULT 'pending',
    "side" "OrderSide" NOT NULL,
    "assetClass" "AssetClass" NOT NULL,
    "symbol" TEXT NOT NULL,
    "brokerSymbol" TEXT,
    "quantity" DECIMAL(38,18),
    "notional" DECIMAL(38,18),
    "orderType" "OrderType" NOT NULL,
    "limitPrice" DECIMAL(38,18),
    "stopPrice" DECIMAL(38,18),
    "timeInForce" "TimeInForce" NOT NULL,
    "filledQuantity" DECIMAL(38,18) NOT NULL DEFAULT 0,
    "averageFillPrice" DECIMAL(38,18),
    "fees" DECIMAL(38,18) NOT NULL DEFAULT 0,
    "brokerStatus" TEXT,
    "rejectReason" TEXT,
    "submittedAt" TIMESTAMP(3),
    "lastCheckedAt" TIMESTAMP(3),
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "orders_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "fills" (
    "id" UUID NOT NULL,
    "orderId" UUID NOT NULL,
    "brokerFillId" TEXT NOT NULL,
    "quantity" DECIMAL(38,18) NOT NULL,
    "price" DECIMAL(38,18) NOT NULL,
    "fee" DECIMAL(38,18) NOT NULL DEFAULT 0,
    "filledAt" TIMESTAMP(3) NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "fills_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "paper_accounts" (
    "id" UUID NOT NULL,
    "brokerAccountId" UUID NOT NULL,
    "cash" DECIMAL(38,18) NOT NULL,
    "startingCash" DECIMAL(38,18) NOT NULL,
    "realizedPnl" DECIMAL(38,18) NOT NULL DEFAULT 0,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "paper_accounts_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "paper_positions" (
    "paperAccountId" UUID NOT NULL,
    "symbol" TEXT NOT NULL,
    "assetClass" "AssetClass" NOT NULL,
    "quantity" DECIMAL(38,18) NOT NULL,
    "averageCost" DECIMAL(38,18) NOT NULL,
    "realizedPnl" DECIMAL(38,18) NOT NULL DEFAULT 0,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "paper_positions_pkey" PRIMARY KEY ("paperAccountId","symbol")
);

-- CreateTable
CREATE TABLE "paper_orders" (
    "id" UUID NOT NULL,
    "paperAccountId" UUID NOT NULL,
    "clientOrderId" TEXT NOT NULL,
    "status" "OrderStatus" NOT NULL DEFAULT 'accepted',
    "side" "OrderSide" NOT NULL,
    "assetClass" "AssetClass" NOT NULL,
    "symbol" TEXT NOT NULL,
    "quantity" DECIMAL(38,18),
    "notional" DECIMAL(38,18),
    "orderType" "OrderType" NOT NULL,
    "limitPrice" DECIMAL(38,18),
    "stopPrice" DECIMAL(38,18),
    "timeInForce" "TimeInForce" NOT NULL,
    "filledQuantity" DECIMAL(38,18) NOT NULL DEFAULT 0,
    "averageFillPrice" DECIMAL(38,18),
    "rejectReason" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "paper_orders_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "paper_fills" (
    "id" UUID NOT NULL,
    "paperOrderId" UUID NOT NULL,
    "quantity" DECIMAL(38,18) NOT NULL,
    "price" DECIMAL(38,18) NOT NULL,
    "fee" DECIMAL(38,18) NOT NULL DEFAULT 0,
    "filledAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "paper_fills_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "strategies" (
    "id" UUID NOT NULL,
    "userId" UUID NOT NULL,
    "connectionId" UUID,
    "kind" "StrategyKind" NOT NULL,
    "status" "StrategyStatus" NOT NULL DEFAULT 'active',
    "mode" "TradingMode" NOT NULL DEFAULT 'paper',
    "executionMode" "ExecutionMode" NOT NULL DEFAULT 'ask',
    "symbol" TEXT NOT NULL,
    "params" JSONB NOT NULL DEFAULT '{}',
    "maxNotionalPerOrder" DECIMAL(38,18),
    "maxNotionalPerDay" DECIMAL(38,18),
    "maxPosition" DECIMAL(38,18),
    "maxDrawdown" DECIMAL(38,18),
    "haltReason" TEXT,
    "platform" "Platform" NOT NULL,
    "workspaceExternalId" TEXT NOT NULL DEFAULT '',
    "chatId" TEXT NOT NULL,
    "lastRunAt" TIMESTAMP(3),
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "strategies_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "strategy_runs" (
    "id" UUID NOT NULL,
    "strategyId" UUID NOT NULL,
    "status" "StrategyRunStatus" NOT NULL DEFAULT 'running',
    "decision" JSONB,
    "error" TEXT,
    "startedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "finishedAt" TIMESTAMP(3),

    CONSTRAINT "strategy_runs_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "alerts" (
    "id" UUID NOT NULL,
    "userId" UUID NOT NULL,
    "connectionId" UUID,
    "kind" "AlertKind" NOT NULL,
    "action" "AlertAction" NOT NULL DEFAULT 'notify',
    "executionMode" "ExecutionMode" NOT NULL DEFAULT 'ask',
    "status" "AlertStatus" NOT NULL DEFAULT 'active',
    "symbol" TEXT NOT NULL,
    "assetClass" "AssetClass" NOT NULL,
    "threshold" DECIMAL(38,18),
    "trailFraction" DECIMAL(38,18),
    "highWaterMark" DECIMAL(38,18),
    "quantity" DECIMAL(38,18),
    "platform" "Platform" NOT NULL,
    "workspaceExternalId" TEXT NOT NULL DEFAULT '',
    "chatId" TEXT NOT NULL,
    "triggeredAt" TIMESTAMP(3),
    "triggerPrice" DECIMAL(38,18),
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "alerts_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "conversation_turns" (
    "id" UUID NOT NULL,
    "userId" UUID NOT NULL,
    "platform" "Platform" NOT NULL,
    "chatId" TEXT NOT NULL,
    "role" "ConversationRole" NOT NULL,
    "content" TEXT NOT NULL,
    "toolName" TEXT,
    "toolCallId" TEXT,
    "promptTokens" INTEGER,
    "completionTokens" INTEGER,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "conversation_turns_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "link_tokens" (
    "id" UUID NOT NULL,
    "tokenHash" TEXT NOT NULL,
    "purpose" "LinkTokenPurpose" NOT NULL,
    "userId" UUID NOT NULL,
    "platform" "Platform" NOT NULL,
    "workspaceExternalId" TEXT NOT NULL DEFAULT '',
    "chatId" TEXT NOT NULL,
    "expiresAt" TIMESTAMP(3) NOT NULL,
    "usedAt" TIMESTAMP(3),
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "link_tokens_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "web_sessions" (
    "id" UUID NOT NULL,
    "sessionHash" TEXT NOT NULL,
    "userId" UUID NOT NULL,
    "linkTokenId" UUID,
    "expiresAt" TIMESTAMP(3) NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "lastSeenAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "web_sessions_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "oauth_states" (
    "id" UUID NOT NULL,
    "stateHash" TEXT NOT NULL,
    "flow" "OAuthFlow" NOT NULL,
    "provider" "BrokerProvider" NOT NULL,
    "userId" UUID NOT NULL,
    "webSessionId" UUID,
    "connectionId" UUID,
    "redirectUri" TEXT,
    "secretCiphertext" BYTEA,
    "secretKeyId" TEXT,
    "expiresAt" TIMESTAMP(3) NOT NULL,
    "consumedAt" TIMESTAMP(3),
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "oauth_states_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "processed_deliveries" (
    "platform" "Platform" NOT NULL,
    "deliveryId" TEXT NOT NULL,
    "receivedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "processed_deliveries_pkey" PRIMARY KEY ("platform","deliveryId")
);

-- CreateTable
CREATE TABLE "audit_events" (
    "id" BIGSERIAL NOT NULL,
    "at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "type" TEXT NOT NULL,
    "actorKind" "ActorKind" NOT NULL,
    "actorId" TEXT,
    "userId" UUID,
    "intentId" UUID,
    "orderId" UUID,
    "strategyId" UUID,
    "connectionId" UUID,
    "data" JSONB NOT NULL DEFAULT '{}',

    CONSTRAINT "audit_events_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "channel_identities_userId_idx" ON "channel_identities"("userId");

-- CreateIndex
CREATE UNIQUE INDEX "channel_identities_platform_platformWorkspaceId_platformUse_key" ON "channel_identities"("platform", "platformWorkspaceId", "platformUserId");

-- CreateIndex
CREATE UNIQUE INDEX "workspaces_platform_externalId_key" ON "workspaces"("platform", "externalId");

-- CreateIndex
CREATE INDEX "workspace_members_userId_idx" ON "workspace_members"("userId");

-- CreateIndex
CREATE INDEX "broker_connections_userId_provider_idx" ON "broker_connections"("userId", "provider");

-- CreateIndex
CREATE UNIQUE INDEX "broker_accounts_connectionId_externalId_key" ON "broker_accounts"("connectionId", "externalId");

-- CreateIndex
CREATE UNIQUE INDEX "trade_intents_clientOrderId_key" ON "trade_intents"("clientOrderId");

-- CreateIndex
CREATE INDEX "trade_intents_userId_status_idx" ON "trade_intents"("userId", "status");

-- CreateIndex
CREATE INDEX "trade_intents_status_expiresAt_idx" ON "trade_intents"("status", "expiresAt");

-- CreateIndex
CREATE UNIQUE INDEX "orders_clientOrderId_key" ON "orders"("clientOrderId");

-- CreateIndex
CREATE INDEX "orders_status_idx" ON "orders"("status");

-- CreateIndex
CREATE INDEX "orders_intentId_idx" ON "orders"("intentId");

-- CreateIndex
CREATE UNIQUE INDEX "orders_provider_brokerOrderId_key" ON "orders"("provider", "brokerOrderId");

-- CreateIndex
CREATE UNIQUE INDEX "fills_orderId_brokerFillId_key" ON "fills"("orderId", "brokerFillId");

-- CreateIndex
CREATE UNIQUE INDEX "paper_accounts_brokerAccountId_key" ON "paper_accounts"("brokerAccountId");

-- CreateIndex
CREATE INDEX "paper_orders_status_idx" ON "paper_orders"("status");

-- CreateIndex
CREATE UNIQUE INDEX "paper_orders_paperAccountId_clientOrderId_key" ON "paper_orders"("paperAccountId", "clientOrderId");

-- CreateIndex
CREATE INDEX "paper_fills_paperOrderId_idx" ON "paper_fills"("paperOrderId");

-- CreateIndex
CREATE INDEX "strategies_userId_status_idx" ON "strategies"("userId", "status");

-- CreateIndex
CREATE INDEX "strategies_status_idx" ON "strategies"("status");

-- CreateIndex
CREATE INDEX "strategy_runs_strategyId_startedAt_idx" ON "strategy_runs"("strategyId", "startedAt");

-- CreateIndex
CREATE INDEX "alerts_status_symbol_idx" ON "alerts"("status", "symbol");

-- CreateIndex
CREATE INDEX "alerts_userId_idx" ON "alerts"("userId");

-- CreateIndex
CREATE INDEX "conversation_turns_userId_createdAt_idx" ON "conversation_turns"("userId", "createdAt");

-- CreateIndex
CREATE UNIQUE INDEX "link_tokens_tokenHash_key" ON "link_tokens"("tokenHash");

-- CreateIndex
CREATE INDEX "link_tokens_expiresAt_idx" ON "link_tokens"("expiresAt");

-- CreateIndex
CREATE UNIQUE INDEX "web_sessions_sessionHash_key" ON "web_sessions"("sessionHash");

-- CreateIndex
CREATE INDEX "web_sessions_expiresAt_idx" ON "web_sessions"("expiresAt");

-- CreateIndex
CREATE UNIQUE INDEX "oauth_states_stateHash_key" ON "oauth_states"("stateHash");

-- CreateIndex
CREATE INDEX "oauth_states_expiresAt_idx" ON "oauth_states"("expiresAt");

-- CreateIndex
CREATE INDEX "processed_deliveries_receivedAt_idx" ON "processed_deliveries"("receivedAt");

-- CreateIndex
CREATE INDEX "audit_events_userId_at_idx" ON "audit_events"("userId", "at");

-- CreateIndex
CREATE INDEX "audit_events_intentId_idx" ON "audit_events"("intentId");

-- CreateIndex
CREATE INDEX "audit_events_type_at_idx" ON "audit_events"("type", "at");

-- AddForeignKey
ALTER TABLE "risk_profiles" ADD CONSTRAINT "risk_profiles_userId_fkey" FOREIGN KEY ("userId") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "channel_identities" ADD CONSTRAINT "channel_identities_userId_fkey" FOREIGN KEY ("userId") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "workspace_members" ADD CONSTRAINT "workspace_members_workspaceId_fkey" FOREIGN KEY ("workspaceId") REFERENCES "workspaces"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "workspace_members" ADD CONSTRAINT "workspace_members_userId_fkey" FOREIGN KEY ("userId") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "broker_connections" ADD CONSTRAINT "broker_connections_userId_fkey" FOREIGN KEY ("userId") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "broker_accounts" ADD CONSTRAINT "broker_accounts_connectionId_fkey" FOREIGN KEY ("connectionId") REFERENCES "broker_connections"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "trade_intents" ADD CONSTRAINT "trade_intents_userId_fkey" FOREIGN KEY ("userId") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "trade_intents" ADD CONSTRAINT "trade_intents_approverUserId_fkey" FOREIGN KEY ("approverUserId") REFERENCES "users"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "trade_intents" ADD CONSTRAINT "trade_intents_connectionId_fkey" FOREIGN KEY ("connectionId") REFERENCES "broker_connections"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "trade_intents" ADD CONSTRAINT "trade_intents_brokerAccountId_fkey" FOREIGN KEY ("brokerAccountId") REFERENCES "broker_accounts"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "trade_intents" ADD CONSTRAINT "trade_intents_strategyId_fkey" FOREIGN KEY ("strategyId") REFERENCES "strategies"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "trade_intents" ADD CONSTRAINT "trade_intents_strategyRunId_fkey" FOREIGN KEY ("strategyRunId") REFERENCES "strategy_runs"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "orders" ADD CONSTRAINT "orders_intentId_fkey" FOREIGN KEY ("intentId") REFERENCES "trade_intents"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "orders" ADD CONSTRAINT "orders_connectionId_fkey" FOREIGN KEY ("connectionId") REFERENCES "broker_connections"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "orders" ADD CONSTRAINT "orders_brokerAccountId_fkey" FOREIGN KEY ("brokerAccountId") REFERENCES "broker_accounts"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "fills" ADD CONSTRAINT "fills_orderId_fkey" FOREIGN KEY ("orderId") REFERENCES "orders"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "paper_accounts" ADD CONSTRAINT "paper_accounts_brokerAccountId_fkey" FOREIGN KEY ("brokerAccountId") REFERENCES "broker_accounts"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "paper_positions" ADD CONSTRAINT "paper_positions_paperAccountId_fkey" FOREIGN KEY ("paperAccountId") REFERENCES "paper_accounts"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "paper_orders" ADD CONSTRAINT "paper_orders_paperAccountId_fkey" FOREIGN KEY ("paperAccountId") REFERENCES "paper_accounts"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "paper_fills" ADD CONSTRAINT "paper_fills_paperOrderId_fkey" FOREIGN KEY ("paperOrderId") REFERENCES "paper_orders"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "strategies" ADD CONSTRAINT "strategies_userId_fkey" FOREIGN KEY ("userId") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "strategies" ADD CONSTRAINT "strategies_connectionId_fkey" FOREIGN KEY ("connectionId") REFERENCES "broker_connections"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "strategy_runs" ADD CONSTRAINT "strategy_runs_strategyId_fkey" FOREIGN KEY ("strategyId") REFERENCES "strategies"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "alerts" ADD CONSTRAINT "alerts_userId_fkey" FOREIGN KEY ("userId") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "conversation_turns" ADD CONSTRAINT "conversation_turns_userId_fkey" FOREIGN KEY ("userId") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "link_tokens" ADD CONSTRAINT "link_tokens_userId_fkey" FOREIGN KEY ("userId") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "web_sessions" ADD CONSTRAINT "web_sessions_userId_fkey" FOREIGN KEY ("userId") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "web_sessions" ADD CONSTRAINT "web_sessions_linkTokenId_fkey" FOREIGN KEY ("linkTokenId") REFERENCES "link_tokens"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "oauth_states" ADD CONSTRAINT "oauth_states_userId_fkey" FOREIGN KEY ("userId") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "oauth_states" ADD CONSTRAINT "oauth_states_webSessionId_fkey" FOREIGN KEY ("webSessionId") REFERENCES "web_sessions"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "oauth_states" ADD CONSTRAINT "oauth_states_connectionId_fkey" FOREIGN KEY ("connectionId") REFERENCES "broker_connections"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "audit_events" ADD CONSTRAINT "audit_events_userId_fkey" FOREIGN KEY ("userId") REFERENCES "users"("id") ON DELETE SET NULL ON UPDATE CASCADE;
