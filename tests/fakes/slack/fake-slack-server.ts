/**
 * A local fake of Slack for driving the real @slack/bolt against: the Web API at `/api/<method>`,
 * response_url endpoints at `/response/<id>`, and Socket Mode (`apps.connections.open` plus a
 * WebSocket that says hello, sends envelopes and expects acks by envelope_id).
 *
 * It enforces what Slack enforces and our code could get wrong: a bearer token on every call
 * (`not_authed`, `invalid_auth`, the app token only for `apps.connections.open`), required
 * parameters, Block Kit limits (`invalid_blocks`), messages that exist in the channel for
 * `chat.update`, bot and user membership for posting, and response_urls valid 30 minutes for 5
 * uses. Errors are HTTP 200 `{"ok":false,"error":...}` like Slack's; a 429 with Retry-After can be
 * injected for the next call. Every call is recorded and the chat is modelled (`model`).
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { type WebSocket, WebSocketServer } from 'ws';
import { z } from 'zod';
import { listenOnLoopback } from '../listen.js';
import { type FakeBlock, validateBlocks } from './block-kit.js';
import { SlackChatModel } from './chat-model.js';

export interface FakeSlackOptions {
  readonly botToken: string;
  /** App-level token for Socket Mode. */
  readonly appToken?: string;
  readonly teamId: string;
  readonly botUserId: string;
  readonly botId: string;
}

export interface RecordedSlackCall {
  /** Web API method, `response_url`, or the HTTP path for anything else. */
  readonly method: string;
  readonly params: Record<string, unknown>;
  status: number;
  ok: boolean;
  error?: string;
}

/** What a response_url replaces: the message a button was on, or the first message posted through it. */
type ResponseTarget = { kind: 'message'; channel: string; ts: string } | { kind: 'ephemeral'; id: string };

interface IssuedResponseUrl {
  readonly user: string;
  readonly channel: string;
  readonly issuedAt: number;
  uses: number;
  original?: ResponseTarget;
}

/** Slack's response_url limits. */
export const RESPONSE_URL_TTL_MS = 30 * 60 * 1000;
export const RESPONSE_URL_MAX_USES = 5;

class SlackApiError extends Error {
  constructor(readonly code: string) {
    super(code);
  }
}

const channelParam = z.string().min(1);
const textParam = z.string().optional();
const postMessageSchema = z.looseObject({
  channel: channelParam,
  text: textParam,
  blocks: z.unknown().optional(),
  thread_ts: z.string().optional(),
});
const updateSchema = z.looseObject({
  channel: channelParam,
  ts: z.string().min(1),
  text: textParam,
  blocks: z.unknown().optional(),
});
const postEphemeralSchema = z.looseObject({
  channel: channelParam,
  user: z.string().min(1),
  text: textParam,
  blocks: z.unknown().optional(),
});
const responseBodySchema = z.looseObject({
  text: z.string().optional(),
  blocks: z.unknown().optional(),
  response_type: z.enum(['ephemeral', 'in_channel']).optional(),
  replace_original: z.union([z.boolean(), z.literal('true'), z.literal('false')]).optional(),
  delete_original: z.union([z.boolean(), z.literal('true'), z.literal('false')]).optional(),
});

function isTrue(value: unknown): boolean {
  return value === true || value === 'true';
}

export class FakeSlackServer {
  readonly calls: RecordedSlackCall[] = [];
  readonly model = new SlackChatModel();
  /** Acks received over Socket Mode, by envelope id. */
  readonly acks = new Map<string, Record<string, unknown>>();
  private readonly responseUrls = new Map<string, IssuedResponseUrl>();
  private readonly server: Server;
  private readonly sockets = new WebSocketServer({ noServer: true });
  private readonly tickets = new Set<string>();
  private readonly ackWaiters = new Map<string, (ack: Record<string, unknown>) => void>();
  private openSocket: WebSocket | undefined;
  private connectedWaiters: (() => void)[] = [];
  private rateLimits: number[] = [];
  private timeOffsetMs = 0;
  private port = 0;

  private constructor(readonly options: FakeSlackOptions) {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch(() => {
        if (!res.headersSent) res.writeHead(500);
        res.end();
      });
    });
    this.server.on('upgrade', (req, socket, head) => {
      const url = new URL(req.url ?? '/', 'http://fake');
      const ticket = url.searchParams.get('ticket') ?? '';
      if (url.pathname !== '/socket-mode' || !this.tickets.delete(ticket)) {
        socket.end('HTTP/1.1 401 Unauthorized\r\n\r\n');
        return;
      }
      this.sockets.handleUpgrade(req, socket, head, (ws) => this.onSocket(ws));
    });
  }

  static async start(options: FakeSlackOptions): Promise<FakeSlackServer> {
    const fake = new FakeSlackServer(options);
    fake.port = await listenOnLoopback(fake.server);
    return fake;
  }

  /** Web API base for bolt's `slackApiUrl` (ends in a slash). */
  get apiUrl(): string {
    return `http://127.0.0.1:${this.port}/api/`;
  }

  /** A channel in the team; the bot is a member unless `botMember: false`. */
  addChannel(id: string, members: readonly string[], options: { botMember?: boolean } = {}): void {
    this.model.addChannel(id, options.botMember === false ? members : [...members, this.options.botUserId]);
  }

  /** The bot's DM with a user (channel id D...). */
  addDirectChannel(id: string, user: string): void {
    this.model.addChannel(id, [user, this.options.botUserId], user);
  }

  /** The next call (Web API or response_url) is answered 429 with this Retry-After. */
  rateLimitNextCall(retryAfterSeconds = 1): void {
    this.rateLimits.push(retryAfterSeconds);
  }

  /** Moves the fake's clock (response_url expiry). */
  advanceTime(ms: number): void {
    this.timeOffsetMs += ms;
  }

  /** A response_url for an inbound request by `user` in `channel`; `original` = the pressed message. */
  issueResponseUrl(user: string, channel: string, original?: ResponseTarget): string {
    const id = randomUUID();
    this.responseUrls.set(id, {
      user,
      channel,
      issuedAt: this.now(),
      uses: 0,
      ...(original ? { original } : {}),
    });
    return `http://127.0.0.1:${this.port}/response/${id}`;
  }

  /** Calls of one Web API method (or `response_url`) that Slack accepted. */
  accepted(method: string): RecordedSlackCall[] {
    return this.calls.filter((call) => call.method === method && call.ok);
  }

  // ------------------------------------------------------------------ Socket Mode

  /** Resolves once a Socket Mode client has connected and been greeted. */
  connected(): Promise<void> {
    if (this.openSocket) return Promise.resolve();
    return new Promise((resolve) => this.connectedWaiters.push(resolve));
  }

  /** Sends an envelope to the connected client; resolves with its ack (`{envelope_id, payload?}`). */
  sendEnvelope(
    type: 'events_api' | 'slash_commands' | 'interactive',
    payload: Record<string, unknown>,
  ): { envelopeId: string; acked: Promise<Record<string, unknown>> } {
    const socket = this.openSocket;
    if (socket === undefined) throw new Error('no Socket Mode client is connected');
    const envelopeId = randomUUID();
    const acked = new Promise<Record<string, unknown>>((resolve) => this.ackWaiters.set(envelopeId, resolve));
    socket.send(
      JSON.stringify({
        envelope_id: envelopeId,
        type,
        payload,
        accepts_response_payload: type !== 'events_api',
        ...(type === 'events_api' ? { retry_attempt: 0, retry_reason: '' } : {}),
      }),
    );
    return { envelopeId, acked };
  }

  private onSocket(ws: WebSocket): void {
    this.openSocket = ws;
    ws.on('message', (data) => {
      let ack: unknown;
      try {
        ack = JSON.parse(String(data));
      } catch {
        return;
      }
      const parsed = z.looseObject({ envelope_id: z.string() }).safeParse(ack);
      if (!parsed.success) return;
      this.acks.set(parsed.data.envelope_id, parsed.data);
      this.ackWaiters.get(parsed.data.envelope_id)?.(parsed.data);
      this.ackWaiters.delete(parsed.data.envelope_id);
    });
    ws.on('close', () => {
      if (this.openSocket === ws) this.openSocket = undefined;
    });
    ws.send(
      JSON.stringify({
        type: 'hello',
        num_connections: 1,
        debug_info: { host: 'fake-slack', approximate_connection_time: 18060 },
        connection_info: { app_id: 'A1' },
      }),
    );
    const waiters = this.connectedWaiters;
    this.connectedWaiters = [];
    for (const resolve of waiters) resolve();
  }

  async close(): Promise<void> {
    for (const client of this.sockets.clients) client.terminate();
    this.sockets.close();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  // ------------------------------------------------------------------ HTTP

  private now(): number {
    return Date.now() + this.timeOffsetMs;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const path = (req.url ?? '').split('?')[0] ?? '';
    const params = parseParams(String(req.headers['content-type'] ?? ''), raw);
    const isApi = path.startsWith('/api/');
    const call: RecordedSlackCall = {
      method: isApi ? path.slice('/api/'.length) : path.startsWith('/response/') ? 'response_url' : path,
      params,
      status: 200,
      ok: false,
    };
    this.calls.push(call);
    const retryAfter = this.rateLimits.shift();
    if (retryAfter !== undefined) {
      call.status = 429;
      call.error = 'ratelimited';
      res.writeHead(429, { 'content-type': 'application/json', 'retry-after': String(retryAfter) });
      res.end(JSON.stringify({ ok: false, error: 'ratelimited' }));
      return;
    }
    if (req.method !== 'POST') {
      call.status = 405;
      res.writeHead(405).end();
      return;
    }
    if (path.startsWith('/response/')) {
      this.answerResponseUrl(path.slice('/response/'.length), params, call, res);
      return;
    }
    if (!isApi) {
      call.status = 404;
      res.writeHead(404).end();
      return;
    }
    try {
      const result = this.callMethod(call.method, this.tokenOf(req, params), params);
      call.ok = true;
      sendJson(res, 200, { ok: true, ...result });
    } catch (error) {
      if (!(error instanceof SlackApiError)) throw error;
      call.error = error.code;
      sendJson(res, 200, { ok: false, error: error.code });
    }
  }

  private tokenOf(req: IncomingMessage, params: Record<string, unknown>): string | undefined {
    const header = req.headers.authorization;
    if (header?.startsWith('Bearer ')) return header.slice('Bearer '.length);
    return typeof params.token === 'string' ? params.token : undefined;
  }

  private callMethod(
    method: string,
    token: string | undefined,
    params: Record<string, unknown>,
  ): Record<string, unknown> {
    if (token === undefined || token === '') throw new SlackApiError('not_authed');
    if (method === 'apps.connections.open') {
      if (token === this.options.botToken) throw new SlackApiError('not_allowed_token_type');
      if (this.options.appToken === undefined || token !== this.options.appToken)
        throw new SlackApiError('invalid_auth');
      const ticket = randomUUID();
      this.tickets.add(ticket);
      return { url: `ws://127.0.0.1:${this.port}/socket-mode?ticket=${ticket}` };
    }
    if (token !== this.options.botToken) throw new SlackApiError('invalid_auth');
    switch (method) {
      case 'auth.test':
        return {
          url: 'https://fake.slack.com/',
          team: 'Fake Team',
          user: 'arbion',
          team_id: this.options.teamId,
          user_id: this.options.botUserId,
          bot_id: this.options.botId,
        };
      case 'chat.postMessage':
        return this.postMessage(params);
      case 'chat.update':
        return this.update(params);
      case 'chat.postEphemeral':
        return this.postEphemeral(params);
      default:
        throw new SlackApiError('unknown_method');
    }
  }

  private content(text: string | undefined, blocks: unknown): { text: string; blocks: FakeBlock[] } {
    const parsedBlocks = blocks === undefined ? [] : typeof blocks === 'string' ? parseJson(blocks) : blocks;
    const validated = validateBlocks(parsedBlocks ?? 'unreadable');
    if (!validated.ok) throw new SlackApiError('invalid_blocks');
    if ((text === undefined || text === '') && validated.blocks.length === 0)
      throw new SlackApiError('no_text');
    return { text: text ?? '', blocks: validated.blocks };
  }

  private channelForBot(id: string) {
    const channel = this.model.channels.get(id);
    if (channel === undefined) throw new SlackApiError('channel_not_found');
    if (!channel.members.has(this.options.botUserId)) throw new SlackApiError('not_in_channel');
    return channel;
  }

  private postMessage(params: Record<string, unknown>): Record<string, unknown> {
    const parsed = postMessageSchema.safeParse(params);
    if (!parsed.success) throw new SlackApiError('channel_not_found');
    const channel = this.channelForBot(parsed.data.channel);
    const { text, blocks } = this.content(parsed.data.text, parsed.data.blocks);
    if (
      parsed.data.thread_ts !== undefined &&
      this.model.message(channel.id, parsed.data.thread_ts) === undefined
    ) {
      // Slack accepts a thread_ts of any message in the channel, ours or a user's; we only check the form.
      if (!/^\d+\.\d+$/.test(parsed.data.thread_ts)) throw new SlackApiError('invalid_thread_ts');
    }
    const message = this.model.post(channel.id, text, blocks, parsed.data.thread_ts);
    return {
      channel: channel.id,
      ts: message.ts,
      message: { type: 'message', text, ts: message.ts, blocks },
    };
  }

  private update(params: Record<string, unknown>): Record<string, unknown> {
    const parsed = updateSchema.safeParse(params);
    if (!parsed.success) throw new SlackApiError('invalid_arguments');
    const channel = this.model.channels.get(parsed.data.channel);
    if (channel === undefined) throw new SlackApiError('channel_not_found');
    const message = this.model.message(channel.id, parsed.data.ts);
    if (message === undefined) throw new SlackApiError('message_not_found');
    const { text, blocks } = this.content(parsed.data.text, parsed.data.blocks);
    message.text = text;
    message.blocks = blocks;
    return { channel: channel.id, ts: message.ts, text };
  }

  private postEphemeral(params: Record<string, unknown>): Record<string, unknown> {
    const parsed = postEphemeralSchema.safeParse(params);
    if (!parsed.success)
      throw new SlackApiError(params.user === undefined ? 'user_not_found' : 'channel_not_found');
    const channel = this.channelForBot(parsed.data.channel);
    if (!channel.members.has(parsed.data.user)) throw new SlackApiError('user_not_in_channel');
    const { text, blocks } = this.content(parsed.data.text, parsed.data.blocks);
    const ephemeral = this.model.postEphemeral(channel.id, parsed.data.user, text, blocks);
    return { message_ts: `${Math.floor(this.now() / 1000)}.${String(ephemeral.seq).padStart(6, '0')}` };
  }

  /** Slack answers response_url posts with plain-text errors and HTTP statuses. */
  private answerResponseUrl(
    id: string,
    params: Record<string, unknown>,
    call: RecordedSlackCall,
    res: ServerResponse,
  ): boolean {
    const fail = (status: number, error: string): boolean => {
      call.status = status;
      call.error = error;
      res.writeHead(status, { 'content-type': 'text/plain' }).end(error);
      return false;
    };
    const issued = this.responseUrls.get(id);
    if (issued === undefined || this.now() - issued.issuedAt > RESPONSE_URL_TTL_MS)
      return fail(404, 'expired_url');
    if (issued.uses >= RESPONSE_URL_MAX_USES) return fail(404, 'used_url');
    const parsed = responseBodySchema.safeParse(params);
    if (!parsed.success) return fail(400, 'invalid_payload');
    const body = parsed.data;
    issued.uses++;
    if (isTrue(body.delete_original)) {
      if (issued.original === undefined) return fail(400, 'no_original_message');
      this.markDeleted(issued.original);
      call.ok = true;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ok: true }));
      return true;
    }
    let content: { text: string; blocks: FakeBlock[] };
    try {
      content = this.content(body.text, body.blocks);
    } catch (error) {
      return fail(400, error instanceof SlackApiError ? error.code : 'invalid_payload');
    }
    if (isTrue(body.replace_original)) {
      const target = issued.original ? this.target(issued.original) : undefined;
      if (target === undefined) return fail(404, 'message_not_found');
      target.text = content.text;
      target.blocks = content.blocks;
    } else if (body.response_type === 'in_channel') {
      const message = this.model.post(issued.channel, content.text, content.blocks);
      issued.original ??= { kind: 'message', channel: issued.channel, ts: message.ts };
    } else {
      const ephemeral = this.model.postEphemeral(issued.channel, issued.user, content.text, content.blocks);
      issued.original ??= { kind: 'ephemeral', id: ephemeral.id };
    }
    call.ok = true;
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ok: true }));
    return true;
  }

  private target(target: ResponseTarget) {
    return target.kind === 'message'
      ? this.model.message(target.channel, target.ts)
      : this.model.ephemeral(target.id);
  }

  private markDeleted(target: ResponseTarget): void {
    const shown = this.target(target);
    if (shown) shown.deleted = true;
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Slack takes form-encoded (blocks as a JSON string) and JSON bodies. */
function parseParams(contentType: string, raw: string): Record<string, unknown> {
  if (contentType.startsWith('application/json')) {
    const parsed = parseJson(raw);
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : {};
  }
  return Object.fromEntries(new URLSearchParams(raw));
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify(body));
}
