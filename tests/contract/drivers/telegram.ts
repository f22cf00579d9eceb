/**
 * The channel contract for Telegram, in webhook mode (so forged secrets and malformed bodies can be
 * posted): the real adapter (grammy) on the product's web server, talking to the fake Bot API.
 *
 * The shared chat is a supergroup. Telegram groups have no roles: `join(person, 'admin' | 'trader')`
 * is the person opening the bot in a private chat (`/start`), which makes the core know them;
 * 'viewer' does nothing. In the group, people address the bot as `@arbion_test_bot <text>`.
 * Presses, texts and alerts are read from the fake's chat model, never from the adapter.
 */

import type { InboundSink } from '../../../src/channels/channel.js';
import {
  createTelegramChannel,
  TELEGRAM_WEBHOOK_PATH,
  type TelegramChannel,
} from '../../../src/channels/telegram/index.js';
import type { Logger } from '../../../src/core/logging/logger.js';
import type { FakeChat, FakeMessage, FakeUser } from '../../fakes/telegram/chat-model.js';
import { FakeTelegramServer, type UpdateJson } from '../../fakes/telegram/fake-telegram-server.js';
import { contractLogger } from '../contract-harness.js';
import type {
  ContractDriver,
  DriverCapabilities,
  DriverContext,
  DriverFactory,
  Person,
  SeenCard,
} from '../driver.js';
import { FULL_PLATFORM } from '../driver.js';

export const TELEGRAM_TEST_TOKEN = '7000001:AAHcontract-test-token_0123456789abcdef';
export const TELEGRAM_TEST_SECRET = 'contract-webhook-secret_42';

const PEOPLE: Record<Person, FakeUser> = {
  alice: { id: 1_001, is_bot: false, first_name: 'Alice', username: 'alice_trades' },
  bob: { id: 1_002, is_bot: false, first_name: 'Bob', username: 'bob_trades' },
  carol: { id: 1_003, is_bot: false, first_name: 'Carol', username: 'carol_watches' },
};
const GROUP: FakeChat = { id: -1_001_234_567_890, type: 'supergroup', title: 'Trading desk' };

function privateChat(user: FakeUser): FakeChat {
  return { id: user.id, type: 'private', first_name: user.first_name };
}

/** Our cards open with the bold PAPER/LIVE badge (render.ts); plain texts carry no markup there. */
export function isCard(message: FakeMessage): boolean {
  const first = message.entities[0];
  return first?.type === 'bold' && first.offset === 0 && /^(PAPER|LIVE) · /.test(message.text);
}

export function quietLogger(): Logger {
  return contractLogger([TELEGRAM_TEST_TOKEN, TELEGRAM_TEST_SECRET]);
}

export const TELEGRAM_CAPABILITIES: DriverCapabilities = FULL_PLATFORM;

export class TelegramContractDriver implements ContractDriver {
  readonly platform = 'telegram' as const;
  readonly capabilities = TELEGRAM_CAPABILITIES;
  private lastUpdate: UpdateJson | undefined;

  constructor(
    readonly fake: FakeTelegramServer,
    readonly adapter: TelegramChannel,
    private readonly context: DriverContext,
  ) {}

  /** The shared chat's id. */
  get groupChatId(): number {
    return GROUP.id;
  }

  user(person: Person): FakeUser {
    return PEOPLE[person];
  }

  async join(person: Person, role: 'admin' | 'trader' | 'viewer'): Promise<void> {
    if (role === 'viewer') return;
    const user = PEOPLE[person];
    await this.deliver(this.fake.textUpdate({ from: user, chat: privateChat(user), text: '/start' }));
  }

  platformUserId(person: Person): string {
    return String(PEOPLE[person].id);
  }

  async say(person: Person, text: string): Promise<void> {
    const addressed = text.startsWith('/') ? text : `@${this.fake.botInfo.username} ${text}`;
    await this.deliver(this.fake.textUpdate({ from: PEOPLE[person], chat: GROUP, text: addressed }));
  }

  /** The person writes to the bot in their private chat (not part of the contract; for tests). */
  async sayPrivately(person: Person, text: string): Promise<void> {
    const user = PEOPLE[person];
    await this.deliver(this.fake.textUpdate({ from: user, chat: privateChat(user), text }));
  }

  async press(person: Person, messageId: string, actionId: string): Promise<void> {
    await this.deliver(
      this.fake.callbackUpdate({
        from: PEOPLE[person],
        chatId: GROUP.id,
        messageId: Number(messageId),
        data: actionId,
      }),
    );
  }

  async redeliverLast(): Promise<void> {
    if (this.lastUpdate === undefined) throw new Error('nothing delivered yet');
    await this.deliver(this.lastUpdate);
  }

  async forged(): Promise<number> {
    // A well-formed update that did not come from Telegram: the secret is wrong.
    const update = {
      update_id: 999_000_001,
      message: {
        message_id: 999,
        date: Math.floor(Date.now() / 1000),
        chat: GROUP,
        from: PEOPLE.alice,
        text: `@${this.fake.botInfo.username} buy 10 AAPL`,
      },
    };
    return this.post(JSON.stringify(update), 'not-the-secret');
  }

  async malformed(): Promise<number> {
    const statuses = [
      await this.post('{"update_id": 12, "message": {"message_id": ', TELEGRAM_TEST_SECRET),
      await this.post(JSON.stringify({ update_id: 'twelve', message: { text: 42 } }), TELEGRAM_TEST_SECRET),
    ];
    return statuses.find((status) => status !== 400) ?? 400;
  }

  rateLimitNextCall(): void {
    this.fake.rateLimitNext({ retryAfter: 1 });
  }

  cards(): SeenCard[] {
    return this.fake.model
      .botMessagesIn(GROUP.id)
      .filter(isCard)
      .map((message) => ({
        messageId: String(message.messageId),
        text: message.text,
        actionIds: message.buttons
          .flat()
          .flatMap((button) => (button.callback_data ? [button.callback_data] : [])),
      }));
  }

  textsFor(person: Person): string[] {
    const user = PEOPLE[person];
    const messages = [...this.fake.model.botMessagesIn(GROUP.id), ...this.fake.model.botMessagesIn(user.id)]
      .filter((message) => !isCard(message))
      .map((message) => ({ seq: message.seq, text: message.text }));
    const alerts = this.fake.model.answersFor(user.id).map(({ seq, text }) => ({ seq, text }));
    return [...messages, ...alerts].sort((a, b) => a.seq - b.seq).map((entry) => entry.text);
  }

  async settle(): Promise<void> {
    do {
      await this.context.inbound.idle();
      await this.adapter.idle();
    } while (this.context.inbound.size > 0 || this.adapter.pendingWork > 0);
  }

  async close(): Promise<void> {
    await this.adapter.stop();
    await this.fake.close();
  }

  /** Posts the update to our webhook as Telegram would, then waits until it has been handled. */
  async deliver(update: UpdateJson): Promise<void> {
    this.lastUpdate = update;
    const status = await this.postUpdate(update);
    if (status !== 200) throw new Error(`the webhook answered ${status} to a genuine update`);
    await this.settle();
  }

  /** Posts the update to our webhook with the right secret; returns the status we answered. */
  postUpdate(update: UpdateJson): Promise<number> {
    return this.post(JSON.stringify(update), TELEGRAM_TEST_SECRET);
  }

  /** Our webhook's URL on the product's web server. */
  webhookUrl(): string {
    return `${this.context.webUrl()}${TELEGRAM_WEBHOOK_PATH}`;
  }

  private async post(body: string, secret: string): Promise<number> {
    const response = await fetch(this.webhookUrl(), {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': secret },
      body,
    });
    await response.arrayBuffer();
    return response.status;
  }
}

export interface TelegramDriverOptions {
  /** Wraps the product's inbound queue (tests refuse or hold deliveries). */
  readonly wrapSink?: (sink: InboundSink) => InboundSink;
}

/** A driver factory; `telegramDriver` is the plain one. */
export function createTelegramDriverFactory(options: TelegramDriverOptions = {}): DriverFactory {
  return {
    platform: 'telegram',
    capabilities: TELEGRAM_CAPABILITIES,
    async create(context: DriverContext): Promise<TelegramContractDriver> {
      const fake = await FakeTelegramServer.start({ token: TELEGRAM_TEST_TOKEN });
      const adapter = createTelegramChannel({
        token: TELEGRAM_TEST_TOKEN,
        apiRoot: fake.apiRoot,
        // The fake does not call webhooks (the driver posts updates itself); any HTTPS URL will do.
        webhook: { publicUrl: 'https://arbion.example', secretToken: TELEGRAM_TEST_SECRET },
        sink: options.wrapSink ? options.wrapSink(context.inbound) : context.inbound,
        logger: quietLogger(),
        botInfo: fake.botInfo,
        retry: { maxAttempts: 3, maxDelaySeconds: 5, networkErrors: false },
      });
      context.arbion.channels.register('telegram', adapter);
      await adapter.mount(context.web);
      await adapter.start();
      return new TelegramContractDriver(fake, adapter, context);
    },
  };
}

export const telegramDriver: DriverFactory = createTelegramDriverFactory();
