/**
 * Runs inbound messages off the platform's request path: messages of one chat are handled in
 * order, one at a time (a Confirm press never overtakes the message that made its card), chats
 * run side by side up to a bound. Webhook handlers answer the platform at once and leave the
 * slow part (database, broker, LLM) to this queue.
 */
import type { Logger } from '../core/logging/logger.js';
import type { InboundMessage } from '../core/messages.js';
import type { InboundSink } from './channel.js';

export interface InboundQueueOptions {
  readonly handle: (message: InboundMessage) => Promise<void>;
  readonly logger: Logger;
  /** Chats handled at the same time; the rest wait their turn. */
  readonly concurrency?: number;
}

interface ChatLane {
  readonly pending: { message: InboundMessage; done: () => void }[];
  /** A message of this chat is being handled. */
  running: boolean;
  /** The lane is in `ready`, waiting for a slot. */
  scheduled: boolean;
}

export class InboundQueue implements InboundSink {
  private readonly lanes = new Map<string, ChatLane>();
  /** Chats with work waiting for a free slot, oldest first. */
  private readonly ready: string[] = [];
  private running = 0;
  /** Delivered and not yet handled. */
  private outstanding = 0;
  private readonly concurrency: number;
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly options: InboundQueueOptions) {
    this.concurrency = options.concurrency ?? 32;
  }

  deliver(message: InboundMessage): Promise<void> {
    const { platform, workspaceId, chatId } = message.address;
    const key = `${platform}\u0000${workspaceId}\u0000${chatId}`;
    return new Promise<void>((done) => {
      let lane = this.lanes.get(key);
      if (lane === undefined) {
        lane = { pending: [], running: false, scheduled: false };
        this.lanes.set(key, lane);
      }
      lane.pending.push({ message, done });
      this.outstanding++;
      this.schedule(key, lane);
      this.pump();
    });
  }

  /** Messages queued or being handled. */
  get size(): number {
    return this.outstanding;
  }

  /** Resolves once every message delivered so far has been handled (shutdown, tests). */
  idle(): Promise<void> {
    if (this.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private schedule(key: string, lane: ChatLane): void {
    if (lane.running || lane.scheduled || lane.pending.length === 0) return;
    lane.scheduled = true;
    this.ready.push(key);
  }

  private pump(): void {
    while (this.running < this.concurrency && this.ready.length > 0) {
      const key = this.ready.shift() as string;
      const lane = this.lanes.get(key);
      const next = lane?.pending.shift();
      if (lane === undefined || next === undefined) continue;
      lane.scheduled = false;
      lane.running = true;
      this.running++;
      void this.run(next.message).then(() => {
        next.done();
        lane.running = false;
        this.running--;
        this.outstanding--;
        if (lane.pending.length > 0) this.schedule(key, lane);
        else this.lanes.delete(key);
        this.pump();
        if (this.size === 0) {
          const waiters = this.idleWaiters;
          this.idleWaiters = [];
          for (const resolve of waiters) resolve();
        }
      });
    }
  }

  private async run(message: InboundMessage): Promise<void> {
    try {
      await this.options.handle(message);
    } catch (error) {
      this.options.logger.error(
        { err: error, platform: message.address.platform, deliveryId: message.deliveryId },
        'inbound message failed',
      );
    }
  }
}
