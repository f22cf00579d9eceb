/**
 * Automation's runtime: the job queue (BullMQ with REDIS_URL, else in-process), the strategy and
 * monitor runners, the outbox to chats and the chat desk, put together once per process.
 * `arbion start` runs every job (it has the chats); `arbion worker` runs all but deliveries.
 */

import type { PaperBroker } from '../brokers/paper/paper-broker.js';
import type { SettlementEvent } from '../brokers/paper/settlement.js';
import type { Accounts } from '../core/accounts/accounts.js';
import type { BrokerLookup } from '../core/brokers/broker.js';
import type { Config } from '../core/config/config.js';
import type { PrismaClient } from '../core/db/database.js';
import { type Decimal, formatDecimal, formatUsd } from '../core/domain/values.js';
import type { IntentService } from '../core/intents/intent-service.js';
import { createJobQueue, type JobDefinition, type JobQueue } from '../core/jobs/index.js';
import type { Logger } from '../core/logging/logger.js';
import type { SymbolResolver } from '../core/market-data/instruments.js';
import type { MarketDataProvider } from '../core/market-data/market-data.js';
import type { OptionChainProvider } from '../core/market-data/providers/simulated-market.js';
import { newYorkInstant, newYorkTime } from '../core/market-data/providers/us-market-calendar.js';
import type { ChannelAddress, ChannelPort, Platform } from '../core/messages.js';
import { StrategyDesk } from '../strategies/runtime/automation-desk.js';
import { type AutomationJobs, automationJobs } from '../strategies/runtime/automation-jobs.js';
import type { ModelAdvisor } from '../strategies/runtime/model-advisor.js';
import { MonitorRunner } from '../strategies/runtime/monitor-runner.js';
import { type Delivery, deliverJob, type Outbox, queueOutbox } from '../strategies/runtime/outbox.js';
import { memoizedChains, type PriceHistory } from '../strategies/runtime/snapshot-builder.js';
import { StrategyRunner, strategyTitle } from '../strategies/runtime/strategy-runner.js';
import type { BacktestMarket } from '../strategies/simulation/backtest-market.js';

export interface AutomationDependencies {
  readonly config: Config;
  readonly prisma: PrismaClient;
  readonly accounts: Accounts;
  readonly intents: IntentService;
  readonly brokerFor: BrokerLookup;
  readonly market: MarketDataProvider;
  readonly chains: OptionChainProvider;
  readonly backtestMarket: BacktestMarket;
  readonly symbols: SymbolResolver;
  readonly paper: PaperBroker;
  readonly channelFor: (platform: Platform) => ChannelPort | undefined;
  readonly logger: Logger;
  readonly clock: () => Date;
  /** Replaces the configured queue (tests isolate BullMQ under their own prefix). */
  readonly queue?: JobQueue;
  /** The AI-driven strategy's model; absent without an LLM (that strategy then holds). */
  readonly advisor?: ModelAdvisor;
}

export interface Automation {
  readonly desk: StrategyDesk;
  readonly queue: JobQueue;
  readonly jobs: AutomationJobs;
  readonly strategies: StrategyRunner;
  readonly monitors: MonitorRunner;
  readonly outbox: Outbox;
  /** Delivers background messages to chats; only a process with the channels works on it. */
  readonly deliver: JobDefinition<Delivery>;
  /**
   * Starts working on jobs and registers the tick. `all`: with deliveries to chats (the process
   * that has the channels); `worker`: evaluations and checks only.
   */
  start(role: 'all' | 'worker'): Promise<void>;
  /** Graceful: running evaluations finish (bounded), then the queue's connections close. */
  stop(timeoutMs?: number): Promise<void>;
}

/** Daily closes from the simulated market's past: the same seed gives the same history everywhere. */
function simulatedHistory(market: BacktestMarket): PriceHistory {
  return async (symbol, assetClass, at, days) => {
    const closes: Decimal[] = [];
    for (let back = days; back >= 1; back--) {
      const quote = await market.quote({ assetClass, symbol }, new Date(at.getTime() - back * 86_400_000));
      closes.push(quote.last);
    }
    return closes;
  };
}

const SETTLEMENT_WORDS: Readonly<Record<SettlementEvent['outcome'], string>> = {
  assigned: 'was assigned',
  called_away: 'was exercised: your shares were called away',
  exercised: 'was exercised',
  expired: 'expired worthless',
  cash_settled: 'was settled in cash at its intrinsic value',
};

export function describeSettlement(event: SettlementEvent): string {
  const { contract } = event;
  const name = `${contract.underlying} ${formatUsd(contract.strike)} ${contract.right} ${contract.expiry}`;
  const shares = event.shares.isZero()
    ? ''
    : ` ${event.shares.isPositive() ? 'Bought' : 'Delivered'} ${formatDecimal(event.shares.abs())} shares at ${formatUsd(event.price)}.`;
  return `Paper: your ${formatDecimal(event.contracts.abs())} ${name} ${SETTLEMENT_WORDS[event.outcome]} (${contract.underlying} at ${formatUsd(event.underlyingPrice)}).${shares} Cash ${event.cashChange.isNegative() ? '' : '+'}${formatUsd(event.cashChange)}.`;
}

export function createAutomation(deps: AutomationDependencies): Automation {
  const { config, prisma, logger, clock } = deps;
  const queue =
    deps.queue ??
    createJobQueue({
      redisUrl: config.redis?.url,
      logger: logger.child({ component: 'jobs' }),
      lockDurationMs: config.automation.jobLockSeconds * 1000,
      stalledIntervalMs: config.automation.jobLockSeconds * 1000,
    });
  const deliver = deliverJob({ prisma, intents: deps.intents, channelFor: deps.channelFor, clock });
  const outbox = queueOutbox(queue, deliver);
  const strategies = new StrategyRunner({
    prisma,
    accounts: deps.accounts,
    intents: deps.intents,
    brokerFor: deps.brokerFor,
    market: deps.market,
    symbols: deps.symbols,
    chains: memoizedChains(deps.chains),
    history: simulatedHistory(deps.backtestMarket),
    ...(deps.advisor === undefined ? {} : { advisor: deps.advisor }),
    outbox,
    // A run holds its strategy longer than its job's retries could take.
    runLeaseMs: Math.max(5 * 60_000, config.automation.jobLockSeconds * 4_000),
    clock,
    logger: logger.child({ component: 'strategies' }),
  });
  const monitors = new MonitorRunner({
    prisma,
    accounts: deps.accounts,
    intents: deps.intents,
    brokerFor: deps.brokerFor,
    market: deps.market,
    outbox,
    logger: logger.child({ component: 'monitors' }),
    clock,
  });

  /** Paper option expiries, told in the chat of the user's strategy on that underlying (or last order's). */
  async function settlePaperExpiries(at: Date): Promise<void> {
    for (const event of await deps.paper.settleExpirations(at)) {
      const where =
        (await prisma.strategy.findFirst({
          where: { userId: event.userId, symbol: event.contract.underlying },
          orderBy: { updatedAt: 'desc' },
          select: { platform: true, workspaceExternalId: true, chatId: true },
        })) ??
        (await prisma.tradeIntent.findFirst({
          where: { userId: event.userId },
          orderBy: { createdAt: 'desc' },
          select: { platform: true, workspaceExternalId: true, chatId: true },
        }));
      if (where === null) continue;
      const address: ChannelAddress = {
        platform: where.platform,
        workspaceId: where.workspaceExternalId,
        chatId: where.chatId,
      };
      await outbox.say(address, describeSettlement(event), `settled:${event.accountId}:${event.symbol}`);
    }
  }

  /**
   * After the close (16:15 New York), once a day per user: what each running strategy did today.
   * The message key names the user and the day, so the ticks after it add nothing.
   */
  let summarizedDay = '';
  async function dailySummaries(at: Date): Promise<void> {
    const local = newYorkTime(at);
    if (local.hour * 60 + local.minute < 16 * 60 + 15 || local.date === summarizedDay) return;
    summarizedDay = local.date;
    const since = newYorkInstant(local.date, 0, 0);
    const running = await prisma.strategy.findMany({
      where: { status: { in: ['active', 'paused', 'halted'] } },
      orderBy: { createdAt: 'asc' },
    });
    const byUser = new Map<string, typeof running>();
    for (const strategy of running)
      byUser.set(strategy.userId, [...(byUser.get(strategy.userId) ?? []), strategy]);
    for (const [userId, strategies] of byUser) {
      const lines = [`Daily summary, ${local.date}:`];
      for (const strategy of strategies) {
        const intents = await prisma.tradeIntent.groupBy({
          by: ['status'],
          where: { strategyId: strategy.id, createdAt: { gte: since } },
          _count: { _all: true },
        });
        const total = intents.reduce((sum, group) => sum + group._count._all, 0);
        const filled = intents.find((group) => group.status === 'filled')?._count._all ?? 0;
        const state =
          strategy.status === 'halted' ? `halted (${strategy.haltReason ?? ''})` : strategy.status;
        lines.push(
          `  ${strategyTitle(strategy)}: ${state}; ${total === 0 ? 'no orders today' : `${total} order${total === 1 ? '' : 's'} today, ${filled} filled`}.`,
        );
      }
      const first = strategies[0];
      if (first === undefined) continue;
      await outbox.say(
        { platform: first.platform, workspaceId: first.workspaceExternalId, chatId: first.chatId },
        lines.join('\n'),
        `summary:${userId}:${local.date}`,
      );
    }
  }

  const jobs = automationJobs({
    prisma,
    queue,
    strategies,
    monitors,
    onTick: async (at) => {
      await settlePaperExpiries(at);
      await dailySummaries(at);
    },
    tickMs: config.automation.tickSeconds * 1000,
    concurrency: config.automation.concurrency,
    logger: logger.child({ component: 'automation' }),
    clock,
  });
  const desk = new StrategyDesk({
    prisma,
    accounts: deps.accounts,
    intents: deps.intents,
    brokerFor: deps.brokerFor,
    market: deps.market,
    symbols: deps.symbols,
    backtestMarket: deps.backtestMarket,
    logger: logger.child({ component: 'automation' }),
    clock,
  });

  let started = false;
  return {
    desk,
    queue,
    jobs,
    strategies,
    monitors,
    outbox,
    deliver,
    async start(role) {
      if (started) return;
      started = true;
      queue.startWorkers(role === 'all' ? [...jobs.all, deliver] : jobs.all);
      await jobs.schedule();
    },
    stop: (timeoutMs) => queue.close(timeoutMs),
  };
}
