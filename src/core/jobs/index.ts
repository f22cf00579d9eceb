/**
 * The jobs layer's front door: {@link createJobQueue} picks the runner from the configuration.
 * With a Redis URL, BullMQ (durable, shared by every process on the same prefix); without, the
 * in-process runner of the embedded default.
 */
import { type BullmqQueueOptions, createBullmqQueue } from './bullmq-queue.js';
import { createInProcessQueue } from './in-process-queue.js';
import type { JobQueue } from './jobs.js';

export * from './jobs.js';

/**
 * The BullMQ runner's options, with `redisUrl` (`config.redis?.url`) optional: unset gives the
 * in-process runner, which uses only `logger` and `retention`.
 */
export type CreateJobQueueOptions = Omit<BullmqQueueOptions, 'redisUrl'> & {
  readonly redisUrl?: string | undefined;
};

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
