/**
 * A local fake of OpenAI's Chat Completions endpoint, for driving the real `openai` client.
 *
 * It enforces what the real API enforces and what our code could get wrong: the bearer key, a JSON
 * body with model and messages, strict-valid tool schemas, `stream_options` only with `stream`,
 * `parallel_tool_calls` only with tools, and tool messages that answer the preceding assistant's
 * tool calls (all of them). Replies come from a script of turns (text, tool calls, faults) and are
 * served as a `chat.completion` or as SSE `chat.completion.chunk`s, arguments split across chunks.
 * A `raw` turn serves a 200 with any body (a broken server or gateway), for the client's checks.
 * Every request is recorded.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { listenOnLoopback } from '../listen.js';
import { findStrictSchemaProblems } from './strict-schema.js';

export interface FakeUsage {
  prompt_tokens: number;
  completion_tokens: number;
}

export interface ScriptedToolCall {
  /** Defaults to a fresh `call_...` id. */
  id?: string;
  name: string;
  /** Sent verbatim: may be invalid JSON on purpose. */
  arguments: string;
}

export type ScriptedTurn =
  | { type: 'text'; text: string; usage?: FakeUsage }
  | { type: 'tool_calls'; calls: ScriptedToolCall[]; text?: string; usage?: FakeUsage }
  /** An HTTP error with OpenAI's error body; served `times` times (default 1, Infinity = always). */
  | {
      type: 'error';
      status: number;
      times?: number;
      retryAfter?: string;
      message?: string;
      errorType?: string;
      code?: string | null;
    }
  /** Waits before answering (longer than the client's timeout to simulate a hang), then serves `reply`. */
  | { type: 'delay'; ms: number; reply: ScriptedTurn }
  /** A 200 with this body as it is (malformed on purpose); `contentType` defaults to SSE. */
  | { type: 'raw'; body: string; contentType?: string };

/** An SSE body of these chunks as given (any shape), ending in `data: [DONE]` unless `done` is false. */
export function sseBody(chunks: readonly unknown[], options: { done?: boolean } = {}): string {
  const events = chunks.map(
    (chunk) => `data: ${typeof chunk === 'string' ? chunk : JSON.stringify(chunk)}\n\n`,
  );
  return `${events.join('')}${options.done === false ? '' : 'data: [DONE]\n\n'}`;
}

/** A turn, or a function of the request (to react to what the client sent). */
export type ScriptItem = ScriptedTurn | ((request: RecordedRequest) => ScriptedTurn);

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  rawBody: string;
  /** Parsed JSON, or undefined when the body was not JSON. */
  body: unknown;
  /** The HTTP status the fake answered with. */
  status: number;
}

export interface FakeOpenAIOptions {
  apiKey: string;
  script?: ScriptItem[];
}

interface QueueEntry {
  item: ScriptItem;
  served: number;
}

class RequestError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly param: string | null,
    readonly code: string | null,
    readonly errorType = 'invalid_request_error',
  ) {
    super(message);
  }
}

const VALID_ROLES = new Set(['system', 'developer', 'user', 'assistant', 'tool']);
const TOOL_NAME = /^[a-zA-Z0-9_-]{1,64}$/;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Splits a string into `parts` roughly equal non-empty pieces (fewer when it is short). */
function split(text: string, parts: number): string[] {
  if (text.length <= 1) return [text];
  const size = Math.max(1, Math.ceil(text.length / parts));
  const pieces: string[] = [];
  for (let start = 0; start < text.length; start += size) pieces.push(text.slice(start, start + size));
  return pieces;
}

export class FakeOpenAIServer {
  readonly requests: RecordedRequest[] = [];
  private readonly queue: QueueEntry[] = [];
  private readonly server: Server;
  private readonly apiKey: string;
  private port = 0;

  private constructor(options: FakeOpenAIOptions) {
    this.apiKey = options.apiKey;
    this.enqueue(...(options.script ?? []));
    this.server = createServer((req, res) => {
      this.handle(req, res).catch(() => {
        if (!res.headersSent) res.writeHead(500);
        res.end();
      });
    });
  }

  static async start(options: FakeOpenAIOptions): Promise<FakeOpenAIServer> {
    const fake = new FakeOpenAIServer(options);
    fake.port = await listenOnLoopback(fake.server);
    return fake;
  }

  /** Base URL for `new OpenAI({ baseURL })`. */
  get baseURL(): string {
    return `http://127.0.0.1:${this.port}/v1`;
  }

  enqueue(...items: ScriptItem[]): void {
    for (const item of items) this.queue.push({ item, served: 0 });
  }

  /** Drops script items not yet served, so one test's leftovers cannot answer the next one. */
  clearScript(): void {
    this.queue.length = 0;
  }

  /** Script items not yet (fully) served. */
  get remaining(): number {
    return this.queue.length;
  }

  /** Requests that reached the completions endpoint (retries included). */
  get completionRequests(): RecordedRequest[] {
    return this.requests.filter((request) => request.path === '/v1/chat/completions');
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const rawBody = Buffer.concat(chunks).toString('utf8');
    const record: RecordedRequest = {
      method: req.method ?? '',
      path: (req.url ?? '').split('?')[0] ?? '',
      headers: req.headers,
      rawBody,
      body: undefined,
      status: 0,
    };
    this.requests.push(record);
    try {
      if (record.method !== 'POST' || record.path !== '/v1/chat/completions') {
        throw new RequestError(404, `Invalid URL (${record.method} ${record.path})`, null, null);
      }
      if (req.headers.authorization !== `Bearer ${this.apiKey}`) {
        throw new RequestError(401, 'Incorrect API key provided.', null, 'invalid_api_key');
      }
      try {
        record.body = JSON.parse(rawBody);
      } catch {
        throw new RequestError(
          400,
          "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly.)",
          null,
          null,
        );
      }
      const body = validateBody(record.body);
      await this.respond(body, record, res);
    } catch (error) {
      if (!(error instanceof RequestError)) throw error;
      record.status = error.status;
      sendError(res, error.status, error.message, error.errorType, error.param, error.code);
    }
  }

  private nextTurn(record: RecordedRequest): ScriptedTurn {
    const head = this.queue[0];
    if (!head) {
      throw new RequestError(500, 'fake OpenAI: the script is exhausted', null, null, 'server_error');
    }
    head.served += 1;
    const turn = typeof head.item === 'function' ? head.item(record) : head.item;
    const times = turn.type === 'error' ? (turn.times ?? 1) : 1;
    if (head.served >= times) this.queue.shift();
    return turn;
  }

  private async respond(body: ChatRequest, record: RecordedRequest, res: ServerResponse): Promise<void> {
    let turn = this.nextTurn(record);
    while (turn.type === 'delay') {
      let gone = false;
      res.once('close', () => {
        gone = true;
      });
      await sleep(turn.ms);
      if (gone) {
        record.status = -1;
        return;
      }
      turn = turn.reply;
    }
    if (turn.type === 'error') {
      record.status = turn.status;
      const headers: Record<string, string> = {};
      if (turn.retryAfter !== undefined) headers['retry-after'] = turn.retryAfter;
      const defaults = errorDefaults(turn.status);
      sendError(
        res,
        turn.status,
        turn.message ?? defaults.message,
        turn.errorType ?? defaults.type,
        null,
        turn.code === undefined ? defaults.code : turn.code,
        headers,
      );
      return;
    }
    record.status = 200;
    if (turn.type === 'raw') {
      res.writeHead(200, {
        'content-type': turn.contentType ?? 'text/event-stream; charset=utf-8',
        'x-request-id': `req_${randomUUID()}`,
      });
      res.end(turn.body);
      return;
    }
    const calls =
      turn.type === 'tool_calls'
        ? turn.calls.map((call) => ({
            ...call,
            id: call.id ?? `call_${randomUUID().replaceAll('-', '').slice(0, 24)}`,
          }))
        : [];
    const text = turn.type === 'text' ? turn.text : (turn.text ?? '');
    const completionText = text + calls.map((call) => call.name + call.arguments).join('');
    const usage = turn.usage ?? {
      prompt_tokens: Math.ceil(record.rawBody.length / 4),
      completion_tokens: Math.max(1, Math.ceil(completionText.length / 4)),
    };
    const fullUsage = { ...usage, total_tokens: usage.prompt_tokens + usage.completion_tokens };
    const finishReason = calls.length > 0 ? 'tool_calls' : 'stop';
    const id = `chatcmpl-${randomUUID()}`;
    const created = Math.floor(Date.now() / 1000);

    if (body.stream !== true) {
      res.writeHead(200, { 'content-type': 'application/json', 'x-request-id': `req_${randomUUID()}` });
      res.end(
        JSON.stringify({
          id,
          object: 'chat.completion',
          created,
          model: body.model,
          system_fingerprint: null,
          choices: [
            {
              index: 0,
              message: {
                role: 'assistant',
                content: text === '' && calls.length > 0 ? null : text,
                refusal: null,
                ...(calls.length > 0
                  ? {
                      tool_calls: calls.map((call) => ({
                        id: call.id,
                        type: 'function',
                        function: { name: call.name, arguments: call.arguments },
                      })),
                    }
                  : {}),
              },
              logprobs: null,
              finish_reason: finishReason,
            },
          ],
          usage: fullUsage,
        }),
      );
      return;
    }

    const includeUsage = isRecord(body.stream_options) && body.stream_options['include_usage'] === true;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      'x-request-id': `req_${randomUUID()}`,
    });
    const send = (choices: unknown[], usageField?: unknown) => {
      const chunk: Record<string, unknown> = {
        id,
        object: 'chat.completion.chunk',
        created,
        model: body.model,
        system_fingerprint: null,
        choices,
      };
      if (includeUsage) chunk['usage'] = usageField ?? null;
      res.write(`data: ${JSON.stringify(chunk)}\n\n`);
    };
    const delta = (value: Record<string, unknown>, finish: string | null = null) => [
      { index: 0, delta: value, logprobs: null, finish_reason: finish },
    ];
    send(delta({ role: 'assistant', content: calls.length > 0 && text === '' ? null : '', refusal: null }));
    for (const piece of text === '' ? [] : split(text, 4)) send(delta({ content: piece }));
    calls.forEach((call, index) => {
      send(
        delta({
          tool_calls: [
            { index, id: call.id, type: 'function', function: { name: call.name, arguments: '' } },
          ],
        }),
      );
      for (const piece of split(call.arguments, 3)) {
        send(delta({ tool_calls: [{ index, function: { arguments: piece } }] }));
      }
    });
    send(delta({}, finishReason));
    if (includeUsage) send([], fullUsage);
    res.write('data: [DONE]\n\n');
    res.end();
  }
}

function errorDefaults(status: number): { message: string; type: string; code: string | null } {
  if (status === 429) {
    return {
      message: 'Rate limit reached for requests. Please try again later.',
      type: 'requests',
      code: 'rate_limit_exceeded',
    };
  }
  if (status >= 500) {
    return {
      message: 'The server had an error while processing your request.',
      type: 'server_error',
      code: null,
    };
  }
  return { message: 'Bad request.', type: 'invalid_request_error', code: null };
}

function sendError(
  res: ServerResponse,
  status: number,
  message: string,
  type: string,
  param: string | null,
  code: string | null,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify({ error: { message, type, param, code } }));
}

interface ChatRequest {
  model: string;
  messages: unknown[];
  stream?: unknown;
  stream_options?: unknown;
}

/** Checks the request like the real endpoint does; throws a 400 RequestError otherwise. */
function validateBody(body: unknown): ChatRequest {
  if (!isRecord(body)) throw new RequestError(400, 'The request body must be a JSON object.', null, null);
  const model = body['model'];
  if (typeof model !== 'string' || model === '') {
    throw new RequestError(400, 'you must provide a model parameter', null, null);
  }
  const messages = body['messages'];
  if (!Array.isArray(messages)) {
    throw new RequestError(
      400,
      "Missing required parameter: 'messages'.",
      'messages',
      'missing_required_parameter',
    );
  }
  if (messages.length === 0) {
    throw new RequestError(
      400,
      "Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead.",
      'messages',
      'empty_array',
    );
  }
  validateMessages(messages);

  const tools = body['tools'];
  if (tools !== undefined) {
    if (!Array.isArray(tools))
      throw new RequestError(400, "Invalid type for 'tools'.", 'tools', 'invalid_type');
    tools.forEach((tool, index) => {
      validateTool(tool, index);
    });
  }
  if (
    body['parallel_tool_calls'] !== undefined &&
    (tools === undefined || (Array.isArray(tools) && tools.length === 0))
  ) {
    throw new RequestError(
      400,
      "Invalid value for 'parallel_tool_calls': 'parallel_tool_calls' is only allowed when 'tools' are specified.",
      'parallel_tool_calls',
      null,
    );
  }
  if (body['stream_options'] !== undefined && body['stream'] !== true) {
    throw new RequestError(
      400,
      "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
      'stream_options',
      null,
    );
  }
  return { model, messages, stream: body['stream'], stream_options: body['stream_options'] };
}

function validateTool(tool: unknown, index: number): void {
  const fn = isRecord(tool) ? tool['function'] : undefined;
  if (!isRecord(tool) || tool['type'] !== 'function' || !isRecord(fn)) {
    throw new RequestError(400, `Invalid value for 'tools[${index}]'.`, `tools[${index}]`, 'invalid_value');
  }
  const name = fn['name'];
  if (typeof name !== 'string' || !TOOL_NAME.test(name)) {
    throw new RequestError(
      400,
      `Invalid 'tools[${index}].function.name': string does not match pattern. Expected a string that matches the pattern '^[a-zA-Z0-9_-]+$'.`,
      `tools[${index}].function.name`,
      'invalid_value',
    );
  }
  if (fn['strict'] === true) {
    const problems = findStrictSchemaProblems(fn['parameters']);
    if (problems.length > 0) {
      throw new RequestError(
        400,
        `Invalid schema for function '${name}': ${problems[0]}`,
        `tools[${index}].function.parameters`,
        'invalid_function_parameters',
      );
    }
  }
}

/** Roles, and the tool-call protocol: every call answered, no tool message without its call. */
function validateMessages(messages: unknown[]): void {
  let outstanding = new Set<string>();
  let answerable = new Set<string>();
  messages.forEach((message, index) => {
    if (!isRecord(message) || typeof message['role'] !== 'string' || !VALID_ROLES.has(message['role'])) {
      throw new RequestError(
        400,
        `Invalid value for 'messages[${index}].role'.`,
        `messages[${index}].role`,
        'invalid_value',
      );
    }
    const role = message['role'];
    if (role === 'tool') {
      const callId = message['tool_call_id'];
      if (typeof callId !== 'string' || !answerable.has(callId)) {
        throw new RequestError(
          400,
          "Invalid parameter: messages with role 'tool' must be a response to a preceeding message with 'tool_calls'.",
          `messages.[${index}].role`,
          null,
        );
      }
      if (typeof message['content'] !== 'string' && !Array.isArray(message['content'])) {
        throw new RequestError(
          400,
          `Missing required parameter: 'messages[${index}].content'.`,
          `messages[${index}].content`,
          'missing_required_parameter',
        );
      }
      outstanding.delete(callId);
      return;
    }
    if (outstanding.size > 0) throw missingToolResponses(outstanding, index);
    answerable = new Set();
    if (role === 'assistant' && Array.isArray(message['tool_calls']) && message['tool_calls'].length > 0) {
      for (const call of message['tool_calls']) {
        const id = isRecord(call) ? call['id'] : undefined;
        if (typeof id !== 'string') {
          throw new RequestError(
            400,
            `Missing required parameter: 'messages[${index}].tool_calls[0].id'.`,
            null,
            'missing_required_parameter',
          );
        }
        answerable.add(id);
      }
      outstanding = new Set(answerable);
    } else if (typeof message['content'] !== 'string' && !Array.isArray(message['content'])) {
      throw new RequestError(
        400,
        `Invalid value for 'messages[${index}].content'.`,
        `messages[${index}].content`,
        'invalid_value',
      );
    }
  });
  if (outstanding.size > 0) throw missingToolResponses(outstanding, messages.length);
}

function missingToolResponses(outstanding: Set<string>, index: number): RequestError {
  return new RequestError(
    400,
    `An assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'. The following tool_call_ids did not have response messages: ${[...outstanding].join(', ')}`,
    `messages.[${index}].role`,
    null,
  );
}
