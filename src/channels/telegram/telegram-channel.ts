/**
 * The Telegram channel, on grammy. Receives by long polling (long-poll.ts: the offset moves past
 * an update only once the inbox recorded it) or, given a public URL, by webhook on the shared
 * fastify server (answered 200 only once recorded, 503 otherwise so Telegram redelivers). Sends
 * HTML with everything escaped, cards with inline keyboards, edits cards in place, and answers
 * every button press exactly once. Outbound calls honour Telegram's flood control (@grammyjs/auto-retry, with
 * bounds) and run one at a time per chat, in order.
 */
import { autoRetry } from '@grammyjs/auto-retry';
import type { FastifyInstance } from 'fastify';
import { Bot, GrammyError, HttpError } from 'grammy';
import type { Update, UserFromGetMe } from 'grammy/types';
import type { Logger } from '../../core/logging/logger.js';
import type { ChannelAddress, OutboundMessage, Sender } from '../../core/messages.js';
import type { ChannelAdapter, InboundSink } from '../channel.js';
import { TELEGRAM_BOT_COMMANDS } from './bot-commands.js';
import { ChatSerializer } from './chat-serializer.js';
import { toInboundMessage } from './inbound.js';
import { LongPoll } from './long-poll.js';
import { PendingPresses } from './pending-presses.js';
import { cardKeyboard, clampText, escapeHtml, renderCardHtml, splitText } from './render.js';
import { registerTelegramWebhook, TELEGRAM_WEBHOOK_PATH } from './webhook-route.js';

export const DEFAULT_TELEGRAM_API_ROOT = 'https://api.telegram.org';

/** Telegram's limit for the text of a callback query answer (the alert). */
const ALERT_LIMIT = 200;
const UPDATE_KINDS = ['message', 'callback_query'] as const;

export interface TelegramChannelOptions {
  /** Bot token from @BotFather. Never logged. */
  readonly token: string;
  /** Bot API server (TELEGRAM_API_ROOT), without a trailing slash. */
  readonly apiRoot?: string;
  /** Webhook mode when given (PUBLIC_URL + TELEGRAM_WEBHOOK_SECRET); long polling otherwise. */
  readonly webhook?: { readonly publicUrl: string; readonly secretToken: string };
  /** Where inbound messages go (the product's InboundQueue). */
  readonly sink: InboundSink;
  readonly logger: Logger;
  /** The bot's getMe result; given, the adapter does not call getMe (tests). */
  readonly botInfo?: UserFromGetMe;
  /** Flood control and failure bounds for outbound calls. */
  readonly retry?: {
    /** Retries of one call after a 429 or a 5xx (default 3); then the call fails. */
    readonly maxAttempts?: number;
    /** A 429 asking to wait longer than this fails the call at once (default 30 s). */
    readonly maxDelaySeconds?: number;
    /** Retry network failures too, backing off from 3 s (default true). */
    readonly networkErrors?: boolean;
  };
  /** Long-poll timeout of getUpdates in seconds (default 30). */
  readonly pollTimeoutSeconds?: number;
  readonly clock?: () => Date;
}

export class TelegramChannel implements ChannelAdapter {
  readonly platform = 'telegram' as const;
  readonly description: string;
  /** The grammy bot (its `api` is what every outbound call goes through). */
  readonly bot: Bot;
  private readonly logger: Logger;
  private readonly outbound = new ChatSerializer();
  private readonly presses = new PendingPresses();
  /** Answers to presses that wait for the core; tracked so `idle()` and `stop()` can wait. */
  private readonly background = new Set<Promise<unknown>>();
  private poller: LongPoll | undefined;
  private started = false;
  private stopped = false;
  private mounted = false;
  private readonly clock: () => Date;

  constructor(private readonly options: TelegramChannelOptions) {
    this.logger = options.logger.child({ component: 'telegram' });
    this.clock = options.clock ?? (() => new Date());
    this.description = options.webhook
      ? `telegram (webhook ${options.webhook.publicUrl}${TELEGRAM_WEBHOOK_PATH})`
      : 'telegram (long polling)';
    this.bot = new Bot(options.token, {
      client: { apiRoot: options.apiRoot ?? DEFAULT_TELEGRAM_API_ROOT },
      ...(options.botInfo ? { botInfo: options.botInfo } : {}),
    });
    this.bot.api.config.use(
      autoRetry({
        maxRetryAttempts: options.retry?.maxAttempts ?? 3,
        maxDelaySeconds: options.retry?.maxDelaySeconds ?? 30,
        rethrowHttpErrors: options.retry?.networkErrors === false,
      }),
    );
    // Failed calls are logged by method and Telegram's answer only: URLs carry the token.
    this.bot.api.config.use(async (previous, method, payload, signal) => {
      const result = await previous(method, payload, signal);
      if (!result.ok)
        this.logger.warn(
          { method, errorCode: result.error_code, description: result.description },
          'telegram call failed',
        );
      return result;
    });
  }

  async mount(app: FastifyInstance): Promise<void> {
    const webhook = this.options.webhook;
    if (webhook === undefined || this.mounted) return;
    this.mounted = true;
    registerTelegramWebhook(app, {
      secretToken: webhook.secretToken,
      accepting: () => this.started && !this.stopped,
      handOver: (update) => this.receive(update),
    });
  }

  async start(): Promise<void> {
    if (this.started) return;
    await this.bot.init();
    try {
      await this.bot.api.setMyCommands(TELEGRAM_BOT_COMMANDS);
    } catch (error) {
      // Commands are a convenience in the client's menu; the bot works without them.
      this.logger.warn({ reason: describeFailure(error) }, 'could not register the bot commands');
    }
    const webhook = this.options.webhook;
    if (webhook) {
      await this.bot.api.setWebhook(`${webhook.publicUrl.replace(/\/+$/, '')}${TELEGRAM_WEBHOOK_PATH}`, {
        secret_token: webhook.secretToken,
        allowed_updates: UPDATE_KINDS,
      });
    } else {
      // getUpdates is refused while a webhook is set (a previous deployment's).
      await this.bot.api.deleteWebhook();
      this.poller = new LongPoll({
        api: this.bot.api,
        receive: (update) => this.receive(update),
        logger: this.logger,
        timeoutSeconds: this.options.pollTimeoutSeconds ?? 30,
        allowedUpdates: UPDATE_KINDS,
      });
      this.poller.start();
    }
    this.started = true;
    this.logger.info({ username: this.bot.botInfo.username }, `${this.description} started`);
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    const poller = this.poller;
    this.poller = undefined;
    await poller?.stop();
    // A webhook stays registered: Telegram keeps the updates until we are back.
    await this.idle();
  }

  /** Outbound calls and press answers not yet settled. */
  get pendingWork(): number {
    return this.outbound.size + this.background.size;
  }

  /** Resolves once every outbound call and every pending press answer so far has settled. */
  async idle(): Promise<void> {
    while (this.outbound.size > 0 || this.background.size > 0) {
      await Promise.all([this.outbound.idle(), Promise.allSettled([...this.background])]);
    }
  }

  // ------------------------------------------------------------------ outbound

  /** 403: the bot was blocked, kicked or the user deactivated; 400 "chat not found": it is gone. */
  refusesForGood(error: unknown): boolean {
    if (!(error instanceof GrammyError)) return false;
    return (
      error.error_code === 403 || (error.error_code === 400 && /chat not found/i.test(error.description))
    );
  }

  async send(address: ChannelAddress, message: OutboundMessage): Promise<{ messageId: string }> {
    const chatId = Number(address.chatId);
    return this.outbound.run(address.chatId, async () => {
      if (message.kind === 'card') {
        const sent = await this.bot.api.sendMessage(chatId, renderCardHtml(message.card), {
          parse_mode: 'HTML',
          ...(message.card.actions.length > 0 ? { reply_markup: cardKeyboard(message.card) } : {}),
        });
        return { messageId: String(sent.message_id) };
      }
      let first: string | undefined;
      for (const piece of splitText(message.text)) {
        const sent = await this.bot.api.sendMessage(chatId, escapeHtml(piece), {
          parse_mode: 'HTML',
          link_preview_options: { is_disabled: true },
        });
        first ??= String(sent.message_id);
      }
      if (first === undefined) throw new Error('refusing to send an empty message to Telegram');
      return { messageId: first };
    });
  }

  async edit(address: ChannelAddress, messageId: string, message: OutboundMessage): Promise<void> {
    const chatId = Number(address.chatId);
    await this.outbound.run(address.chatId, async () => {
      try {
        if (message.kind === 'card') {
          // An empty inline keyboard removes the buttons of an answered or expired card.
          await this.bot.api.editMessageText(chatId, Number(messageId), renderCardHtml(message.card), {
            parse_mode: 'HTML',
            reply_markup: cardKeyboard(message.card),
          });
        } else {
          await this.bot.api.editMessageText(chatId, Number(messageId), escapeHtml(clampText(message.text)), {
            parse_mode: 'HTML',
            link_preview_options: { is_disabled: true },
          });
        }
      } catch (error) {
        // The card already shows this (a repeated edit): what the core wanted is on screen.
        if (error instanceof GrammyError && error.description.includes('message is not modified')) return;
        throw error;
      }
    });
  }

  async notify(address: ChannelAddress, recipient: Sender, text: string): Promise<void> {
    const queryId = address.replyHandle;
    if (queryId !== undefined && text.length <= ALERT_LIMIT && this.presses.claim(queryId)) {
      try {
        await this.bot.api.answerCallbackQuery(queryId, { text, show_alert: true });
        return;
      } catch (error) {
        this.logger.warn({ reason: describeFailure(error) }, 'could not show an alert; sending a message');
      }
    }
    const privateChat = address.chatId === recipient.platformUserId;
    const mention = `<a href="tg://user?id=${escapeHtml(recipient.platformUserId)}">${escapeHtml(recipient.displayName ?? 'you')}</a>: `;
    const chatId = Number(address.chatId);
    await this.outbound.run(address.chatId, async () => {
      await this.bot.api.sendMessage(
        chatId,
        `${privateChat ? '' : mention}${escapeHtml(clampText(text, 4000))}`,
        {
          parse_mode: 'HTML',
          link_preview_options: { is_disabled: true },
        },
      );
    });
  }

  // ------------------------------------------------------------------ inbound

  /**
   * Translates one update and has the inbox record it; resolves once it is recorded (never waits
   * for the core) and throws when it could not be, so the caller makes Telegram send it again.
   */
  private async receive(update: Update): Promise<void> {
    const message = toInboundMessage(update, this.bot.botInfo, this.clock());
    const queryId = update.callback_query?.id;
    if (message === undefined) {
      // A press we do not pass on (an inline-mode message) still needs its spinner stopped.
      if (queryId !== undefined && this.presses.begin(queryId)) this.track(this.answerPress(queryId));
      return;
    }
    const { handled } = await this.options.sink.accept(message);
    if (queryId !== undefined) {
      this.presses.begin(queryId);
      // The core answers through notify() when it has something to say; otherwise an empty
      // answer once it is done, so the spinner stops after the card has been edited.
      this.track(handled.finally(() => this.answerPress(queryId)));
    }
  }

  private async answerPress(queryId: string): Promise<void> {
    if (!this.presses.claim(queryId)) return;
    try {
      await this.bot.api.answerCallbackQuery(queryId);
    } catch (error) {
      this.logger.warn({ reason: describeFailure(error) }, 'could not answer a button press');
    }
  }

  private track(task: Promise<unknown>): void {
    const settled = task.catch(() => undefined);
    this.background.add(settled);
    void settled.then(() => this.background.delete(settled));
  }
}

/** A failure's Telegram code and description, or its kind; never a URL (it contains the token). */
function describeFailure(error: unknown): string {
  if (error instanceof GrammyError) return `${error.method}: ${error.error_code} ${error.description}`;
  if (error instanceof HttpError) return 'network error talking to Telegram';
  return error instanceof Error ? error.name : 'unknown error';
}

/** Builds the Telegram channel; see TelegramChannelOptions. */
export function createTelegramChannel(options: TelegramChannelOptions): TelegramChannel {
  return new TelegramChannel(options);
}
