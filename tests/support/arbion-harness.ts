/**
 * A whole Arbion on a test database, with a controllable clock, a simulated market whose prices
 * tests can pin, and a recording chat channel. Everything else is the production wiring.
 */
import { Writable } from 'node:stream';
import { parseEnvironment } from '../../src/core/config/config.js';
import { type Command, type OrderCommand, orderCommandSchema } from '../../src/core/conversation/commands.js';
import type { FallbackInterpreter } from '../../src/core/conversation/conversation.js';
import { createLogger } from '../../src/core/logging/logger.js';
import { SimulatedMarket } from '../../src/core/market-data/providers/index.js';
import { getSymbolDirectory } from '../../src/core/market-data/symbols/directory.js';
import type {
  ChannelAddress,
  ChannelPort,
  InboundMessage,
  OutboundMessage,
  Sender,
} from '../../src/core/messages.js';
import { type Arbion, type ArbionOptions, createArbion } from '../../src/runtime/arbion.js';
import type { Backend, TestDatabase } from './databases.js';
import { createTestDatabase } from './databases.js';

/** Tuesday 2026-11-24 10:00 in New York: US markets are open. */
export const MARKET_OPEN = new Date('2026-11-24T15:00:00Z');

export interface Recorded {
  readonly kind: 'send' | 'edit' | 'notify';
  readonly address: ChannelAddress;
  readonly messageId: string;
  readonly message?: OutboundMessage;
  readonly recipient?: Sender;
  readonly text?: string;
}

/** A ChannelPort that remembers everything it was asked to do. */
export class RecordingChannel implements ChannelPort {
  readonly log: Recorded[] = [];
  private next = 1;

  async send(address: ChannelAddress, message: OutboundMessage): Promise<{ messageId: string }> {
    const messageId = `m${this.next++}`;
    this.log.push({ kind: 'send', address, messageId, message });
    return { messageId };
  }

  async edit(address: ChannelAddress, messageId: string, message: OutboundMessage): Promise<void> {
    this.log.push({ kind: 'edit', address, messageId, message });
  }

  async notify(address: ChannelAddress, recipient: Sender, text: string): Promise<void> {
    this.log.push({ kind: 'notify', address, messageId: '', recipient, text });
  }

  texts(): string[] {
    return this.log.flatMap((entry) =>
      entry.message?.kind === 'text' ? [entry.message.text] : entry.text ? [entry.text] : [],
    );
  }

  lastCard(): Recorded | undefined {
    return [...this.log].reverse().find((entry) => entry.message?.kind === 'card');
  }
}

export interface Harness {
  readonly test: TestDatabase;
  readonly arbion: Arbion;
  readonly market: SimulatedMarket;
  readonly channel: RecordingChannel;
  readonly clock: { now: Date };
  /** Sends a message as `user` in the console chat and waits for the answer. */
  say(user: string, text: string): Promise<void>;
  /** Presses a button as `user`. */
  press(user: string, actionId: string, messageId?: string): Promise<void>;
  order(fields: Partial<OrderCommand> & Pick<OrderCommand, 'side' | 'symbol'>): OrderCommand;
  /**
   * A crash and a restart: a new Arbion (a new process, its own paper broker) on the same
   * database, clock, market and chat (`channel`, by default the recording one); `arbion` is it
   * from now on. What the old one held is a dead process's work.
   */
  restart(channel?: ChannelPort): Promise<void>;
  destroy(): Promise<void>;
}

export const ADDRESS: ChannelAddress = { platform: 'console', workspaceId: '', chatId: 'chat-1' };

let delivery = 0;

export async function createHarness(
  backend: Backend,
  options: {
    env?: Record<string, string>;
    /** A stand-in LLM; default none. `configured` builds the real one from `env` (OPENAI_*). */
    fallback?: FallbackInterpreter | null | 'configured';
    /** Broker linking (a vault, and where the site is reached). */
    linking?: ArbionOptions['linking'];
    /** Linked brokers' client settings (short timeouts) and order following (short windows). */
    brokers?: Pick<ArbionOptions, 'brokerClientOptions' | 'orderTracking'>;
    /** A job queue of the test's own (BullMQ under a private prefix); default in-process. */
    jobQueue?: ArbionOptions['jobQueue'];
  } = {},
): Promise<Harness> {
  const parsed = parseEnvironment({ LOG_LEVEL: 'silent', ...options.env }, { cwd: '/tmp' });
  if (!parsed.ok) throw new Error(parsed.problems.join('\n'));
  const test = await createTestDatabase(backend);
  const clock = { now: MARKET_OPEN };
  const market = new SimulatedMarket({ seed: 7, symbols: getSymbolDirectory(), clock: () => clock.now });
  const logger = createLogger({
    level: 'silent',
    format: 'json',
    secretValues: [],
    destination: new Writable({ write: (_chunk, _encoding, callback) => callback() }),
  });
  const build = () =>
    createArbion({
      config: parsed.config,
      database: test.database,
      logger,
      market,
      fallback: options.fallback === 'configured' ? undefined : (options.fallback ?? null),
      clock: () => clock.now,
      linking: options.linking,
      ...options.brokers,
      ...(options.jobQueue === undefined ? {} : { jobQueue: options.jobQueue }),
    });
  let arbion = build();
  const channel = new RecordingChannel();
  arbion.channels.register('console', channel);

  const base = (user: string) => ({
    deliveryId: `d${process.pid}-${++delivery}`,
    address: ADDRESS,
    sender: { platformUserId: user, displayName: user },
    receivedAt: clock.now,
    chatType: 'direct' as const,
  });
  return {
    test,
    get arbion() {
      return arbion;
    },
    market,
    channel,
    clock,
    async say(user, text) {
      const message: InboundMessage = { ...base(user), kind: 'text', messageId: `in-${delivery}`, text };
      await arbion.conversation.handle(message);
    },
    async press(user, actionId, messageId) {
      const message: InboundMessage = {
        ...base(user),
        kind: 'action',
        messageId: messageId ?? channel.lastCard()?.messageId ?? '',
        actionId,
      };
      await arbion.conversation.handle(message);
    },
    order(fields) {
      const candidate: Command = {
        kind: 'order',
        assetClass: 'equity',
        orderType: 'market',
        timeInForce: 'day',
        quantity: '10',
        ...fields,
      };
      return orderCommandSchema.parse(candidate);
    },
    async restart(chat = channel) {
      // The old one is gone mid-work: nothing of it is stopped or drained.
      arbion = build();
      arbion.channels.register('console', chat);
    },
    async destroy() {
      await arbion.automation.stop(2000);
      await test.destroy();
    },
  };
}
