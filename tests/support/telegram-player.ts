/**
 * Plays Telegram's side of a conversation against real `arbion start` processes, as the Bot API
 * delivers updates: by webhook (an update is POSTed with the secret token until some answer is
 * 2xx; a non-2xx answer, a timeout or a refused connection means it is sent again later, to
 * whichever endpoint is up) or by long polling (the update waits in the fake's getUpdates queue
 * and counts as acknowledged once a later getUpdates confirms an offset above it). Users, chats,
 * messages and button presses are built by the fake Telegram server, so cards and edits are read
 * from its chat model, never from Arbion.
 */
import type { FakeChat, FakeMessage, FakeUser } from '../fakes/telegram/chat-model.js';
import type { FakeTelegramServer, UpdateJson } from '../fakes/telegram/fake-telegram-server.js';

export const WEBHOOK_PATH = '/webhooks/telegram';

/** User (and private chat) ids, unique across every player of the test file (players may share a bot). */
let nextUserId = 910_000;

/** One delivery and what became of it. */
export interface Delivery {
  readonly update: UpdateJson;
  readonly chatId: number;
  /** Webhook: POSTs made (the first one included). */
  attempts: number;
  /** Webhook: the endpoint name that answered 2xx. Polling: 'getUpdates'. */
  acknowledgedBy?: string;
  /** Webhook: statuses of the non-2xx answers and the errors, in order (for reports). */
  readonly failures: string[];
  /** Resolves once acknowledged (never rejects; `close()` leaves it pending). */
  readonly acknowledged: Promise<void>;
}

export interface TelegramPlayerOptions {
  readonly fake: FakeTelegramServer;
  readonly mode: 'webhook' | 'polling';
  /** Webhook mode: the secret Arbion gave setWebhook. */
  readonly secretToken?: string;
  /**
   * Webhook mode: 'per-chat' (default) posts a chat's next update only once the previous one was
   * acknowledged, as Telegram holds later updates behind an unacknowledged one; 'none' posts at once.
   */
  readonly ordering?: 'per-chat' | 'none';
  /** Webhook mode: how long one POST may take before it counts as failed (default 15 s). */
  readonly requestTimeoutMs?: number;
}

export class TelegramPlayer {
  readonly deliveries: Delivery[] = [];
  private readonly endpoints = new Map<string, string | undefined>();
  private endpointWaiters: (() => void)[] = [];
  private readonly chatTails = new Map<number, Promise<void>>();
  private nextEndpoint = 0;
  private closed = false;

  constructor(private readonly options: TelegramPlayerOptions) {}

  get fake(): FakeTelegramServer {
    return this.options.fake;
  }

  // ------------------------------------------------------------------ endpoints (webhook mode)

  /** Points the endpoint `name` at a process's base URL, or marks it down (undefined). */
  setEndpoint(name: string, baseUrl: string | undefined): void {
    this.endpoints.set(name, baseUrl);
    const waiters = this.endpointWaiters;
    this.endpointWaiters = [];
    for (const wake of waiters) wake();
  }

  private liveEndpoints(): [string, string][] {
    return [...this.endpoints].filter((entry): entry is [string, string] => entry[1] !== undefined);
  }

  /** An endpoint that is up: `preferred` if it is, else the next in turn; waits while none is. */
  private async endpointFor(preferred: string | undefined): Promise<[string, string] | undefined> {
    while (!this.closed) {
      const live = this.liveEndpoints();
      const wanted = live.find(([name]) => name === preferred);
      if (wanted !== undefined) return wanted;
      if (live.length > 0) return live[this.nextEndpoint++ % live.length];
      await new Promise<void>((resolve) => this.endpointWaiters.push(resolve));
    }
    return undefined;
  }

  // ------------------------------------------------------------------ people and updates

  /** A new Telegram user with their private chat with the bot. */
  newUser(name: string): { user: FakeUser; chat: FakeChat } {
    const id = nextUserId++;
    const user: FakeUser = { id, is_bot: false, first_name: name };
    return { user, chat: { id, type: 'private', first_name: name } };
  }

  /** The user writes `text`; `endpoint` is where a webhook delivery goes first. */
  say(who: { user: FakeUser; chat: FakeChat }, text: string, endpoint?: string): Delivery {
    return this.deliver(this.fake.textUpdate({ from: who.user, chat: who.chat, text }), endpoint);
  }

  /** The user presses the button carrying `data` on message `messageId` of their chat. */
  press(
    who: { user: FakeUser; chat: FakeChat },
    messageId: number,
    data: string,
    endpoint?: string,
  ): Delivery {
    const update = this.fake.callbackUpdate({ from: who.user, chatId: who.chat.id, messageId, data });
    return this.deliver(update, endpoint);
  }

  /** Hands an update to Telegram's delivery: queued for getUpdates, or POSTed until acknowledged. */
  deliver(update: UpdateJson, endpoint?: string): Delivery {
    const chatId = chatOf(update);
    let resolve: () => void = () => {};
    const acknowledged = new Promise<void>((done) => {
      resolve = done;
    });
    const delivery: Delivery = { update, chatId, attempts: 0, failures: [], acknowledged };
    this.deliveries.push(delivery);
    if (this.options.mode === 'polling') {
      this.fake.enqueueUpdate(update);
      void this.untilConfirmed(update.update_id).then(() => {
        delivery.acknowledgedBy = 'getUpdates';
        resolve();
      });
      return delivery;
    }
    const ordered = (this.options.ordering ?? 'per-chat') === 'per-chat';
    const previous = ordered ? (this.chatTails.get(chatId) ?? Promise.resolve()) : Promise.resolve();
    const posted = previous.then(() => this.postUntilAcknowledged(delivery, endpoint)).then(resolve);
    if (ordered) this.chatTails.set(chatId, posted);
    return delivery;
  }

  /** Long polling: resolves once a getUpdates asked for an offset above `updateId`. */
  private async untilConfirmed(updateId: number): Promise<void> {
    await this.fake.waitForPoll((poll) => poll.offset !== undefined && poll.offset > updateId);
  }

  private async postUntilAcknowledged(delivery: Delivery, preferred: string | undefined): Promise<void> {
    let wait = 100;
    let prefer = preferred;
    while (!this.closed) {
      const target = await this.endpointFor(prefer);
      if (target === undefined) return;
      const [name, baseUrl] = target;
      delivery.attempts++;
      try {
        const response = await fetch(`${baseUrl}${WEBHOOK_PATH}`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'x-telegram-bot-api-secret-token': this.options.secretToken ?? '',
          },
          body: JSON.stringify(delivery.update),
          signal: AbortSignal.timeout(this.options.requestTimeoutMs ?? 15_000),
        });
        await response.arrayBuffer();
        if (response.status >= 200 && response.status < 300) {
          delivery.acknowledgedBy = name;
          return;
        }
        delivery.failures.push(`${name}: ${response.status}`);
      } catch (error) {
        delivery.failures.push(`${name}: ${(error as Error).name} ${(error as Error).message}`);
      }
      // Telegram tries again later, at whatever answers at the public URL then.
      prefer = undefined;
      await new Promise((resolve) => setTimeout(resolve, wait));
      wait = Math.min(wait * 2, 1000);
    }
  }

  /** Deliveries not acknowledged yet. */
  unacknowledged(): Delivery[] {
    return this.deliveries.filter((delivery) => delivery.acknowledgedBy === undefined);
  }

  /** Resolves once every delivery so far is acknowledged; throws naming them after `timeoutMs`. */
  async allAcknowledged(timeoutMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    });
    const outcome = await Promise.race([
      Promise.all(this.deliveries.map((delivery) => delivery.acknowledged)),
      timeout,
    ]);
    clearTimeout(timer);
    if (outcome === 'timeout') {
      const open = this.unacknowledged().map(
        (delivery) => `update ${delivery.update.update_id} (${delivery.failures.slice(-3).join('; ')})`,
      );
      throw new Error(`not acknowledged after ${timeoutMs} ms: ${open.join(', ')}`);
    }
  }

  /** Stops every retry loop (what is not acknowledged stays so). */
  close(): void {
    this.closed = true;
    this.setEndpoint('__closed__', undefined);
  }

  // ------------------------------------------------------------------ reading the chat

  /** The bot's cards in the chat (messages that start with the PAPER/LIVE badge), oldest first. */
  cardsIn(chatId: number): FakeMessage[] {
    return this.fake.model.botMessagesIn(chatId).filter((message) => isCard(message));
  }

  /** The bot's plain messages in the chat (not cards), oldest first. */
  sentencesIn(chatId: number): string[] {
    return this.fake.model
      .botMessagesIn(chatId)
      .filter((message) => !isCard(message))
      .map((message) => message.text);
  }

  /**
   * What the bot did in the chat, in order, as the fake recorded it: each call with its status and
   * the start of its text, and the answers to the chat's button presses. For failure reports.
   */
  transcript(chatId: number): string[] {
    const calls = this.fake.calls
      .filter((call) => Number(call.params.chat_id) === chatId)
      .map((call) => ({
        seq: call.seq,
        line: `${call.seq} ${call.method}${call.params.message_id === undefined ? '' : ` #${String(call.params.message_id)}`} -> ${call.status}: ${String(
          call.params.text ?? '',
        )
          .replace(/\s+/g, ' ')
          .slice(-90)}`,
      }));
    const answers = [...this.fake.model.queries.values()]
      .filter((query) => query.chatId === chatId && query.answer !== undefined)
      .map((query) => ({
        seq: query.answer?.seq ?? 0,
        line: `${query.answer?.seq ?? 0} answerCallbackQuery ${query.id}: ${query.answer?.text ?? '(empty)'}`,
      }));
    return [...calls, ...answers].sort((a, b) => a.seq - b.seq).map((entry) => entry.line);
  }

  /** The texts the bot answered the chat's button presses with (alerts), in order. */
  answersIn(chatId: number): string[] {
    return [...this.fake.model.queries.values()]
      .filter((query) => query.chatId === chatId && query.answer?.text !== undefined)
      .sort((a, b) => (a.answer?.seq ?? 0) - (b.answer?.seq ?? 0))
      .map((query) => query.answer?.text ?? '');
  }

  /** The callback data of the card's Confirm button, while it has one. */
  static confirmData(card: FakeMessage): string | undefined {
    return card.buttons.flat().find((button) => button.callback_data?.startsWith('confirm:'))?.callback_data;
  }
}

/** A card starts with its badge: "PAPER · Buy BTC?". */
export function isCard(message: FakeMessage): boolean {
  return /^(PAPER|LIVE) · /.test(message.text);
}

/** The last line of a card: its notice ("Filled.", "Refused. (...)", "Confirm within 118 s..."). */
export function cardNotice(card: FakeMessage): string {
  return card.text.trimEnd().split('\n').at(-1) ?? '';
}

function chatOf(update: UpdateJson): number {
  const message = update.message as { chat?: { id?: number } } | undefined;
  const query = update.callback_query as { message?: { chat?: { id?: number } } } | undefined;
  const id = message?.chat?.id ?? query?.message?.chat?.id;
  if (id === undefined) throw new Error(`update ${update.update_id} has no chat`);
  return id;
}
