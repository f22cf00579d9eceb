/**
 * The jobs layer's front door: {@link createJobQueue} picks the runner from the configuration.
 * With a Redis URL, BullMQ (durable, shared by every process on the same prefix); without, the
 * in-process runner of the embedded default.
 */
import type { Logger } from '../logging/logger.js';
import { createBullmqQueue } from './bullmq-queue.js';
import { createInProcessQueue } from './in-process-queue.js';
import type { JobQueue, RetentionWindows } from './jobs.js';

export * from './jobs.js';

export interface CreateJobQueueOptions {
  /** `config.redis?.url`: set for BullMQ, unset for the in-process runner. */
  readonly redisUrl?: string | undefined;
  readonly logger: Logger;
  /** BullMQ key prefix. Default `arbion`. */
  readonly prefix?: string;
  /** How long finished job ids are remembered for de-duplication (both runners). */
  readonly retention?: RetentionWindows;
  /** BullMQ only: lock lifetime; a dead worker's job is taken over after it. Default 30 s. */
  readonly lockDurationMs?: number;
  /** BullMQ only: how often workers look for jobs of dead workers. Default 30 s. */
  readonly stalledIntervalMs?: number;
  /** BullMQ only: how often a job may be taken back from a dead worker. Default 1. */
  readonly maxStalledCount?: number;
  /** BullMQ only: how often lost schedules are looked for and restored. Default 60 s. */
  readonly scheduleCheckMs?: number;
}

export function createJobQueue(options: CreateJobQueueOptions): JobQueue {
  const { redisUrl, ...rest } = options;
  if (redisUrl === undefined) {
    return createInProcessQueue({
      logger: options.logger,
      ...(options.retention === undefined ? {} : { retention: options.retention }),
    });
  }
  return createBullmqQueue({ ...rest, redisUrl });
}
