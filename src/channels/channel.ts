/**
 * What every chat platform adapter is. An adapter only translates: platform events into the
 * core's `InboundMessage`s (handed to an `InboundSink`), and the core's outbound messages into
 * platform calls (`ChannelPort`). Authorization, de-duplication and trading live in the core.
 */
import type { FastifyInstance } from 'fastify';
import type { ChannelPort, InboundMessage, Platform } from '../core/messages.js';

/**
 * Where an adapter hands inbound messages. `deliver` queues the message and resolves when it has
 * been handled (or failed, which is logged, never thrown): webhook handlers answer the platform
 * first and do not await it; long-polling loops may.
 */
export interface InboundSink {
  deliver(message: InboundMessage): Promise<void>;
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
