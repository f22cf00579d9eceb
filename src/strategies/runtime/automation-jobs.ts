/**
 * The background jobs of automation. One repeatable `automation-tick` per tick (one run across
 * all processes) fans out one `strategy-evaluate` per active strategy and one `monitor-check` per
 * active monitor, with job ids naming the tick: however many producers or retries there are, each
 * strategy is evaluated once per tick. Work is rows in PostgreSQL, so a restart of Redis or of
 * every process loses nothing: the next tick derives it all again.
 */
import { z } from 'zod';
import type { PrismaClient } from '../../core/db/database.js';
import {
  type AnyJobDefinition,
  defineJob,
  type JobDefinition,
  type JobQueue,
} from '../../core/jobs/index.js';
import type { Logger } from '../../core/logging/logger.js';
import { tickOf } from './automation-ids.js';
import type { MonitorRunner } from './monitor-runner.js';
import type { StrategyRunner } from './strategy-runner.js';

/** Rows read and jobs added per round trip of a fan-out. */
const FAN_OUT_PAGE = 1000;

export interface AutomationJobsOptions {
  readonly prisma: Pick<PrismaClient, 'strategy' | 'alert'>;
  readonly queue: JobQueue;
  readonly strategies: StrategyRunner;
  readonly monitors: MonitorRunner;
  /** Work done once per tick besides strategies and monitors (paper option expiries). */
  readonly onTick?: (at: Date) => Promise<void>;
  readonly tickMs: number;
  /** Evaluations one process runs at once. */
  readonly concurrency: number;
  readonly logger: Logger;
  readonly clock: () => Date;
}

export interface AutomationJobs {
  readonly tick: JobDefinition<Record<string, never>>;
  readonly evaluate: JobDefinition<{ strategyId: string; tick: string }>;
  readonly monitor: JobDefinition<{ alertId: string; tick: string }>;
  /** Every job a worker of automation runs. */
  readonly all: readonly AnyJobDefinition[];
  /** Registers the repeatable tick (idempotent; every process may call it). */
  schedule(): Promise<void>;
  /** Enqueues the tick's work now; resolves how many jobs were new. */
  fanOut(at: Date): Promise<number>;
}

export function automationJobs(options: AutomationJobsOptions): AutomationJobs {
  const { prisma, queue, logger } = options;
  const evaluate = defineJob('strategy-evaluate', {
    schema: z.object({ strategyId: z.uuid(), tick: z.iso.datetime() }),
    concurrency: options.concurrency,
    attempts: 5,
    backoffMs: 2000,
    handler: async ({ strategyId, tick }) => {
      await options.strategies.evaluate(strategyId, new Date(tick));
    },
  });
  const monitor = defineJob('monitor-check', {
    schema: z.object({ alertId: z.uuid(), tick: z.iso.datetime() }),
    concurrency: options.concurrency,
    attempts: 3,
    backoffMs: 2000,
    handler: async ({ alertId }) => {
      await options.monitors.check(alertId);
    },
  });

  async function fanOut(at: Date): Promise<number> {
    const tick = tickOf(at, options.tickMs);
    const stamp = tick.toISOString();
    const suffix = String(tick.getTime());
    let added = 0;
    for (let after: string | undefined; ; ) {
      const rows = await prisma.strategy.findMany({
        where: { status: 'active', ...(after === undefined ? {} : { id: { gt: after } }) },
        orderBy: { id: 'asc' },
        take: FAN_OUT_PAGE,
        select: { id: true },
      });
      added += await queue.enqueueBulk(
        evaluate,
        rows.map((row) => ({ jobId: `eval-${row.id}-${suffix}`, data: { strategyId: row.id, tick: stamp } })),
      );
      if (rows.length < FAN_OUT_PAGE) break;
      after = rows.at(-1)?.id;
    }
    for (let after: string | undefined; ; ) {
      const rows = await prisma.alert.findMany({
        where: { status: 'active', ...(after === undefined ? {} : { id: { gt: after } }) },
        orderBy: { id: 'asc' },
        take: FAN_OUT_PAGE,
        select: { id: true },
      });
      added += await queue.enqueueBulk(
        monitor,
        rows.map((row) => ({ jobId: `mon-${row.id}-${suffix}`, data: { alertId: row.id, tick: stamp } })),
      );
      if (rows.length < FAN_OUT_PAGE) break;
      after = rows.at(-1)?.id;
    }
    return added;
  }

  const tick = defineJob('automation-tick', {
    schema: z.object({}).strict() as unknown as z.ZodType<Record<string, never>>,
    attempts: 2,
    backoffMs: 1000,
    handler: async () => {
      const at = options.clock();
      const added = await fanOut(at);
      if (options.onTick !== undefined) await options.onTick(at);
      logger.debug({ added }, 'automation tick');
    },
  });

  return {
    tick,
    evaluate,
    monitor,
    all: [tick, evaluate, monitor] as unknown as readonly AnyJobDefinition[],
    schedule: () => queue.every(tick, { schedulerId: 'automation-tick', everyMs: options.tickMs, data: {} }),
    fanOut,
  };
}
