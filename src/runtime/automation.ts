/**
 * Automation's runtime: the job queue (BullMQ with REDIS_URL, else in-process), the strategy and
 * monitor runners, the outbox to chats and the chat desk, put together once per process.
 * `arbion start` runs every job (it has the chats); `arbion worker` runs all but deliveries.
 */

import type { PaperBroker } from '../brokers/paper/paper-broker.js';
import type { Accounts } from '../core/accounts/accounts.js';
import type { BrokerLookup } from '../core/brokers/broker.js';
import type { Config } from '../core/config/config.js';
import type { PrismaClient } from '../core/db/database.js';
import type { Decimal } from '../core/domain/values.js';
import type { IntentService } from '../core/intents/intent-service.js';
import { createJobQueue, type JobDefinition, type JobQueue } from '../core/jobs/index.js';
import type { Logger } from '../core/logging/logger.js';
import type { SymbolResolver } from '../core/market-data/instruments.js';
import type { MarketDataProvider } from '../core/market-data/market-data.js';
import type { OptionChainProvider } from '../core/market-data/providers/simulated-market.js';
import type { ChannelPort, Platform } from '../core/messages.js';
import type { NoticeStore } from '../core/notices/notice-store.js';
import { StrategyDesk } from '../strategies/runtime/automation-desk.js';
import { type AutomationJobs, automationJobs } from '../strategies/runtime/automation-jobs.js';
import type { ModelAdvisor } from '../strategies/runtime/model-advisor.js';
import { MonitorRunner } from '../strategies/runtime/monitor-runner.js';
import { type Delivery, deliverJob, durableOutbox, type Outbox } from '../strategies/runtime/outbox.js';
import { memoizedChains, type PriceHistory } from '../strategies/runtime/snapshot-builder.js';
import { StrategyRunner } from '../strategies/runtime/strategy-runner.js';
import type { BacktestMarket } from '../strategies/simulation/backtest-market.js';
import { tickNotices } from './tick-notices.js';

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
  /** The notice outbox: what background work tells chats is written here before it is sent. */
  readonly notices: NoticeStore;
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

export { describeSettlement } from './tick-notices.js';

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
  const deliver = deliverJob({
    prisma,
    intents: deps.intents,
    notices: deps.notices,
    channelFor: deps.channelFor,
    clock,
  });
  const outbox = durableOutbox({ prisma, notices: deps.notices, queue, job: deliver });
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

  const jobs = automationJobs({
    prisma,
    queue,
    strategies,
    monitors,
    onTick: tickNotices({ prisma, paper: deps.paper, outbox }),
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
