/**
 * An inbound sink in front of the product's queue that can refuse messages the way the inbox does
 * when the database is away: `accept` rejects with InboxUnavailableError, nothing is recorded and
 * nothing reaches the queue. Adapters' answers to an unrecorded message are tested through it.
 */
import type { Acceptance, AcceptOptions, InboundSink } from '../../src/channels/channel.js';
import { InboxUnavailableError } from '../../src/core/conversation/inbox.js';
import type { InboundMessage } from '../../src/core/messages.js';

export class RefusingSink implements InboundSink {
  /** Every message refused, in order. */
  readonly refused: InboundMessage[] = [];
  private refusals = 0;

  constructor(private readonly target: InboundSink) {}

  /** The next `times` accepts are refused. */
  refuseNext(times = 1): void {
    this.refusals += times;
  }

  /** Refusals not used yet. */
  get pendingRefusals(): number {
    return this.refusals;
  }

  accept(message: InboundMessage, options?: AcceptOptions): Promise<Acceptance> {
    if (this.refusals === 0) return this.target.accept(message, options);
    this.refusals--;
    this.refused.push(message);
    return Promise.reject(new InboxUnavailableError(new Error('connect ECONNREFUSED 127.0.0.1:5432')));
  }
}
