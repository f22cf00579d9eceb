/**
 * Telegram long polling that loses nothing: `getUpdates` confirms every update below the offset it
 * is given, so the offset moves past an update only once the inbox has recorded it. An update that
 * cannot be recorded (the database is down) is fetched again after a pause, with those behind it.
 * Handling runs on the inbound queue; this loop only records, so it never waits for the core.
 */
import { type Api, GrammyError, HttpError } from 'grammy';
import type { Update } from 'grammy/types';
import type { Logger } from '../../core/logging/logger.js';

export interface LongPollOptions {
  readonly api: Api;
  /** Records one update (resolves once it is durable); throws when it could not be. */
  readonly receive: (update: Update) => Promise<void>;
  readonly logger: Logger;
  /** getUpdates' long-poll timeout in seconds. */
  readonly timeoutSeconds: number;
  readonly allowedUpdates: readonly ('message' | 'callback_query')[];
  /** Pause after a failed fetch or an update that could not be recorded (default 1 s, doubling to 30 s). */
  readonly retryDelayMs?: number;
}

export class LongPoll {
  private readonly abort = new AbortController();
  private loop: Promise<void> | undefined;
  private offset: number | undefined;

  constructor(private readonly options: LongPollOptions) {}

  start(): void {
    this.loop ??= this.run();
  }

  /** Ends the pending getUpdates and the loop; updates not yet recorded stay at Telegram. */
  async stop(): Promise<void> {
    this.abort.abort();
    await this.loop;
  }

  private async run(): Promise<void> {
    const initialDelay = this.options.retryDelayMs ?? 1000;
    let delay = initialDelay;
    while (!this.abort.signal.aborted) {
      const batch = await this.fetch();
      if (batch === undefined) {
        await this.pause(delay);
        delay = Math.min(delay * 2, 30_000);
        continue;
      }
      if ((await this.recordAll(batch)) === 'complete') {
        delay = initialDelay;
        continue;
      }
      await this.pause(delay);
      delay = Math.min(delay * 2, 30_000);
    }
  }

  /** The next updates, or undefined after a failure (logged) or on stop. */
  private async fetch(): Promise<Update[] | undefined> {
    try {
      return await this.options.api.getUpdates(
        {
          ...(this.offset === undefined ? {} : { offset: this.offset }),
          timeout: this.options.timeoutSeconds,
          allowed_updates: [...this.options.allowedUpdates],
        },
        // grammy types its signal with the abort-controller package's class; Node's is the same thing.
        this.abort.signal as Parameters<Api['getUpdates']>[1],
      );
    } catch (error) {
      if (this.abort.signal.aborted) return undefined;
      this.options.logger.warn({ reason: describe(error) }, 'telegram getUpdates failed; trying again');
      return undefined;
    }
  }

  /**
   * Records the batch in order; the offset follows each recorded update. Stops at the first that
   * cannot be recorded, so it and everything after it are fetched again.
   */
  private async recordAll(batch: readonly Update[]): Promise<'complete' | 'interrupted'> {
    for (const update of batch) {
      try {
        await this.options.receive(update);
      } catch (error) {
        this.options.logger.warn(
          { updateId: update.update_id, reason: describe(error) },
          'could not record a telegram update; it will be fetched again',
        );
        return 'interrupted';
      }
      this.offset = update.update_id + 1;
    }
    return 'complete';
  }

  private pause(ms: number): Promise<void> {
    if (this.abort.signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      const signal = this.abort.signal;
      function done() {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      }
      signal.addEventListener('abort', done, { once: true });
    });
  }
}

/** A failure's Telegram code and description, or its kind; never a URL (it contains the token). */
function describe(error: unknown): string {
  if (error instanceof GrammyError) return `${error.method}: ${error.error_code} ${error.description}`;
  if (error instanceof HttpError) return 'network error talking to Telegram';
  return error instanceof Error ? error.message : 'unknown error';
}
