/**
 * The composition root: builds the product's services from the configuration and an open
 * database. `arbion start`, the tests and the benchmarks all assemble Arbion through here, so they
 * exercise the same wiring.
 */
import { TOKEN_WALLET_PROVIDERS } from '../brokers/factories.js';
import type { BrokerClientOptions } from '../brokers/http/broker-client-options.js';
import type { PaperBroker } from '../brokers/paper/paper-broker.js';
import type { BrokerRegistry } from '../brokers/registry.js';
import { Accounts } from '../core/accounts/accounts.js';
import type { BrokerLookup } from '../core/brokers/broker.js';
import type { Config } from '../core/config/config.js';
import type { Conversation, FallbackInterpreter } from '../core/conversation/conversation.js';
import type { Database } from '../core/db/database.js';
import type { Platform } from '../core/db/generated/enums.js';
import type { IntentService } from '../core/intents/intent-service.js';
import type { OrderTrackerSettings } from '../core/intents/order-tracker.js';
import type { JobQueue } from '../core/jobs/index.js';
import type { Logger } from '../core/logging/logger.js';
import type { SymbolResolver } from '../core/market-data/instruments.js';
import type { MarketDataProvider } from '../core/market-data/market-data.js';
import { CoinGeckoPrices, MarketDataRouter, SimulatedMarket } from '../core/market-data/providers/index.js';
import { getSymbolDirectory } from '../core/market-data/symbols/directory.js';
import type { ChannelPort } from '../core/messages.js';
import { NoticeStore } from '../core/notices/notice-store.js';
import { ProcessRegistry } from '../core/processes/process-registry.js';
import type { SecretVault } from '../core/vault/types.js';
import type { Automation } from './automation.js';
import { createBackgroundPass } from './background-pass.js';
import {
  createBrokerLinking,
  createBrokerRegistry,
  createPaperBroker,
  createTradingModes,
} from './broker-services.js';
import { createInbound, type Inbound } from './inbound.js';
import type { Linking } from './linking.js';
import {
  createArbionAutomation,
  createConversation,
  createFallbackInterpreter,
  createIntentService,
  createLlmClient,
} from './trading-services.js';

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

  /** The platforms whose channel runs in this process. */
  platforms(): Platform[] {
    return [...this.ports.keys()];
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

/** The options with the clock resolved: the one place the wall clock is chosen as "now". */
export type ArbionSetup = ArbionOptions & { readonly clock: () => Date };

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
  /** The inbox and the queue every channel hands its messages to. */
  readonly inbound: Inbound;
  /**
   * This process among the others on the database: registered by `arbion start` before it takes
   * work, deregistered when it stops. Work of a process found dead is taken over at once.
   */
  readonly processes: ProcessRegistry;
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

/**
 * Builds Arbion in order: market data, the paper broker and accounts, broker linking and the
 * registry of linked brokers, the intent service, automation, the conversation, and the background pass.
 */
export function createArbion(given: ArbionOptions): Arbion {
  const options: ArbionSetup = { ...given, clock: given.clock ?? (() => new Date()) };
  const { config, database } = options;
  const prisma = database.prisma;
  const symbols = getSymbolDirectory();
  const market = options.market ?? createMarketData(config, symbols, options.clock);
  const paper = createPaperBroker(options, market);
  const accounts = new Accounts(
    prisma,
    {
      paperStartingCash: config.trading.paperStartingCash,
      maxOrderNotional: config.trading.maxOrderNotional,
      maxPositionFraction: config.trading.maxPositionFraction,
      dailyLossLimit: config.trading.dailyLossLimit,
      walletProviders: TOKEN_WALLET_PROVIDERS,
    },
    paper,
    database.sql,
  );
  const channels = new ChannelRegistry();
  const linking = createBrokerLinking(options, channels, () => registry);
  const registry = createBrokerRegistry(options, paper, linking);
  const brokerFor: BrokerLookup = registry.brokerFor;
  const tradingModes = createTradingModes(options, linking, registry);
  const parts = { market, symbols, accounts, brokerFor };
  const processes = new ProcessRegistry({
    sql: database.sql,
    clock: options.clock,
    logger: options.logger.child({ component: 'processes' }),
    exclusive: database.kind === 'embedded',
  });
  const intents = createIntentService(options, parts, processes.id);
  const llmClient = createLlmClient(config);
  const notices = new NoticeStore({ prisma, clock: options.clock, processId: processes.id });
  const automation = createArbionAutomation(options, {
    ...parts,
    intents,
    paper,
    channels,
    llmClient,
    notices,
  });
  const fallback = createFallbackInterpreter(options, { ...parts, llmClient });
  const conversation = createConversation(options, {
    ...parts,
    linking,
    tradingModes,
    intents,
    channels,
    fallback,
    automation,
  });
  const inbound = createInbound(options, { conversation, channels, processes });
  const backgroundPass = createBackgroundPass(options, {
    notices,
    linking,
    registry,
    intents,
    paper,
    conversation,
    channels,
  });

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
    inbound,
    processes,
    async runBackgroundPass() {
      const live = await processes.live();
      // Messages a process that died recorded and never finished (the platform got its answer
      // and will not send them again).
      await inbound.resume(live);
      await backgroundPass(live);
    },
  };
}
