/**
 * Background jobs: what a job is, and the one queue interface both runners implement.
 *
 * Two runners stand behind {@link JobQueue}: BullMQ on Redis when `REDIS_URL` is set (jobs survive
 * restarts, several `arbion worker` processes share the work) and an in-process runner for the
 * embedded default. Code that enqueues or handles jobs never knows which one it talks to, and one
 * contract test suite runs against both.
 *
 * Delivery is at least once: a worker that dies mid-job has its job run again by another. Handlers
 * must therefore be idempotent (an order placed by a job carries an identity the broker dedupes on).
 */
import type { z } from 'zod';
import type { Logger } from '../logging/logger.js';

/** What a handler knows about the run it is in. */
export interface JobContext {
  /** The id given at enqueue time, or the scheduler's id for this iteration of a repeatable job. */
  readonly jobId: string;
  /**
   * 1 on the first run, then counts every start, including a run cut off by a crash (BullMQ's
   * `attemptsStarted`). A handler seeing `attempt > 1` is being re-run and should check what its
   * earlier runs already did.
   */
  readonly attempt: number;
  /**
   * Aborted when the queue is closing and its grace period is over. A handler that ignores it is
   * abandoned: with BullMQ its job runs again on another worker once its lock expires.
   */
  readonly signal: AbortSignal;
  /** Tagged with the job's name, id and attempt. Never log secrets from the payload. */
  readonly log: Logger;
}

/** A kind of job: its name, its payload schema and its handler. Create with {@link defineJob}. */
export interface JobDefinition<T> {
  /** Also the name of its queue: letters, digits, `-` and `_`, starting with a letter. */
  readonly name: string;
  /**
   * Checks the payload when a worker takes the job. Payloads cross Redis as JSON, so the schema sees
   * what `JSON.parse(JSON.stringify(data))` gives (dates and Decimals arrive as strings).
   */
  readonly schema: z.ZodType<T>;
  /** Does the work; a thrown error is retried with backoff until `attempts` runs out. */
  handler(data: T, context: JobContext): Promise<void>;
  /** How many of these jobs one process runs at the same time. */
  readonly concurrency: number;
  /** Runs in all, the first included, before the job counts as failed. */
  readonly attempts: number;
  /** The wait before the first retry; it doubles for each further retry. */
  readonly backoffMs: number;
}

/** Any job definition, whatever its payload. */
export type AnyJobDefinition = JobDefinition<unknown>;

/** The options of {@link defineJob}; everything but the schema and handler has a default. */
export interface JobOptions<T> {
  readonly schema: z.ZodType<T>;
  handler(data: T, context: JobContext): Promise<void>;
  /** Default 1. */
  readonly concurrency?: number;
  /** Default 3. */
  readonly attempts?: number;
  /** Default 1000 ms. */
  readonly backoffMs?: number;
}

const JOB_NAME = /^[A-Za-z][A-Za-z0-9_-]{0,99}$/;

/**
 * Declares a kind of job. Pure: it registers nothing. Producers pass the definition to
 * {@link JobQueue.enqueue} (the payload is typed by it, and its retry policy travels with each job);
 * worker processes pass it to {@link JobQueue.startWorkers}.
 */
export function defineJob<T>(name: string, options: JobOptions<T>): JobDefinition<T> {
  if (!JOB_NAME.test(name)) throw new Error(`invalid job name "${name}": use letters, digits, - and _`);
  const concurrency = options.concurrency ?? 1;
  const attempts = options.attempts ?? 3;
  const backoffMs = options.backoffMs ?? 1000;
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new Error(`${name}: concurrency must be >= 1`);
  if (!Number.isInteger(attempts) || attempts < 1) throw new Error(`${name}: attempts must be >= 1`);
  if (!Number.isFinite(backoffMs) || backoffMs < 0) throw new Error(`${name}: backoffMs must be >= 0`);
  return { name, schema: options.schema, handler: options.handler, concurrency, attempts, backoffMs };
}

/** One job of a fan-out. */
export interface BulkItem<T> {
  readonly jobId: string;
  readonly data: T;
}

/** A repeatable job: run now, then every `everyMs`. */
export interface ScheduleOptions<T> {
  /** Names the schedule; registering the same id again updates it, never adds a second one. */
  readonly schedulerId: string;
  readonly everyMs: number;
  /** The payload of every run. */
  readonly data: T;
}

/** Counters since this queue object was created, for the bench and the readiness page. */
export interface JobStats {
  /** Runs that succeeded here. */
  readonly completed: number;
  /** Jobs that failed for good here: attempts used up, or a payload the schema refused. */
  readonly failed: number;
  /** Runs that failed here and were scheduled to run again. */
  readonly retried: number;
  /** Handlers running right now in this process. */
  readonly active: number;
}

/**
 * How long a finished job's id is remembered, so that enqueueing the same id again is a no-op.
 * The lead's ids name a strategy and a tick minute, so a day covers any producer that is late or
 * repeated; failed jobs are kept longer so they can be looked at.
 */
export interface RetentionWindows {
  readonly completedMs: number;
  readonly failedMs: number;
}

export const DEFAULT_RETENTION: RetentionWindows = {
  completedMs: 24 * 60 * 60 * 1000,
  failedMs: 7 * 24 * 60 * 60 * 1000,
};

/** How long {@link JobQueue.close} waits for running handlers by default. */
export const DEFAULT_CLOSE_TIMEOUT_MS = 30_000;

export interface JobQueue {
  /** `bullmq` (Redis, shared between processes) or `in-process` (this process only). */
  readonly kind: 'bullmq' | 'in-process';
  /**
   * Adds one job. Resolves `false`, adding nothing, when a job with this id is waiting, running,
   * or finished within the retention window ({@link RetentionWindows}): so two ticks or two
   * producers asking for the same work get it done once.
   */
  enqueue<T>(job: JobDefinition<T>, data: T, options: { readonly jobId: string }): Promise<boolean>;
  /** Adds many jobs at once (a fan-out), each de-duplicated like {@link enqueue}; resolves how many were new. */
  enqueueBulk<T>(job: JobDefinition<T>, items: readonly BulkItem<T>[]): Promise<number>;
  /**
   * Runs `job` now and then every `everyMs` (one run per interval across all processes). The
   * schedule is code, not data: every process that starts registers it, and the BullMQ runner
   * registers it again by itself when Redis comes back empty.
   */
  every<T>(job: JobDefinition<T>, options: ScheduleOptions<T>): Promise<void>;
  /** Stops a schedule; resolves whether one was found. */
  cancelSchedule(schedulerId: string): Promise<boolean>;
  /**
   * Makes this process run these jobs. Producer-only processes (a web server with workers
   * elsewhere) never call it. Call it once.
   */
  startWorkers(jobs: readonly AnyJobDefinition[]): void;
  /**
   * Graceful stop: takes no new jobs, waits for the running ones up to `timeoutMs` (default
   * {@link DEFAULT_CLOSE_TIMEOUT_MS}), then aborts their signals and lets go; with BullMQ a job cut
   * off that way is run again by another worker once its lock expires. Closes connections.
   */
  close(timeoutMs?: number): Promise<void>;
  stats(): JobStats;
}

/** Delay before retry number `retry` (1-based) with exponential backoff, as BullMQ computes it. */
export function backoffDelay(backoffMs: number, retry: number): number {
  return Math.round(2 ** (retry - 1) * backoffMs);
}

/**
 * Field paths and codes of a schema failure, for the log. Values are left out: a payload may hold
 * something private, and zod messages can quote it.
 */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : '(root)'}: ${issue.code}`)
    .join('; ');
}

/**
 * The payload as a worker will see it: through JSON, as BullMQ stores it. Both runners use it, so a
 * payload that only works in memory (a Map, a class instance, `undefined`) fails in both.
 */
export function throughJson(data: unknown): unknown {
  const text = JSON.stringify(data);
  if (text === undefined) throw new Error('a job payload must be a JSON value');
  return JSON.parse(text) as unknown;
}

/** A schedule's interval: a whole number of milliseconds, at least one. */
export function checkEvery(everyMs: number): void {
  if (!Number.isInteger(everyMs) || everyMs < 1)
    throw new Error(`everyMs must be a whole number >= 1, got ${everyMs}`);
}

const SCHEDULER_ID = /^[A-Za-z0-9_.-]{1,100}$/;

/** Scheduler ids end up inside BullMQ job ids (`repeat:<schedulerId>:<time>`), so no `:` or spaces. */
export function checkSchedulerId(schedulerId: string): void {
  if (!SCHEDULER_ID.test(schedulerId))
    throw new Error(`invalid schedulerId "${schedulerId}": use letters, digits, ., - and _`);
}
