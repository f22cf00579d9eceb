/**
 * `arbion worker` processes on real Redis and PostgreSQL (the built code, as an operator runs it):
 *
 * - a worker SIGKILLed in the middle of a monitor's job: another worker runs the job again, and the
 *   order it placed is not placed twice;
 * - Redis restarted empty: the tick's schedule comes back by itself and strategies are evaluated again;
 * - "stop everything": no strategy of the user is evaluated after the next tick.
 *
 * Redis is a private redis-server on a free port (the shared one is never restarted).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { monitorIntentId } from '../../src/strategies/runtime/automation-ids.js';
import { createHarness, type Harness } from '../support/arbion-harness.js';
import { arbionBinary, cleanEnv } from '../support/cli.js';
import { freePort, PrivateRedis, waitUntil } from '../support/private-redis.js';

const TICK_SECONDS = 2;
const cwd = mkdtempSync(path.join(tmpdir(), 'arbion-workers-'));

interface WorkerProcess {
  readonly child: ChildProcess;
  readonly output: () => string;
  readonly exited: Promise<number | null>;
}

function startWorker(env: Record<string, string>): WorkerProcess {
  const child = spawn(process.execPath, [arbionBinary, 'worker'], { cwd, env: cleanEnv(env) });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

async function stopWorker(worker: WorkerProcess | undefined): Promise<void> {
  if (worker === undefined || worker.child.exitCode !== null || worker.child.signalCode !== null) return;
  worker.child.kill('SIGTERM');
  const timer = setTimeout(() => worker.child.kill('SIGKILL'), 15_000);
  await worker.exited;
  clearTimeout(timer);
}

let h: Harness;
let redis: PrivateRedis;
const workers: WorkerProcess[] = [];

function workerEnv(tickSeconds = TICK_SECONDS): Record<string, string> {
  return {
    DATABASE_URL: h.test.location,
    REDIS_URL: redis.url,
    AUTOMATION_TICK_SECONDS: String(tickSeconds),
    AUTOMATION_JOB_LOCK_SECONDS: '2',
    LOG_LEVEL: 'warn',
  };
}

beforeAll(async () => {
  h = await createHarness('server');
  redis = new PrivateRedis(await freePort());
  await redis.start();
});

afterAll(async () => {
  for (const worker of workers) await stopWorker(worker);
  await redis?.stop();
  await h?.destroy();
  rmSync(cwd, { recursive: true, force: true });
});

async function confirmLastCard(user: string): Promise<void> {
  const card = h.channel.lastCard();
  const confirm =
    card?.message?.kind === 'card'
      ? card.message.card.actions.find((action) => action.id.startsWith('confirm:'))
      : undefined;
  if (confirm === undefined) throw new Error('no card to confirm');
  await h.press(user, confirm.id);
}

describe('arbion worker', () => {
  it('a worker killed in the middle of a job: another runs it again, and its order is placed once', async () => {
    const prisma = h.test.database.prisma;
    await h.say('ann', 'buy 1 ETH');
    await confirmLastCard('ann');
    const userId = (await prisma.channelIdentity.findFirstOrThrow({ where: { platformUserId: 'ann' } }))
      .userId;
    const paper = await h.arbion.accounts.automationAccount(userId, null);
    if (paper === undefined) throw new Error('no paper account');
    // A stop far above the price: it triggers on its first check, and sells at once (auto).
    const alert = await prisma.alert.create({
      data: {
        userId,
        connectionId: paper.connectionId,
        kind: 'stop_loss',
        action: 'close_position',
        executionMode: 'auto',
        symbol: 'ETH',
        assetClass: 'crypto',
        threshold: '100000000',
        platform: 'console',
        chatId: 'chat-1',
      },
    });
    const intentId = monitorIntentId(alert.id);

    // Hold the alert's row: the worker places the order, then waits to mark the alert triggered.
    const blocker = new pg.Client({ connectionString: h.test.location });
    await blocker.connect();
    await blocker.query('BEGIN');
    await blocker.query('SELECT id FROM alerts WHERE id = $1 FOR UPDATE', [alert.id]);

    // An hour's tick: the check runs again because its job is taken over, not because a new tick came.
    const first = startWorker(workerEnv(3600));
    workers.push(first);
    try {
      // Placed at the (paper) broker: a second placement now would sell twice.
      await waitUntil(
        'the first worker to place the closing order',
        async () => (await prisma.paperOrder.count({ where: { symbol: 'ETH', side: 'sell' } })) === 1,
        30_000,
      );
    } catch (error) {
      throw new Error(`${(error as Error).message}\n${first.output()}`);
    }
    first.child.kill('SIGKILL');
    await first.exited;
    // The dead worker's database session still waits for the row; PostgreSQL would notice the
    // closed socket only later (keepalives), so end it as an operator would.
    await blocker.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
       WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()`,
    );
    await blocker.query('ROLLBACK');
    await blocker.end();
    expect((await prisma.alert.findUniqueOrThrow({ where: { id: alert.id } })).status).toBe('active');

    const second = startWorker(workerEnv(3600));
    workers.push(second);
    await waitUntil(
      'the second worker to finish the job',
      async () => (await prisma.alert.findUniqueOrThrow({ where: { id: alert.id } })).status === 'triggered',
      45_000,
    );
    expect(await prisma.tradeIntent.count({ where: { source: 'alert' } })).toBe(1);
    expect(await prisma.order.count({ where: { intentId } })).toBe(1);
    const sells = await prisma.paperOrder.count({ where: { symbol: 'ETH', side: 'sell' } });
    expect(sells).toBe(1);
    await stopWorker(second);
  });

  it('after a Redis restart the tick comes back by itself, and "stop everything" stops evaluations within a tick', async () => {
    const prisma = h.test.database.prisma;
    await h.say('bob', 'run the wheel on F, 1 contract max');
    const strategy = await prisma.strategy.findFirstOrThrow({ where: { symbol: 'F' } });
    const worker = startWorker(workerEnv());
    workers.push(worker);
    // Before the session the wheel's runs are skipped ("market closed"), in it they succeed: both
    // are evaluations.
    const runsSince = (at: Date) =>
      prisma.strategyRun.count({
        where: { strategyId: strategy.id, tick: { gte: at }, status: { in: ['succeeded', 'skipped'] } },
      });
    try {
      await waitUntil('a first evaluation', async () => (await runsSince(new Date(0))) > 0, 30_000);
    } catch (error) {
      throw new Error(`${(error as Error).message}\n${worker.output().slice(-3000)}`);
    }

    await redis.stop();
    await new Promise((resolve) => setTimeout(resolve, TICK_SECONDS * 1000));
    await redis.start();
    const restarted = new Date();
    await waitUntil('an evaluation after the restart', async () => (await runsSince(restarted)) > 0, 45_000);

    await h.say('bob', 'stop everything');
    expect(h.channel.texts().at(-1)).toMatch(/^Stopped everything: 1 strategy and 0 alerts/);
    const stopped = new Date();
    // Three more ticks: nothing ticks after the one in progress when the switch was pressed.
    await new Promise((resolve) => setTimeout(resolve, 3 * TICK_SECONDS * 1000));
    expect(await runsSince(new Date(stopped.getTime() + TICK_SECONDS * 1000))).toBe(0);
  });
});
