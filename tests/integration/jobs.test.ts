/**
 * One contract, two runners: the same suite against the in-process queue and against BullMQ on the
 * shared Redis (each test under its own key prefix, removed afterwards).
 */
import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createJobQueue, defineJob, type JobContext, type JobQueue } from '../../src/core/jobs/index.js';
import { createLogger } from '../../src/core/logging/logger.js';

const REDIS_URL = 'redis://127.0.0.1:6379';

/** Polls until `condition` holds; fails with `what` after `timeoutMs`. */
async function waitUntil(what: string, condition: () => boolean | Promise<boolean>, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A promise the test resolves by hand. */
function gate() {
  let open: () => void = () => {};
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { opened, open };
}

function memoryLogger() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, callback) {
      lines.push(String(chunk));
      callback();
    },
  });
  return { logger: createLogger({ level: 'debug', format: 'json', secretValues: [], destination }), lines };
}

const kinds = ['in-process', 'bullmq'] as const;

describe.each(kinds)('job queue contract: %s', (kind) => {
  const redis = new Redis(REDIS_URL);
  const open: JobQueue[] = [];
  const prefixes: string[] = [];
  let log = memoryLogger();
  let prefix = '';

  /** A queue on this test's prefix; several of them are several processes sharing the work. */
  function makeQueue(): JobQueue {
    const queue = createJobQueue({
      redisUrl: kind === 'bullmq' ? REDIS_URL : undefined,
      prefix,
      logger: log.logger,
    });
    open.push(queue);
    return queue;
  }

  function fresh(): JobQueue {
    prefix = `arbion-test-${randomUUID()}`;
    prefixes.push(prefix);
    log = memoryLogger();
    return makeQueue();
  }

  afterEach(async () => {
    await Promise.all(open.splice(0).map((queue) => queue.close(2_000)));
    for (const used of prefixes.splice(0)) {
      const keys = await redis.keys(`${used}:*`);
      if (keys.length > 0) await redis.del(...keys);
    }
  });
  afterAll(() => {
    redis.disconnect();
  });

  it('retries a failing job with exponential backoff until it succeeds', async () => {
    const queue = fresh();
    const runs: { attempt: number; at: number }[] = [];
    const flaky = defineJob('flaky', {
      schema: z.object({ orderId: z.string() }),
      attempts: 3,
      backoffMs: 200,
      async handler(_data, context) {
        runs.push({ attempt: context.attempt, at: Date.now() });
        if (context.attempt < 3) throw new Error(`broker timeout on attempt ${context.attempt}`);
      },
    });
    queue.startWorkers([flaky]);
    expect(await queue.enqueue(flaky, { orderId: 'o-1' }, { jobId: 'order-o-1' })).toBe(true);

    await waitUntil('the third attempt to succeed', () => queue.stats().completed === 1);
    expect(runs.map((run) => run.attempt)).toEqual([1, 2, 3]);
    expect(queue.stats()).toEqual({ completed: 1, failed: 0, retried: 2, active: 0 });
    // Lower bounds only: a retry may come late, never before its backoff (200 ms, then 400 ms).
    const [first, second, third] = runs.map((run) => run.at) as [number, number, number];
    expect(second - first).toBeGreaterThanOrEqual(180);
    expect(third - second).toBeGreaterThanOrEqual(380);
  });

  it('fails a job for good once its attempts are used up, and remembers the id', async () => {
    const queue = fresh();
    let runs = 0;
    const doomed = defineJob('doomed', {
      schema: z.object({}),
      attempts: 2,
      backoffMs: 10,
      async handler() {
        runs += 1;
        throw new Error('always broken');
      },
    });
    queue.startWorkers([doomed]);
    await queue.enqueue(doomed, {}, { jobId: 'doomed-1' });

    await waitUntil('the job to fail for good', () => queue.stats().failed === 1);
    expect(runs).toBe(2);
    expect(queue.stats()).toMatchObject({ completed: 0, failed: 1, retried: 1 });
    expect(await queue.enqueue(doomed, {}, { jobId: 'doomed-1' })).toBe(false);
    expect(log.lines.join('')).toContain('always broken');
  });

  it('de-duplicates by job id: waiting, running and finished jobs are not added again', async () => {
    const queue = fresh();
    const seen: string[] = [];
    const release = gate();
    const evaluate = defineJob('evaluate', {
      schema: z.object({ strategyId: z.string() }),
      concurrency: 4,
      async handler(data, context) {
        seen.push(`${context.jobId} ${data.strategyId}`);
        if (data.strategyId === 'slow') await release.opened;
      },
    });
    // Ids as the tick builds them (colons), one that looks like a number, and two that would
    // collide if colons were merely replaced.
    const tickId = 'eval:s-1:2025-01-02T03:04:00.000Z';
    expect(await queue.enqueue(evaluate, { strategyId: 's-1' }, { jobId: tickId })).toBe(true);
    expect(await queue.enqueue(evaluate, { strategyId: 'again' }, { jobId: tickId })).toBe(false);
    expect(await queue.enqueue(evaluate, { strategyId: 'slow' }, { jobId: 'slow' })).toBe(true);

    queue.startWorkers([evaluate]);
    await waitUntil('the slow job to start', () => seen.includes('slow slow'));
    expect(await queue.enqueue(evaluate, { strategyId: 'again' }, { jobId: 'slow' })).toBe(false);

    const added = await queue.enqueueBulk(evaluate, [
      { jobId: tickId, data: { strategyId: 'again' } },
      { jobId: '42', data: { strategyId: 'numeric' } },
      { jobId: 'a:b', data: { strategyId: 'colon' } },
      { jobId: 'a%3Ab', data: { strategyId: 'percent' } },
      { jobId: '42', data: { strategyId: 'twice in one bulk' } },
    ]);
    expect(added).toBe(3);
    release.open();
    await waitUntil('every new job to complete', () => queue.stats().completed === 5);
    expect(await queue.enqueue(evaluate, { strategyId: 'again' }, { jobId: '42' })).toBe(false);
    await pause(300);
    expect(seen.sort()).toEqual(
      [`${tickId} s-1`, 'slow slow', '42 numeric', 'a:b colon', 'a%3Ab percent'].sort(),
    );
  });

  it('shares de-duplication between queue objects (two producers)', async () => {
    const first = fresh();
    const second = makeQueue();
    const noop = defineJob('noop', { schema: z.object({}), async handler() {} });
    expect(await first.enqueue(noop, {}, { jobId: 'same' })).toBe(true);
    // In-process queues are separate worlds by design; BullMQ producers share Redis.
    expect(await second.enqueue(noop, {}, { jobId: 'same' })).toBe(kind === 'in-process');
  });

  it('runs a schedule now and every interval, updates it in place and cancels it', async () => {
    const queue = fresh();
    const runs: { jobId: string; version: number }[] = [];
    const tick = defineJob('tick', {
      schema: z.object({ version: z.number() }),
      async handler(data, context) {
        runs.push({ jobId: context.jobId, version: data.version });
      },
    });
    queue.startWorkers([tick]);
    await queue.every(tick, { schedulerId: 'tick', everyMs: 400, data: { version: 1 } });
    await waitUntil('three runs', () => runs.length >= 3);

    for (let index = 0; index < 5; index += 1)
      await queue.every(tick, { schedulerId: 'tick', everyMs: 400, data: { version: 2 } });
    await waitUntil(
      'runs with the updated payload',
      () => runs.filter((run) => run.version === 2).length >= 3,
    );

    // One schedule, however often it was registered: its runs are an interval apart.
    const times = runs.map((run) => Number(run.jobId.split(':')[2]));
    expect(runs.every((run) => run.jobId.startsWith('repeat:tick:'))).toBe(true);
    for (let index = 1; index < times.length; index += 1)
      expect((times[index] ?? 0) - (times[index - 1] ?? 0)).toBeGreaterThanOrEqual(200);

    expect(await queue.cancelSchedule('tick')).toBe(true);
    expect(await queue.cancelSchedule('tick')).toBe(false);
    await pause(600); // a run already due may still finish
    const after = runs.length;
    await pause(1_200);
    expect(runs.length).toBe(after);
  });

  it('closes gracefully: stops taking jobs and waits for the running one', async () => {
    const queue = fresh();
    const release = gate();
    const ran: string[] = [];
    let finished = false;
    let followUp: string | undefined;
    const slow = defineJob('slow', {
      schema: z.object({}),
      async handler(_data, context) {
        ran.push(context.jobId);
        if (context.jobId !== 'running') return;
        await release.opened;
        // A running handler's own follow-up (a card, a message) while the queue drains.
        followUp = await queue.enqueue(slow, {}, { jobId: 'follow-up' }).then(
          (added) => `added ${added}`,
          (error: unknown) => String(error),
        );
        finished = true;
      },
    });
    queue.startWorkers([slow]);
    await queue.enqueue(slow, {}, { jobId: 'running' });
    await waitUntil('the job to start', () => ran.length === 1);
    await queue.enqueue(slow, {}, { jobId: 'queued' });

    let closed = false;
    const closing = queue.close(20_000).then(() => {
      closed = true;
    });
    await pause(400);
    expect(closed).toBe(false);
    expect(queue.stats().active).toBe(1);
    release.open();
    await closing;
    expect(finished).toBe(true);
    expect(ran).toEqual(['running']);
    expect(queue.stats()).toMatchObject({ completed: 1, active: 0 });
    await expect(queue.enqueue(slow, {}, { jobId: 'late' })).rejects.toThrow(/closed/);

    if (kind === 'bullmq') {
      // BullMQ keeps what a draining handler adds: Redis holds it for the next worker.
      expect(followUp).toBe('added true');
      // The job the closing worker did not take is still in Redis for the next worker.
      const next = makeQueue();
      next.startWorkers([slow]);
      await waitUntil('the next worker to run both jobs', () => next.stats().completed === 2);
      expect([...ran].sort()).toEqual(['follow-up', 'queued', 'running']);
    } else {
      // In process nothing would run it after the close: refused rather than silently dropped.
      expect(followUp).toMatch(/closed/);
    }
  });

  it('aborts a handler that outlives the close timeout', async () => {
    const queue = fresh();
    let context: JobContext | undefined;
    const stuck = defineJob('stuck', {
      schema: z.object({}),
      attempts: 1,
      async handler(_data, received) {
        context = received;
        await new Promise((_resolve, reject) => {
          received.signal.addEventListener('abort', () => reject(new Error('aborted')));
        });
      },
    });
    queue.startWorkers([stuck]);
    await queue.enqueue(stuck, {}, { jobId: 'stuck' });
    await waitUntil('the job to start', () => context !== undefined);
    await queue.close(300);
    expect(context?.signal.aborted).toBe(true);
  });

  it('fails a job whose payload its schema refuses, without retry and without logging the payload', async () => {
    const queue = fresh();
    let runs = 0;
    const order = defineJob('order', {
      schema: z.object({ symbol: z.string().regex(/^[A-Z]{1,5}$/), quantity: z.number().positive() }),
      attempts: 3,
      backoffMs: 10,
      async handler() {
        runs += 1;
      },
    });
    queue.startWorkers([order]);
    // Right type, wrong content: what an older producer or a hand-edited Redis could send.
    await queue.enqueue(order, { symbol: 'private-note-xyz', quantity: -3 }, { jobId: 'bad' });
    await queue.enqueue(order, { symbol: 'AAPL', quantity: 1 }, { jobId: 'good' });

    await waitUntil('both jobs to finish', () => queue.stats().failed + queue.stats().completed === 2);
    expect(queue.stats()).toMatchObject({ completed: 1, failed: 1, retried: 0 });
    expect(runs).toBe(1);
    const output = log.lines.join('');
    expect(output).toContain('refused by its schema');
    expect(output).toMatch(/symbol: invalid_format/);
    expect(output).not.toContain('private-note-xyz');
  });

  it('rejects payloads that would not survive JSON, and bad names and intervals', async () => {
    const queue = fresh();
    const any = defineJob('any', { schema: z.unknown(), async handler() {} });
    await expect(queue.enqueue(any, undefined, { jobId: 'x' })).rejects.toThrow(/JSON/);
    await expect(queue.every(any, { schedulerId: 'a:b', everyMs: 10, data: {} })).rejects.toThrow(
      /schedulerId/,
    );
    await expect(queue.every(any, { schedulerId: 'ok', everyMs: 0, data: {} })).rejects.toThrow(/everyMs/);
    expect(() => defineJob('has:colon', { schema: z.unknown(), async handler() {} })).toThrow(/job name/);
  });
});
