/**
 * BullMQ under failure, on a private redis-server this file starts on a free port (never the shared
 * one: other tests use it). Like that Redis in production, it keeps nothing on disk.
 *
 * - A worker process SIGKILLed mid-job: another worker process runs the job again, and it completes
 *   exactly once. The workers run the built code (`npm run build`), as `arbion worker` would.
 * - Redis restarted empty, or emptied under a live connection: the schedule runs again, without a
 *   new queue object.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { encodeJobId } from '../../src/core/jobs/bullmq-queue.js';
import { createJobQueue, defineJob, type JobQueue } from '../../src/core/jobs/index.js';
import { createLogger } from '../../src/core/logging/logger.js';
import { projectRoot } from '../../src/core/paths.js';
import { cleanEnv } from '../support/cli.js';
import { freePort, PrivateRedis, waitUntil } from '../support/private-redis.js';

const workerScript = path.join(projectRoot, 'tests', 'fixtures', 'jobs', 'worker.mjs');
const builtJobs = path.join(projectRoot, 'dist', 'src', 'core', 'jobs', 'index.js');
const logger = createLogger({ level: 'silent', format: 'json', secretValues: [] });

interface Worker {
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
}

/** Starts the fixture worker and resolves once it takes jobs. */
async function startWorker(env: Record<string, string>): Promise<Worker> {
  const child = spawn(process.execPath, [workerScript], { cwd: projectRoot, env: cleanEnv(env) });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`worker never got ready:\n${stderr}`)), 30_000);
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      if (line === 'ready') {
        clearTimeout(timer);
        resolve();
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`worker exited with ${code} before it was ready:\n${stderr}`));
    });
  });
  return { child, exited };
}

interface JournalEntry {
  readonly pid: number;
  readonly jobId: string;
  readonly attempt: number;
  readonly orderId: string;
}

describe('BullMQ jobs under failure', () => {
  let redis: PrivateRedis;
  let journal: Redis;
  const workers: Worker[] = [];
  const queues: JobQueue[] = [];

  beforeAll(async () => {
    if (!existsSync(builtJobs)) throw new Error(`${builtJobs} is missing: run \`npm run build\` first`);
    redis = new PrivateRedis(await freePort());
    await redis.start();
    journal = new Redis(redis.url);
    journal.on('error', () => {});
  });

  afterAll(async () => {
    for (const worker of workers) if (worker.child.exitCode === null) worker.child.kill('SIGKILL');
    await Promise.all(queues.map((queue) => queue.close(2_000)));
    journal?.disconnect();
    await redis?.stop();
  });

  it('runs again, and completes once, a job whose worker was SIGKILLed mid-job', async () => {
    const prefix = 'killed';
    const env = { REDIS_URL: redis.url, JOBS_PREFIX: prefix };
    const readJournal = async (list: 'starts' | 'done'): Promise<JournalEntry[]> =>
      (await journal.lrange(`${prefix}:journal:${list}`, 0, -1)).map(
        (line) => JSON.parse(line) as JournalEntry,
      );

    // The producer knows the job by its definition; it runs no workers.
    const placeOrder = defineJob('place-order', {
      schema: z.object({ orderId: z.string() }),
      async handler() {
        throw new Error('producer-only: never runs here');
      },
    });
    const producer = createJobQueue({ redisUrl: redis.url, prefix, logger });
    queues.push(producer);

    const doomed = await startWorker({ ...env, HANG: '1' });
    workers.push(doomed);
    const jobId = 'order:o-1:2025-01-02T03:04:00.000Z';
    expect(await producer.enqueue(placeOrder, { orderId: 'o-1' }, { jobId })).toBe(true);
    await waitUntil(
      'the first worker to start the job',
      async () => (await readJournal('starts')).length === 1,
    );
    doomed.child.kill('SIGKILL');
    expect(await doomed.exited).toBeNull();

    const survivor = await startWorker(env);
    workers.push(survivor);
    await waitUntil(
      'the second worker to complete the job',
      async () => (await readJournal('done')).length === 1,
    );
    survivor.child.kill('SIGTERM');
    expect(await survivor.exited).toBe(0);

    const starts = await readJournal('starts');
    expect(starts).toEqual([
      { pid: doomed.child.pid, jobId, attempt: 1, orderId: 'o-1' },
      { pid: survivor.child.pid, jobId, attempt: 2, orderId: 'o-1' },
    ]);
    expect(await readJournal('done')).toEqual([starts[1]]);

    const inspect = new Queue('place-order', { connection: { url: redis.url }, prefix });
    try {
      expect(await inspect.getJobState(encodeJobId(jobId))).toBe('completed');
    } finally {
      await inspect.close();
    }
    // Completed ids are remembered: enqueueing it again is a no-op.
    expect(await producer.enqueue(placeOrder, { orderId: 'o-1' }, { jobId })).toBe(false);
  });

  it('restores its schedule by itself after Redis restarts empty', async () => {
    const runs: string[] = [];
    const tick = defineJob('tick', {
      schema: z.object({}),
      async handler(_data, context) {
        runs.push(context.jobId);
      },
    });
    // The periodic check is slow here, so the restart is healed by the reconnect alone.
    const queue = createJobQueue({
      redisUrl: redis.url,
      prefix: 'restart',
      logger,
      scheduleCheckMs: 600_000,
    });
    queues.push(queue);
    queue.startWorkers([tick]);
    await queue.every(tick, { schedulerId: 'tick', everyMs: 500, data: {} });
    await waitUntil('the schedule to run', () => runs.length >= 2);

    await journal.set('sentinel', 'from before the restart');
    await redis.stop();
    const beforeRestart = runs.length;
    await redis.start();
    expect(await journal.get('sentinel')).toBeNull();
    await waitUntil('the schedule to run on the restarted Redis', () => runs.length >= beforeRestart + 2);

    const inspect = new Queue('tick', { connection: { url: redis.url }, prefix: 'restart' });
    try {
      expect(await inspect.getJobScheduler('tick')).toMatchObject({ every: 500, name: 'tick' });
    } finally {
      await inspect.close();
    }
  });

  it('restores a schedule lost without a disconnect, by the periodic check (also when checks ran before any schedule existed)', async () => {
    const runs: string[] = [];
    const tick = defineJob('tick', {
      schema: z.object({}),
      async handler(_data, context) {
        runs.push(context.jobId);
      },
    });
    const queue = createJobQueue({ redisUrl: redis.url, prefix: 'flushed', logger, scheduleCheckMs: 500 });
    queues.push(queue);
    queue.startWorkers([tick]);
    // As in `arbion start`, where channels start before the tick is registered: periodic checks
    // with nothing to restore must not stop later ones.
    await new Promise((resolve) => setTimeout(resolve, 1_300));
    await queue.every(tick, { schedulerId: 'tick', everyMs: 500, data: {} });
    await waitUntil('the schedule to run', () => runs.length >= 2);

    await journal.flushall();
    const beforeFlush = runs.length;
    await waitUntil('the schedule to run again', () => runs.length >= beforeFlush + 2);
  });
});
