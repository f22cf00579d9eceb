/**
 * `npm run bench`, automation: strategy evaluations per second on `arbion worker` processes sharing
 * one BullMQ queue, and how that scales with 1, 2 and 4 of them. Target: 10,000 active strategies
 * evaluated every minute (about 167 a second) on this machine. Numbers only; nothing is asserted.
 *
 * Set-up: a fresh PostgreSQL database; users made through the product's own first-contact path
 * (user, identity, paper account with the default cash), then ten wheel strategies each (paper, ask
 * mode, one contract) in one INSERT. The workers are real processes (`node bin/arbion.js worker`).
 * Their BullMQ prefix cannot be set from the environment, so they are isolated on a Redis database
 * index of their own (never 0), flushed before each run and at the end.
 *
 * A worker registers the hourly tick and runs it once at start. The strategies stay paused until
 * that first fan-out has found nothing, so the only evaluations are the ticks fanned out here,
 * through the production `fanOut`. Fresh workers first run 1,000 unmeasured evaluations at a closed
 * minute (JIT, pools, prepared statements). Then, for each worker count, three ticks of every strategy:
 * - open, first: a minute inside a regular session; the wheel wants cash-secured puts and proposes
 *   them (cards become `deliver` jobs, which nobody runs here);
 * - open, steady: the next minute; those orders are pending and the decisions are no-ops;
 * - closed: a minute outside the session, where the wheel has nothing to do.
 * The decision's session comes from the tick, but the proposal's market-hours risk check reads the
 * workers' real clock, which no one can move: outside real market hours every proposal is refused
 * there, nothing is pending at the next tick, and "steady" repeats "first". The report says which.
 *
 * From the tables: wall time from the fan-out to the last finished run, evaluations per second,
 * p50/p99 of a run's finishedAt - startedAt, PostgreSQL transactions per evaluation, and the CPU
 * seconds of the workers, the bench database's backends, Redis, this process and everything else on
 * the machine (from /proc: "other" shows contention). Prints tables and writes
 * bench-results/strategies.json.
 *
 * Its `summary` (issue 21's targets, printed last with met / not met): `evaluationsPerMinute2Workers`,
 * the 2-worker run's evaluations on the two open ticks over their summed wall time, a minute's worth
 * (target >= 20,000), and `transactionsPerEvaluation`, that run's PostgreSQL transactions over its
 * evaluations on the same ticks (target <= 4). Null when BENCH_WORKERS has no 2.
 *
 * Knobs: BENCH_STRATEGY_USERS (1000), BENCH_WORKERS (1,2,4), BENCH_AUTOMATION_CONCURRENCY (8: as
 * fast as 16 with half the run latency; 4 left a lone worker waiting on I/O),
 * BENCH_DATABASE_POOL_SIZE (10), BENCH_REDIS_URL (redis://127.0.0.1:6379/5), BENCH_DATABASE_URL,
 * BENCH_TICK_TIMEOUT_SECONDS (1200), BENCH_WORKER_NODE_ARGS (node flags for the workers, e.g.
 * `--cpu-prof --cpu-prof-dir=/tmp/prof` for a profile of each).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import path from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { z } from 'zod';
import { parseEnvironment } from '../src/core/config/config.js';
import { type Database, Prisma } from '../src/core/db/database.js';
import type { MarketSession } from '../src/core/market-data/market-data.js';
import { sessionFor } from '../src/core/market-data/providers/us-market-calendar.js';
import { type Arbion, createArbion } from '../src/runtime/arbion.js';
import { tickOf } from '../src/strategies/runtime/automation-ids.js';
import { wheel, wheelParamsSchema } from '../src/strategies/wheel/wheel.js';
import { printSummary, type SummaryLine, summaryObject } from './summary.js';
import { openBenchDatabase, percentile, silentLogger } from './support.js';

/** Optionable names at $10-$85: ten cash-secured puts fit in the default $100,000 paper account. */
const SYMBOLS = ['SOFI', 'F', 'INTC', 'T', 'BAC', 'PFE', 'NIO', 'KO', 'CSCO', 'SNAP'] as const;
/** The workers' BullMQ key prefix: the jobs layer's default, not configurable from the environment. */
const WORKER_PREFIX = 'arbion';
const MINUTE_MS = 60_000;
/** The issue's target: 10,000 strategies a minute. */
const TARGET_PER_SECOND = 10_000 / 60;
/** The worker drains for up to 20 s on SIGTERM; past this it is killed. */
const STOP_GRACE_MS = 25_000;

const settingsSchema = z.object({
  BENCH_STRATEGY_USERS: z.coerce.number().int().min(1).default(1000),
  BENCH_WORKERS: z
    .string()
    .regex(/^\d+(,\d+)*$/)
    .default('1,2,4')
    .transform((list) => list.split(',').map(Number)),
  BENCH_AUTOMATION_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(8),
  BENCH_DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(10),
  BENCH_REDIS_URL: z.url().default('redis://127.0.0.1:6379/5'),
  BENCH_DATABASE_URL: z.url().optional(),
  BENCH_TICK_TIMEOUT_SECONDS: z.coerce.number().int().min(10).default(1200),
  BENCH_WORKER_NODE_ARGS: z
    .string()
    .default('')
    .transform((text) => text.split(' ').filter((flag) => flag !== '')),
});
type Settings = z.output<typeof settingsSchema>;

type ScenarioName = 'open, first' | 'open, steady' | 'closed';

interface Scenario {
  readonly name: ScenarioName;
  /** The minute fanned out; the decision's session is read at this instant. */
  readonly tick: Date;
}

/** CPU seconds spent while one tick ran, by process group. */
interface CpuSeconds {
  readonly workers: number;
  /** Backends connected to the bench's database. */
  readonly postgres: number;
  /** The whole server: other clients' work on it is in here too. */
  readonly redis: number;
  readonly bench: number;
  /** Everything else on the machine (other PostgreSQL work, other programs): contention. */
  readonly other: number;
}

interface TickResult {
  readonly scenario: ScenarioName;
  readonly tick: string;
  readonly workers: number;
  readonly strategies: number;
  /** Jobs the fan-out added (a duplicate tick would add none). */
  readonly enqueued: number;
  readonly fanOutMs: number;
  /** Runs finished before the timeout; below `strategies` the numbers cover a partial tick. */
  readonly finished: number;
  /** From the start of the fan-out to the last finishedAt. */
  readonly wallSeconds: number;
  readonly evaluationsPerSecond: number;
  readonly meetsTarget: boolean;
  readonly runMs: { readonly p50: number; readonly p99: number; readonly max: number };
  readonly cpuSeconds: CpuSeconds | undefined;
  /** CPU of the workers per evaluation, ms. */
  readonly workerCpuMsPerEvaluation: number | undefined;
  /** PostgreSQL transactions per evaluation (each statement outside BEGIN is one), fan-out included. */
  readonly transactionsPerEvaluation: number;
  readonly decisions: {
    /** Runs whose snapshot saw the session open (from the tick). */
    readonly sessionOpen: number;
    /** Runs whose decision had at least one order. */
    readonly withOrders: number;
    readonly halted: number;
    /** Intents (cards) the tick's runs created. */
    readonly intents: number;
    /** Proposals refused by the risk checks (audited as intent.refused). */
    readonly refused: number;
  };
  readonly failedJobs: number;
  /** Messages for chats queued so far in this run (no process here delivers them). */
  readonly deliverJobsQueued: number;
  /** Lines the workers wrote during the tick (LOG_LEVEL=warn: warnings and errors only). */
  readonly workerLogLines: number;
  /** The real clock's options session when the tick finished (the proposals' market-hours check). */
  readonly realSession: string;
}

interface WorkerProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly exited: Promise<void>;
  /** The last lines the worker wrote, for errors. */
  readonly tail: string[];
  logLines: number;
  exitCode: number | null | undefined;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(200);
  }
}

// ------------------------------------------------------------------ ticks and sessions

/**
 * The three minutes fanned out. In real market hours "open" is the current minute; outside them it
 * is half an hour after the next open, and "closed" is the current minute.
 */
function chooseScenarios(now: Date): {
  scenarios: Scenario[];
  warmUpTick: Date;
  realSession: MarketSession;
} {
  const realSession = sessionFor('option', now);
  const minute = (at: Date | number) => tickOf(new Date(at), MINUTE_MS);
  let open: Date;
  let closed: Date;
  if (realSession.open) {
    if (realSession.nextClose === undefined) throw new Error('the calendar has no close for today');
    open = minute(now);
    closed = minute(realSession.nextClose.getTime() + 3 * 60 * MINUTE_MS);
  } else {
    if (realSession.nextOpen === undefined) throw new Error('the calendar has no next open');
    open = minute(realSession.nextOpen.getTime() + 30 * MINUTE_MS);
    closed = minute(now);
  }
  return {
    realSession,
    // Outside the session like "closed": nothing is proposed, so "open, first" stays a first.
    warmUpTick: minute(closed.getTime() - MINUTE_MS),
    scenarios: [
      { name: 'open, first', tick: open },
      { name: 'open, steady', tick: minute(open.getTime() + MINUTE_MS) },
      { name: 'closed', tick: closed },
    ],
  };
}

// ------------------------------------------------------------------ CPU from /proc

type ProcessGroup = Exclude<keyof CpuSeconds, 'other'>;

interface CpuSample {
  /** utime + stime in clock ticks, of each process in a group. */
  readonly processes: Map<number, { readonly group: ProcessGroup; readonly ticks: number }>;
  /** Busy clock ticks of the whole machine, all CPUs (from /proc/stat). */
  readonly machineBusy: number;
}

function clockTicksPerSecond(): number {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
}
const CLOCK_TICKS = clockTicksPerSecond();

function readOrUndefined(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined; // the process ended meanwhile
  }
}

function groupOf(
  pid: number,
  command: string,
  scope: { readonly workerPids: ReadonlySet<number>; readonly databaseName: string },
): ProcessGroup | undefined {
  if (scope.workerPids.has(pid)) return 'workers';
  if (pid === process.pid) return 'bench';
  if (command.startsWith('redis-server')) return 'redis';
  // A backend's title names its database: "postgres: 15/main: postgres <database> 127.0.0.1(…) idle".
  if (command === 'postgres')
    return readOrUndefined(`/proc/${pid}/cmdline`)?.includes(` ${scope.databaseName} `)
      ? 'postgres'
      : undefined;
  return undefined;
}

/** A CPU reading from /proc; undefined where there is none. */
function cpuSample(scope: {
  readonly workerPids: ReadonlySet<number>;
  readonly databaseName: string;
}): CpuSample | undefined {
  const machine = readOrUndefined('/proc/stat')?.split('\n')[0];
  if (machine === undefined) return undefined;
  // "cpu user nice system idle iowait irq softirq steal ...": busy is all but idle and iowait.
  const [user, nice, system, , , irq, softirq, steal] = machine.trim().split(/\s+/).slice(1).map(Number);
  const machineBusy = [user, nice, system, irq, softirq, steal].reduce<number>((sum, v) => sum + (v ?? 0), 0);
  const processes = new Map<number, { group: ProcessGroup; ticks: number }>();
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    const stat = readOrUndefined(`/proc/${pid}/stat`);
    if (stat === undefined) continue;
    const close = stat.lastIndexOf(')');
    const group = groupOf(pid, stat.slice(stat.indexOf('(') + 1, close), scope);
    if (group === undefined) continue;
    // Fields after "pid (comm) ": state is the first; utime and stime are the 12th and 13th.
    const fields = stat.slice(close + 2).split(' ');
    processes.set(pid, { group, ticks: Number(fields[11] ?? 0) + Number(fields[12] ?? 0) });
  }
  return { processes, machineBusy };
}

/** CPU between two samples; a process that ended in between counts as "other". */
function cpuBetween(before: CpuSample | undefined, after: CpuSample | undefined): CpuSeconds | undefined {
  if (before === undefined || after === undefined) return undefined;
  const seconds: Record<ProcessGroup, number> = { workers: 0, postgres: 0, redis: 0, bench: 0 };
  for (const [pid, { group, ticks }] of after.processes) {
    seconds[group] += (ticks - (before.processes.get(pid)?.ticks ?? 0)) / CLOCK_TICKS;
  }
  const ours = seconds.workers + seconds.postgres + seconds.redis + seconds.bench;
  return { ...seconds, other: Math.max(0, (after.machineBusy - before.machineBusy) / CLOCK_TICKS - ours) };
}

// ------------------------------------------------------------------ Redis

/** The index of a redis:// URL's database; the bench refuses 0, where other work lives. */
function redisDatabaseIndex(url: string): number {
  const index = Number(new URL(url).pathname.replace(/^\//, '') || '0');
  if (!Number.isInteger(index) || index <= 0)
    throw new Error(`BENCH_REDIS_URL must name a Redis database index other than 0 (it is flushed): ${url}`);
  return index;
}

/** Refuses a database index that holds anything but BullMQ keys under the workers' prefix. */
async function assertBenchOwned(redis: Redis, url: string): Promise<void> {
  const [, keys] = await redis.scan('0', 'COUNT', 1000);
  const foreign = keys.find((key) => !key.startsWith(`${WORKER_PREFIX}:`));
  if (foreign !== undefined)
    throw new Error(
      `${url} holds other data (e.g. key "${foreign}"); pick an empty index with BENCH_REDIS_URL`,
    );
}

// ------------------------------------------------------------------ seeding

/** Users through the product's first-contact path: user, Telegram identity, paper account. */
async function seedUsers(arbion: Arbion, count: number): Promise<void> {
  let next = 0;
  const lane = async () => {
    for (let index = next++; index < count; index = next++) {
      const id = String(700_000_000 + index);
      await arbion.accounts.identify(
        { platform: 'telegram', workspaceId: '', chatId: id },
        { platformUserId: id, displayName: `Bench ${index}` },
      );
    }
  };
  await Promise.all(Array.from({ length: 8 }, lane));
}

/** What a new wheel strategy stores, as the chat desk writes it: parsed params, initial state. */
function wheelRows() {
  const params = SYMBOLS.map((symbol) => wheelParamsSchema.parse({ symbol, maxContracts: 1 }));
  const state = wheel.initialState(params[0] ?? wheelParamsSchema.parse({ symbol: SYMBOLS[0] }));
  return { params: params.map((value) => JSON.stringify(value)), state: JSON.stringify(state) };
}

/** One wheel per symbol per user, paused until the workers' own first tick has gone by. */
async function seedStrategies(database: Database): Promise<number> {
  const { params, state } = wheelRows();
  return database.sql.execute(Prisma.sql`
    INSERT INTO strategies (id, "userId", "connectionId", kind, status, mode, "executionMode", symbol,
      params, state, platform, "workspaceExternalId", "chatId", "createdAt", "updatedAt")
    SELECT gen_random_uuid(), bc."userId", bc.id, 'wheel'::"StrategyKind", 'paused'::"StrategyStatus",
      'paper'::"TradingMode", 'ask'::"ExecutionMode", s.symbol, s.params::jsonb, ${state}::jsonb,
      ci.platform, ci."platformWorkspaceId", ci."platformUserId", now(), now()
    FROM broker_connections bc
    JOIN channel_identities ci ON ci."userId" = bc."userId"
    CROSS JOIN unnest(${[...SYMBOLS]}::text[], ${params}::text[]) AS s(symbol, params)
    WHERE bc.provider = 'paper'`);
}

/** Back to freshly created strategies: no runs, no strategy orders, initial state, paused. */
async function resetStrategies(database: Database): Promise<void> {
  const { state } = wheelRows();
  await database.sql.execute(Prisma.sql`DELETE FROM trade_intents WHERE "strategyId" IS NOT NULL`);
  await database.sql.execute(Prisma.sql`DELETE FROM strategy_runs`);
  await database.sql.execute(Prisma.sql`
    UPDATE strategies SET status = 'paused', state = ${state}::jsonb, "peakEquity" = NULL,
      "lastRunAt" = NULL, "haltReason" = NULL, "updatedAt" = now()`);
}

// ------------------------------------------------------------------ workers

function spawnWorkers(
  count: number,
  env: Record<string, string>,
  options: { readonly cwd: string; readonly nodeArgs: readonly string[] },
): WorkerProcess[] {
  const bin = path.resolve('bin/arbion.js');
  if (!existsSync(bin)) throw new Error(`${bin} not found: run the bench from the repository root`);
  return Array.from({ length: count }, () => {
    const child = spawn(process.execPath, [...options.nodeArgs, bin, 'worker'], {
      cwd: options.cwd,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    if (child.pid === undefined) throw new Error('could not start a worker');
    const worker: WorkerProcess = {
      child,
      pid: child.pid,
      tail: [],
      logLines: 0,
      exitCode: undefined,
      exited: new Promise<void>((resolve) =>
        child.once('exit', (code) => {
          worker.exitCode = code;
          resolve();
        }),
      ),
    };
    const keep = (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line.trim() === '') continue;
        worker.logLines += 1;
        worker.tail.push(line.slice(0, 500));
        if (worker.tail.length > 10) worker.tail.shift();
      }
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    return worker;
  });
}

/** SIGTERM (the worker drains), then SIGKILL for any still there after the grace period. */
async function stopWorkers(workers: readonly WorkerProcess[]): Promise<void> {
  for (const worker of workers) if (worker.exitCode === undefined) worker.child.kill('SIGTERM');
  const all = Promise.all(workers.map((worker) => worker.exited));
  const outcome = await Promise.race([all.then(() => 'exited' as const), sleep(STOP_GRACE_MS)]);
  if (outcome === 'exited') return;
  for (const worker of workers) if (worker.exitCode === undefined) worker.child.kill('SIGKILL');
  await all;
}

function assertAlive(workers: readonly WorkerProcess[]): void {
  const dead = workers.find((worker) => worker.exitCode !== undefined);
  if (dead !== undefined)
    throw new Error(`worker ${dead.pid} exited with ${dead.exitCode}:\n${dead.tail.join('\n')}`);
}

/**
 * Until every worker listens for evaluations and the tick each ran at start has finished (it found
 * no active strategy): after this only the bench's fan-outs make work.
 */
async function waitUntilReady(
  workers: readonly WorkerProcess[],
  queues: { readonly evaluate: Queue; readonly tick: Queue },
  redisIndex: number,
): Promise<void> {
  await until('the workers to start and finish their first tick', 120_000, async () => {
    assertAlive(workers);
    const listening = (await queues.evaluate.getWorkers()).filter(
      (client) => client.db === String(redisIndex),
    ).length;
    const ticks = await queues.tick.getJobCounts('completed', 'wait', 'active', 'prioritized');
    const done =
      (ticks.completed ?? 0) >= 1 && ticks.wait === 0 && ticks.active === 0 && ticks.prioritized === 0;
    return listening >= workers.length && done ? true : undefined;
  });
}

// ------------------------------------------------------------------ one tick

interface TickContext {
  readonly arbion: Arbion;
  readonly database: Database;
  readonly workers: readonly WorkerProcess[];
  readonly queues: { readonly evaluate: Queue; readonly deliver: Queue };
  readonly databaseName: string;
  readonly strategies: number;
  readonly timeoutMs: number;
}

async function countRefused(database: Database): Promise<number> {
  const [row] = await database.sql.query<{ count: number }>(
    Prisma.sql`SELECT count(*)::int AS count FROM audit_events WHERE type = 'intent.refused'`,
  );
  return row?.count ?? 0;
}

/**
 * Transactions PostgreSQL counted in this database. Backends report them when idle, at most 10 s
 * late (PGSTAT_IDLE_INTERVAL), so a reading after work waits that long first.
 */
async function countTransactions(database: Database): Promise<number> {
  const [row] = await database.sql.query<{ count: string }>(Prisma.sql`
    SELECT (xact_commit + xact_rollback)::text AS count FROM pg_stat_database
    WHERE datname = current_database()`);
  return Number(row?.count ?? 0);
}
const STATISTICS_DELAY_MS = 11_000;

/**
 * Fresh workers first run this many evaluations, unmeasured, at a closed minute: the JIT, the
 * connection pools and the prepared statements warm up, as in a worker that has run for a while.
 */
const WARM_UP_EVALUATIONS = 1000;

async function warmUp(context: Omit<TickContext, 'queues' | 'databaseName'>, tick: Date): Promise<void> {
  const { arbion, database } = context;
  const rows = await database.sql.query<{ id: string }>(
    Prisma.sql`SELECT id::text AS id FROM strategies ORDER BY id LIMIT ${WARM_UP_EVALUATIONS}`,
  );
  const stamp = tick.toISOString();
  await arbion.automation.queue.enqueueBulk(
    arbion.automation.jobs.evaluate,
    rows.map((row) => ({ jobId: `warm-up-${row.id}`, data: { strategyId: row.id, tick: stamp } })),
  );
  await until('the warm-up evaluations', context.timeoutMs, async () => {
    assertAlive(context.workers);
    const [progress] = await database.sql.query<{ finished: number }>(Prisma.sql`
      SELECT count(*)::int AS finished FROM strategy_runs
      WHERE tick = ${tick}::timestamp(3) AND "finishedAt" IS NOT NULL`);
    return (progress?.finished ?? 0) >= rows.length ? true : undefined;
  });
}

async function measureTick(context: TickContext, scenario: Scenario): Promise<TickResult> {
  const { arbion, database, workers, strategies } = context;
  const tick = scenario.tick;
  const refusedBefore = await countRefused(database);
  const logLinesBefore = workers.reduce((sum, worker) => sum + worker.logLines, 0);
  const scope = {
    workerPids: new Set(workers.map((worker) => worker.pid)),
    databaseName: context.databaseName,
  };
  await sleep(STATISTICS_DELAY_MS); // the previous tick's statistics, reported before we start
  const transactionsBefore = await countTransactions(database);
  const cpuBefore = cpuSample(scope);

  const startedAt = Date.now();
  const enqueued = await arbion.automation.jobs.fanOut(tick);
  const fanOutMs = Date.now() - startedAt;

  let finished = 0;
  let polls = 0;
  const deadline = startedAt + context.timeoutMs;
  for (;;) {
    assertAlive(workers);
    polls += 1;
    const [progress] = await database.sql.query<{ finished: number }>(Prisma.sql`
      SELECT count(*)::int AS finished FROM strategy_runs
      WHERE tick = ${tick}::timestamp(3) AND "finishedAt" IS NOT NULL`);
    finished = progress?.finished ?? 0;
    if (finished >= strategies || Date.now() > deadline) break;
    await sleep(100);
  }
  const cpuSeconds = cpuBetween(cpuBefore, cpuSample(scope));
  await sleep(STATISTICS_DELAY_MS);
  // Less the bench's own statements: the polls and the first reading.
  const transactions = (await countTransactions(database)) - transactionsBefore - polls - 1;

  const runs = await database.sql.query<{ ms: number; finishedAt: Date }>(Prisma.sql`
    SELECT (EXTRACT(EPOCH FROM ("finishedAt" - "startedAt")) * 1000)::float8 AS ms, "finishedAt"
    FROM strategy_runs WHERE tick = ${tick}::timestamp(3) AND "finishedAt" IS NOT NULL`);
  const durations = runs.map((run) => run.ms).sort((a, b) => a - b);
  const lastFinished = Math.max(startedAt, ...runs.map((run) => run.finishedAt.getTime()));
  const wallSeconds = (lastFinished - startedAt) / 1000;
  const evaluationsPerSecond = wallSeconds > 0 ? finished / wallSeconds : 0;

  const [decisions] = await database.sql.query<{
    sessionOpen: number;
    withOrders: number;
    halted: number;
    intents: number;
  }>(Prisma.sql`
    SELECT count(*) FILTER (WHERE decision->>'sessionOpen' = 'true')::int AS "sessionOpen",
      count(*) FILTER (WHERE decision->'actions' @> '[{"kind":"order"}]'::jsonb)::int AS "withOrders",
      count(*) FILTER (WHERE decision ? 'halted')::int AS halted,
      (SELECT count(*) FROM trade_intents ti JOIN strategy_runs r ON r.id = ti."strategyRunId"
        WHERE r.tick = ${tick}::timestamp(3))::int AS intents
    FROM strategy_runs WHERE tick = ${tick}::timestamp(3)`);
  const failed = await context.queues.evaluate.getJobCounts('failed');
  const deliver = await context.queues.deliver.getJobCounts('wait', 'delayed', 'prioritized');

  return {
    scenario: scenario.name,
    tick: tick.toISOString(),
    workers: workers.length,
    strategies,
    enqueued,
    fanOutMs,
    finished,
    wallSeconds,
    evaluationsPerSecond,
    meetsTarget: finished >= strategies && evaluationsPerSecond >= TARGET_PER_SECOND,
    runMs: {
      p50: percentile(durations, 50),
      p99: percentile(durations, 99),
      max: durations.at(-1) ?? Number.NaN,
    },
    cpuSeconds,
    workerCpuMsPerEvaluation:
      cpuSeconds === undefined || finished === 0 ? undefined : (cpuSeconds.workers * 1000) / finished,
    transactionsPerEvaluation: finished === 0 ? Number.NaN : transactions / finished,
    decisions: {
      sessionOpen: decisions?.sessionOpen ?? 0,
      withOrders: decisions?.withOrders ?? 0,
      halted: decisions?.halted ?? 0,
      intents: decisions?.intents ?? 0,
      refused: (await countRefused(database)) - refusedBefore,
    },
    failedJobs: failed.failed ?? 0,
    deliverJobsQueued: (deliver.wait ?? 0) + (deliver.delayed ?? 0) + (deliver.prioritized ?? 0),
    workerLogLines: workers.reduce((sum, worker) => sum + worker.logLines, 0) - logLinesBefore,
    realSession: sessionFor('option', new Date()).description,
  };
}

// ------------------------------------------------------------------ one worker count

interface RunContext {
  readonly settings: Settings;
  readonly arbion: Arbion;
  readonly database: Database;
  readonly databaseUrl: string;
  readonly databaseName: string;
  readonly redis: Redis;
  readonly redisIndex: number;
  readonly strategies: number;
  readonly scenarios: readonly Scenario[];
  readonly warmUpTick: Date;
  readonly workerDirectory: string;
  /** Every worker started, for the last-resort kill on exit. */
  readonly started: WorkerProcess[];
}

async function runWithWorkers(context: RunContext, count: number): Promise<TickResult[]> {
  const { settings, database, redis } = context;
  await resetStrategies(database);
  await redis.flushdb(); // only the bench's own index (checked at start)
  const connection = { connection: redis, prefix: WORKER_PREFIX };
  const { jobs, deliver } = context.arbion.automation;
  const queues = {
    evaluate: new Queue(jobs.evaluate.name, connection),
    tick: new Queue(jobs.tick.name, connection),
    deliver: new Queue(deliver.name, connection),
  };
  const workers = spawnWorkers(
    count,
    {
      REDIS_URL: settings.BENCH_REDIS_URL,
      DATABASE_URL: context.databaseUrl,
      DATABASE_POOL_SIZE: String(settings.BENCH_DATABASE_POOL_SIZE),
      LOG_LEVEL: 'warn',
      LOG_FORMAT: 'json',
      AUTOMATION_CONCURRENCY: String(settings.BENCH_AUTOMATION_CONCURRENCY),
      // The workers' own tick comes once at start (before the strategies are active), then in an hour.
      AUTOMATION_TICK_SECONDS: '3600',
    },
    { cwd: context.workerDirectory, nodeArgs: settings.BENCH_WORKER_NODE_ARGS },
  );
  context.started.push(...workers);
  const results: TickResult[] = [];
  try {
    await waitUntilReady(workers, queues, context.redisIndex);
    await database.sql.execute(Prisma.sql`UPDATE strategies SET status = 'active'`);
    const timeoutMs = settings.BENCH_TICK_TIMEOUT_SECONDS * 1000;
    await warmUp(
      { arbion: context.arbion, database, workers, strategies: context.strategies, timeoutMs },
      context.warmUpTick,
    );
    for (const scenario of context.scenarios) {
      const result = await measureTick(
        {
          arbion: context.arbion,
          database,
          workers,
          queues,
          databaseName: context.databaseName,
          strategies: context.strategies,
          timeoutMs,
        },
        scenario,
      );
      results.push(result);
      console.log(
        `  ${count} worker(s), ${result.scenario}: ${result.finished}/${result.strategies} in ${result.wallSeconds.toFixed(1)} s = ${result.evaluationsPerSecond.toFixed(0)}/s`,
      );
    }
  } finally {
    await stopWorkers(workers);
    await Promise.all(Object.values(queues).map((queue) => queue.close()));
  }
  return results;
}

// ------------------------------------------------------------------ report

const fixed = (value: number | undefined, digits: number) =>
  value === undefined || Number.isNaN(value) ? '-' : value.toFixed(digits);

function printTable(header: readonly string[], rows: readonly (readonly string[])[]): void {
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => row[column]?.length ?? 0)),
  );
  const line = (cells: readonly string[]) =>
    cells.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join('  ');
  console.log(line(header));
  console.log(widths.map((width) => '-'.repeat(width)).join('  '));
  for (const row of rows) console.log(line(row));
}

function printReport(results: readonly TickResult[]): void {
  const single = new Map(results.filter((r) => r.workers === 1).map((r) => [r.scenario, r]));
  printTable(
    [
      'tick',
      'workers',
      'evals/s',
      'speed-up',
      'wall s',
      'run p50 ms',
      'run p99 ms',
      'CPU s wrk/pg/redis/other',
      'wrk CPU ms/eval',
      'PG xact/eval',
      '10k/min',
    ],
    results.map((result) => {
      const base = single.get(result.scenario);
      const cpu = result.cpuSeconds;
      return [
        result.scenario,
        String(result.workers),
        fixed(result.evaluationsPerSecond, 0),
        base === undefined ? '-' : `${fixed(result.evaluationsPerSecond / base.evaluationsPerSecond, 2)}x`,
        `${fixed(result.wallSeconds, 1)}${result.finished < result.strategies ? ` (${result.finished} done)` : ''}`,
        fixed(result.runMs.p50, 1),
        fixed(result.runMs.p99, 1),
        cpu === undefined
          ? '-'
          : [cpu.workers, cpu.postgres, cpu.redis, cpu.other].map((value) => fixed(value, 0)).join('/'),
        fixed(result.workerCpuMsPerEvaluation, 2),
        fixed(result.transactionsPerEvaluation, 1),
        result.meetsTarget ? 'met' : 'not met',
      ];
    }),
  );
  console.log('');
  printTable(
    [
      'tick',
      'workers',
      'tick at',
      'session open',
      'with orders',
      'intents',
      'refused',
      'failed jobs',
      'worker log lines',
    ],
    results.map((result) => [
      result.scenario,
      String(result.workers),
      result.tick,
      String(result.decisions.sessionOpen),
      String(result.decisions.withOrders),
      String(result.decisions.intents),
      String(result.decisions.refused),
      String(result.failedJobs),
      String(result.workerLogLines),
    ]),
  );
}

/** Issue 21's targets: 2 workers, the open ticks together (see the header). */
function summaryLines(results: readonly TickResult[]): SummaryLine[] {
  const open = results.filter((result) => result.workers === 2 && result.scenario !== 'closed');
  const sum = (values: number[]) => values.reduce((total, value) => total + value, 0);
  const finished = sum(open.map((result) => result.finished));
  const wallSeconds = sum(open.map((result) => result.wallSeconds));
  const transactions = sum(open.map((result) => result.transactionsPerEvaluation * result.finished));
  return [
    {
      key: 'evaluationsPerMinute2Workers',
      what: 'strategy evaluations a minute, 2 workers, open ticks',
      value: wallSeconds > 0 ? (finished / wallSeconds) * 60 : Number.NaN,
      digits: 0,
      bound: '>=',
      target: 20_000,
    },
    {
      key: 'transactionsPerEvaluation',
      what: 'PostgreSQL transactions per evaluation, same ticks',
      value: finished > 0 ? transactions / finished : Number.NaN,
      digits: 2,
      bound: '<=',
      target: 4,
    },
  ];
}

// ------------------------------------------------------------------ main

/** The commit measured (the working tree may differ); undefined outside a git checkout. */
function currentCommit(): string | undefined {
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  } catch {
    return undefined;
  }
}

async function main(): Promise<void> {
  const parsed = settingsSchema.safeParse(process.env);
  if (!parsed.success) throw new Error(`bench settings: ${z.prettifyError(parsed.error)}`);
  const settings = parsed.data;
  const redisIndex = redisDatabaseIndex(settings.BENCH_REDIS_URL);
  const adminUrl =
    settings.BENCH_DATABASE_URL ?? process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/test';

  const redis = new Redis(settings.BENCH_REDIS_URL, { maxRetriesPerRequest: null });
  await assertBenchOwned(redis, settings.BENCH_REDIS_URL);
  const { database, cleanup } = await openBenchDatabase('server', {
    prefix: 'arbion-bench-strategies',
    serverUrl: adminUrl,
  });
  const [current] = await database.sql.query<{ name: string }>(Prisma.sql`SELECT current_database() AS name`);
  const databaseName = current?.name ?? '';
  const databaseUrl = new URL(adminUrl);
  databaseUrl.pathname = `/${databaseName}`;

  const environment = parseEnvironment(
    {
      LOG_LEVEL: 'silent',
      REDIS_URL: settings.BENCH_REDIS_URL,
      DATABASE_URL: databaseUrl.toString(),
      // The bench's fan-out names minutes; the workers' own tick is hourly and never meets them.
      AUTOMATION_TICK_SECONDS: '60',
    },
    { cwd: tmpdir() },
  );
  if (!environment.ok) throw new Error(environment.problems.join('\n'));
  // Seeding and the fan-out only: this Arbion never starts workers of its own.
  const arbion = createArbion({
    config: environment.config,
    database,
    logger: silentLogger(),
    fallback: null,
  });
  const workerDirectory = mkdtempSync(path.join(tmpdir(), 'arbion-bench-workers-'));
  const started: WorkerProcess[] = [];
  const killAll = () => {
    for (const worker of started) if (worker.exitCode === undefined) worker.child.kill('SIGKILL');
  };
  process.once('exit', killAll);

  const results: TickResult[] = [];
  const startedAt = new Date();
  const { scenarios, warmUpTick, realSession } = chooseScenarios(startedAt);
  let strategies = 0;
  try {
    const seeding = Date.now();
    await seedUsers(arbion, settings.BENCH_STRATEGY_USERS);
    strategies = await seedStrategies(database);
    console.log(
      `seeded ${settings.BENCH_STRATEGY_USERS} users and ${strategies} wheel strategies in ${((Date.now() - seeding) / 1000).toFixed(1)} s; real clock: ${realSession.description}`,
    );
    for (const count of settings.BENCH_WORKERS) {
      results.push(
        ...(await runWithWorkers(
          {
            settings,
            arbion,
            database,
            databaseUrl: databaseUrl.toString(),
            databaseName,
            redis,
            redisIndex,
            strategies,
            scenarios,
            warmUpTick,
            workerDirectory,
            started,
          },
          count,
        )),
      );
    }
  } finally {
    killAll();
    await arbion.automation.stop();
    await redis.flushdb();
    redis.disconnect();
    await cleanup();
    rmSync(workerDirectory, { recursive: true, force: true });
  }

  console.log('');
  printReport(results);
  const endSession = sessionFor('option', new Date());
  console.log(
    `\n${strategies} wheel strategies (ask, paper, 1 contract) of ${settings.BENCH_STRATEGY_USERS} users; ` +
      `AUTOMATION_CONCURRENCY=${settings.BENCH_AUTOMATION_CONCURRENCY}, DATABASE_POOL_SIZE=${settings.BENCH_DATABASE_POOL_SIZE} per worker; ` +
      `${cpus().length} CPUs; node ${process.version}`,
  );
  console.log(`real clock at start: ${realSession.description}`);
  console.log(`real clock at end: ${endSession.description}`);
  console.log(
    `target: ${TARGET_PER_SECOND.toFixed(0)} evaluations/s (10,000 a minute); speed-up is against 1 worker on the same tick`,
  );

  const summary = summaryLines(results);
  printSummary('summary (issue 21 targets)', summary);

  const report = {
    at: startedAt.toISOString(),
    commit: currentCommit(),
    summary: summaryObject(summary),
    node: process.version,
    cpus: cpus().length,
    users: settings.BENCH_STRATEGY_USERS,
    strategies,
    symbols: SYMBOLS,
    automationConcurrency: settings.BENCH_AUTOMATION_CONCURRENCY,
    databasePoolSize: settings.BENCH_DATABASE_POOL_SIZE,
    targetPerSecond: TARGET_PER_SECOND,
    realSession: { atStart: realSession.description, atEnd: endSession.description },
    warmUp: { evaluations: WARM_UP_EVALUATIONS, tick: warmUpTick.toISOString() },
    scenarios: scenarios.map((scenario) => ({ name: scenario.name, tick: scenario.tick.toISOString() })),
    results,
  };
  mkdirSync('bench-results', { recursive: true });
  writeFileSync('bench-results/strategies.json', `${JSON.stringify(report, null, 2)}\n`);
  console.log('report: bench-results/strategies.json');
}

await main();
