/**
 * The LLM path: one user message, a bounded loop of streamed Chat Completions with strict function
 * tools, and a result the core can trust. The model can read data through the `ToolExecutor`; every
 * state-changing tool only yields a validated command for a confirmation card. Any failure (timeout,
 * rate limit, outage, unreadable tool call, runaway loop) ends with no commands and a clear message.
 */
import type OpenAI from 'openai';
import { APIConnectionTimeoutError, APIError, APIUserAbortError, RateLimitError } from 'openai';
import type {
  ChatCompletionMessageFunctionToolCall,
  ChatCompletionMessageParam,
} from 'openai/resources/chat/completions';
import { z } from 'zod';
import type { ActionCommand, OrderCommand, QueryCommand, SwapCommand } from '../commands.js';
import { buildSystemPrompt, wrapToolError, wrapToolResult } from './prompt.js';
import type { ToolExecutor } from './tool-executor.js';
import { buildTools, parseToolCall } from './tools.js';

/** A prior chat turn. Only user and assistant text: system or tool roles cannot be smuggled in. */
export interface LlmHistoryTurn {
  role: 'user' | 'assistant';
  content: string;
}

export interface LlmInterpretInput {
  userText: string;
  /** Oldest first; only the newest `maxHistoryTurns` are sent. */
  history?: readonly LlmHistoryTurn[];
  executor: ToolExecutor;
  /** Cancels the whole interpretation (e.g. the chat went away). */
  signal?: AbortSignal;
  /**
   * Assistant text as it streams. A preview only: `LlmResult.text` is authoritative (on a failure it
   * is the failure message, and text after an unreadable tool call is held back).
   */
  onText?: (delta: string) => void;
}

export interface LlmInterpreterOptions {
  client: OpenAI;
  model: string;
  /** Rounds of tool calls executed before the model must answer. Default 4. */
  maxToolRounds?: number;
  /** Deadline for the whole interpretation, all rounds and retries included. Default 60 s. */
  timeoutMs?: number;
  /** Prior turns sent along. Default 12. */
  maxHistoryTurns?: number;
  /** Extra system prompt pieces (tone, user's mode...), appended after the fixed safety rules. */
  systemPromptPieces?: readonly string[];
  /** Clock for the date in the system prompt. */
  now?: () => Date;
}

export interface LlmUsage {
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
}

/** One tool call, for the audit trail. */
export interface LlmToolCallRecord {
  name: string;
  ok: boolean;
  error?: string;
}

export type LlmFailureKind =
  | 'timeout'
  | 'rate_limited'
  | 'unavailable'
  | 'invalid_tool_call'
  | 'too_many_rounds';

export interface LlmFailure {
  kind: LlmFailureKind;
  userMessage: string;
  /** For logs: status/code/error class. Never contains request data. */
  detail?: string;
}

/** A proposal the core turns into a confirmation card. Never executed by this layer. */
export type LlmCommand = OrderCommand | SwapCommand | ActionCommand;

export interface LlmResult {
  text: string;
  commands: LlmCommand[];
  usage: LlmUsage;
  toolCalls: LlmToolCallRecord[];
  outcome: 'answered' | 'proposed' | 'failed';
  failure?: LlmFailure;
}

const PLAIN_COMMANDS_HINT = "Plain commands like 'buy 10 AAPL' still work.";

export const FAILURE_MESSAGES: Record<LlmFailureKind, string> = {
  timeout: `The assistant took too long to answer. Nothing was done. ${PLAIN_COMMANDS_HINT}`,
  rate_limited: `The assistant is busy right now (rate limited). Nothing was done. ${PLAIN_COMMANDS_HINT}`,
  unavailable: `The assistant is unavailable right now. Nothing was done. ${PLAIN_COMMANDS_HINT}`,
  invalid_tool_call: `I couldn't turn that into a valid request. Nothing was done. Try rephrasing it. ${PLAIN_COMMANDS_HINT}`,
  too_many_rounds: `That took too many steps, so I stopped. Nothing was done. Try a simpler request. ${PLAIN_COMMANDS_HINT}`,
};

const CANCELLED_MESSAGE = `Stopped before the assistant finished. Nothing was done. ${PLAIN_COMMANDS_HINT}`;

/** Bounds on what one message can put into a prompt. */
const MAX_TURN_CHARS = 4_000;
const MAX_USER_CHARS = 8_000;
/** More proposals than this in one message is a runaway model, not a user request. */
const MAX_COMMANDS = 5;

const historySchema = z.array(z.object({ role: z.enum(['user', 'assistant']), content: z.string() }));

const PROPOSAL_RECORDED = {
  status: 'recorded',
  note: 'Nothing has been placed or changed. The user will see a confirmation card and must confirm it.',
};

/**
 * Raised inside the loop to end it with a specific failure; the loop catches it, so it never
 * leaves this file.
 */
class LoopFailure extends Error {
  constructor(
    readonly kind: LlmFailureKind,
    readonly detail?: string,
  ) {
    super(kind);
  }
}

/** Rejects as soon as `signal` aborts, so an SDK retry sleep or a slow executor cannot outlive the deadline. */
function raceAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    promise.catch(() => undefined);
    return Promise.reject(new APIUserAbortError());
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new APIUserAbortError());
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

interface StreamedToolCall {
  id: string;
  name: string;
  arguments: string;
}

interface RoundReply {
  text: string;
  toolCalls: StreamedToolCall[];
}

interface LoopState {
  usage: LlmUsage;
  toolCalls: LlmToolCallRecord[];
  commands: LlmCommand[];
  /** An unreadable tool call not yet followed by a valid one: the turn must not end as a success. */
  pendingInvalid: boolean;
  /** Set once the result is decided, so late stream chunks are not emitted. */
  closed: boolean;
}

export class LlmInterpreter {
  private readonly maxToolRounds: number;
  private readonly timeoutMs: number;
  private readonly maxHistoryTurns: number;
  private readonly tools = buildTools();

  constructor(private readonly options: LlmInterpreterOptions) {
    this.maxToolRounds = Math.max(0, options.maxToolRounds ?? 4);
    this.timeoutMs = options.timeoutMs ?? 60_000;
    this.maxHistoryTurns = Math.max(0, options.maxHistoryTurns ?? 12);
  }

  async interpret(input: LlmInterpretInput): Promise<LlmResult> {
    const deadline = AbortSignal.timeout(this.timeoutMs);
    const signal = input.signal ? AbortSignal.any([deadline, input.signal]) : deadline;
    const state: LoopState = {
      usage: { promptTokens: 0, completionTokens: 0, totalTokens: 0 },
      toolCalls: [],
      commands: [],
      pendingInvalid: false,
      closed: false,
    };
    try {
      return await raceAbort(this.run(input, signal, state), signal);
    } catch (error) {
      if (deadline.aborted) return this.fail(state, 'timeout', 'deadline');
      if (input.signal?.aborted) return this.fail(state, 'timeout', 'cancelled', CANCELLED_MESSAGE);
      if (error instanceof LoopFailure) return this.fail(state, error.kind, error.detail);
      if (error instanceof RateLimitError) return this.fail(state, 'rate_limited', describeApiError(error));
      if (error instanceof APIConnectionTimeoutError || error instanceof APIUserAbortError) {
        return this.fail(state, 'timeout', error.constructor.name);
      }
      if (error instanceof APIError) return this.fail(state, 'unavailable', describeApiError(error));
      return this.fail(state, 'unavailable', error instanceof Error ? error.name : 'unknown error');
    } finally {
      state.closed = true;
    }
  }

  private async run(input: LlmInterpretInput, signal: AbortSignal, state: LoopState): Promise<LlmResult> {
    const messages: ChatCompletionMessageParam[] = [
      {
        role: 'system',
        content: buildSystemPrompt(this.options.now?.() ?? new Date(), this.options.systemPromptPieces),
      },
      ...this.boundHistory(input.history),
      { role: 'user', content: input.userText.slice(0, MAX_USER_CHARS) },
    ];

    for (let round = 0; ; round += 1) {
      const reply = await this.complete(messages, signal, state, input.onText);
      if (reply.toolCalls.length === 0) {
        if (state.pendingInvalid)
          throw new LoopFailure('invalid_tool_call', 'the turn ended after an unreadable tool call');
        state.closed = true;
        return {
          text: reply.text.trim() === '' ? this.emptyAnswer(state) : reply.text,
          commands: state.commands,
          usage: state.usage,
          toolCalls: state.toolCalls,
          outcome: state.commands.length > 0 ? 'proposed' : 'answered',
        };
      }
      if (round >= this.maxToolRounds) throw new LoopFailure('too_many_rounds', `${round} tool rounds`);

      messages.push({
        role: 'assistant',
        content: reply.text === '' ? null : reply.text,
        tool_calls: reply.toolCalls.map(
          (call): ChatCompletionMessageFunctionToolCall => ({
            id: call.id,
            type: 'function',
            function: { name: call.name, arguments: call.arguments },
          }),
        ),
      });
      for (const call of reply.toolCalls) {
        const content = await this.runTool(call, input.executor, signal, state);
        messages.push({ role: 'tool', tool_call_id: call.id, content });
      }
    }
  }

  /** One streamed completion: text deltas go to `onText`, tool-call deltas are joined by index. */
  private async complete(
    messages: ChatCompletionMessageParam[],
    signal: AbortSignal,
    state: LoopState,
    onText: ((delta: string) => void) | undefined,
  ): Promise<RoundReply> {
    const stream = await this.options.client.chat.completions.create(
      {
        model: this.options.model,
        messages,
        tools: this.tools,
        tool_choice: 'auto',
        parallel_tool_calls: false,
        stream: true,
        stream_options: { include_usage: true },
      },
      { signal },
    );
    // Text after an unreadable tool call may be replaced by a failure message: hold it back.
    const emit = state.pendingInvalid ? undefined : onText;
    let text = '';
    const calls = new Map<number, StreamedToolCall>();
    for await (const chunk of stream) {
      if (chunk.usage) {
        state.usage.promptTokens += chunk.usage.prompt_tokens;
        state.usage.completionTokens += chunk.usage.completion_tokens;
        state.usage.totalTokens += chunk.usage.total_tokens;
      }
      const delta = chunk.choices[0]?.delta;
      if (!delta) continue;
      const piece = (delta.content ?? '') + (delta.refusal ?? '');
      if (piece !== '') {
        text += piece;
        if (emit && !state.closed) emit(piece);
      }
      for (const callDelta of delta.tool_calls ?? []) {
        const entry = calls.get(callDelta.index) ?? { id: '', name: '', arguments: '' };
        if (callDelta.id) entry.id = callDelta.id;
        if (callDelta.function?.name) entry.name += callDelta.function.name;
        if (callDelta.function?.arguments) entry.arguments += callDelta.function.arguments;
        calls.set(callDelta.index, entry);
      }
    }
    const toolCalls = [...calls.entries()]
      .sort(([a], [b]) => a - b)
      .map(([index, call]) => ({ ...call, id: call.id === '' ? `call_arbion_${index}` : call.id }));
    return { text, toolCalls };
  }

  /** Validates one call, runs read-only ones, records proposals; returns the tool message content. */
  private async runTool(
    call: StreamedToolCall,
    executor: ToolExecutor,
    signal: AbortSignal,
    state: LoopState,
  ): Promise<string> {
    const parsed = parseToolCall(call.name, call.arguments);
    if (!parsed.ok) {
      state.pendingInvalid = true;
      state.toolCalls.push({ name: call.name, ok: false, error: parsed.error });
      return wrapToolError(call.name, parsed.error);
    }
    state.pendingInvalid = false;
    if (parsed.kind === 'proposal') {
      if (state.commands.length >= MAX_COMMANDS) {
        const error = `at most ${MAX_COMMANDS} proposals per message`;
        state.toolCalls.push({ name: call.name, ok: false, error });
        return wrapToolError(call.name, error);
      }
      state.commands.push(parsed.command);
      state.toolCalls.push({ name: call.name, ok: true });
      return wrapToolResult(call.name, PROPOSAL_RECORDED);
    }
    try {
      const data = await raceAbort(this.read(parsed.command, executor), signal);
      state.toolCalls.push({ name: call.name, ok: true });
      return wrapToolResult(call.name, data);
    } catch (error) {
      if (signal.aborted) throw error;
      // The executor's error text could hold internals; the model only learns that data is missing.
      state.toolCalls.push({ name: call.name, ok: false, error: 'executor failed' });
      return wrapToolError(call.name, 'the data is unavailable right now');
    }
  }

  private read(command: QueryCommand, executor: ToolExecutor): Promise<unknown> {
    switch (command.query) {
      case 'quote':
        return command.symbol === undefined
          ? Promise.reject(new Error('quote without symbol'))
          : executor.quote(command.symbol);
      case 'balance':
        return executor.balance();
      case 'positions':
        return executor.positions();
      case 'orders':
        return executor.openOrders();
      case 'help':
      case 'wallet':
      case 'history':
      case 'fills':
      case 'chain':
        return Promise.reject(new Error(`${command.query} is not a tool`));
    }
  }

  /** The newest turns only, each capped, roles checked (history is data from storage). */
  private boundHistory(history: readonly LlmHistoryTurn[] | undefined): ChatCompletionMessageParam[] {
    const parsed = historySchema.safeParse(history ?? []);
    if (!parsed.success || this.maxHistoryTurns === 0) return [];
    return parsed.data
      .slice(-this.maxHistoryTurns)
      .map((turn) => ({ role: turn.role, content: turn.content.slice(0, MAX_TURN_CHARS) }));
  }

  private emptyAnswer(state: LoopState): string {
    return state.commands.length > 0
      ? 'Please review the confirmation card. Nothing happens until you confirm.'
      : "Sorry, I don't have an answer to that.";
  }

  private fail(state: LoopState, kind: LlmFailureKind, detail?: string, userMessage?: string): LlmResult {
    state.closed = true;
    const message = userMessage ?? FAILURE_MESSAGES[kind];
    return {
      text: message,
      commands: [],
      usage: state.usage,
      toolCalls: state.toolCalls,
      outcome: 'failed',
      failure: { kind, userMessage: message, ...(detail === undefined ? {} : { detail }) },
    };
  }
}

function describeApiError(error: APIError): string {
  return [error.status ?? 'no status', error.code ?? error.type ?? error.constructor.name].join(' ');
}
