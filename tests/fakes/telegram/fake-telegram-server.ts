/**
 * A local fake of the Telegram Bot API (`POST /bot<token>/<method>`, JSON or form-encoded), for
 * driving the real grammy client.
 *
 * It enforces what the real API enforces and what our adapter could get wrong: the token (401),
 * known methods (404), HTML parse mode (supported tags only, balanced, `<>&` escaped), text length
 * 1..4096 after entity parsing, inline keyboards (callback_data 1..64 bytes), edits of existing
 * bot messages only and never "not modified", callback queries that exist and are answered at most
 * once with at most 200 characters, bot command names and descriptions, and getUpdates offsets
 * (confirmed updates are dropped; long polls wait; 409 while a webhook is set). It can answer the
 * next call with 429 + retry_after. It keeps a chat model (see chat-model.ts) and records every call,
 * and every getUpdates request with the offset it asked for (`polls`).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { z } from 'zod';
import { listenOnLoopback } from '../listen.js';
import {
  type FakeButton,
  type FakeChat,
  FakeChatModel,
  type FakeMessage,
  type FakeUser,
} from './chat-model.js';
import { parseTelegramHtml, type TextEntity } from './telegram-html.js';

export interface FakeTelegramOptions {
  readonly token: string;
  /** The bot's own user; defaults to @arbion_test_bot. */
  readonly bot?: Partial<FakeUser>;
}

export interface RecordedCall {
  readonly seq: number;
  readonly method: string;
  /** Parameters as the fake understood them (form fields decoded, JSON fields parsed). */
  readonly params: Record<string, unknown>;
  readonly status: number;
  readonly description?: string;
}

/**
 * One getUpdates request, recorded when it arrives (a long poll is recorded in `calls` only when
 * it is answered): the offset it asked for, and the update ids it was answered with.
 */
export interface FakePoll {
  /** The `offset` parameter; undefined when the request had none. */
  readonly offset: number | undefined;
  /** The update ids returned, once answered; undefined while it waits or if the client gave up. */
  returned?: number[];
}

/** An error answer of the Bot API: `{"ok":false,"error_code","description","parameters"?}`. */
class ApiFailure extends Error {
  constructor(
    readonly code: number,
    readonly description: string,
    readonly parameters?: Record<string, number>,
  ) {
    super(description);
  }
}

const badRequest = (detail: string) => new ApiFailure(400, `Bad Request: ${detail}`);

const QUERY_INVALID = 'query is too old and response timeout expired or query ID is invalid';
const NOT_MODIFIED =
  'message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message';

function parseJsonText(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

// Form-encoded calls carry every value as a string; JSON calls carry numbers and objects.
const integer = z.union([
  z.number().int(),
  z
    .string()
    .regex(/^-?\d+$/)
    .transform(Number),
]);
const boolean = z.union([z.boolean(), z.enum(['true', 'false']).transform((value) => value === 'true')]);
const chatId = z.union([integer, z.string().regex(/^@\w+$/)]);
const jsonOf = <T extends z.ZodType>(schema: T) => z.preprocess(parseJsonText, schema);

const buttonSchema = z.looseObject({
  text: z.string(),
  callback_data: z.string().optional(),
  url: z.string().optional(),
});
const replyMarkupSchema = jsonOf(z.looseObject({ inline_keyboard: z.array(z.array(buttonSchema)) }));

const sendMessageSchema = z.looseObject({
  chat_id: chatId,
  text: z.string(),
  parse_mode: z.string().optional(),
  reply_markup: replyMarkupSchema.optional(),
});
const editMessageTextSchema = z.looseObject({
  chat_id: chatId,
  message_id: integer,
  text: z.string(),
  parse_mode: z.string().optional(),
  reply_markup: replyMarkupSchema.optional(),
});
const editMarkupSchema = z.looseObject({
  chat_id: chatId,
  message_id: integer,
  reply_markup: replyMarkupSchema.optional(),
});
const answerCallbackSchema = z.looseObject({
  callback_query_id: z.string().min(1),
  text: z.string().optional(),
  show_alert: boolean.optional(),
});
const setMyCommandsSchema = z.looseObject({
  commands: jsonOf(z.array(z.looseObject({ command: z.string(), description: z.string() }))),
});
const setWebhookSchema = z.looseObject({
  url: z.string(),
  secret_token: z.string().optional(),
  drop_pending_updates: boolean.optional(),
  allowed_updates: jsonOf(z.array(z.string())).optional(),
});
const getUpdatesSchema = z.looseObject({
  offset: integer.optional(),
  limit: integer.optional(),
  timeout: integer.optional(),
  allowed_updates: jsonOf(z.array(z.string())).optional(),
});
const deleteWebhookSchema = z.looseObject({ drop_pending_updates: boolean.optional() });

function parseParams<T extends z.ZodType>(schema: T, params: Record<string, unknown>): z.output<T> {
  const parsed = schema.safeParse(params);
  if (!parsed.success) {
    const field = parsed.error.issues[0]?.path.join('.') || 'parameters';
    throw badRequest(`${field} is empty or invalid`);
  }
  return parsed.data;
}

/** The visible text and entities of a message body, validated as Telegram would. */
function parseMessageText(
  text: string,
  parseMode: string | undefined,
): { text: string; entities: TextEntity[] } {
  let visible = text;
  let entities: TextEntity[] = [];
  if (parseMode !== undefined) {
    if (parseMode !== 'HTML') throw badRequest(`fake supports parse_mode HTML only, got "${parseMode}"`);
    const parsed = parseTelegramHtml(text);
    if (!parsed.ok) throw badRequest(parsed.problem);
    visible = parsed.text;
    entities = [...parsed.entities];
  }
  if (visible.trim() === '') throw badRequest('message text is empty');
  if (visible.length > 4096) throw badRequest('message is too long');
  return { text: visible, entities };
}

function validateKeyboard(
  markup: { inline_keyboard: z.output<typeof buttonSchema>[][] } | undefined,
): FakeButton[][] {
  if (markup === undefined) return [];
  return markup.inline_keyboard.map((row) =>
    row.map((button) => {
      if (button.text.trim() === '') throw badRequest('BUTTON_TEXT_INVALID');
      if (button.callback_data === undefined && button.url === undefined)
        throw badRequest(
          "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard",
        );
      if (button.callback_data !== undefined) {
        const bytes = Buffer.byteLength(button.callback_data, 'utf8');
        if (bytes < 1 || bytes > 64) throw badRequest('BUTTON_DATA_INVALID');
        return { text: button.text, callback_data: button.callback_data };
      }
      return { text: button.text, url: button.url ?? '' };
    }),
  );
}

function sameContent(
  message: FakeMessage,
  text: string,
  entities: readonly TextEntity[],
  buttons: FakeButton[][],
) {
  return (
    message.text === text &&
    JSON.stringify(message.entities) === JSON.stringify(entities) &&
    JSON.stringify(message.buttons) === JSON.stringify(buttons)
  );
}

/** A Telegram `Update` as JSON (what getUpdates returns and what a webhook receives). */
export type UpdateJson = { update_id: number } & Record<string, unknown>;

/** One Bot API method: its parameters in, its `result` out (or an ApiFailure thrown). */
type MethodHandler = (params: Record<string, unknown>, res: ServerResponse) => unknown;

interface RateLimit {
  retryAfter: number;
  remaining: number;
  method?: string;
}

export class FakeTelegramServer {
  readonly calls: RecordedCall[] = [];
  /** Every getUpdates request in arrival order (see FakePoll). */
  readonly polls: FakePoll[] = [];
  readonly model = new FakeChatModel();
  readonly bot: FakeUser;
  /** Commands as last set by setMyCommands. */
  commands: { command: string; description: string }[] = [];
  webhook: { url: string; secretToken?: string } | undefined;
  private readonly token: string;
  private readonly server: Server;
  private port = 0;
  private pending: UpdateJson[] = [];
  private nextUpdateId = 700_000;
  private nextQueryId = 1;
  private waiters: (() => void)[] = [];
  private rateLimits: RateLimit[] = [];
  private readonly listeners = new Set<(call: RecordedCall) => void>();
  private readonly pollListeners = new Set<() => void>();
  private closed = false;

  private constructor(options: FakeTelegramOptions) {
    this.token = options.token;
    this.bot = {
      id: 7_000_001,
      is_bot: true,
      first_name: 'Arbion',
      username: 'arbion_test_bot',
      ...options.bot,
    };
    this.server = createServer((req, res) => {
      this.handle(req, res).catch(() => {
        if (!res.headersSent) res.writeHead(500);
        res.end();
      });
    });
  }

  static async start(options: FakeTelegramOptions): Promise<FakeTelegramServer> {
    const fake = new FakeTelegramServer(options);
    fake.port = await listenOnLoopback(fake.server);
    return fake;
  }

  /** For `new Bot(token, { client: { apiRoot } })` (no trailing slash). */
  get apiRoot(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** What grammy's `botInfo` option wants (getMe's result). */
  get botInfo() {
    return {
      ...this.bot,
      is_bot: true,
      username: this.bot.username ?? 'arbion_test_bot',
      can_join_groups: true,
      can_read_all_group_messages: false,
      supports_inline_queries: false,
      can_connect_to_business: false,
      has_main_web_app: false,
      has_topics_enabled: false,
      allows_users_to_create_topics: false,
      can_manage_bots: false,
      supports_join_request_queries: false,
    } as const;
  }

  callsTo(method: string): RecordedCall[] {
    return this.calls.filter((call) => call.method === method);
  }

  /** Called after every recorded call (benchmarks wait for a sendMessage this way). */
  onCall(listener: (call: RecordedCall) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Resolves with the first getUpdates request at index `from` or later that satisfies `condition`,
   * checked as requests arrive and as they are answered (the test timeout bounds the wait).
   */
  waitForPoll(condition: (poll: FakePoll) => boolean, from = 0): Promise<FakePoll> {
    const find = () => this.polls.slice(from).find(condition);
    const found = find();
    if (found !== undefined) return Promise.resolve(found);
    return new Promise((resolve) => {
      const check = () => {
        const poll = find();
        if (poll === undefined) return;
        this.pollListeners.delete(check);
        resolve(poll);
      };
      this.pollListeners.add(check);
    });
  }

  /**
   * The next `times` calls (of `method`, or of any method but getUpdates) are answered
   * 429 "Too Many Requests: retry after N" with `parameters.retry_after`. `times: Infinity` = always.
   */
  rateLimitNext(options: { retryAfter?: number; times?: number; method?: string } = {}): void {
    this.rateLimits.push({
      retryAfter: options.retryAfter ?? 1,
      remaining: options.times ?? 1,
      ...(options.method !== undefined ? { method: options.method } : {}),
    });
  }

  clearRateLimits(): void {
    this.rateLimits = [];
  }

  // ------------------------------------------------------------------ building updates

  /** A user writes `text` in a chat (created on first use). Returns the update, not yet delivered. */
  textUpdate(input: { from: FakeUser; chat: FakeChat; text: string; replyToMessageId?: number }): UpdateJson {
    this.model.addChat(input.chat);
    const entities = userEntities(input.text);
    const message = this.model.addMessage(input.chat.id, input.from, {
      text: input.text,
      entities,
      source: input.text,
      buttons: [],
      ...(input.replyToMessageId !== undefined ? { replyToMessageId: input.replyToMessageId } : {}),
    });
    const replied =
      input.replyToMessageId !== undefined
        ? this.model.message(input.chat.id, input.replyToMessageId)
        : undefined;
    return {
      update_id: this.nextUpdateId++,
      message: {
        ...messageJson(message, input.chat),
        ...(replied !== undefined ? { reply_to_message: messageJson(replied, input.chat) } : {}),
      },
    };
  }

  /**
   * A user presses a button on message `messageId` (the button carrying `data`; any data may be
   * forged, as on the real platform). Returns the update, not yet delivered.
   */
  callbackUpdate(input: { from: FakeUser; chatId: number; messageId: number; data: string }): UpdateJson {
    const chat = this.model.chat(input.chatId);
    const message = this.model.message(input.chatId, input.messageId);
    if (chat === undefined || message === undefined)
      throw new Error(`fake telegram: no message ${input.messageId} in chat ${input.chatId}`);
    const id = `${this.bot.id}${String(this.nextQueryId++).padStart(8, '0')}`;
    this.model.queries.set(id, {
      id,
      from: input.from,
      chatId: input.chatId,
      messageId: input.messageId,
      data: input.data,
    });
    return {
      update_id: this.nextUpdateId++,
      callback_query: {
        id,
        from: input.from,
        message: messageJson(message, chat),
        chat_instance: `ci${chat.id}`,
        data: input.data,
      },
    };
  }

  /** Queues an update for getUpdates (long polling) and wakes a waiting long poll. */
  enqueueUpdate(update: UpdateJson): void {
    this.pending.push(update);
    this.wake();
  }

  /** Updates not yet confirmed by a getUpdates offset. */
  get pendingUpdates(): number {
    return this.pending.length;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.wake();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  // ------------------------------------------------------------------ HTTP

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const url = new URL(req.url ?? '/', 'http://fake');
    const route = /^\/bot([^/]+)\/([A-Za-z]+)$/.exec(url.pathname);
    let method = route?.[2] ?? '';
    let params: Record<string, unknown> = {};
    try {
      if (route === null) throw new ApiFailure(404, 'Not Found');
      if (route[1] !== this.token) throw new ApiFailure(401, 'Unauthorized');
      params = readParams(url, req.headers['content-type'], Buffer.concat(chunks).toString('utf8'));
      const handler = this.handlerFor(method.toLowerCase());
      if (handler === undefined) throw new ApiFailure(404, 'Not Found: method not found');
      method = handler.name;
      this.applyRateLimit(method);
      const result = await handler.run(params, res);
      if (res.destroyed) return; // The client gave up on a long poll.
      this.record(method, params, 200);
      send(res, 200, { ok: true, result });
    } catch (error) {
      if (!(error instanceof ApiFailure)) throw error;
      this.record(method, params, error.code, error.description);
      send(res, error.code, {
        ok: false,
        error_code: error.code,
        description: error.description,
        ...(error.parameters ? { parameters: error.parameters } : {}),
      });
    }
  }

  private record(
    method: string,
    params: Record<string, unknown>,
    status: number,
    description?: string,
  ): void {
    const call: RecordedCall = {
      seq: this.model.nextSeq(),
      method,
      params,
      status,
      ...(description !== undefined ? { description } : {}),
    };
    this.calls.push(call);
    for (const listener of this.listeners) listener(call);
  }

  private applyRateLimit(method: string): void {
    const limit = this.rateLimits.find((candidate) =>
      candidate.method === undefined ? method !== 'getUpdates' : candidate.method === method,
    );
    if (limit === undefined) return;
    limit.remaining--;
    if (limit.remaining <= 0) this.rateLimits = this.rateLimits.filter((candidate) => candidate !== limit);
    throw new ApiFailure(429, `Too Many Requests: retry after ${limit.retryAfter}`, {
      retry_after: limit.retryAfter,
    });
  }

  private handlerFor(lowerName: string): { name: string; run: MethodHandler } | undefined {
    const handlers: Record<string, MethodHandler> = {
      getMe: () => this.botInfo,
      getUpdates: (params, res) => this.getUpdates(params, res),
      setWebhook: (params) => this.setWebhook(params),
      deleteWebhook: (params) => this.deleteWebhook(params),
      getWebhookInfo: () => ({
        url: this.webhook?.url ?? '',
        has_custom_certificate: false,
        pending_update_count: this.pending.length,
      }),
      sendMessage: (params) => this.sendMessage(params),
      editMessageText: (params) => this.editMessageText(params),
      editMessageReplyMarkup: (params) => this.editMessageReplyMarkup(params),
      answerCallbackQuery: (params) => this.answerCallbackQuery(params),
      setMyCommands: (params) => this.setMyCommands(params),
      getMyCommands: () => this.commands,
      deleteMyCommands: () => {
        this.commands = [];
        return true;
      },
    };
    const name = Object.keys(handlers).find((candidate) => candidate.toLowerCase() === lowerName);
    const run = name === undefined ? undefined : handlers[name];
    return name === undefined || run === undefined ? undefined : { name, run };
  }

  // ------------------------------------------------------------------ methods

  private async getUpdates(params: Record<string, unknown>, res: ServerResponse): Promise<UpdateJson[]> {
    if (this.webhook !== undefined)
      throw new ApiFailure(
        409,
        "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first",
      );
    const { offset, limit, timeout } = parseParams(getUpdatesSchema, params);
    const poll: FakePoll = { offset };
    this.polls.push(poll);
    this.pollsChanged();
    // An offset confirms every update below it: they are never returned again.
    if (offset !== undefined) this.pending = this.pending.filter((update) => update.update_id >= offset);
    const take = Math.max(1, Math.min(limit ?? 100, 100));
    if (this.pending.length === 0 && (timeout ?? 0) > 0 && !this.closed) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, (timeout ?? 0) * 1000);
        res.once('close', done);
        this.waiters.push(done);
        function done() {
          clearTimeout(timer);
          resolve();
        }
      });
    }
    const result = this.pending.slice(0, take);
    if (!res.destroyed) {
      poll.returned = result.map((update) => update.update_id);
      this.pollsChanged();
    }
    return result;
  }

  private pollsChanged(): void {
    for (const listener of [...this.pollListeners]) listener();
  }

  private setWebhook(params: Record<string, unknown>): true {
    const {
      url,
      secret_token: secretToken,
      drop_pending_updates: drop,
    } = parseParams(setWebhookSchema, params);
    if (url === '') {
      this.webhook = undefined;
      return true;
    }
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw badRequest('bad webhook: An HTTPS URL must be provided for webhook');
    }
    // Telegram wants HTTPS on 443/80/88/8443; the fake also accepts local http for tests.
    if (parsed.protocol !== 'https:' && parsed.hostname !== '127.0.0.1')
      throw badRequest('bad webhook: An HTTPS URL must be provided for webhook');
    if (secretToken !== undefined && !/^[A-Za-z0-9_-]{1,256}$/.test(secretToken))
      throw badRequest('secret token contains unallowed characters');
    if (drop) this.pending = [];
    this.webhook = { url, ...(secretToken !== undefined ? { secretToken } : {}) };
    return true;
  }

  private deleteWebhook(params: Record<string, unknown>): true {
    const { drop_pending_updates: drop } = parseParams(deleteWebhookSchema, params);
    this.webhook = undefined;
    if (drop) this.pending = [];
    return true;
  }

  private sendMessage(params: Record<string, unknown>): Record<string, unknown> {
    const input = parseParams(sendMessageSchema, params);
    const chat = this.knownChat(input.chat_id);
    const { text, entities } = parseMessageText(input.text, input.parse_mode);
    const buttons = validateKeyboard(input.reply_markup);
    const message = this.model.addMessage(chat.id, this.bot, { text, entities, source: input.text, buttons });
    return messageJson(message, chat);
  }

  private editMessageText(params: Record<string, unknown>): Record<string, unknown> {
    const input = parseParams(editMessageTextSchema, params);
    const chat = this.knownChat(input.chat_id);
    const message = this.editableMessage(chat.id, input.message_id);
    const { text, entities } = parseMessageText(input.text, input.parse_mode);
    // Like Telegram: an edit without reply_markup leaves the message without an inline keyboard.
    const buttons = validateKeyboard(input.reply_markup);
    if (sameContent(message, text, entities, buttons)) throw badRequest(NOT_MODIFIED);
    message.text = text;
    message.entities = entities;
    message.source = input.text;
    message.buttons = buttons;
    message.edits++;
    return messageJson(message, chat);
  }

  private editMessageReplyMarkup(params: Record<string, unknown>): Record<string, unknown> {
    const input = parseParams(editMarkupSchema, params);
    const chat = this.knownChat(input.chat_id);
    const message = this.editableMessage(chat.id, input.message_id);
    const buttons = validateKeyboard(input.reply_markup);
    if (sameContent(message, message.text, message.entities, buttons)) throw badRequest(NOT_MODIFIED);
    message.buttons = buttons;
    message.edits++;
    return messageJson(message, chat);
  }

  private answerCallbackQuery(params: Record<string, unknown>): true {
    const input = parseParams(answerCallbackSchema, params);
    const query = this.model.queries.get(input.callback_query_id);
    if (query === undefined || query.answer !== undefined) throw badRequest(QUERY_INVALID);
    if (input.text !== undefined && input.text.length > 200) throw badRequest('MESSAGE_TOO_LONG');
    query.answer = {
      seq: this.model.nextSeq(),
      ...(input.text ? { text: input.text } : {}),
      showAlert: input.show_alert ?? false,
    };
    return true;
  }

  private setMyCommands(params: Record<string, unknown>): true {
    const { commands } = parseParams(setMyCommandsSchema, params);
    if (commands.length > 100) throw badRequest('too many commands');
    for (const command of commands) {
      if (!/^[a-z0-9_]{1,32}$/.test(command.command)) throw badRequest('BOT_COMMAND_INVALID');
      const description = command.description.trim();
      if (description.length < 1 || description.length > 256)
        throw badRequest('command description is empty');
    }
    this.commands = commands.map(({ command, description }) => ({ command, description }));
    return true;
  }

  private knownChat(id: number | string): FakeChat {
    const chat = typeof id === 'number' ? this.model.chat(id) : undefined;
    if (chat === undefined) throw badRequest('chat not found');
    return chat;
  }

  private editableMessage(chatId: number, messageId: number): FakeMessage {
    const message = this.model.message(chatId, messageId);
    if (message === undefined) throw badRequest('message to edit not found');
    if (message.from.id !== this.bot.id) throw badRequest("message can't be edited");
    return message;
  }
}

function readParams(url: URL, contentType: string | undefined, body: string): Record<string, unknown> {
  const params: Record<string, unknown> = Object.fromEntries(url.searchParams);
  if (body === '') return params;
  const type = (contentType ?? '').split(';')[0]?.trim().toLowerCase();
  if (type === 'application/json') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      throw badRequest('request body is not valid JSON');
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
      throw badRequest('request body must be a JSON object');
    return { ...params, ...(parsed as Record<string, unknown>) };
  }
  if (type === 'application/x-www-form-urlencoded')
    return { ...params, ...Object.fromEntries(new URLSearchParams(body)) };
  throw badRequest(`fake telegram does not model content type "${type}"`);
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** Entities Telegram's clients attach to what a user types: a leading /command and @mentions. */
function userEntities(text: string): TextEntity[] {
  const entities: TextEntity[] = [];
  const command = /^\/[A-Za-z0-9_]{1,32}(@[A-Za-z0-9_]{3,32})?/.exec(text);
  if (command) entities.push({ type: 'bot_command', offset: 0, length: command[0].length });
  for (const mention of text.matchAll(/(^|\s)(@[A-Za-z0-9_]{5,32})/g)) {
    const offset = (mention.index ?? 0) + (mention[1]?.length ?? 0);
    entities.push({ type: 'mention', offset, length: mention[2]?.length ?? 0 });
  }
  return entities;
}

function messageJson(message: FakeMessage, chat: FakeChat): Record<string, unknown> {
  return {
    message_id: message.messageId,
    from: message.from,
    chat,
    date: message.date,
    text: message.text,
    ...(message.entities.length > 0 ? { entities: message.entities } : {}),
    ...(message.buttons.length > 0 ? { reply_markup: { inline_keyboard: message.buttons } } : {}),
  };
}
