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
import type { Logger } from '../../core/logging/logger.js';
import type { SymbolResolver } from '../../core/market-data/instruments.js';
import type { ChannelAddress, OutboundMessage, Sender } from '../../core/messages.js';
import type { ChannelAdapter, InboundSink } from '../channel.js';
import { SLASH_COMMANDS } from './commands.js';
import { type HttpAnswer, mountInteractionsEndpoint } from './http-endpoint.js';
import { directMessageToInbound, type InteractionPlan, planInteraction } from './inbound.js';
import {
  createdMessageSchema,
  dispatchSchema,
  EPHEMERAL_FLAG,
  interactionSchema,
  messageCreateSchema,
} from './payloads.js';
import { type MessageBody, renderCard, renderText, renderTextEdit } from './render.js';
import { canEdit, type ReplyContext, ReplyContexts, TOKEN_LIFETIME_MS } from './reply-contexts.js';
import { parsePublicKey, verifyInteractionSignature } from './signature.js';

export const DEFAULT_DISCORD_API_URL = 'https://discord.com/api';

/** Discord error codes we act on. */
const ALREADY_ACKNOWLEDGED = 40060;
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
      if (inbound) void this.track(this.options.sink.deliver(inbound));
    }
  }

  /** Answers an interaction through REST within Discord's 3 seconds, then hands it to the core. */
  private async answerOverGateway(id: string, token: string, plan: InteractionPlan): Promise<void> {
    if (plan.kind === 'pong') return;
    let acknowledged = true;
    try {
      await this.client.rest.post(Routes.interactionCallback(id, token), {
        body: plan.response,
        auth: false,
      });
    } catch (error) {
      // Already acknowledged: a redelivery of one we answered. The core drops it by its delivery id.
      if (!isDiscordError(error, ALREADY_ACKNOWLEDGED)) {
        this.logger.warn(
          { interactionId: id, error: describeError(error) },
          'could not answer a Discord interaction',
        );
        return;
      }
      acknowledged = false;
    }
    if (plan.kind === 'deliver') this.deliver(plan, acknowledged);
  }

  private onHttpInteraction(
    rawBody: Buffer,
    signature: string | undefined,
    timestamp: string | undefined,
  ): HttpAnswer {
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
    return { status: 200, body: plan.response, afterResponse: () => this.deliver(plan, true) };
  }

  /** Keeps the reply context (token in memory only) and hands the message to the core, not awaited. */
  private deliver(plan: Extract<InteractionPlan, { kind: 'deliver' }>, acknowledged: boolean): void {
    const { reply } = plan;
    const handle = reply.interactionId;
    let context = this.contexts.get(handle);
    if (context === undefined) {
      context = {
        interactionId: reply.interactionId,
        token: reply.token,
        userId: reply.userId,
        ephemeral: reply.ephemeral,
        originalMessageId: reply.cardMessageId,
        // A redelivery we could not acknowledge has no placeholder of ours to fill.
        originalPending: reply.deferredReply && acknowledged,
        followUps: new Set(),
        expiresAt: (this.options.clock ?? Date.now)() + TOKEN_LIFETIME_MS,
      };
      this.contexts.add(handle, context);
      // A press's token may edit the pressed card: the freshest token keeps expiry edits possible.
      if (reply.cardMessageId) this.contexts.own(reply.cardMessageId, context);
    }
    const handled = this.options.sink.deliver(plan.inbound).then(() => this.clearPlaceholder(context));
    void this.track(handled);
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
