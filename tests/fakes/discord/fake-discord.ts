/**
 * A local fake of Discord for driving the real discord.js client: REST under `/api/v10` and the
 * gateway over WebSocket on the same port.
 *
 * It enforces what Discord enforces and our adapter could get wrong: `Authorization: Bot <token>`
 * on bot routes (401), the interaction token and the 3-second deadline on callbacks (10062), one
 * callback per interaction (40060), callback types that fit the interaction, 15-minute interaction
 * tokens on webhook routes (50027), known channels and messages (10003, 10008), message, embed,
 * component and command limits (50035, 50006), and editing only the bot's own messages (50005).
 * Every REST call is recorded; a 429 with Discord's rate-limit headers can be injected on the next
 * call. A chat model keeps each message's current state and who can see it.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { z } from 'zod';
import { listenOnLoopback } from '../listen.js';
import { ChatModel, EPHEMERAL, type FakeMessage, LOADING } from './chat-model.js';
import { FakeGateway } from './gateway.js';
import {
  channelObject,
  type FakeChannel,
  type FakeGuild,
  type FakeRole,
  type FakeUser,
  guildCreateObject,
  interactionToken,
  memberObject,
  messageObject,
  snowflake,
  userObject,
} from './payloads.js';
import { type InteractionKeys, signInteraction } from './signing.js';
import {
  callbackSchema,
  type FakeCallback,
  type FakeCommand,
  type FakeMessageBody,
  FormError,
  validateCommands,
  validateMessageBody,
} from './validation.js';

/** Interactions answer within 3 s; their token then works for 15 minutes. */
export const CALLBACK_DEADLINE_MS = 3_000;
export const TOKEN_LIFETIME_MS = 15 * 60_000;

export interface FakeDiscordOptions {
  readonly token: string;
  readonly applicationId?: string;
  readonly botName?: string;
}

export interface RecordedCall {
  readonly method: string;
  /** Path without `/api/v10` and the query string (interaction tokens included: it is a fake). */
  readonly path: string;
  /** The route template, e.g. `POST /interactions/:id/:token/callback`. */
  readonly route: string;
  readonly body: unknown;
  status: number;
  readonly at: number;
}

/** Interaction types (https://discord.com/developers/docs/interactions/receiving-and-responding). */
export const INTERACTION = { PING: 1, COMMAND: 2, COMPONENT: 3, AUTOCOMPLETE: 4 } as const;

interface InteractionRecord {
  readonly id: string;
  readonly token: string;
  readonly type: number;
  readonly userId: string;
  readonly guildId?: string;
  readonly channelId: string;
  readonly createdAt: number;
  readonly payload: Record<string, unknown>;
  readonly targetMessageId?: string;
  callback?: FakeCallback;
  originalMessageId?: string;
  readonly messageIds: Set<string>;
}

class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: number,
    message: string,
    readonly errors?: Record<string, unknown>,
  ) {
    super(message);
  }
}

const unauthorized = () => new ApiError(401, 0, '401: Unauthorized');
const unknownInteraction = () => new ApiError(404, 10062, 'Unknown interaction');
const unknownWebhook = () => new ApiError(404, 10015, 'Unknown Webhook');
const unknownMessage = () => new ApiError(404, 10008, 'Unknown Message');
const unknownChannel = () => new ApiError(404, 10003, 'Unknown Channel');

export interface CommandOptions {
  readonly user: FakeUser;
  /** A guild text channel; leave out (with guildId) for the user's DM with the bot. */
  readonly guildId?: string;
  readonly channelId?: string;
}

export class FakeDiscord {
  readonly calls: RecordedCall[] = [];
  readonly model = new ChatModel();
  readonly bot: FakeUser;
  readonly applicationId: string;
  readonly users = new Map<string, FakeUser>();
  readonly guilds = new Map<string, FakeGuild>();
  readonly channels = new Map<string, FakeChannel>();
  /** Global commands as last registered. */
  commands: (FakeCommand & { id: string })[] = [];
  readonly guildCommands = new Map<string, (FakeCommand & { id: string })[]>();
  readonly gateway: FakeGateway;
  private readonly interactions = new Map<string, InteractionRecord>();
  private readonly server: Server;
  private token: string;
  private port = 0;
  private clockOffset = 0;
  private rateLimits: { retryAfter: number; global: boolean }[] = [];
  private inFlight = 0;

  private constructor(options: FakeDiscordOptions) {
    this.token = options.token;
    this.applicationId = options.applicationId ?? snowflake();
    this.bot = { id: this.applicationId, username: options.botName ?? 'arbion', globalName: null, bot: true };
    this.users.set(this.bot.id, this.bot);
    this.server = createServer((req, res) => {
      this.inFlight++;
      this.handle(req, res)
        .catch(() => {
          if (!res.headersSent) res.writeHead(500);
          res.end();
        })
        .finally(() => this.inFlight--);
    });
    this.gateway = new FakeGateway(this.server, {
      token: () => this.token,
      ready: (sessionId) => ({
        v: 10,
        user: { ...userObject(this.bot), verified: true, mfa_enabled: false, flags: 0 },
        guilds: [...this.guilds.keys()].map((id) => ({ id, unavailable: true })),
        session_id: sessionId,
        resume_gateway_url: this.gatewayUrl,
        shard: [0, 1],
        application: { id: this.applicationId, flags: 0 },
        private_channels: [],
        relationships: [],
        presences: [],
        guild_join_requests: [],
        user_settings: {},
        geo_ordered_rtc_regions: [],
        _trace: ['fake-discord'],
      }),
      guilds: () =>
        [...this.guilds.values()].map((guild) =>
          guildCreateObject(guild, this.channels, this.users, this.bot),
        ),
    });
  }

  static async start(options: FakeDiscordOptions): Promise<FakeDiscord> {
    const fake = new FakeDiscord(options);
    fake.port = await listenOnLoopback(fake.server);
    return fake;
  }

  /** For `new Client({ rest: { api } })` / DISCORD_API_URL. */
  get apiUrl(): string {
    return `http://127.0.0.1:${this.port}/api`;
  }

  get gatewayUrl(): string {
    return `ws://127.0.0.1:${this.port}`;
  }

  /** The fake's clock (ms): real time plus whatever `advance` added. */
  now(): number {
    return Date.now() + this.clockOffset;
  }

  /** Moves the fake's clock forward (token lifetimes, callback deadlines). */
  advance(ms: number): void {
    this.clockOffset += ms;
  }

  /** Changes the token the fake accepts (a revoked/rotated token). */
  setToken(token: string): void {
    this.token = token;
  }

  /** The next REST call (any route) answers 429 with `retry_after` seconds. */
  rateLimitNext(options: { retryAfter?: number; global?: boolean } = {}): void {
    this.rateLimits.push({ retryAfter: options.retryAfter ?? 1, global: options.global ?? false });
  }

  /** REST requests being answered right now. */
  get pendingRequests(): number {
    return this.inFlight;
  }

  callsTo(route: string): RecordedCall[] {
    return this.calls.filter((call) => call.route === route);
  }

  async close(): Promise<void> {
    await this.gateway.close();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  // ------------------------------------------------------------------ world building

  createUser(username: string): FakeUser {
    const user: FakeUser = {
      id: snowflake(),
      username,
      globalName: username[0]?.toUpperCase() + username.slice(1),
      bot: false,
    };
    this.users.set(user.id, user);
    return user;
  }

  /** A guild with text channels (by name) and the bot in it; the owner becomes a member. */
  createGuild(name: string, channelNames: readonly string[], owner: FakeUser): FakeGuild {
    const id = snowflake();
    const guild: FakeGuild = {
      id,
      name,
      ownerId: owner.id,
      roles: [{ id, name: '@everyone', permissions: 0n }],
      channelIds: [],
      members: new Map([[owner.id, []]]),
    };
    for (const channelName of channelNames) {
      const channel: FakeChannel = { id: snowflake(), type: 0, name: channelName, guildId: id };
      this.channels.set(channel.id, channel);
      guild.channelIds.push(channel.id);
    }
    this.guilds.set(id, guild);
    return guild;
  }

  createRole(guild: FakeGuild, name: string, permissions: bigint): FakeRole {
    const role: FakeRole = { id: snowflake(), name, permissions };
    guild.roles.push(role);
    return role;
  }

  /** Makes the user a member of the guild holding exactly these roles. */
  setMember(guild: FakeGuild, user: FakeUser, roleIds: readonly string[]): void {
    for (const roleId of roleIds) {
      if (!guild.roles.some((role) => role.id === roleId)) throw new Error(`unknown role ${roleId}`);
    }
    guild.members.set(user.id, [...roleIds]);
  }

  /** The user's DM channel with the bot (created on first use, as Discord does). */
  dmChannel(user: FakeUser): FakeChannel {
    for (const channel of this.channels.values())
      if (channel.type === 1 && channel.recipientId === user.id) return channel;
    const channel: FakeChannel = { id: snowflake(), type: 1, recipientId: user.id };
    this.channels.set(channel.id, channel);
    return channel;
  }

  // ------------------------------------------------------------------ inbound (what users do)

  /** A slash command interaction (not yet delivered). */
  commandInteraction(
    at: CommandOptions,
    name: string,
    options: Record<string, string> = {},
  ): Record<string, unknown> {
    const command =
      (at.guildId ? this.guildCommands.get(at.guildId) : undefined)?.find((c) => c.name === name) ??
      this.commands.find((c) => c.name === name);
    return this.interaction(INTERACTION.COMMAND, at, {
      id: command?.id ?? snowflake(),
      name,
      type: 1,
      options: Object.entries(options).map(([optionName, value]) => ({ name: optionName, type: 3, value })),
    });
  }

  /** An autocomplete interaction while the user types `value` into `option`. */
  autocompleteInteraction(
    at: CommandOptions,
    name: string,
    option: string,
    value: string,
  ): Record<string, unknown> {
    const command = this.commands.find((c) => c.name === name);
    return this.interaction(INTERACTION.AUTOCOMPLETE, at, {
      id: command?.id ?? snowflake(),
      name,
      type: 1,
      options: [{ name: option, type: 3, value, focused: true }],
    });
  }

  /** A button press on a message the bot posted (it must exist and carry that button). */
  buttonInteraction(user: FakeUser, messageId: string, customId: string): Record<string, unknown> {
    const message = this.model.get(messageId);
    if (message === undefined) throw new Error(`no message ${messageId}`);
    const channel = this.channels.get(message.channelId);
    if (channel === undefined) throw new Error(`no channel ${message.channelId}`);
    const payload = this.interaction(
      INTERACTION.COMPONENT,
      { user, guildId: channel.guildId, channelId: channel.id },
      { custom_id: customId, component_type: 2 },
    );
    payload.message = messageObject(message, this.bot, message.interactionId);
    return payload;
  }

  /** A PING, as Discord sends to verify an interactions endpoint URL. */
  pingInteraction(): Record<string, unknown> {
    return {
      id: snowflake(this.now()),
      application_id: this.applicationId,
      type: INTERACTION.PING,
      token: interactionToken(),
      version: 1,
    };
  }

  /** Delivers an interaction over the gateway (INTERACTION_CREATE); the same payload again is a redelivery. */
  dispatchInteraction(payload: Record<string, unknown>): void {
    this.register(payload);
    this.gateway.dispatch('INTERACTION_CREATE', payload);
  }

  /**
   * Posts an interaction to an app's HTTP endpoint, signed with `keys` (or with a wrong signature),
   * and applies a 200 answer as the interaction's callback, as Discord does.
   */
  async postInteraction(
    url: string,
    payload: Record<string, unknown> | string,
    signing: { keys: InteractionKeys; forge?: boolean },
  ): Promise<{ status: number; body: unknown }> {
    const rawBody = typeof payload === 'string' ? payload : JSON.stringify(payload);
    if (typeof payload !== 'string') this.register(payload);
    const headers = signInteraction(signing.keys, rawBody);
    if (signing.forge) headers['x-signature-ed25519'] = `${'0'.repeat(126)}ff`;
    const response = await fetch(url, { method: 'POST', headers, body: rawBody });
    const text = await response.text();
    let body: unknown;
    try {
      body = text === '' ? undefined : JSON.parse(text);
    } catch {
      body = text;
    }
    if (response.status === 200 && typeof payload !== 'string' && typeof payload.id === 'string') {
      const record = this.interactions.get(payload.id);
      if (record) this.applyCallback(record, body);
    }
    return { status: response.status, body };
  }

  /** A user writes a DM to the bot (MESSAGE_CREATE); returns the message. */
  directMessage(user: FakeUser, content: string): FakeMessage {
    const channel = this.dmChannel(user);
    const message = this.model.add({
      id: snowflake(this.now()),
      channelId: channel.id,
      authorId: user.id,
      content,
      embeds: [],
      components: [],
      flags: 0,
      createdAt: this.now(),
    });
    this.gateway.dispatch('MESSAGE_CREATE', { ...messageObject(message, user), mentions: [] });
    return message;
  }

  /** The autocomplete choices the app answered for an interaction. */
  choicesFor(interactionId: string): { name: string; value: string | number }[] | undefined {
    const callback = this.interactions.get(interactionId)?.callback;
    return callback?.type === 8 ? callback.data.choices : undefined;
  }

  /** How an interaction was answered (callback type), if it was. */
  callbackOf(interactionId: string): FakeCallback | undefined {
    return this.interactions.get(interactionId)?.callback;
  }

  /** Messages created through an interaction's token (original first). */
  responsesTo(interactionId: string): FakeMessage[] {
    const record = this.interactions.get(interactionId);
    if (record === undefined) return [];
    return [...record.messageIds].flatMap((id) => {
      const message = this.model.get(id);
      return message && message.interactionId === interactionId ? [message] : [];
    });
  }

  private interaction(
    type: number,
    at: CommandOptions,
    data: Record<string, unknown>,
  ): Record<string, unknown> {
    const id = snowflake(this.now());
    const common = {
      id,
      application_id: this.applicationId,
      type,
      token: interactionToken(),
      version: 1,
      data,
      app_permissions: '562949953421311',
      locale: 'en-US',
      entitlements: [],
      attachment_size_limit: 10_485_760,
    };
    if (at.guildId !== undefined) {
      const guild = this.guilds.get(at.guildId);
      const channel = at.channelId ? this.channels.get(at.channelId) : undefined;
      if (guild === undefined || channel === undefined) throw new Error('unknown guild or channel');
      if (!guild.members.has(at.user.id))
        throw new Error(`${at.user.username} is not a member of ${guild.name}`);
      return {
        ...common,
        guild_id: guild.id,
        guild: { id: guild.id, locale: 'en-US', features: [] },
        guild_locale: 'en-US',
        channel_id: channel.id,
        channel: channelObject(channel, this.users),
        member: memberObject(guild, at.user, true),
        authorizing_integration_owners: { '0': guild.id },
        context: 0,
      };
    }
    const channel = this.dmChannel(at.user);
    return {
      ...common,
      channel_id: channel.id,
      channel: channelObject(channel, this.users),
      user: userObject(at.user),
      authorizing_integration_owners: { '0': at.user.id },
      context: 1,
    };
  }

  /** Remembers an interaction when it is first delivered (the clock for its deadline starts). */
  private register(payload: Record<string, unknown>): void {
    const parsed = z
      .object({
        id: z.string(),
        token: z.string(),
        type: z.number(),
        guild_id: z.string().optional(),
        channel_id: z.string().optional(),
        user: z.object({ id: z.string() }).optional(),
        member: z.object({ user: z.object({ id: z.string() }) }).optional(),
        message: z.object({ id: z.string() }).optional(),
      })
      .parse(payload);
    if (this.interactions.has(parsed.id)) return;
    const targetMessageId = parsed.message?.id;
    this.interactions.set(parsed.id, {
      id: parsed.id,
      token: parsed.token,
      type: parsed.type,
      userId: parsed.member?.user.id ?? parsed.user?.id ?? '',
      guildId: parsed.guild_id,
      channelId: parsed.channel_id ?? '',
      createdAt: this.now(),
      payload,
      targetMessageId,
      messageIds: new Set(),
    });
  }

  // ------------------------------------------------------------------ REST

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const rawBody = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url ?? '/', 'http://fake');
    const method = req.method ?? 'GET';
    let body: unknown;
    try {
      body = rawBody === '' ? undefined : JSON.parse(rawBody);
    } catch {
      body = rawBody;
    }
    // Clients percent-encode '@original' (and may encode '@me'); Discord decodes the path.
    const path = decodeURIComponent(url.pathname).replace(/^\/api\/v10(?=\/)/, '');
    const call: RecordedCall = {
      method,
      path,
      route: routeTemplate(method, path),
      body,
      status: 0,
      at: this.now(),
    };
    this.calls.push(call);
    try {
      if (!url.pathname.startsWith('/api/v10/')) throw new ApiError(404, 0, '404: Not Found');
      const limit = this.rateLimits.shift();
      if (limit !== undefined) {
        call.status = 429;
        this.sendRateLimited(res, limit);
        return;
      }
      if (typeof body === 'string') throw new ApiError(400, 50109, 'The request body contains invalid JSON.');
      const result = this.route(method, path, body, req.headers.authorization);
      call.status = result.status;
      if (result.body === undefined) {
        res.writeHead(result.status);
        res.end();
        return;
      }
      sendJson(res, result.status, result.body);
    } catch (error) {
      if (error instanceof FormError) {
        call.status = 400;
        sendJson(res, 400, {
          message: error.message,
          code: error.code,
          ...(error.errors ? { errors: error.errors } : {}),
        });
        return;
      }
      if (!(error instanceof ApiError)) throw error;
      call.status = error.status;
      sendJson(res, error.status, {
        message: error.message,
        code: error.code,
        ...(error.errors ? { errors: error.errors } : {}),
      });
    }
  }

  private sendRateLimited(res: ServerResponse, limit: { retryAfter: number; global: boolean }): void {
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'retry-after': String(Math.ceil(limit.retryAfter)),
      'x-ratelimit-limit': '5',
      'x-ratelimit-remaining': '0',
      'x-ratelimit-reset': String((this.now() + limit.retryAfter * 1000) / 1000),
      'x-ratelimit-reset-after': String(limit.retryAfter),
      'x-ratelimit-bucket': 'fakebucket0000000000000000000000',
      'x-ratelimit-scope': limit.global ? 'global' : 'user',
    };
    if (limit.global) headers['x-ratelimit-global'] = 'true';
    res.writeHead(429, headers);
    res.end(
      JSON.stringify({
        message: 'You are being rate limited.',
        retry_after: limit.retryAfter,
        global: limit.global,
      }),
    );
  }

  private route(
    method: string,
    path: string,
    body: unknown,
    authorization: string | undefined,
  ): { status: number; body?: unknown } {
    const bot = () => {
      if (authorization !== `Bot ${this.token}`) throw unauthorized();
    };
    const match = (pattern: RegExp) => pattern.exec(path);
    let m: RegExpExecArray | null;

    if (method === 'GET' && path === '/gateway/bot') {
      bot();
      return {
        status: 200,
        body: {
          url: this.gatewayUrl,
          shards: 1,
          session_start_limit: { total: 1000, remaining: 1000, reset_after: 0, max_concurrency: 1 },
        },
      };
    }
    if (method === 'GET' && path === '/users/@me') {
      bot();
      return { status: 200, body: userObject(this.bot) };
    }
    if (method === 'POST' && path === '/users/@me/channels') {
      bot();
      const { recipient_id } = parseBody(z.object({ recipient_id: z.string() }), body);
      const user = this.users.get(recipient_id);
      if (user === undefined) throw new ApiError(404, 10013, 'Unknown User');
      return { status: 200, body: channelObject(this.dmChannel(user), this.users) };
    }
    m = match(/^\/applications\/(\d+)\/commands$/);
    if (m) {
      bot();
      if (m[1] !== this.applicationId) throw new ApiError(403, 50001, 'Missing Access');
      if (method === 'GET') return { status: 200, body: this.commandObjects(this.commands) };
      if (method !== 'PUT') throw new ApiError(405, 0, '405: Method Not Allowed');
      this.commands = validateCommands(body).map((command) => ({ ...command, id: snowflake() }));
      return { status: 200, body: this.commandObjects(this.commands) };
    }
    m = match(/^\/applications\/(\d+)\/guilds\/(\d+)\/commands$/);
    if (m) {
      bot();
      if (m[1] !== this.applicationId) throw new ApiError(403, 50001, 'Missing Access');
      if (!m[2] || !this.guilds.has(m[2])) throw new ApiError(404, 10004, 'Unknown Guild');
      if (method !== 'PUT') throw new ApiError(405, 0, '405: Method Not Allowed');
      const commands = validateCommands(body).map((command) => ({ ...command, id: snowflake() }));
      this.guildCommands.set(m[2], commands);
      return { status: 200, body: this.commandObjects(commands) };
    }
    m = match(/^\/interactions\/(\d+)\/([^/]+)\/callback$/);
    if (m && method === 'POST') {
      const record = m[1] ? this.interactions.get(m[1]) : undefined;
      if (record === undefined || record.token !== m[2]) throw unknownInteraction();
      if (record.callback !== undefined)
        throw new ApiError(400, 40060, 'Interaction has already been acknowledged.');
      if (this.now() > record.createdAt + CALLBACK_DEADLINE_MS) throw unknownInteraction();
      this.applyCallback(record, body);
      return { status: 204 };
    }
    m = match(/^\/webhooks\/(\d+)\/([^/]+)(?:\/messages\/([^/]+))?$/);
    if (m) {
      const token = m[2];
      const record = [...this.interactions.values()].find((candidate) => candidate.token === token);
      if (m[1] !== this.applicationId || record === undefined) throw unknownWebhook();
      if (this.now() > record.createdAt + TOKEN_LIFETIME_MS)
        throw new ApiError(401, 50027, 'Invalid Webhook Token');
      if (record.callback === undefined) throw unknownWebhook();
      return this.webhook(method, record, m[3], body);
    }
    m = match(/^\/channels\/(\d+)\/messages(?:\/(\d+))?$/);
    if (m) {
      bot();
      const channel = m[1] ? this.channels.get(m[1]) : undefined;
      if (channel === undefined) throw unknownChannel();
      if (m[2] === undefined) {
        if (method !== 'POST') throw new ApiError(405, 0, '405: Method Not Allowed');
        const message = this.createMessage(
          channel.id,
          channel.guildId,
          validateMessageBody(body, 'create'),
          0,
        );
        return { status: 200, body: messageObject(message, this.bot) };
      }
      const message = this.model.get(m[2]);
      // Ephemeral messages exist only for their user's client: channel routes never see them.
      if (message === undefined || message.channelId !== channel.id || message.ephemeralFor !== undefined) {
        throw unknownMessage();
      }
      if (method === 'GET')
        return { status: 200, body: messageObject(message, this.userOf(message.authorId)) };
      if (method !== 'PATCH') throw new ApiError(405, 0, '405: Method Not Allowed');
      if (message.authorId !== this.bot.id)
        throw new ApiError(403, 50005, 'Cannot edit a message authored by another user');
      this.model.edit(message, validateMessageBody(body, 'edit'), this.now());
      return { status: 200, body: messageObject(message, this.bot, message.interactionId) };
    }
    throw new ApiError(404, 0, '404: Not Found');
  }

  private webhook(
    method: string,
    record: InteractionRecord,
    messageRef: string | undefined,
    body: unknown,
  ): { status: number; body?: unknown } {
    if (messageRef === undefined) {
      if (method !== 'POST') throw new ApiError(405, 0, '405: Method Not Allowed');
      const message = this.createMessage(
        record.channelId,
        record.guildId,
        validateMessageBody(body, 'create'),
        0,
        record,
      );
      return { status: 200, body: messageObject(message, this.bot, record.id) };
    }
    const messageId = messageRef === '@original' ? record.originalMessageId : messageRef;
    const message = messageId && record.messageIds.has(messageId) ? this.model.get(messageId) : undefined;
    if (message === undefined) throw unknownMessage();
    if (method === 'GET')
      return { status: 200, body: messageObject(message, this.bot, message.interactionId) };
    if (method === 'DELETE') {
      message.deleted = true;
      return { status: 204 };
    }
    if (method !== 'PATCH') throw new ApiError(405, 0, '405: Method Not Allowed');
    this.model.edit(message, validateMessageBody(body, 'edit'), this.now());
    return { status: 200, body: messageObject(message, this.bot, message.interactionId) };
  }

  /** Applies an interaction response (REST callback or the HTTP endpoint's answer). */
  private applyCallback(record: InteractionRecord, body: unknown): void {
    const callback = parseBody(callbackSchema, body);
    const allowed: Record<number, readonly number[]> = {
      [INTERACTION.PING]: [1],
      [INTERACTION.COMMAND]: [4, 5],
      [INTERACTION.COMPONENT]: [4, 5, 6, 7],
      [INTERACTION.AUTOCOMPLETE]: [8],
    };
    if (!(allowed[record.type] ?? []).includes(callback.type)) {
      throw new FormError(50035, 'Invalid Form Body', {
        type: {
          _errors: [
            {
              code: 'INTERACTION_RESPONSE_TYPE_INVALID',
              message: 'Interaction response type is invalid for this interaction',
            },
          ],
        },
      });
    }
    switch (callback.type) {
      case 4: {
        const message = this.createMessage(
          record.channelId,
          record.guildId,
          validateMessageBody(callback.data, 'create'),
          0,
          record,
        );
        record.originalMessageId = message.id;
        break;
      }
      case 5: {
        const flags = (callback.data?.flags ?? 0) & EPHEMERAL;
        const message = this.createMessage(record.channelId, record.guildId, {}, LOADING | flags, record);
        record.originalMessageId = message.id;
        break;
      }
      case 6:
      case 7: {
        const target = record.targetMessageId ? this.model.get(record.targetMessageId) : undefined;
        if (target === undefined) throw unknownMessage();
        if (callback.type === 7)
          this.model.edit(target, validateMessageBody(callback.data, 'edit'), this.now());
        record.originalMessageId = target.id;
        record.messageIds.add(target.id);
        break;
      }
    }
    record.callback = callback;
  }

  private createMessage(
    channelId: string,
    guildId: string | undefined,
    body: FakeMessageBody,
    extraFlags: number,
    via?: InteractionRecord,
  ): FakeMessage {
    const flags = (body.flags ?? 0) | extraFlags;
    // EPHEMERAL only means something on interaction responses; channel messages ignore it.
    const ephemeral = via !== undefined && (flags & EPHEMERAL) !== 0;
    const message = this.model.add({
      id: snowflake(this.now()),
      channelId,
      guildId,
      authorId: this.bot.id,
      interactionId: via?.id,
      ephemeralFor: ephemeral ? via?.userId : undefined,
      content: body.content ?? '',
      embeds: body.embeds ?? [],
      components: body.components ?? [],
      flags: ephemeral ? flags : flags & ~EPHEMERAL,
      createdAt: this.now(),
    });
    via?.messageIds.add(message.id);
    return message;
  }

  private commandObjects(commands: (FakeCommand & { id: string })[]): unknown[] {
    return commands.map((command) => ({
      ...command,
      type: command.type ?? 1,
      application_id: this.applicationId,
      version: command.id,
      default_member_permissions: null,
    }));
  }

  private userOf(id: string): FakeUser {
    return this.users.get(id) ?? this.bot;
  }
}

/** The route a path belongs to, ids and tokens replaced by names (for assertions on calls). */
export function routeTemplate(method: string, path: string): string {
  const template = path
    .replace(/^\/interactions\/\d+\/[^/]+\/callback$/, '/interactions/:id/:token/callback')
    .replace(/^\/webhooks\/\d+\/[^/]+\/messages\/@original$/, '/webhooks/:app/:token/messages/@original')
    .replace(/^\/webhooks\/\d+\/[^/]+\/messages\/\d+$/, '/webhooks/:app/:token/messages/:id')
    .replace(/^\/webhooks\/\d+\/[^/]+$/, '/webhooks/:app/:token')
    .replace(/^\/applications\/\d+\/guilds\/\d+\/commands$/, '/applications/:app/guilds/:guild/commands')
    .replace(/^\/applications\/\d+\/commands$/, '/applications/:app/commands')
    .replace(/^\/channels\/\d+\/messages\/\d+$/, '/channels/:channel/messages/:id')
    .replace(/^\/channels\/\d+\/messages$/, '/channels/:channel/messages');
  return `${method} ${template}`;
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

function parseBody<T>(schema: z.ZodType<T>, body: unknown): T {
  const parsed = schema.safeParse(body);
  if (!parsed.success) {
    throw new FormError(50035, 'Invalid Form Body', {
      _root: { _errors: [{ code: 'BASE_TYPE_INVALID', message: parsed.error.message }] },
    });
  }
  return parsed.data;
}
