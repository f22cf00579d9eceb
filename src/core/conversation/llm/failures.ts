/**
 * How an LLM turn ends when something goes wrong: the failure kinds, what the user is told (always
 * that nothing was done), and the abort race that keeps a turn inside its deadline.
 */
import type { APIError } from 'openai';

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

const PLAIN_COMMANDS_HINT = "Plain commands like 'buy 10 AAPL' still work.";

export const FAILURE_MESSAGES: Record<LlmFailureKind, string> = {
  timeout: `The assistant took too long to answer. Nothing was done. ${PLAIN_COMMANDS_HINT}`,
  rate_limited: `The assistant is busy right now (rate limited). Nothing was done. ${PLAIN_COMMANDS_HINT}`,
  unavailable: `The assistant is unavailable right now. Nothing was done. ${PLAIN_COMMANDS_HINT}`,
  invalid_tool_call: `I couldn't turn that into a valid request. Nothing was done. Try rephrasing it. ${PLAIN_COMMANDS_HINT}`,
  too_many_rounds: `That took too many steps, so I stopped. Nothing was done. Try a simpler request. ${PLAIN_COMMANDS_HINT}`,
};

export const CANCELLED_MESSAGE = `Stopped before the assistant finished. Nothing was done. ${PLAIN_COMMANDS_HINT}`;

/**
 * Raised inside the loop to end it with a specific failure; the interpreter catches it, so it
 * never leaves the LLM layer.
 */
export class LoopFailure extends Error {
  constructor(
    readonly kind: LlmFailureKind,
    readonly detail?: string,
  ) {
    super(kind);
  }
}

/** The deadline or the caller stopped the turn (raised by {@link raceAbort}). */
export class TurnAbortedError extends Error {
  override readonly name = 'TurnAbortedError';
}

/** Rejects as soon as `signal` aborts, so an SDK retry sleep or a slow executor cannot outlive the deadline. */
export function raceAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    promise.catch(() => undefined);
    return Promise.reject(new TurnAbortedError('aborted'));
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new TurnAbortedError('aborted'));
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

/** For logs: the HTTP status and OpenAI's error code, never the request. */
export function describeApiError(error: APIError): string {
  return [error.status ?? 'no status', error.code ?? error.type ?? error.constructor.name].join(' ');
}
