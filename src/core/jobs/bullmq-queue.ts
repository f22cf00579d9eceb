/**
 * The {@link JobQueue} contract on BullMQ and Redis: jobs outlive the process that enqueued them and
 * any number of `arbion worker` processes share the work.
 *
 * Layout: one BullMQ queue per job name under `prefix` (keys `arbion:<name>:...`), one Worker per
 * name in each worker process. BullMQ does the work we would otherwise re-implement: retries with
 * exponential backoff (`attempts`, `backoff`), recovery of a job whose worker died (the worker's lock
 * expires after `lockDurationMs`, another worker's stalled check puts the job back, at most
 * `maxStalledCount` times), repeatable jobs (`upsertJobScheduler`), de-duplication by job id, and
 * payload rejection without retry (`UnrecoverableError`).
 *
 * De-duplication lasts as long as BullMQ keeps the finished job: `removeOnComplete`/`removeOnFail`
 * with the ages of {@link RetentionWindows} (a day for completed, a week for failed by default).
 * BullMQ prunes lazily, when later jobs of the same name finish, so an id may be remembered longer,
 * never shorter.
 *
 * Redis here keeps nothing on disk, so a Redis restart loses every job and schedule. Work is
 * re-derived from PostgreSQL by the next tick; the schedules registered through this object are
 * registered again by itself when the connection is ready after a reconnect, and by a periodic
 * check that catches a Redis emptied without a disconnect.
 */
import { createRequire } from 'node:module';
import type { Job, JobsOptions, Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from '../logging/logger.js';
import {
  type AnyJobDefinition,
  type BulkItem,
  checkEvery,
  checkSchedulerId,
  DEFAULT_CLOSE_TIMEOUT_MS,
  DEFAULT_RETENTION,
  describeIssues,
  type JobDefinition,
  type JobQueue,
  type JobStats,
  type RetentionWindows,
  type ScheduleOptions,
  throughJson,
} from './jobs.js';

/**
 * BullMQ and ioredis, loaded on first use: a server without REDIS_URL runs the in-process queue
 * and never needs them (about 50 MB of memory once imported). `require` keeps construction
 * synchronous; both packages ship CommonJS builds.
 */
const loadPackage = createRequire(import.meta.url);
let redisPackages:
  | { readonly bullmq: typeof import('bullmq'); readonly ioredis: typeof import('ioredis') }
  | undefined;
function packages(): NonNullable<typeof redisPackages> {
  redisPackages ??= { bullmq: loadPackage('bullmq'), ioredis: loadPackage('ioredis') };
  return redisPackages;
}

export interface BullmqQueueOptions {
  /** `redis://` or `rediss://`. */
  readonly redisUrl: string;
  readonly logger: Logger;
  /** Key prefix; processes sharing work use the same one. Default `arbion`; tests use their own. */
  readonly prefix?: string;
  readonly retention?: RetentionWindows;
  /**
   * How long a worker's lock on a running job lasts; the worker renews it at half that. A worker
   * killed mid-job has its job taken over once the lock expires, plus up to two stalled intervals.
   * Default 30 s (BullMQ's).
   */
  readonly lockDurationMs?: number;
  /** How often each worker looks for jobs whose lock expired. Default 30 s (BullMQ's). */
  readonly stalledIntervalMs?: number;
  /** How often a job may be taken back from a dead worker before it fails for good. Default 1 (BullMQ's). */
  readonly maxStalledCount?: number;
  /** How often the schedules registered here are checked and restored if Redis lost them. Default 60 s. */
  readonly scheduleCheckMs?: number;
}

interface Schedule {
  readonly job: AnyJobDefinition;
  readonly everyMs: number;
  readonly payload: unknown;
}

/** After the close grace period: how long aborted handlers get to end before connections are cut. */
const ABORT_GRACE_MS = 2_000;

class BullmqJobQueue implements JobQueue {
  readonly kind = 'bullmq';
  readonly #logger: Logger;
  readonly #prefix: string;
  readonly #retention: RetentionWindows;
  readonly #options: BullmqQueueOptions;
  /** Queues, schedules and enqueueing; commands fail after ioredis's retries while Redis is down. */
  readonly #producer: Redis;
  /** Workers; BullMQ needs commands to wait for Redis instead of failing. Opened by startWorkers. */
  #workerConnection: Redis | undefined;
  readonly #queues = new Map<string, Queue>();
  readonly #workers: Worker[] = [];
  readonly #schedules = new Map<string, Schedule>();
  readonly #checkTimer: NodeJS.Timeout;
  #readyCount = 0;
  #restoring: Promise<void> | undefined;
  #closing: Promise<void> | undefined;
  /** Set once running jobs are done: until then their handlers may still add jobs (a card, a message). */
  #queuesClosed = false;
  #connectionDown = false;
  #completed = 0;
  #failed = 0;
  #retried = 0;
  #active = 0;

  constructor(options: BullmqQueueOptions) {
    this.#options = options;
    this.#logger = options.logger.child({ component: 'jobs', runner: 'bullmq' });
    this.#prefix = options.prefix ?? 'arbion';
    this.#retention = options.retention ?? DEFAULT_RETENTION;
    this.#producer = this.#connect('producer', {});
    // 'ready' comes after every (re)connection; from the second one on, Redis may have come back empty.
    this.#producer.on('ready', () => {
      this.#readyCount += 1;
      if (this.#readyCount > 1) void this.#restoreSchedules('reconnected');
    });
    this.#checkTimer = setInterval(
      () => void this.#restoreSchedules('periodic check'),
      options.scheduleCheckMs ?? 60_000,
    );
    this.#checkTimer.unref();
  }

  async enqueue<T>(job: JobDefinition<T>, data: T, options: { readonly jobId: string }): Promise<boolean> {
    return (await this.#add(job, [{ jobId: options.jobId, data }])) === 1;
  }

  async enqueueBulk<T>(job: JobDefinition<T>, items: readonly BulkItem<T>[]): Promise<number> {
    if (items.length === 0) return 0;
    return this.#add(job, items);
  }

  async every<T>(job: JobDefinition<T>, options: ScheduleOptions<T>): Promise<void> {
    this.#assertOpen();
    checkSchedulerId(options.schedulerId);
    checkEvery(options.everyMs);
    const schedule: Schedule = { job, everyMs: options.everyMs, payload: throughJson(options.data) };
    this.#schedules.set(options.schedulerId, schedule);
    await this.#upsert(options.schedulerId, schedule);
  }

  /** Looks in the queues this object has used; a schedule registered elsewhere is found once its job name has been used here. */
  async cancelSchedule(schedulerId: string): Promise<boolean> {
    const schedule = this.#schedules.get(schedulerId);
    this.#schedules.delete(schedulerId);
    const queues = schedule === undefined ? [...this.#queues.values()] : [this.#queue(schedule.job.name)];
    let removed = false;
    for (const queue of queues) if (await queue.removeJobScheduler(schedulerId)) removed = true;
    return removed;
  }

  startWorkers(jobs: readonly AnyJobDefinition[]): void {
    this.#assertOpen();
    if (this.#workerConnection !== undefined) throw new Error('startWorkers was already called');
    const connection = this.#connect('worker', { maxRetriesPerRequest: null });
    this.#workerConnection = connection;
    for (const job of jobs) {
      const worker = new (packages().bullmq.Worker)(
        job.name,
        // Three parameters: BullMQ passes the abort signal only to processors that declare it.
        (bullJob: Job, _token: string | undefined, signal: AbortSignal | undefined) =>
          this.#process(job, bullJob, signal),
        {
          connection,
          prefix: this.#prefix,
          concurrency: job.concurrency,
          ...(this.#options.lockDurationMs === undefined
            ? {}
            : { lockDuration: this.#options.lockDurationMs }),
          ...(this.#options.stalledIntervalMs === undefined
            ? {}
            : { stalledInterval: this.#options.stalledIntervalMs }),
          ...(this.#options.maxStalledCount === undefined
            ? {}
            : { maxStalledCount: this.#options.maxStalledCount }),
        },
      );
      worker.on('error', (error) => this.#connectionError(`worker ${job.name}`, error));
      worker.on('completed', () => {
        this.#completed += 1;
      });
      worker.on('failed', (bullJob, error) => this.#onFailed(job, bullJob, error));
      worker.on('stalled', (jobId) =>
        this.#logger.warn(
          { job: job.name, jobId: decodeJobId(jobId) },
          'job taken back from a worker that stopped',
        ),
      );
      this.#workers.push(worker);
    }
    this.#logger.info({ jobs: jobs.map((job) => job.name), prefix: this.#prefix }, 'job workers started');
  }

  close(timeoutMs = DEFAULT_CLOSE_TIMEOUT_MS): Promise<void> {
    this.#closing ??= this.#close(timeoutMs);
    return this.#closing;
  }

  stats(): JobStats {
    return { completed: this.#completed, failed: this.#failed, retried: this.#retried, active: this.#active };
  }

  async #close(timeoutMs: number): Promise<void> {
    clearInterval(this.#checkTimer);
    // Worker.close stops taking jobs at once, then waits for the running ones.
    const workersClosed = Promise.allSettled(this.#workers.map((worker) => worker.close()));
    if ((await settlesWithin(workersClosed, timeoutMs)) === 'timeout') {
      this.#logger.warn(
        { running: this.#active, timeoutMs },
        'jobs still running at the end of the shutdown grace period; aborting them',
      );
      for (const worker of this.#workers) worker.cancelAllJobs('the job queue is closing');
      if ((await settlesWithin(workersClosed, ABORT_GRACE_MS)) === 'timeout') {
        this.#logger.warn(
          { running: this.#active },
          'jobs left running; another worker takes them over when their locks expire',
        );
      }
    }
    this.#queuesClosed = true;
    await Promise.allSettled([...this.#queues.values()].map((queue) => queue.close()));
    // Queues and workers do not close connections handed to them; ours go last.
    this.#workerConnection?.disconnect();
    this.#producer.disconnect();
  }

  #assertOpen(): void {
    if (this.#closing !== undefined) throw new Error('the job queue is closed');
  }

  #connect(role: 'producer' | 'worker', overrides: { maxRetriesPerRequest?: null }): Redis {
    const connection = new (packages().ioredis.Redis)(this.#options.redisUrl, {
      connectionName: `arbion-jobs-${role}`,
      ...overrides,
    });
    connection.on('error', (error: Error) => this.#connectionError(`${role} connection`, error));
    connection.on('ready', () => {
      if (this.#connectionDown) this.#logger.info('Redis connection for jobs is back');
      this.#connectionDown = false;
    });
    return connection;
  }

  /** Logs the first error of an outage; ioredis repeats it on every reconnection attempt. */
  #connectionError(source: string, error: Error): void {
    if (this.#connectionDown) {
      this.#logger.debug({ source, err: error }, 'jobs: Redis still unavailable');
      return;
    }
    this.#connectionDown = true;
    this.#logger.warn({ source, err: error }, 'jobs: Redis error; retrying');
  }

  #queue(name: string): Queue {
    let queue = this.#queues.get(name);
    if (queue === undefined) {
      queue = new (packages().bullmq.Queue)(name, { connection: this.#producer, prefix: this.#prefix });
      queue.on('error', (error) => this.#connectionError(`queue ${name}`, error));
      this.#queues.set(name, queue);
    }
    return queue;
  }

  /** BullMQ options every job of this definition carries, scheduled ones included. */
  #jobOptions(
    job: AnyJobDefinition,
  ): Pick<JobsOptions, 'attempts' | 'backoff' | 'removeOnComplete' | 'removeOnFail'> {
    return {
      attempts: job.attempts,
      backoff: { type: 'exponential', delay: job.backoffMs },
      removeOnComplete: { age: Math.ceil(this.#retention.completedMs / 1000) },
      removeOnFail: { age: Math.ceil(this.#retention.failedMs / 1000) },
    };
  }

  /**
   * Adds jobs and counts the new ones. BullMQ's add answers the same for a new job and a duplicate,
   * so each add is paired with a read of the job's hash in one MULTI: Redis runs the pair with
   * nothing in between, and an existing hash means BullMQ left that job alone.
   */
  async #add(job: AnyJobDefinition, items: readonly BulkItem<unknown>[]): Promise<number> {
    if (this.#queuesClosed) throw new Error('the job queue is closed');
    const prepared = items.map((item) => {
      if (item.jobId.length === 0) throw new Error('a job id must not be empty');
      return { id: encodeJobId(item.jobId), payload: throughJson(item.data) };
    });
    const queue = this.#queue(job.name);
    const transaction = (await queue.client).multi();
    const options = this.#jobOptions(job);
    for (const { id, payload } of prepared) {
      transaction.hgetall(queue.toKey(id));
      // Queues the add script on the transaction (and validates the options) without sending anything.
      await new (packages().bullmq.Job)(queue, job.name, payload, { ...options, jobId: id }, id).addJob(
        transaction,
      );
    }
    const replies = await transaction.exec();
    if (replies === null) throw new Error('Redis discarded the enqueue transaction');
    let added = 0;
    for (let index = 0; index < prepared.length; index += 1) {
      const [readError, existing] = replies[index * 2] ?? [new Error('missing reply'), null];
      const [addError, answer] = replies[index * 2 + 1] ?? [new Error('missing reply'), null];
      if (readError !== null) throw readError;
      if (addError !== null) throw addError;
      if (typeof answer === 'number' && answer < 0)
        throw new Error(`BullMQ refused the job (code ${answer})`);
      if (Object.keys(existing as Record<string, string>).length === 0) added += 1;
    }
    return added;
  }

  async #upsert(schedulerId: string, schedule: Schedule): Promise<void> {
    await this.#queue(schedule.job.name).upsertJobScheduler(
      schedulerId,
      { every: schedule.everyMs },
      { name: schedule.job.name, data: schedule.payload, opts: this.#jobOptions(schedule.job) },
    );
  }

  /** Registers again every schedule of this object that Redis no longer has; one pass at a time. */
  #restoreSchedules(reason: string): Promise<void> {
    if (this.#restoring !== undefined) return this.#restoring;
    // Cleared in `.finally` on the stored promise: an inner `finally` could run before the
    // assignment (no schedules yet) and leave a settled promise that blocks every later pass.
    const pass = (async () => {
      try {
        for (const [schedulerId, schedule] of this.#schedules) {
          if (this.#closing !== undefined) return;
          const queue = this.#queue(schedule.job.name);
          if ((await queue.getJobScheduler(schedulerId)) !== undefined) continue;
          await this.#upsert(schedulerId, schedule);
          this.#logger.info(
            { schedulerId, job: schedule.job.name, reason },
            'job schedule restored in Redis',
          );
        }
      } catch (error) {
        this.#logger.warn({ err: error, reason }, 'could not restore job schedules; will try again');
      }
    })();
    const restoring: Promise<void> = pass.finally(() => {
      if (this.#restoring === restoring) this.#restoring = undefined;
    });
    this.#restoring = restoring;
    return restoring;
  }

  async #process(job: AnyJobDefinition, bullJob: Job, signal: AbortSignal | undefined): Promise<void> {
    const jobId = decodeJobId(bullJob.id ?? '');
    const attempt = Math.max(1, bullJob.attemptsStarted);
    const log = this.#logger.child({ job: job.name, jobId, attempt });
    const parsed = job.schema.safeParse(bullJob.data);
    if (!parsed.success) {
      log.error(
        { issues: describeIssues(parsed.error) },
        'job payload refused by its schema; failed without retry',
      );
      throw new (packages().bullmq.UnrecoverableError)(`payload refused by the ${job.name} schema`);
    }
    this.#active += 1;
    try {
      await job.handler(parsed.data, { jobId, attempt, signal: signal ?? new AbortController().signal, log });
    } catch (error) {
      // BullMQ records `message` and `stack`: make sure there are some.
      throw error instanceof Error ? error : new Error(String(error));
    } finally {
      this.#active -= 1;
    }
  }

  #onFailed(job: AnyJobDefinition, bullJob: Job | undefined, error: Error): void {
    if (error.name === 'UnrecoverableError') {
      this.#failed += 1; // already logged with its reason
      return;
    }
    const log = this.#logger.child({ job: job.name, jobId: decodeJobId(bullJob?.id ?? '') });
    // moveToFailed has counted this run: attemptsMade includes it.
    if (bullJob !== undefined && bullJob.attemptsMade < (bullJob.opts.attempts ?? 1)) {
      this.#retried += 1;
      log.warn({ err: error, attempt: bullJob.attemptsMade }, 'job failed; it will be retried');
      return;
    }
    this.#failed += 1;
    log.error({ err: error, attempts: bullJob?.attemptsMade }, 'job failed for good');
  }
}

/**
 * BullMQ refuses ids that look like integers or contain `:` (its own `repeat:<id>:<time>` ids do).
 * Percent-encoding `%` and `:`, and the first character of an integer-looking id, keeps ids readable
 * and distinct; {@link decodeJobId} undoes it.
 */
export function encodeJobId(id: string): string {
  const encoded = id.replace(
    /[%:]/g,
    (character) => `%${character.charCodeAt(0).toString(16).toUpperCase()}`,
  );
  if (`${Number.parseInt(encoded, 10)}` !== encoded) return encoded;
  return `%${encoded.charCodeAt(0).toString(16).toUpperCase()}${encoded.slice(1)}`;
}

/** The id a producer gave; a scheduler's `repeat:<schedulerId>:<time>` id (never encoded) as it is. */
export function decodeJobId(id: string): string {
  if (id.includes(':')) return id;
  return id.replace(/%([0-9A-F]{2})/g, (_match, hex: string) =>
    String.fromCharCode(Number.parseInt(hex, 16)),
  );
}

/** Whether `promise` settles within `ms`; the timer never keeps the process alive. */
async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<'settled' | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), ms);
    timer.unref();
  });
  try {
    return await Promise.race([promise.then(() => 'settled' as const), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** The Redis runner. Connects lazily in the background; the first command waits for it. */
export function createBullmqQueue(options: BullmqQueueOptions): JobQueue {
  return new BullmqJobQueue(options);
}
