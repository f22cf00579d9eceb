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

/** Reads ids page by page (keyset on the id) and hands each page on; sums what `each` returns. */
async function inPages(
  read: (after: string | undefined) => Promise<{ id: string }[]>,
  each: (ids: string[]) => Promise<number>,
): Promise<number> {
  let total = 0;
  for (let after: string | undefined; ; ) {
    const rows = await read(after);
    total += await each(rows.map((row) => row.id));
    if (rows.length < FAN_OUT_PAGE) return total;
    after = rows.at(-1)?.id;
  }
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
    const after = (id: string | undefined) => ({
      where: { status: 'active' as const, ...(id === undefined ? {} : { id: { gt: id } }) },
      orderBy: { id: 'asc' as const },
      take: FAN_OUT_PAGE,
      select: { id: true },
    });
    let added = await inPages(
      (id) => prisma.strategy.findMany(after(id)),
      (ids) =>
        queue.enqueueBulk(
          evaluate,
          ids.map((id) => ({ jobId: `eval-${id}-${suffix}`, data: { strategyId: id, tick: stamp } })),
        ),
    );
    added += await inPages(
      (id) => prisma.alert.findMany(after(id)),
      (ids) =>
        queue.enqueueBulk(
          monitor,
          ids.map((id) => ({ jobId: `mon-${id}-${suffix}`, data: { alertId: id, tick: stamp } })),
        ),
    );
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
