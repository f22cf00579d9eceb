/**
 * What every chat platform adapter is. An adapter only translates: platform events into the
 * core's `InboundMessage`s (handed to an `InboundSink`), and the core's outbound messages into
 * platform calls (`ChannelPort`). Authorization, de-duplication and trading live in the core.
 */
import type { FastifyInstance } from 'fastify';
import type { ChannelPort, InboundMessage, Platform } from '../core/messages.js';

/** A message the inbox took. */
export interface Acceptance {
  /** A redelivery of one already recorded: nothing more happens. */
  readonly duplicate: boolean;
  /** Settles once the core has handled the message (never rejects). */
  readonly handled: Promise<void>;
}

/**
 * Where an adapter hands inbound messages. `accept` resolves once the message is durably recorded
 * (only then may the platform be answered) and the core handles it afterwards; it rejects with
 * the core's InboxUnavailableError when the message could not be recorded: the adapter then makes
 * the platform redeliver (webhooks answer non-2xx, long polling keeps its offset) or, where the
 * platform cannot redeliver, tells the sender INBOX_UNAVAILABLE_TEXT.
 */
export interface InboundSink {
  accept(message: InboundMessage, options?: AcceptOptions): Promise<Acceptance>;
}

export interface AcceptOptions {
  /** Handling starts only once this settles (the platform's answer must be out first). */
  readonly handleAfter?: Promise<unknown>;
}

export interface ChannelAdapter extends ChannelPort {
  readonly platform: Platform;
  /** For the start log, e.g. "telegram (long polling)". */
  readonly description: string;
  /**
   * Registers the adapter's webhook routes on the shared web server (HTTP modes). Called once,
   * before the server listens; adapters that receive over a socket leave it out.
   */
  mount?(app: FastifyInstance): Promise<void>;
  /** Starts receiving (long polling, gateway, socket) and registers commands; resolves when ready. */
  start(): Promise<void>;
  /** Stops receiving and lets queued outbound calls finish. Idempotent. */
  stop(): Promise<void>;
}
