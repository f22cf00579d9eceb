/**
 * The Discord channel on discord.js 14: the gateway for interactions and DMs (or the HTTP
 * interactions endpoint when a public key is configured), slash commands registered on start,
 * and replies through each interaction's webhook (ephemeral in guilds) or the channel.
 *
 * Inbound handling works on the raw payloads (gateway dispatches and HTTP bodies alike), so both
 * transports share one translation. Outbound calls go through discord.js's REST client, which
 * queues per route and waits out 429s (`retry_after`, X-RateLimit headers) before retrying.
 */
import type { KeyObject } from 'node:crypto';
import { Client, DiscordAPIError, Events, GatewayIntentBits, Routes } from 'discord.js';
import type { FastifyInstance } from 'fastify';
import { INBOX_UNAVAILABLE_TEXT } from '../../core/conversation/inbox.js';
import type { Logger } from '../../core/logging/logger.js';
import type { SymbolResolver } from '../../core/market-data/instruments.js';
import type { ChannelAddress, InboundMessage, OutboundMessage, Sender } from '../../core/messages.js';
import type { ChannelAdapter, InboundSink } from '../channel.js';
import { SLASH_COMMANDS } from './commands.js';
import { type HttpAnswer, mountInteractionsEndpoint } from './http-endpoint.js';
import { directMessageToInbound, type InteractionPlan, planInteraction } from './inbound.js';
import {
  CALLBACK,
  createdMessageSchema,
  dispatchSchema,
  EPHEMERAL_FLAG,
  interactionSchema,
  messageCreateSchema,
} from './payloads.js';
import { type MessageBody, renderCard, renderText, renderTextEdit } from './render.js';
import { canEdit, type ReplyContext, ReplyContexts } from './reply-contexts.js';
import { parsePublicKey, verifyInteractionSignature } from './signature.js';

export const DEFAULT_DISCORD_API_URL = 'https://discord.com/api';

/** The answer to an interaction the inbox could not record: only its user sees it. */
const UNRECORDED_RESPONSE = {
  type: CALLBACK.CHANNEL_MESSAGE,
  data: { content: INBOX_UNAVAILABLE_TEXT, flags: EPHEMERAL_FLAG },
};

/** Discord error codes we act on. */
const ALREADY_ACKNOWLEDGED = 40060;
/** Unknown Channel, Missing Access, Cannot send messages to this user: no retry changes these. */
const REFUSED_FOR_GOOD = new Set([10003, 50001, 50007]);
/** A message that can no longer be edited: gone, or its token expired. */
const CANNOT_EDIT_ANYMORE = new Set([10003, 10008, 10015, 50027]);

export interface DiscordChannelOptions {
  /** Bot token (DISCORD_BOT_TOKEN). */
  readonly token: string;
  /** Application id (DISCORD_APPLICATION_ID), for commands and interaction webhooks. */
  readonly applicationId: string;
  /** Ed25519 public key, hex (DISCORD_PUBLIC_KEY): mounts the HTTP interactions endpoint. */
  readonly publicKey?: string;
  /** REST base (DISCORD_API_URL); discord.js appends `/v10`. */
  readonly apiUrl?: string;
  /** Guild roles whose members may trade; Administrator/Manage Server members are admins. */
  readonly traderRoleIds: readonly string[];
  readonly sink: InboundSink;
  readonly logger: Logger;
  /** Ticker lookup for /quote autocomplete; without it autocomplete offers nothing. */
  readonly symbols?: SymbolResolver;
  /** Milliseconds since the epoch; interaction tokens expire by it (tests move it). */
  readonly clock?: () => number;
}

/** Status and code of a Discord error, without the URL (it can carry an interaction token). */
function describeError(error: unknown): Record<string, unknown> {
  if (error instanceof DiscordAPIError)
    return { status: error.status, code: error.code, message: error.message };
  return { message: error instanceof Error ? error.message : String(error) };
}

function isDiscordError(error: unknown, codes: ReadonlySet<number> | number): boolean {
  if (!(error instanceof DiscordAPIError) || typeof error.code !== 'number') return false;
  return typeof codes === 'number' ? error.code === codes : codes.has(error.code);
}

export class DiscordChannel implements ChannelAdapter {
  readonly platform = 'discord' as const;
  readonly description: string;
  private readonly client: Client;
  private readonly contexts: ReplyContexts;
  private readonly publicKey: KeyObject | undefined;
  private readonly logger: Logger;
  /** Work not awaited by anyone else: interaction answers, deliveries, outbound calls. */
  private readonly outstanding = new Set<Promise<unknown>>();
  private botUserId: string | undefined;
  private stopped = false;

  constructor(private readonly options: DiscordChannelOptions) {
    this.logger = options.logger;
    this.contexts = new ReplyContexts(options.clock);
    this.publicKey = options.publicKey === undefined ? undefined : parsePublicKey(options.publicKey);
    this.description = `discord (gateway${this.publicKey ? ' + HTTP interactions endpoint' : ''})`;
    this.client = new Client({
      // DMs need DirectMessages, and MessageContent to read what was written.
      intents: [GatewayIntentBits.Guilds, GatewayIntentBits.DirectMessages, GatewayIntentBits.MessageContent],
      rest: { api: options.apiUrl ?? DEFAULT_DISCORD_API_URL },
    });
    this.client.on(Events.Raw, (packet: unknown) => this.onDispatch(packet));
    this.client.on(Events.Error, (error) =>
      this.logger.error({ error: describeError(error) }, 'discord client error'),
    );
    this.client.on(Events.ShardError, (error) =>
      this.logger.warn({ error: describeError(error) }, 'discord gateway error'),
    );
  }

  async mount(app: FastifyInstance): Promise<void> {
    if (this.publicKey === undefined) return;
    await mountInteractionsEndpoint(app, (rawBody, signature, timestamp) =>
      this.onHttpInteraction(rawBody, signature, timestamp),
    );
  }

  async start(): Promise<void> {
    const failed = new Promise<never>((_resolve, reject) => {
      this.client.once(Events.ShardDisconnect, (event) =>
        reject(new Error(`the Discord gateway closed the connection (${event.code})`)),
      );
    });
    const ready = new Promise<void>((resolve) => this.client.once(Events.ClientReady, () => resolve()));
    try {
      await Promise.race([Promise.all([this.client.login(this.options.token), ready]), failed]);
    } catch (error) {
      await this.client.destroy();
      throw error;
    }
    failed.catch(() => undefined);
    this.botUserId = this.client.user?.id;
    await this.client.rest.put(Routes.applicationCommands(this.options.applicationId), {
      body: SLASH_COMMANDS,
    });
    this.logger.info({ commands: SLASH_COMMANDS.length }, 'discord ready, slash commands registered');
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.idle();
    await this.client.destroy();
    this.contexts.clear();
  }

  /** Resolves when every interaction answer, delivery and outbound call started so far is done. */
  async idle(): Promise<void> {
    while (this.outstanding.size > 0) await Promise.allSettled([...this.outstanding]);
  }

  // ------------------------------------------------------------------ outbound

  refusesForGood(error: unknown): boolean {
    return isDiscordError(error, REFUSED_FOR_GOOD);
  }

  send(address: ChannelAddress, message: OutboundMessage): Promise<{ messageId: string }> {
    return this.track(this.sendNow(address, message));
  }

  edit(address: ChannelAddress, messageId: string, message: OutboundMessage): Promise<void> {
    return this.track(this.editNow(address, messageId, message));
  }

  notify(address: ChannelAddress, recipient: Sender, text: string): Promise<void> {
    return this.track(this.notifyNow(address, recipient, text));
  }

  private async sendNow(address: ChannelAddress, message: OutboundMessage): Promise<{ messageId: string }> {
    const context = this.contexts.get(address.replyHandle);
    if (message.kind === 'card') {
      const body = renderCard(message.card);
      // 'chat' cards (approval requests) are for everyone; without an interaction there is no private reply.
      if (message.audience === 'chat' || context === undefined) {
        return { messageId: await this.postToChannel(address.chatId, body) };
      }
      const messageId = await this.reply(context, body);
      this.contexts.own(messageId, context);
      return { messageId };
    }
    let first: string | undefined;
    for (const body of renderText(message.text)) {
      const id = context ? await this.reply(context, body) : await this.postToChannel(address.chatId, body);
      first ??= id;
    }
    return { messageId: first ?? '' };
  }

  private async editNow(address: ChannelAddress, messageId: string, message: OutboundMessage): Promise<void> {
    const body = message.kind === 'card' ? renderCard(message.card) : renderTextEdit(message.text);
    const current = this.contexts.get(address.replyHandle);
    const owner = current && canEdit(current, messageId) ? current : this.contexts.forMessage(messageId);
    try {
      if (owner) {
        const ref = owner.originalMessageId === messageId ? '@original' : messageId;
        await this.client.rest.patch(Routes.webhookMessage(this.options.applicationId, owner.token, ref), {
          body,
          auth: false,
        });
        this.contexts.own(messageId, owner);
        return;
      }
      await this.client.rest.patch(Routes.channelMessage(address.chatId, messageId), { body });
    } catch (error) {
      // An ephemeral card whose tokens expired (15 minutes) cannot be edited by anyone: say so, go on.
      if (!isDiscordError(error, CANNOT_EDIT_ANYMORE)) throw error;
      this.logger.warn(
        { messageId, error: describeError(error) },
        'a Discord message could not be edited anymore',
      );
    }
  }

  private async notifyNow(address: ChannelAddress, recipient: Sender, text: string): Promise<void> {
    const context = this.contexts.get(address.replyHandle);
    const [body] = renderText(text);
    if (body === undefined) return;
    if (context) {
      await this.followUp(context, { ...body, flags: EPHEMERAL_FLAG });
      return;
    }
    // No interaction to answer privately: a DM is the only private place left.
    const channel = createdMessageSchema.parse(
      await this.client.rest.post(Routes.userChannels(), {
        body: { recipient_id: recipient.platformUserId },
      }),
    );
    await this.postToChannel(channel.id, body);
  }

  /** Answers through the interaction: fills the deferred reply first, then follows up. */
  private async reply(context: ReplyContext, body: MessageBody): Promise<string> {
    if (context.originalPending) {
      context.originalPending = false;
      const message = createdMessageSchema.parse(
        await this.client.rest.patch(
          Routes.webhookMessage(this.options.applicationId, context.token, '@original'),
          { body, auth: false },
        ),
      );
      context.originalMessageId = message.id;
      return message.id;
    }
    return this.followUp(context, context.ephemeral ? { ...body, flags: EPHEMERAL_FLAG } : body);
  }

  private async followUp(context: ReplyContext, body: MessageBody): Promise<string> {
    const message = createdMessageSchema.parse(
      await this.client.rest.post(Routes.webhook(this.options.applicationId, context.token), {
        body,
        auth: false,
      }),
    );
    context.followUps.add(message.id);
    return message.id;
  }

  private async postToChannel(channelId: string, body: MessageBody): Promise<string> {
    const message = createdMessageSchema.parse(
      await this.client.rest.post(Routes.channelMessages(channelId), { body }),
    );
    return message.id;
  }

  // ------------------------------------------------------------------ inbound

  private onDispatch(packet: unknown): void {
    const dispatch = dispatchSchema.safeParse(packet);
    if (!dispatch.success || this.stopped) return;
    if (dispatch.data.t === 'INTERACTION_CREATE') {
      const interaction = interactionSchema.safeParse(dispatch.data.d);
      if (!interaction.success) {
        this.logger.warn(
          { issues: interaction.error.issues.length },
          'ignored an unreadable Discord interaction',
        );
        return;
      }
      const plan = planInteraction(interaction.data, this.inboundOptions());
      void this.track(this.answerOverGateway(interaction.data.id, interaction.data.token, plan));
    } else if (dispatch.data.t === 'MESSAGE_CREATE') {
      const message = messageCreateSchema.safeParse(dispatch.data.d);
      if (!message.success) return;
      const inbound = directMessageToInbound(message.data, this.botUserId, new Date());
      if (inbound) void this.track(this.acceptDirectMessage(inbound));
    }
  }

  /** A DM recorded in the inbox; the gateway never redelivers, so a failure is told in the chat. */
  private async acceptDirectMessage(inbound: InboundMessage): Promise<void> {
    try {
      const { handled } = await this.options.sink.accept(inbound);
      await handled;
    } catch (error) {
      this.logger.error({ error: describeError(error) }, 'could not record a Discord message');
      await this.sendNow(inbound.address, { kind: 'text', text: INBOX_UNAVAILABLE_TEXT }).catch(
        () => undefined,
      );
    }
  }

  /**
   * Records the interaction, then answers it through REST within Discord's 3 seconds; the core
   * handles it once the answer is out. One that could not be recorded is answered with an
   * ephemeral "nothing was done".
   */
  private async answerOverGateway(id: string, token: string, plan: InteractionPlan): Promise<void> {
    if (plan.kind === 'pong') return;
    let body = plan.response;
    let answered: (() => void) | undefined;
    let context: ReplyContext | undefined;
    if (plan.kind === 'deliver') {
      context = this.contexts.openFor(plan.reply);
      const answer = new Promise<void>((resolve) => {
        answered = resolve;
      });
      if (!(await this.record(plan, context, answer))) body = UNRECORDED_RESPONSE;
    }
    try {
      await this.client.rest.post(Routes.interactionCallback(id, token), { body, auth: false });
    } catch (error) {
      // Already acknowledged: a redelivery of one we answered (the inbox has it already).
      if (!isDiscordError(error, ALREADY_ACKNOWLEDGED))
        this.logger.warn(
          { interactionId: id, error: describeError(error) },
          'could not answer a Discord interaction',
        );
      // A redelivery we could not acknowledge has no placeholder of ours to fill.
      if (context) context.originalPending = false;
    }
    answered?.();
  }

  private async onHttpInteraction(
    rawBody: Buffer,
    signature: string | undefined,
    timestamp: string | undefined,
  ): Promise<HttpAnswer> {
    if (
      this.publicKey === undefined ||
      !verifyInteractionSignature(this.publicKey, rawBody, signature, timestamp)
    ) {
      return { status: 401, body: { error: 'invalid request signature' } };
    }
    let json: unknown;
    try {
      json = JSON.parse(rawBody.toString('utf8'));
    } catch {
      return { status: 400, body: { error: 'the body is not JSON' } };
    }
    const interaction = interactionSchema.safeParse(json);
    if (!interaction.success) return { status: 400, body: { error: 'not an interaction we handle' } };
    const plan = planInteraction(interaction.data, this.inboundOptions());
    if (plan.kind === 'pong') return { status: 200, body: { type: 1 } };
    if (plan.kind === 'answer') return { status: 200, body: plan.response };
    let answered: (() => void) | undefined;
    const answer = new Promise<void>((resolve) => {
      answered = resolve;
    });
    const recorded = await this.record(plan, this.contexts.openFor(plan.reply), answer);
    return { status: 200, body: recorded ? plan.response : UNRECORDED_RESPONSE, afterResponse: answered };
  }

  /**
   * Has the inbox record an interaction, handled once `answer` settles (the core's replies use the
   * interaction's webhook, which exists only after the answer). False when it could not be recorded.
   */
  private async record(
    plan: Extract<InteractionPlan, { kind: 'deliver' }>,
    context: ReplyContext,
    answer: Promise<void>,
  ): Promise<boolean> {
    try {
      const { handled } = await this.options.sink.accept(plan.inbound, { handleAfter: answer });
      void this.track(handled.then(() => this.clearPlaceholder(context)));
      return true;
    } catch (error) {
      this.logger.error({ error: describeError(error) }, 'could not record a Discord interaction');
      context.originalPending = false;
      return false;
    }
  }

  /** A deferred reply the core never filled (it answered in the channel, or not at all) goes away. */
  private async clearPlaceholder(context: ReplyContext): Promise<void> {
    if (!context.originalPending || this.stopped) return;
    context.originalPending = false;
    try {
      await this.client.rest.delete(
        Routes.webhookMessage(this.options.applicationId, context.token, '@original'),
        {
          auth: false,
        },
      );
    } catch (error) {
      this.logger.debug({ error: describeError(error) }, 'could not remove a deferred Discord reply');
    }
  }

  private inboundOptions() {
    return {
      traderRoleIds: this.options.traderRoleIds,
      symbols: this.options.symbols,
      receivedAt: new Date(),
    };
  }

  private track<T>(promise: Promise<T>): Promise<T> {
    this.outstanding.add(promise);
    const forget = () => this.outstanding.delete(promise);
    promise.then(forget, forget);
    return promise;
  }
}

/** Builds the Discord adapter; `start()` logs in and registers commands, `mount()` adds the HTTP endpoint when a public key is set. */
export function createDiscordChannel(options: DiscordChannelOptions): DiscordChannel {
  return new DiscordChannel(options);
}
