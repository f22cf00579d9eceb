/**
 * The LLM path: one user message, a bounded loop of streamed Chat Completions with strict function
 * tools, and a result the core can trust. The model can read data through the `ToolExecutor`; every
 * state-changing tool only asks: its validated command goes to the core (`Proposer`), which shows a
 * card, a typed confirmation phrase or a refusal, and the model learns which. A round of proposals
 * alone ends the turn (no second completion before or after the cards). The final prose is checked:
 * a claim that something was placed, filled or cancelled is replaced by what really happened. Any
 * failure (timeout, rate limit, outage, malformed answer, unreadable tool call, runaway loop) ends
 * with a clear message and nothing more proposed.
 */
import type {
  ChatCompletionMessageFunctionToolCall,
  ChatCompletionMessageParam,
} from 'openai/resources/chat/completions';
import { z } from 'zod';
import type { QueryCommand } from '../commands.js';
import { truthfulAnswer } from './claims.js';
import type { LlmClient } from './client.js';
import {
  MalformedCompletionError,
  readCompletionStream,
  type StreamedReply,
  type StreamedToolCall,
} from './completion-stream.js';
import {
  CANCELLED_MESSAGE,
  describeApiError,
  FAILURE_MESSAGES,
  type LlmFailure,
  type LlmFailureKind,
  LoopFailure,
  raceAbort,
  TurnAbortedError,
} from './failures.js';
import { buildSystemPrompt, wrapToolError, wrapToolResult } from './prompt.js';
import {
  describeProposalOutcome,
  type LlmCommand,
  type ProposalOutcome,
  type Proposer,
} from './proposals.js';
import type { ToolExecutor } from './tool-executor.js';
import { buildTools, type ParsedToolCall, parseToolCall } from './tools.js';

export { FAILURE_MESSAGES, type LlmFailure, type LlmFailureKind } from './failures.js';

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
  /** Dispatches a proposal through the core (card, typed phrase or refusal) and says what it did. */
  propose: Proposer;
  /** Cancels the whole interpretation (e.g. the chat went away). */
  signal?: AbortSignal;
  /**
   * The answer's text, once it is checked (a false claim never reaches it). Called once, with
   * `LlmResult.text`, when the turn ends with an answer.
   */
  onText?: (text: string) => void;
}

export interface LlmInterpreterOptions {
  /** The model's client, built on first use (`createOpenAIClient`). */
  client: LlmClient;
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

export interface LlmResult {
  text: string;
  /** The proposals handed to the core this turn (already dispatched: never dispatch them again). */
  commands: LlmCommand[];
  /** What the core did with each, in order. */
  outcomes: ProposalOutcome[];
  /** The model's prose claimed a deed the core did not do, and was replaced. */
  claimReplaced: boolean;
  usage: LlmUsage;
  toolCalls: LlmToolCallRecord[];
  outcome: 'answered' | 'proposed' | 'failed';
  failure?: LlmFailure;
}

/** Bounds on what one message can put into a prompt. */
const MAX_TURN_CHARS = 4_000;
const MAX_USER_CHARS = 8_000;
/** More proposals than this in one message is a runaway model, not a user request. */
const MAX_COMMANDS = 5;

const historySchema = z.array(z.object({ role: z.enum(['user', 'assistant']), content: z.string() }));

/** A proposal's dispatch failed (a database outage, say): the caller handles it, not this layer. */
class ProposalDispatchError extends Error {
  constructor(override readonly cause: unknown) {
    super('the core could not dispatch a proposal');
  }
}

interface LoopState {
  usage: LlmUsage;
  toolCalls: LlmToolCallRecord[];
  commands: LlmCommand[];
  outcomes: ProposalOutcome[];
  /** The proposal being dispatched: a deadline never cuts one short, the result waits for it. */
  dispatching: Promise<unknown>;
  /** An unreadable tool call not yet followed by a valid one: the turn must not end as a success. */
  pendingInvalid: boolean;
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
      outcomes: [],
      dispatching: Promise.resolve(),
      pendingInvalid: false,
    };
    try {
      return await raceAbort(this.run(input, signal, state), signal);
    } catch (error) {
      // A proposal in flight finishes first: its card (or refusal) is part of what happened.
      await state.dispatching;
      if (error instanceof ProposalDispatchError) throw error.cause;
      if (deadline.aborted) return this.fail(state, 'timeout', 'deadline');
      if (input.signal?.aborted) return this.fail(state, 'timeout', 'cancelled', CANCELLED_MESSAGE);
      if (error instanceof LoopFailure) return this.fail(state, error.kind, error.detail);
      if (error instanceof MalformedCompletionError) return this.fail(state, 'unavailable', error.message);
      if (error instanceof TurnAbortedError) return this.fail(state, 'timeout', error.name);
      // The SDK's error classes: loaded by now, since only a request can raise them.
      const { APIConnectionTimeoutError, APIError, APIUserAbortError, RateLimitError } = await import(
        'openai'
      );
      if (error instanceof RateLimitError) return this.fail(state, 'rate_limited', describeApiError(error));
      if (error instanceof APIConnectionTimeoutError || error instanceof APIUserAbortError) {
        return this.fail(state, 'timeout', error.constructor.name);
      }
      if (error instanceof APIError) return this.fail(state, 'unavailable', describeApiError(error));
      return this.fail(state, 'unavailable', error instanceof Error ? error.name : 'unknown error');
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
      const reply = await this.complete(messages, signal, state);
      if (reply.toolCalls.length === 0) {
        if (state.pendingInvalid)
          throw new LoopFailure('invalid_tool_call', 'the turn ended after an unreadable tool call');
        return this.answer(input, state, reply.text);
      }
      const parsed = reply.toolCalls.map((call) => parseToolCall(call.name, call.arguments));
      // Proposals alone: the cards (or refusals) are the answer, with no second round trip.
      const onlyProposals = parsed.every((call) => call.ok && call.kind === 'proposal');
      if (!onlyProposals && round >= this.maxToolRounds)
        throw new LoopFailure('too_many_rounds', `${round} tool rounds`);

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
      const decidedBefore = state.outcomes.length;
      for (const [index, call] of reply.toolCalls.entries()) {
        const content = await this.runTool(call, parsed[index], input, signal, state);
        messages.push({ role: 'tool', tool_call_id: call.id, content });
      }
      if (onlyProposals) {
        // The words beside the calls were written before the core decided: they stand only if
        // every proposal got its card ("please check the card" after a refusal would mislead).
        const allCards = state.outcomes.slice(decidedBefore).every((outcome) => outcome.kind === 'card');
        return this.answer(input, state, allCards ? reply.text : '');
      }
    }
  }

  /** The turn's answer: the model's prose unless it claims a deed, then what really happened. */
  private answer(input: LlmInterpretInput, state: LoopState, text: string): LlmResult {
    const checked =
      text.trim() === ''
        ? { text: this.emptyAnswer(state), replaced: false }
        : truthfulAnswer(text, state.outcomes);
    if (checked.text !== '') input.onText?.(checked.text);
    return {
      text: checked.text,
      commands: state.commands,
      outcomes: state.outcomes,
      claimReplaced: checked.replaced,
      usage: state.usage,
      toolCalls: state.toolCalls,
      outcome: state.commands.length > 0 ? 'proposed' : 'answered',
    };
  }

  /** One streamed completion, its chunks checked (completion-stream.ts). */
  private async complete(
    messages: ChatCompletionMessageParam[],
    signal: AbortSignal,
    state: LoopState,
  ): Promise<StreamedReply> {
    const client = await this.options.client();
    const stream = await client.chat.completions.create(
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
    return readCompletionStream(stream, state.usage);
  }

  /**
   * Runs one validated call: a read-only one through the executor, a proposal through the core
   * (after the core decided, the model is told what it did). Returns the tool message content.
   */
  private async runTool(
    call: StreamedToolCall,
    parsed: ParsedToolCall | undefined,
    input: LlmInterpretInput,
    signal: AbortSignal,
    state: LoopState,
  ): Promise<string> {
    if (parsed === undefined || !parsed.ok) {
      const error = parsed?.error ?? 'unreadable tool call';
      state.pendingInvalid = true;
      state.toolCalls.push({ name: call.name, ok: false, error });
      return wrapToolError(call.name, error);
    }
    state.pendingInvalid = false;
    if (parsed.kind === 'proposal') {
      if (state.commands.length >= MAX_COMMANDS) {
        const error = `at most ${MAX_COMMANDS} proposals per message`;
        state.toolCalls.push({ name: call.name, ok: false, error });
        return wrapToolError(call.name, error);
      }
      state.commands.push(parsed.command);
      const outcome = await this.dispatch(input.propose, parsed.command, state);
      state.toolCalls.push({ name: call.name, ok: true });
      return wrapToolResult(call.name, { outcome: describeProposalOutcome(outcome) });
    }
    try {
      const data = await raceAbort(this.read(parsed.command, input.executor), signal);
      state.toolCalls.push({ name: call.name, ok: true });
      return wrapToolResult(call.name, data);
    } catch (error) {
      if (signal.aborted) throw error;
      // The executor's error text could hold internals; the model only learns that data is missing.
      state.toolCalls.push({ name: call.name, ok: false, error: 'executor failed' });
      return wrapToolError(call.name, 'the data is unavailable right now');
    }
  }

  /** Hands a proposal to the core. It runs to its end even past the deadline (see `interpret`). */
  private async dispatch(propose: Proposer, command: LlmCommand, state: LoopState): Promise<ProposalOutcome> {
    const running = propose(command).then((outcome) => {
      state.outcomes.push(outcome);
      return outcome;
    });
    state.dispatching = running.catch(() => undefined);
    try {
      return await running;
    } catch (error) {
      throw new ProposalDispatchError(error);
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

  /**
   * The newest turns only, each capped, roles checked (history is data from storage), starting
   * with a question: a window that cut a question from its answer drops the answer.
   */
  private boundHistory(history: readonly LlmHistoryTurn[] | undefined): ChatCompletionMessageParam[] {
    const parsed = historySchema.safeParse(history ?? []);
    if (!parsed.success || this.maxHistoryTurns === 0) return [];
    return startWithQuestion(parsed.data.slice(-this.maxHistoryTurns)).map((turn) => ({
      role: turn.role,
      content: turn.content.slice(0, MAX_TURN_CHARS),
    }));
  }

  /** Empty prose: after cards or refusals they are the answer; otherwise say so. */
  private emptyAnswer(state: LoopState): string {
    return state.outcomes.length > 0 ? '' : "Sorry, I don't have an answer to that.";
  }

  /**
   * The turn failed. Whatever was proposed before the failure stays as the core left it (a card
   * still needs its Confirm), and the message says so.
   */
  private fail(state: LoopState, kind: LlmFailureKind, detail?: string, userMessage?: string): LlmResult {
    const cards = state.outcomes.filter((outcome) => outcome.kind === 'card').length;
    const message = `${userMessage ?? FAILURE_MESSAGES[kind]}${cards > 0 ? ' A card shown above still waits for your confirmation.' : ''}`;
    return {
      text: message,
      commands: state.commands,
      outcomes: state.outcomes,
      claimReplaced: false,
      usage: state.usage,
      toolCalls: state.toolCalls,
      outcome: 'failed',
      failure: { kind, userMessage: message, ...(detail === undefined ? {} : { detail }) },
    };
  }
}

/** History starts with a question, never with an answer whose question fell out of the window. */
export function startWithQuestion<T extends { role: 'user' | 'assistant' }>(turns: readonly T[]): T[] {
  const first = turns.findIndex((turn) => turn.role === 'user');
  return first === -1 ? [] : turns.slice(first);
}
