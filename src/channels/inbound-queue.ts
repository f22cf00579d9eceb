/**
 * Runs inbound messages off the platform's request path, from the inbox: `accept` records a
 * message durably (core/conversation/inbox.ts) and only then lets the adapter answer its platform;
 * handling follows on this queue. Messages of one chat are handled in order, one at a time (a
 * Confirm press never overtakes the message that made its card); chats run side by side up to a
 * bound. A message whose handling meets a database outage waits and is tried again (its sender
 * told once that it is kept); one that fails with the database up is given up at once with its
 * sender told (handling is not idempotent), so one bad message never blocks its chat.
 */
import { chatKeyOf, type Inbox, type InboxEntry, type InboxTicket } from '../core/conversation/inbox.js';
import { isDatabaseOutage } from '../core/db/outage.js';
import type { Logger } from '../core/logging/logger.js';
import type { InboundMessage } from '../core/messages.js';
import type { Acceptance, AcceptOptions, InboundSink } from './channel.js';

/** Told once when a recorded message cannot be handled yet because the database is away. */
export const HANDLING_DELAYED_TEXT =
  'Arbion is having trouble reaching its database. Your message is kept and will be handled as soon as it is back.';
/** Told when a recorded message failed with the database up (or crashed Arbion repeatedly): it is given up. */
export const HANDLING_FAILED_TEXT =
  'Sorry, I could not handle that message because of an internal error. Nothing was done.';

export interface InboundQueueOptions {
  readonly inbox: Inbox;
  /**
   * Handles one message. The handler may finish the message's inbox row itself, in its last
   * statement (`ticket.finished`); otherwise the queue marks it handled.
   */
  readonly handle: (message: InboundMessage, ticket: InboxTicket) => Promise<void>;
  /** Tells the sender of a message something (in its chat, or privately for a press). */
  readonly tell: (message: InboundMessage, text: string) => Promise<void>;
  /** Whether the database answers (a failure while it does not is waited out, not counted). */
  readonly databaseReachable: () => Promise<boolean>;
  readonly logger: Logger;
  /** Chats handled at the same time; the rest wait their turn. */
  readonly concurrency?: number;
  /** Attempts (across restarts: a crash mid-handling) before a message is given up (default 3). */
  readonly maxAttempts?: number;
  /** First wait before a failed message is tried again, doubling up to `maxRetryDelayMs`. */
  readonly retryDelayMs?: number;
  readonly maxRetryDelayMs?: number;
}

interface Job {
  readonly entry: InboxEntry;
  readonly done: () => void;
  readonly after: Promise<unknown> | undefined;
}

interface ChatLane {
  readonly pending: Job[];
  /** A message of this chat is being handled. */
  running: boolean;
  /** The lane is in `ready`, waiting for a slot. */
  scheduled: boolean;
}

export class InboundQueue implements InboundSink {
  private readonly lanes = new Map<string, ChatLane>();
  /** Chats with work waiting for a free slot, oldest first. */
  private readonly ready: string[] = [];
  /** Inbox rows queued or being handled here (a sweep never queues them twice). */
  private readonly held = new Set<string>();
  private running = 0;
  private readonly concurrency: number;
  private idleWaiters: (() => void)[] = [];
  private stopping = false;
  private paused = false;
  private readonly wakeRetries = new Set<() => void>();

  constructor(private readonly options: InboundQueueOptions) {
    this.concurrency = options.concurrency ?? 32;
  }

  async accept(message: InboundMessage, options: AcceptOptions = {}): Promise<Acceptance> {
    const id = await this.options.inbox.record(message);
    if (id === undefined) {
      this.options.logger.debug(
        { deliveryId: message.deliveryId, platform: message.address.platform },
        'duplicate delivery ignored',
      );
      return { duplicate: true, handled: Promise.resolve() };
    }
    return { duplicate: false, handled: this.enqueue({ id, message, attempts: 0 }, options.handleAfter) };
  }

  /** Queues unfinished inbox rows (after a restart), in the order given; rows held here are skipped. */
  resume(entries: readonly InboxEntry[]): Promise<void>[] {
    return entries.filter((entry) => !this.held.has(entry.id)).map((entry) => this.enqueue(entry));
  }

  /**
   * Holds handling back (accepting goes on): on start-up, the inbox's leftovers are queued first
   * and new messages behind them, so each chat keeps its order; `release` starts handling.
   */
  pause(): void {
    this.paused = true;
  }

  release(): void {
    this.paused = false;
    this.pump();
  }

  /** Messages queued or being handled. */
  get size(): number {
    return this.held.size;
  }

  /** Resolves once every message queued so far has been handled (shutdown, tests). */
  idle(): Promise<void> {
    if (this.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * Stops retrying: messages waiting out a failure stay unfinished in the inbox for the next
   * start. Resolves once what is running has finished.
   */
  async stop(): Promise<void> {
    this.stopping = true;
    this.paused = false;
    for (const wake of this.wakeRetries) wake();
    for (const lane of this.lanes.values()) {
      for (const job of lane.pending.splice(0)) this.finish(job);
    }
    await this.idle();
  }

  private enqueue(entry: InboxEntry, after?: Promise<unknown>): Promise<void> {
    const key = chatKeyOf(entry.message);
    this.held.add(entry.id);
    return new Promise<void>((done) => {
      let lane = this.lanes.get(key);
      if (lane === undefined) {
        lane = { pending: [], running: false, scheduled: false };
        this.lanes.set(key, lane);
      }
      lane.pending.push({ entry, done, after });
      this.schedule(key, lane);
      this.pump();
    });
  }

  private schedule(key: string, lane: ChatLane): void {
    if (lane.running || lane.scheduled || lane.pending.length === 0) return;
    lane.scheduled = true;
    this.ready.push(key);
  }

  private pump(): void {
    while (!this.paused && this.running < this.concurrency && this.ready.length > 0) {
      const key = this.ready.shift() as string;
      const lane = this.lanes.get(key);
      const next = lane?.pending.shift();
      if (lane === undefined || next === undefined) continue;
      lane.scheduled = false;
      lane.running = true;
      this.running++;
      void Promise.resolve(next.after)
        .catch(() => undefined)
        .then(() => this.run(next.entry))
        .then(() => {
          lane.running = false;
          this.running--;
          if (lane.pending.length > 0) this.schedule(key, lane);
          else this.lanes.delete(key);
          this.finish(next);
          this.pump();
        });
    }
  }

  private finish(job: Job): void {
    this.held.delete(job.entry.id);
    job.done();
    if (this.size > 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  /**
   * Handles one message until it is handled, given up, or the queue stops. Only an outage is
   * waited out and tried again: handling is not idempotent (a card would be proposed twice), so
   * a failure with the database up is given up at once, its sender told.
   */
  private async run(entry: InboxEntry): Promise<void> {
    const { message } = entry;
    const logged = { platform: message.address.platform, deliveryId: message.deliveryId, inboxId: entry.id };
    // A message whose earlier attempts all ended in a crash is not tried again.
    if (entry.attempts >= (this.options.maxAttempts ?? 3)) return this.giveUp(entry);
    let handled = false;
    const ticket: InboxTicket = { id: entry.id, finished: false, replayed: entry.attempts > 0 };
    let toldDelayed = false;
    let delay = this.options.retryDelayMs ?? 1000;
    while (!this.stopping) {
      try {
        if (!handled) {
          await this.options.handle(message, ticket);
          // Only the mark is retried from here: the message is never handled twice by us.
          handled = true;
        }
        if (!ticket.finished) await this.options.inbox.markHandled(entry.id);
        return;
      } catch (error) {
        this.options.logger.error({ ...logged, err: error }, 'inbound message failed');
        // Its effect was committed with the row finished; what failed after that is not redone.
        if (ticket.finished) return;
        const outage = isDatabaseOutage(error) || !(await this.options.databaseReachable());
        if (!outage && !handled) return this.giveUp(entry);
        // Tried again after the outage: what this attempt did before it failed stays done.
        ticket.replayed = true;
      }
      if (!toldDelayed && !handled) {
        toldDelayed = true;
        await this.tell(message, HANDLING_DELAYED_TEXT);
      }
      await this.wait(delay);
      delay = Math.min(delay * 2, this.options.maxRetryDelayMs ?? 30_000);
    }
  }

  private async giveUp(entry: InboxEntry): Promise<void> {
    this.options.logger.error(
      { platform: entry.message.address.platform, deliveryId: entry.message.deliveryId, inboxId: entry.id },
      'inbound message given up',
    );
    await this.tell(entry.message, HANDLING_FAILED_TEXT);
    await this.options.inbox.markHandled(entry.id).catch(() => undefined);
  }

  private async tell(message: InboundMessage, text: string): Promise<void> {
    try {
      await this.options.tell(message, text);
    } catch (error) {
      this.options.logger.warn({ err: error, deliveryId: message.deliveryId }, 'could not tell a sender');
    }
  }

  /** A retry's wait; `stop()` cuts it short. */
  private wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.wakeRetries.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.wakeRetries.add(wake);
    });
  }
}
