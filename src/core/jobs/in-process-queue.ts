/**
 * The embedded default: the {@link JobQueue} contract in this process's memory, for a single
 * `arbion start` with no Redis.
 *
 * It keeps nothing across a restart, and does not need to: schedules are code (every start
 * registers them again) and work is rows (the tick job re-reads the active strategies and open
 * orders from PostgreSQL and enqueues what is due). A job lost with the process is re-derived by the
 * next tick, and handlers are idempotent, so running it again is harmless.
 *
 * Everything else follows BullMQ's behaviour, so the same contract tests pass on both: per-name
 * concurrency, exponential backoff, de-duplication by id over the same retention windows, one
 * pending iteration per schedule, payloads passed through JSON. Timers are unref'd: jobs never keep
 * a process alive on their own.
 */
import type { Logger } from '../logging/logger.js';
import {
  type AnyJobDefinition,
  type BulkItem,
  backoffDelay,
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

export interface InProcessQueueOptions {
  readonly logger: Logger;
  /** How long finished ids are remembered for de-duplication; BullMQ's windows by default. */
  readonly retention?: RetentionWindows;
}

/** A job between enqueue and its end: waiting for a slot, waiting out a backoff, or running. */
interface LiveJob {
  readonly id: string;
  readonly payload: unknown;
  /** From the enqueuing definition, as BullMQ stores them on the job. */
  readonly attempts: number;
  readonly backoffMs: number;
  state: 'waiting' | 'delayed' | 'active';
  started: number;
}

/** Everything about one job name. */
interface Lane {
  /** Set by startWorkers: until then jobs only wait. */
  worker: AnyJobDefinition | undefined;
  readonly waiting: LiveJob[];
  readonly live: Map<string, LiveJob>;
  /** Finished ids and when to forget them, in finishing order (so expiry order too). */
  readonly completed: Map<string, number>;
  readonly failed: Map<string, number>;
  running: number;
}

interface Schedule {
  readonly job: AnyJobDefinition;
  readonly everyMs: number;
  payload: unknown;
  readonly timer: NodeJS.Timeout;
  lastJobId: string | undefined;
}

class InProcessJobQueue implements JobQueue {
  readonly kind = 'in-process';
  readonly #logger: Logger;
  readonly #retention: RetentionWindows;
  readonly #lanes = new Map<string, Lane>();
  readonly #schedules = new Map<string, Schedule>();
  readonly #retryTimers = new Set<NodeJS.Timeout>();
  readonly #running = new Map<Promise<void>, AbortController>();
  #workersStarted = false;
  #closing: Promise<void> | undefined;
  #completed = 0;
  #failed = 0;
  #retried = 0;

  constructor(options: InProcessQueueOptions) {
    this.#logger = options.logger.child({ component: 'jobs', runner: 'in-process' });
    this.#retention = options.retention ?? DEFAULT_RETENTION;
  }

  async enqueue<T>(job: JobDefinition<T>, data: T, options: { readonly jobId: string }): Promise<boolean> {
    this.#assertOpen();
    return this.#add(job, options.jobId, throughJson(data));
  }

  async enqueueBulk<T>(job: JobDefinition<T>, items: readonly BulkItem<T>[]): Promise<number> {
    this.#assertOpen();
    // Serialize everything first, so one bad payload adds none, as BullMQ's atomic addBulk would.
    const payloads = items.map((item) => ({ jobId: item.jobId, payload: throughJson(item.data) }));
    let added = 0;
    for (const { jobId, payload } of payloads) if (this.#add(job, jobId, payload)) added += 1;
    return added;
  }

  async every<T>(job: JobDefinition<T>, options: ScheduleOptions<T>): Promise<void> {
    this.#assertOpen();
    checkSchedulerId(options.schedulerId);
    checkEvery(options.everyMs);
    const payload = throughJson(options.data);
    const existing = this.#schedules.get(options.schedulerId);
    if (existing !== undefined && existing.job.name === job.name && existing.everyMs === options.everyMs) {
      // Same cadence: keep the phase, as BullMQ does, and use the new payload from the next run on.
      existing.payload = payload;
      return;
    }
    if (existing !== undefined) clearInterval(existing.timer);
    const timer = setInterval(() => this.#fire(options.schedulerId), options.everyMs);
    timer.unref();
    this.#schedules.set(options.schedulerId, {
      job,
      everyMs: options.everyMs,
      payload,
      timer,
      lastJobId: undefined,
    });
    this.#fire(options.schedulerId);
  }

  async cancelSchedule(schedulerId: string): Promise<boolean> {
    const schedule = this.#schedules.get(schedulerId);
    if (schedule === undefined) return false;
    clearInterval(schedule.timer);
    this.#schedules.delete(schedulerId);
    return true;
  }

  startWorkers(jobs: readonly AnyJobDefinition[]): void {
    this.#assertOpen();
    if (this.#workersStarted) throw new Error('startWorkers was already called');
    this.#workersStarted = true;
    for (const job of jobs) this.#lane(job.name).worker = job;
    for (const lane of this.#lanes.values()) this.#drain(lane);
  }

  close(timeoutMs = DEFAULT_CLOSE_TIMEOUT_MS): Promise<void> {
    this.#closing ??= this.#close(timeoutMs);
    return this.#closing;
  }

  stats(): JobStats {
    return {
      completed: this.#completed,
      failed: this.#failed,
      retried: this.#retried,
      active: this.#running.size,
    };
  }

  async #close(timeoutMs: number): Promise<void> {
    for (const schedule of this.#schedules.values()) clearInterval(schedule.timer);
    this.#schedules.clear();
    for (const timer of this.#retryTimers) clearTimeout(timer);
    this.#retryTimers.clear();
    let dropped = 0;
    for (const lane of this.#lanes.values()) {
      dropped += lane.waiting.length;
      lane.waiting.length = 0;
    }
    if (dropped > 0)
      this.#logger.info({ dropped }, 'queued jobs dropped at shutdown; the next tick re-derives them');
    if (this.#running.size === 0) return;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
      timer.unref();
    });
    const outcome = await Promise.race([Promise.allSettled(this.#running.keys()), timedOut]);
    clearTimeout(timer);
    if (outcome === 'timeout') {
      this.#logger.warn(
        { running: this.#running.size, timeoutMs },
        'jobs still running at the end of the shutdown grace period; aborting them',
      );
      for (const controller of this.#running.values()) controller.abort(new Error('job queue closed'));
    }
  }

  #assertOpen(): void {
    if (this.#closing !== undefined) throw new Error('the job queue is closed');
  }

  #lane(name: string): Lane {
    let lane = this.#lanes.get(name);
    if (lane === undefined) {
      lane = {
        worker: undefined,
        waiting: [],
        live: new Map(),
        completed: new Map(),
        failed: new Map(),
        running: 0,
      };
      this.#lanes.set(name, lane);
    }
    return lane;
  }

  /** Adds the job unless its id is live or remembered; the payload is already through JSON. */
  #add(job: AnyJobDefinition, id: string, payload: unknown): boolean {
    if (id.length === 0) throw new Error('a job id must not be empty');
    const lane = this.#lane(job.name);
    const now = Date.now();
    forgetExpired(lane.completed, now);
    forgetExpired(lane.failed, now);
    if (lane.live.has(id) || lane.completed.has(id) || lane.failed.has(id)) return false;
    const live: LiveJob = {
      id,
      payload,
      attempts: job.attempts,
      backoffMs: job.backoffMs,
      state: 'waiting',
      started: 0,
    };
    lane.live.set(id, live);
    lane.waiting.push(live);
    this.#drain(lane);
    return true;
  }

  /** One run of a schedule; skipped while its previous run has not started, as with BullMQ. */
  #fire(schedulerId: string): void {
    const schedule = this.#schedules.get(schedulerId);
    if (schedule === undefined || this.#closing !== undefined) return;
    const lane = this.#lane(schedule.job.name);
    const previous = schedule.lastJobId === undefined ? undefined : lane.live.get(schedule.lastJobId);
    if (previous?.state === 'waiting') return;
    const id = `repeat:${schedulerId}:${Date.now()}`;
    if (this.#add(schedule.job, id, schedule.payload)) schedule.lastJobId = id;
  }

  #drain(lane: Lane): void {
    const worker = lane.worker;
    if (worker === undefined || this.#closing !== undefined) return;
    while (lane.running < worker.concurrency) {
      const next = lane.waiting.shift();
      if (next === undefined) return;
      lane.running += 1;
      const controller = new AbortController();
      const run = this.#run(lane, worker, next, controller.signal).finally(() => {
        lane.running -= 1;
        this.#running.delete(run);
        this.#drain(lane);
      });
      this.#running.set(run, controller);
    }
  }

  async #run(lane: Lane, worker: AnyJobDefinition, job: LiveJob, signal: AbortSignal): Promise<void> {
    job.state = 'active';
    job.started += 1;
    const log = this.#logger.child({ job: worker.name, jobId: job.id, attempt: job.started });
    const parsed = worker.schema.safeParse(job.payload);
    if (!parsed.success) {
      log.error(
        { issues: describeIssues(parsed.error) },
        'job payload refused by its schema; failed without retry',
      );
      this.#finish(lane, job, 'failed');
      return;
    }
    try {
      await worker.handler(parsed.data, { jobId: job.id, attempt: job.started, signal, log });
      this.#finish(lane, job, 'completed');
    } catch (error) {
      if (job.started >= job.attempts) {
        log.error({ err: error }, `job failed after ${job.started} attempt(s)`);
        this.#finish(lane, job, 'failed');
        return;
      }
      this.#retried += 1;
      if (this.#closing !== undefined) {
        log.warn({ err: error }, 'job failed while the queue was closing; not retried');
        lane.live.delete(job.id);
        return;
      }
      const delayMs = backoffDelay(job.backoffMs, job.started);
      log.warn({ err: error, retryInMs: delayMs }, 'job failed; it will be retried');
      job.state = 'delayed';
      const timer = setTimeout(() => {
        this.#retryTimers.delete(timer);
        job.state = 'waiting';
        lane.waiting.push(job);
        this.#drain(lane);
      }, delayMs);
      timer.unref();
      this.#retryTimers.add(timer);
    }
  }

  #finish(lane: Lane, job: LiveJob, outcome: 'completed' | 'failed'): void {
    lane.live.delete(job.id);
    if (outcome === 'completed') {
      this.#completed += 1;
      lane.completed.set(job.id, Date.now() + this.#retention.completedMs);
    } else {
      this.#failed += 1;
      lane.failed.set(job.id, Date.now() + this.#retention.failedMs);
    }
  }
}

/** Drops the ids whose window is over; the map is in expiry order, so it stops at the first live one. */
function forgetExpired(finished: Map<string, number>, now: number): void {
  for (const [id, forgetAt] of finished) {
    if (forgetAt > now) return;
    finished.delete(id);
  }
}

/** The in-memory runner. */
export function createInProcessQueue(options: InProcessQueueOptions): JobQueue {
  return new InProcessJobQueue(options);
}
