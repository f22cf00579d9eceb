/**
 * The Slack channel on @slack/bolt 5: HTTP events through the shared fastify server (default) or
 * Socket Mode. It translates only: slash commands, DMs, mentions and button presses become
 * `InboundMessage`s; the core's cards and texts become Block Kit messages, ephemeral to the
 * requester in channels. Every message is recorded in the core's inbox before Slack is answered;
 * de-duplication, roles and trading stay in the core.
 */
import { App, type Receiver, SocketModeReceiver } from '@slack/bolt';
import type { FastifyInstance } from 'fastify';
import { INBOX_UNAVAILABLE_TEXT, InboxUnavailableError } from '../../core/conversation/inbox.js';
import { ArbionError } from '../../core/errors.js';
import type { Logger } from '../../core/logging/logger.js';
import type { ChannelAddress, InboundMessage, OutboundMessage, Sender } from '../../core/messages.js';
import type { Acceptance, ChannelAdapter, InboundSink } from '../channel.js';
import { renderMessage } from './blocks.js';
import { boltLoggerFrom } from './bolt-logger.js';
import { FastifySlackReceiver } from './http-receiver.js';
import {
  blockActionsSchema,
  chatTypeOf,
  eventCallbackSchema,
  type ReplyContext,
  slashCommandSchema,
  translateBlockActions,
  translateMessageEvent,
  translateSlashCommand,
} from './inbound.js';
import { type ReplyHandle, ReplyState } from './reply-state.js';
import {
  postToResponseUrl,
  type ResponseUrlBody,
  ResponseUrlError,
  type RetryBounds,
} from './response-url.js';

/** The Request URL for events, interactivity and slash commands (HTTP mode). */
export const SLACK_EVENTS_PATH = '/slack/events';

export interface SlackChannelOptions {
  /** Bot token (xoxb-...). */
  readonly botToken: string;
  /** Verifies HTTP requests; required unless `socketMode`. */
  readonly signingSecret?: string;
  /** App-level token (xapp-...); required for `socketMode`. */
  readonly appToken?: string;
  readonly socketMode: boolean;
  /** Web API base, ending in a slash (SLACK_API_URL). */
  readonly apiUrl?: string;
  readonly sink: InboundSink;
  readonly logger: Logger;
  /** The bot's ids; giving both skips bolt's `auth.test` (tests, or known ids). */
  readonly botId?: string;
  readonly botUserId?: string;
  /** Bounds for retrying rate-limited (429) and failed calls. */
  readonly retry?: Partial<RetryBounds>;
  /** Request URL path in HTTP mode. */
  readonly path?: string;
  /** Milliseconds since the epoch, for the request timestamps' replay window. Default Date.now. */
  readonly now?: () => number;
}

/** A Slack call that failed (`ok:false`, an HTTP error, an exhausted retry). */
export class SlackCallError extends ArbionError {
  constructor(
    readonly method: string,
    /** Slack's error code (`channel_not_found`, `expired_url`...) or a transport description. */
    readonly code: string,
  ) {
    super(`Slack ${method} failed: ${code}`, 'Slack did not take our message. Please try again in a moment.');
  }
}

function slackErrorCode(error: unknown): string {
  if (error instanceof ResponseUrlError) return `${error.status} ${error.body.slice(0, 80)}`;
  if (typeof error === 'object' && error !== null && 'data' in error) {
    const data = (error as { data?: { error?: unknown } }).data;
    if (typeof data?.error === 'string') return data.error;
  }
  return error instanceof Error ? error.message : String(error);
}

/** Slack error codes that no retry will change: the channel or the user is gone, or we were removed. */
const REFUSED_FOR_GOOD = new Set([
  'channel_not_found',
  'is_archived',
  'not_in_channel',
  'account_inactive',
  'user_not_found',
  'user_disabled',
  'invalid_auth',
  'token_revoked',
]);

export class SlackChannel implements ChannelAdapter {
  readonly platform = 'slack' as const;
  readonly description: string;
  private readonly app: App;
  private readonly httpReceiver: FastifySlackReceiver | undefined;
  private readonly state = new ReplyState();
  private readonly bounds: RetryBounds;
  private readonly pending = new Set<Promise<void>>();
  private started = false;

  constructor(private readonly options: SlackChannelOptions) {
    this.bounds = {
      retries: options.retry?.retries ?? 3,
      maxRetryAfterSeconds: options.retry?.maxRetryAfterSeconds ?? 60,
    };
    const path = options.path ?? SLACK_EVENTS_PATH;
    const boltLogger = boltLoggerFrom(options.logger);
    const clientOptions = {
      slackApiUrl: options.apiUrl ?? 'https://slack.com/api/',
      // Bounded: a 429 waits its Retry-After and counts as one retry; nothing retries forever.
      retryConfig: { retries: this.bounds.retries, factor: 1, minTimeout: 100, maxTimeout: 1000 },
      rejectRateLimitedCalls: false,
    };
    let receiver: Receiver;
    if (options.socketMode) {
      if (!options.appToken) throw new Error('Slack Socket Mode needs an app token (SLACK_APP_TOKEN)');
      receiver = new SocketModeReceiver({
        appToken: options.appToken,
        logger: boltLogger,
        installerOptions: { clientOptions },
      });
      this.description = 'slack (Socket Mode)';
    } else {
      if (!options.signingSecret)
        throw new Error('Slack HTTP events need a signing secret (SLACK_SIGNING_SECRET)');
      this.httpReceiver = new FastifySlackReceiver({
        signingSecret: options.signingSecret,
        logger: options.logger,
        path,
        ...(options.now === undefined ? {} : { now: options.now }),
      });
      receiver = this.httpReceiver;
      this.description = `slack (HTTP events at ${path})`;
    }
    this.app = new App({
      token: options.botToken,
      receiver,
      logger: boltLogger,
      clientOptions,
      convoStore: false,
      ...(options.botId ? { botId: options.botId } : {}),
      ...(options.botUserId ? { botUserId: options.botUserId } : {}),
    });
    this.listen();
  }

  async mount(server: FastifyInstance): Promise<void> {
    await this.httpReceiver?.mount(server);
  }

  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    if (this.options.socketMode) await this.app.start();
  }

  async stop(): Promise<void> {
    if (this.started && this.options.socketMode) await this.app.stop();
    this.started = false;
    await this.idle();
  }

  /** Resolves when every delivery handed to the sink so far has been handled. */
  async idle(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }

  // ------------------------------------------------------------------ inbound

  private listen(): void {
    const now = () => new Date();
    const handleFor = (context: ReplyContext) => this.state.remember(context);
    // Every listener has the inbox record the message before Slack gets its answer; the core
    // works after that, on the sink's queue. A message that could not be recorded is answered
    // so that nothing is lost: a command with an ephemeral "try again", a press or an event by
    // failing the request (Slack redelivers events; Socket Mode acked already, so its sender is told).
    this.app.command(/^\/.+/, async ({ body, ack }) => {
      const command = slashCommandSchema.safeParse(body);
      if (!command.success) {
        this.options.logger.warn('ignored an unreadable slash command');
        await ack();
        return;
      }
      const recorded = await this.record(translateSlashCommand(command.data, handleFor, now()));
      await ack(recorded ? undefined : { response_type: 'ephemeral', text: INBOX_UNAVAILABLE_TEXT });
    });
    const onMessage = async ({ body, context }: { body: unknown; context: { botUserId?: string } }) => {
      const envelope = eventCallbackSchema.safeParse(body);
      if (!envelope.success) return;
      const message = translateMessageEvent(
        envelope.data,
        context.botUserId ?? this.options.botUserId,
        handleFor,
        now(),
      );
      if (message === undefined || (await this.record(message))) return;
      if (this.options.socketMode) await this.tellUnrecorded(message);
      else throw new InboxUnavailableError('the event was not recorded');
    };
    this.app.event('message', onMessage);
    this.app.event('app_mention', onMessage);
    this.app.action({ type: 'block_actions' }, async ({ body, ack }) => {
      const payload = blockActionsSchema.safeParse(body);
      const message = payload.success ? translateBlockActions(payload.data, handleFor, now()) : undefined;
      if (message === undefined) {
        this.options.logger.warn('ignored a button press that is not on one of our cards');
        await ack();
        return;
      }
      if (await this.record(message)) return ack();
      if (this.options.socketMode) {
        await ack();
        await this.tellUnrecorded(message);
        return;
      }
      throw new InboxUnavailableError('the press was not recorded');
    });
  }

  /** Has the inbox record a message (handled later, tracked for idle()); false when it could not. */
  private async record(message: InboundMessage): Promise<boolean> {
    let acceptance: Acceptance;
    try {
      acceptance = await this.options.sink.accept(message);
    } catch (error) {
      this.options.logger.error(
        { err: error, deliveryId: message.deliveryId },
        'could not record a Slack message',
      );
      return false;
    }
    const handled = acceptance.handled.finally(() => this.pending.delete(handled));
    this.pending.add(handled);
    return true;
  }

  /** Tells the sender of a message that could not be recorded that nothing was done. */
  private async tellUnrecorded(message: InboundMessage): Promise<void> {
    try {
      await this.notify(message.address, message.sender, INBOX_UNAVAILABLE_TEXT);
    } catch (error) {
      this.options.logger.warn({ err: error }, 'could not tell a sender their message was not recorded');
    }
  }

  // ------------------------------------------------------------------ outbound

  refusesForGood(error: unknown): boolean {
    return error instanceof SlackCallError && REFUSED_FOR_GOOD.has(error.code);
  }

  async send(address: ChannelAddress, message: OutboundMessage): Promise<{ messageId: string }> {
    const handle = this.state.handle(address.replyHandle);
    const shared = chatTypeOf(address.chatId) === 'group';
    if (message.kind === 'card') {
      if (shared && (message.audience ?? 'requester') === 'requester' && handle) {
        return { messageId: await this.sendEphemeralCard(address, message, handle) };
      }
      return { messageId: await this.postMessage(address, message) };
    }
    if (shared && handle?.privateReplies) {
      await this.tellPrivately(address, handle.userId, message.text, handle);
      return { messageId: `${address.replyHandle}:text` };
    }
    return { messageId: await this.postMessage(address, message) };
  }

  async edit(address: ChannelAddress, messageId: string, message: OutboundMessage): Promise<void> {
    if (!ReplyState.isEphemeralId(messageId)) {
      const rendered = renderMessage(message);
      await this.call('chat.update', () =>
        this.app.client.chat.update({
          channel: address.chatId,
          ts: messageId,
          text: rendered.text,
          // An empty list removes the card's blocks when a card turns into text.
          blocks: rendered.blocks ?? [],
        }),
      );
      return;
    }
    const card = this.state.card(messageId);
    if (card === undefined) {
      this.options.logger.warn(
        { messageId },
        'cannot edit an ephemeral Slack card this process did not post',
      );
      return;
    }
    const rendered = renderMessage(message, messageId);
    if (card.responseUrl?.usable(Date.now())) {
      const url = card.responseUrl.use();
      await this.respond(url, { ...rendered, replace_original: true });
      return;
    }
    // No usable response_url (expired, used up, or posted with chat.postEphemeral and never
    // pressed): show the new state as a fresh ephemeral to the same person.
    this.options.logger.info({ messageId }, 'ephemeral Slack card re-posted: its response_url is gone');
    await this.call('chat.postEphemeral', () =>
      this.app.client.chat.postEphemeral({
        channel: card.channelId,
        user: card.userId,
        text: rendered.text,
        ...(rendered.blocks ? { blocks: rendered.blocks } : {}),
      }),
    );
  }

  async notify(address: ChannelAddress, recipient: Sender, text: string): Promise<void> {
    if (chatTypeOf(address.chatId) === 'direct') {
      await this.postMessage(address, { kind: 'text', text });
      return;
    }
    await this.tellPrivately(address, recipient.platformUserId, text, this.state.handle(address.replyHandle));
  }

  /** An ephemeral card: via the slash command's fresh response_url (editable later), else postEphemeral. */
  private async sendEphemeralCard(
    address: ChannelAddress,
    message: OutboundMessage,
    handle: ReplyHandle,
  ): Promise<string> {
    const now = Date.now();
    // A response_url's "original" is its first message; only an unused command URL can edit the card later.
    const url =
      handle.responseUrl && !handle.ephemeralCardId && handle.responseUrl.unused(now)
        ? handle.responseUrl
        : undefined;
    const messageId = this.state.addCard({
      channelId: address.chatId,
      userId: handle.userId,
      responseUrl: url,
    });
    const rendered = renderMessage(message, messageId);
    if (url) {
      await this.respond(url.use(), { ...rendered, response_type: 'ephemeral', replace_original: false });
    } else {
      await this.call('chat.postEphemeral', () =>
        this.app.client.chat.postEphemeral({
          channel: address.chatId,
          user: handle.userId,
          text: rendered.text,
          ...(rendered.blocks ? { blocks: rendered.blocks } : {}),
          ...(address.threadId ? { thread_ts: address.threadId } : {}),
        }),
      );
    }
    return messageId;
  }

  /** Text only one person sees: the delivery's response_url when it is theirs, else postEphemeral. */
  private async tellPrivately(
    address: ChannelAddress,
    userId: string,
    text: string,
    handle: ReplyHandle | undefined,
  ): Promise<void> {
    const rendered = renderMessage({ kind: 'text', text });
    if (handle?.userId === userId && handle.responseUrl?.usable(Date.now())) {
      await this.respond(handle.responseUrl.use(), {
        text: rendered.text,
        response_type: 'ephemeral',
        replace_original: false,
      });
      return;
    }
    await this.call('chat.postEphemeral', () =>
      this.app.client.chat.postEphemeral({
        channel: address.chatId,
        user: userId,
        text: rendered.text,
        ...(address.threadId ? { thread_ts: address.threadId } : {}),
      }),
    );
  }

  private async postMessage(address: ChannelAddress, message: OutboundMessage): Promise<string> {
    const rendered = renderMessage(message);
    const result = await this.call('chat.postMessage', () =>
      this.app.client.chat.postMessage({
        channel: address.chatId,
        text: rendered.text,
        ...(rendered.blocks ? { blocks: rendered.blocks } : {}),
        ...(address.threadId ? { thread_ts: address.threadId } : {}),
      }),
    );
    if (typeof result.ts !== 'string') throw new SlackCallError('chat.postMessage', 'no ts in the answer');
    return result.ts;
  }

  private respond(url: string, body: ResponseUrlBody): Promise<void> {
    return this.call('response_url', () => postToResponseUrl(url, body, this.bounds));
  }

  /** Runs one Slack call; failures are logged with Slack's error code and rethrown as SlackCallError. */
  private async call<T>(method: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      const code = slackErrorCode(error);
      this.options.logger.error({ method, error: code }, 'Slack call failed');
      throw new SlackCallError(method, code);
    }
  }
}

/** Builds the Slack channel; register it with `arbion.channels.register('slack', channel)`. */
export function createSlackChannel(options: SlackChannelOptions): SlackChannel {
  return new SlackChannel(options);
}
