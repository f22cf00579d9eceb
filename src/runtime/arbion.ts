/**
 * The composition root: builds the product's services from the configuration and an open
 * database. `arbion start`, the tests and the benchmarks all assemble Arbion through here, so they
 * exercise the same wiring.
 */
import type { BrokerLookup } from '../core/brokers/broker.js';
import type { BrokerClientOptions } from '../brokers/http/broker-client-options.js';
import { PaperBroker } from '../brokers/paper/paper-broker.js';
import { BrokerRegistry } from '../brokers/registry.js';
import { Accounts } from '../core/accounts/accounts.js';
import { IdentityLinks } from '../core/accounts/identity-links.js';
import { TradingModes } from '../core/accounts/trading-modes.js';
import type { Config } from '../core/config/config.js';
import type { Command } from '../core/conversation/commands.js';
import { Conversation, type FallbackInterpreter } from '../core/conversation/conversation.js';
import { createOpenAIClient, LlmInterpreter } from '../core/conversation/llm/index.js';
import { LlmFallback } from '../core/conversation/llm-fallback.js';
import { parseMessage } from '../core/conversation/parser/parse.js';
import type { Database } from '../core/db/database.js';
import type { Platform } from '../core/db/generated/enums.js';
import { IntentService, type IntentUpdate } from '../core/intents/intent-service.js';
import { OrderTracker, type OrderTrackerSettings } from '../core/intents/order-tracker.js';
import type { JobQueue } from '../core/jobs/index.js';
import type { Logger } from '../core/logging/logger.js';
import type { SymbolResolver } from '../core/market-data/instruments.js';
import type { MarketDataProvider } from '../core/market-data/market-data.js';
import { CoinGeckoPrices, MarketDataRouter, SimulatedMarket } from '../core/market-data/providers/index.js';
import { getSymbolDirectory } from '../core/market-data/symbols/directory.js';
import type { ChannelAddress, ChannelPort, Sender } from '../core/messages.js';
import { OperatorSecrets } from '../core/vault/operator-secrets.js';
import type { SecretVault } from '../core/vault/types.js';
import { Workspaces } from '../core/workspaces/workspaces.js';
import { modelAdvisor } from '../strategies/runtime/model-advisor.js';
import { simulatedBacktestMarket } from '../strategies/simulation/backtest-market.js';
import { type Automation, createAutomation } from './automation.js';
import { createLinking, type Linking } from './linking.js';

/** Channel adapters by platform; answers go back through the channel a message came from. */
export class ChannelRegistry {
  private readonly ports = new Map<Platform, ChannelPort>();

  register(platform: Platform, port: ChannelPort): void {
    this.ports.set(platform, port);
  }

  get(platform: Platform): ChannelPort {
    const port = this.ports.get(platform);
    if (port === undefined) throw new Error(`no ${platform} channel is running`);
    return port;
  }

  has(platform: Platform): boolean {
    return this.ports.has(platform);
  }
}

export interface ArbionOptions {
  readonly config: Config;
  readonly database: Database;
  readonly logger: Logger;
  /** Replaces the configured market data (tests pin prices with a SimulatedMarket). */
  readonly market?: MarketDataProvider;
  /** Replaces the LLM (tests), or `null` to run without one whatever the configuration says. */
  readonly fallback?: FallbackInterpreter | null;
  readonly clock?: () => Date;
  /** Broker linking (the vault and the site's address); absent: "link" says the page is not served. */
  readonly linking?: { readonly vault: SecretVault; readonly publicBaseUrl: () => string };
  /** Test hooks and HTTP overrides for the linked brokers' clients (fakes, small timeouts). */
  readonly brokerClientOptions?: BrokerClientOptions;
  /** Overrides of how linked brokers' orders are followed (tests use short windows). */
  readonly orderTracking?: Partial<OrderTrackerSettings>;
  /** Replaces the configured job queue (tests run BullMQ under their own key prefix). */
  readonly jobQueue?: JobQueue;
}

export interface Arbion {
  readonly conversation: Conversation;
  readonly intents: IntentService;
  readonly accounts: Accounts;
  readonly market: MarketDataProvider;
  readonly symbols: SymbolResolver;
  readonly paper: PaperBroker;
  /** The broker client of every linked connection. */
  readonly brokers: BrokerRegistry;
  readonly channels: ChannelRegistry;
  /** Broker linking, when a vault was given. */
  readonly linking: Linking | undefined;
  /** Strategies, monitors and their jobs; started by `arbion start` and `arbion worker`. */
  readonly automation: Automation;
  /** One pass of the background work: expire cards, fill resting paper orders, tell the users. */
  runBackgroundPass(): Promise<void>;
}

/** The market data the configuration asks for: simulated everything, or CoinGecko for crypto. */
export function createMarketData(
  config: Config,
  symbols: SymbolResolver,
  clock?: () => Date,
): MarketDataProvider {
  const simulated = new SimulatedMarket({ seed: config.trading.marketDataSeed, symbols, clock });
  if (config.trading.cryptoPrices === 'simulated') return simulated;
  const coingecko = new CoinGeckoPrices({
    baseUrl: config.coingecko.apiBase,
    apiKey: config.coingecko.apiKey,
    plan: config.coingecko.plan,
    symbols,
    clock,
  });
  return new MarketDataRouter({ crypto: coingecko, equities: simulated });
}

export function createArbion(options: ArbionOptions): Arbion {
  const { config, database, logger } = options;
  const prisma = database.prisma;
  const symbols = getSymbolDirectory();
  const market = options.market ?? createMarketData(config, symbols, options.clock);
  const paper = new PaperBroker({
    prisma,
    sql: database.sql,
    market,
    slippageBps: config.trading.paperSlippageBps,
    clock: options.clock,
  });
  const accounts = new Accounts(
    prisma,
    {
      paperStartingCash: config.trading.paperStartingCash,
      maxOrderNotional: config.trading.maxOrderNotional,
      maxPositionFraction: config.trading.maxPositionFraction,
      dailyLossLimit: config.trading.dailyLossLimit,
    },
    database.sql,
  );
  const channels = new ChannelRegistry();
  const linking =
    options.linking === undefined
      ? undefined
      : createLinking({
          config,
          prisma,
          vault: options.linking.vault,
          logger,
          publicBaseUrl: options.linking.publicBaseUrl,
          announce: async (origin, text) => {
            if (!channels.has(origin.platform)) return;
            await channels
              .get(origin.platform)
              .send(
                { platform: origin.platform, workspaceId: origin.workspaceId, chatId: origin.chatId },
                { kind: 'text', text },
              );
          },
          // A new link's accounts are read at once; the client of a changed link is rebuilt.
          onConnectionChange: async (change) => {
            registry.forget(change.connectionId);
            if (change.kind === 'linked') await registry.syncAccounts(change.connectionId);
          },
          clock: options.clock,
        });
  const registry = new BrokerRegistry({
    prisma,
    brokers: config.brokers,
    paper,
    credentials:
      linking?.connections === undefined ? undefined : (id) => linking.connections.credentialsFor(id),
    tokens: linking?.tokens,
    logger,
    clientOptions: options.brokerClientOptions,
    clock: options.clock,
    ...(options.linking === undefined
      ? {}
      : { operatorSecrets: new OperatorSecrets(prisma, options.linking.vault) }),
  });
  const brokerFor: BrokerLookup = registry.brokerFor;
  const tradingModes =
    linking === undefined
      ? undefined
      : new TradingModes({
          prisma,
          syncAccounts: (connectionId) => registry.syncAccounts(connectionId),
          realMoney: (connectionId) => registry.realMoney(connectionId),
          logger: logger.child({ component: 'trading-modes' }),
          clock: options.clock,
        });

  const intents = new IntentService({
    prisma,
    sql: database.sql,
    market,
    accounts,
    brokerFor,
    settings: {
      confirmationTtlSeconds: config.trading.confirmationTtlSeconds,
      priceToleranceBps: config.trading.priceToleranceBps,
    },
    logger,
    clock: options.clock,
  });

  // One OpenAI client for the conversation's fallback and the AI-driven strategy.
  const llmClient =
    config.llm === undefined
      ? undefined
      : createOpenAIClient({
          apiKey: config.llm.apiKey,
          baseURL: config.llm.baseUrl,
          timeoutMs: config.llm.timeoutMs,
          maxRetries: 2,
        });
  const automation = createAutomation({
    config,
    prisma,
    accounts,
    intents,
    brokerFor,
    market,
    chains:
      market instanceof SimulatedMarket
        ? market
        : new SimulatedMarket({ seed: config.trading.marketDataSeed, symbols, clock: options.clock }),
    backtestMarket: simulatedBacktestMarket({ seed: config.trading.marketDataSeed, symbols }),
    symbols,
    paper,
    channelFor: (platform) => (channels.has(platform) ? channels.get(platform) : undefined),
    logger,
    clock: options.clock ?? (() => new Date()),
    ...(options.jobQueue === undefined ? {} : { queue: options.jobQueue }),
    ...(llmClient === undefined || config.llm === undefined
      ? {}
      : {
          advisor: modelAdvisor({
            client: llmClient,
            model: config.llm.model,
            timeoutMs: config.llm.timeoutMs,
            logger: logger.child({ component: 'advisor' }),
          }),
        }),
  });

  let fallback: FallbackInterpreter | undefined = options.fallback ?? undefined;
  if (options.fallback === undefined && config.llm !== undefined && llmClient !== undefined) {
    const client = llmClient;
    fallback = new LlmFallback({
      prisma,
      interpreter: new LlmInterpreter({
        client,
        model: config.llm.model,
        timeoutMs: config.llm.timeoutMs,
        // The model is told the same "today" the parser and the risk checks use.
        ...(options.clock === undefined ? {} : { now: options.clock }),
      }),
      accounts,
      market,
      symbols,
      brokerFor,
      logger: logger.child({ component: 'llm' }),
    });
  }

  const conversation = new Conversation({
    prisma,
    sql: database.sql,
    accounts,
    workspaces: new Workspaces(prisma, database.sql),
    identityLinks: new IdentityLinks(prisma, options.clock),
    linkTokens: linking?.linkTokens,
    connections: linking?.connections,
    tradingModes,
    intents,
    market,
    symbols,
    brokerFor,
    channelFor: (platform) => channels.get(platform),
    parse: (text: string, now: Date): Command => parseMessage(text, { symbols, now }),
    fallback,
    automation: automation.desk,
    logger: logger.child({ component: 'conversation' }),
    clock: options.clock,
  });

  const addressOf = (intent: {
    platform: Platform;
    workspaceExternalId: string;
    chatId: string;
    threadId: string | null;
  }): ChannelAddress => ({
    platform: intent.platform,
    workspaceId: intent.workspaceExternalId,
    chatId: intent.chatId,
    ...(intent.threadId ? { threadId: intent.threadId } : {}),
  });

  /** Background updates of an intent asked for in a shared chat go to its requester privately. */
  const privateRecipient = async (intent: {
    sharedChat: boolean;
    requesterIdentityId: string | null;
  }): Promise<Sender | undefined> => {
    if (!intent.sharedChat || intent.requesterIdentityId === null) return undefined;
    const identity = await prisma.channelIdentity.findUnique({
      where: { id: intent.requesterIdentityId },
      select: { platformUserId: true, displayName: true },
    });
    return identity === null
      ? undefined
      : { platformUserId: identity.platformUserId, displayName: identity.displayName ?? undefined };
  };

  /** One chat that cannot be reached (a deleted channel, a revoked token) must not stop the pass. */
  const deliverInBackground = async (
    intent: Parameters<typeof addressOf>[0] & Parameters<typeof privateRecipient>[0] & { id: string },
    update: IntentUpdate,
  ): Promise<void> => {
    if (!channels.has(intent.platform)) return;
    try {
      await conversation.deliverUpdate(addressOf(intent), update, {
        privateTo: await privateRecipient(intent),
      });
    } catch (error) {
      logger.warn(
        { err: error, intentId: intent.id, platform: intent.platform },
        'could not deliver an update',
      );
    }
  };

  // Broker links are looked after once a minute (tokens refreshed ahead, expiries warned), not on every pass.
  let nextExpiryCheck = 0;
  const warnAboutExpiringLinks = async (): Promise<void> => {
    const now = options.clock?.() ?? new Date();
    if (linking === undefined || now.getTime() < nextExpiryCheck) return;
    nextExpiryCheck = now.getTime() + 60_000;
    try {
      const notices = [...(await linking.tokenKeeper.pass(now)), ...(await linking.expiryWarnings.due(now))];
      for (const notice of notices) await linking.services.announce(notice.origin, notice.text);
    } catch (error) {
      // Link upkeep must never hold up expiries and fills.
      logger.warn({ err: error }, 'could not look after broker links');
    }
  };

  const orderTracker = new OrderTracker({
    prisma,
    brokerFor,
    intents,
    logger: logger.child({ component: 'orders' }),
    settings: options.orderTracking,
    clock: options.clock,
  });

  async function runBackgroundPass(): Promise<void> {
    await warnAboutExpiringLinks();
    for (const { intent, update } of await intents.expireDue()) await deliverInBackground(intent, update);
    for (const { intent, update } of await orderTracker.pass()) await deliverInBackground(intent, update);
    await registry.recordHealth(options.clock?.() ?? new Date());
    for (const order of await paper.processRestingOrders()) {
      const known = await prisma.order.findUnique({
        where: { clientOrderId: order.clientOrderId },
        include: { intent: true },
      });
      if (known === null) continue;
      const update = await intents.applyBrokerOrder(order);
      await deliverInBackground(known.intent, update);
    }
  }

  return {
    conversation,
    intents,
    accounts,
    market,
    symbols,
    paper,
    brokers: registry,
    channels,
    linking,
    automation,
    runBackgroundPass,
  };
}
