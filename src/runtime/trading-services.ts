/**
 * `createArbion`'s trading and conversation steps: the intent service, the OpenAI client, the
 * automation (strategies, monitors, their jobs), the LLM fallback and the conversation.
 */

import type { PaperBroker } from '../brokers/paper/paper-broker.js';
import type { Accounts } from '../core/accounts/accounts.js';
import { IdentityLinks } from '../core/accounts/identity-links.js';
import type { TradingModes } from '../core/accounts/trading-modes.js';
import type { BrokerLookup } from '../core/brokers/broker.js';
import type { Config } from '../core/config/config.js';
import type { Command } from '../core/conversation/commands.js';
import { Conversation, type FallbackInterpreter } from '../core/conversation/conversation.js';
import { createOpenAIClient, type LlmClient, LlmInterpreter } from '../core/conversation/llm/index.js';
import { LlmFallback } from '../core/conversation/llm-fallback.js';
import { parseMessage } from '../core/conversation/parser/parse.js';
import { IntentService } from '../core/intents/intent-service.js';
import type { SymbolResolver } from '../core/market-data/instruments.js';
import type { MarketDataProvider } from '../core/market-data/market-data.js';
import { SimulatedMarket } from '../core/market-data/providers/index.js';
import type { NoticeStore } from '../core/notices/notice-store.js';
import { Workspaces } from '../core/workspaces/workspaces.js';
import { modelAdvisor } from '../strategies/runtime/model-advisor.js';
import { simulatedBacktestMarket } from '../strategies/simulation/backtest-market.js';
import type { ArbionSetup, ChannelRegistry } from './arbion.js';
import { type Automation, createAutomation } from './automation.js';
import type { Linking } from './linking.js';

/** What the trading steps share. */
export interface TradingParts {
  readonly market: MarketDataProvider;
  readonly symbols: SymbolResolver;
  readonly accounts: Accounts;
  readonly brokerFor: BrokerLookup;
}

/** Trade intents: proposal, confirmation, exactly-once execution. */
export function createIntentService(
  options: ArbionSetup,
  { market, accounts, brokerFor }: TradingParts,
  processId: string,
): IntentService {
  const { config, database } = options;
  return new IntentService({
    prisma: database.prisma,
    sql: database.sql,
    market,
    accounts,
    brokerFor,
    settings: {
      confirmationTtlSeconds: config.trading.confirmationTtlSeconds,
      priceToleranceBps: config.trading.priceToleranceBps,
    },
    logger: options.logger,
    clock: options.clock,
    processId,
  });
}

/** The one OpenAI client of the conversation's fallback and the AI-driven strategy; none without an LLM. */
export function createLlmClient(config: Config): LlmClient | undefined {
  return config.llm === undefined
    ? undefined
    : createOpenAIClient({
        apiKey: config.llm.apiKey,
        baseURL: config.llm.baseUrl,
        timeoutMs: config.llm.timeoutMs,
        maxRetries: 2,
      });
}

/** Strategies, monitors and their jobs, with the model as the AI-driven strategy's advisor. */
export function createArbionAutomation(
  options: ArbionSetup,
  parts: TradingParts & {
    readonly intents: IntentService;
    readonly paper: PaperBroker;
    readonly channels: ChannelRegistry;
    readonly llmClient: LlmClient | undefined;
    readonly notices: NoticeStore;
  },
): Automation {
  const { config, database, logger } = options;
  const { market, symbols, channels, llmClient } = parts;
  return createAutomation({
    config,
    prisma: database.prisma,
    accounts: parts.accounts,
    intents: parts.intents,
    brokerFor: parts.brokerFor,
    market,
    chains:
      market instanceof SimulatedMarket
        ? market
        : new SimulatedMarket({ seed: config.trading.marketDataSeed, symbols, clock: options.clock }),
    backtestMarket: simulatedBacktestMarket({ seed: config.trading.marketDataSeed, symbols }),
    symbols,
    paper: parts.paper,
    channelFor: (platform) => (channels.has(platform) ? channels.get(platform) : undefined),
    notices: parts.notices,
    logger,
    clock: options.clock,
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
}

/**
 * What reads a message the fast-path parser could not: the one the options give (`null`: none),
 * else the LLM when one is configured.
 */
export function createFallbackInterpreter(
  options: ArbionSetup,
  parts: TradingParts & { readonly llmClient: LlmClient | undefined },
): FallbackInterpreter | undefined {
  const { config } = options;
  let fallback: FallbackInterpreter | undefined = options.fallback ?? undefined;
  if (options.fallback === undefined && config.llm !== undefined && parts.llmClient !== undefined) {
    const client = parts.llmClient;
    fallback = new LlmFallback({
      prisma: options.database.prisma,
      interpreter: new LlmInterpreter({
        client,
        model: config.llm.model,
        timeoutMs: config.llm.timeoutMs,
        // The model is told the same "today" the parser and the risk checks use.
        now: options.clock,
      }),
      accounts: parts.accounts,
      market: parts.market,
      symbols: parts.symbols,
      brokerFor: parts.brokerFor,
      logger: options.logger.child({ component: 'llm' }),
    });
  }
  return fallback;
}

/** The conversation: every chat message in, answers and cards out through its channel. */
export function createConversation(
  options: ArbionSetup,
  parts: TradingParts & {
    readonly linking: Linking | undefined;
    readonly tradingModes: TradingModes | undefined;
    readonly intents: IntentService;
    readonly channels: ChannelRegistry;
    readonly fallback: FallbackInterpreter | undefined;
    readonly automation: Automation;
  },
): Conversation {
  const { database } = options;
  const prisma = database.prisma;
  const { symbols, linking, channels } = parts;
  return new Conversation({
    prisma,
    sql: database.sql,
    accounts: parts.accounts,
    workspaces: new Workspaces(prisma, database.sql),
    identityLinks: new IdentityLinks(prisma, options.clock),
    linkTokens: linking?.linkTokens,
    connections: linking?.connections,
    tradingModes: parts.tradingModes,
    intents: parts.intents,
    market: parts.market,
    symbols,
    brokerFor: parts.brokerFor,
    channelFor: (platform) => channels.get(platform),
    parse: (text: string, now: Date): Command => parseMessage(text, { symbols, now }),
    fallback: parts.fallback,
    automation: parts.automation.desk,
    logger: options.logger.child({ component: 'conversation' }),
    clock: options.clock,
  });
}
