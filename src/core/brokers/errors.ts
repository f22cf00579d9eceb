/**
 * The two roots of every broker failure, owned by the port: adapters extend them (the HTTP
 * plumbing's classes in src/brokers/http/errors.ts do) and core reads only their `kind`.
 *
 * - `BrokerRejectedError`: the broker answered and refused, or we never sent the request. Nothing
 *   was placed; the user may simply try again.
 * - `BrokerUnreachableError`: no usable answer (timeout, reset, 5xx, an unreadable answer to a
 *   write). An order may or may not exist: reconcile by client order id before anything else.
 *
 * Both are `ArbionError`s: `userMessage` is the chat sentence for the failure (the broker's own
 * words for a refusal, fixed words otherwise, never URLs or ids).
 */
import type { BrokerProvider } from '../db/generated/enums.js';
import { ArbionError } from '../errors.js';
import { brokerName } from './names.js';

/** Why nothing was placed. */
export type BrokerRejectionKind =
  /** The broker refused the request; `reason` has its words. */
  | 'refused'
  /** The broker no longer accepts our credentials: the user must sign in again. */
  | 'auth'
  /** The broker kept asking us to slow down; it did not process the request. */
  | 'rate_limited'
  /** Our circuit breaker is open after repeated failures: the request was not sent. */
  | 'circuit_open'
  /** A read answered with something we cannot parse; reads change nothing. */
  | 'unexpected_answer';

/** Why the outcome is unknown. */
export type BrokerUnreachableKind = 'unreachable';

export type BrokerFailureKind = BrokerRejectionKind | BrokerUnreachableKind;

/**
 * The sentence for a broker failure, as chats and pages show it: the one place its words are
 * chosen, by kind. `reason` (the broker's words) is used for `refused` only.
 */
export function brokerFailureSentence(
  kind: BrokerFailureKind,
  provider: BrokerProvider,
  reason = '',
): string {
  const name = brokerName(provider);
  const Name = name.charAt(0).toUpperCase() + name.slice(1);
  switch (kind) {
    case 'circuit_open':
      return `${Name} is not answering right now, so I paused requests to it for a moment.`;
    case 'rate_limited':
      return `${Name} asked us to slow down and did not take the request.`;
    case 'auth':
      return `${Name} did not accept our sign-in. Say "link" to sign in again.`;
    case 'unexpected_answer':
      return `${Name} answered in a way I do not understand.`;
    case 'refused':
      return `${Name} refused: ${sentence(reason)}`;
    case 'unreachable':
      return `${Name} did not answer in time.`;
  }
}

function sentence(text: string): string {
  const trimmed = text.trim();
  return /[.!?]$/.test(trimmed) ? trimmed : `${trimmed}.`;
}

/** Any broker failure: which broker, and what kind (the only thing core branches on). */
export abstract class BrokerError extends ArbionError {
  abstract readonly kind: BrokerFailureKind;

  constructor(
    readonly provider: BrokerProvider,
    message: string,
    userMessage: string,
    options?: { cause?: unknown },
  ) {
    super(message, userMessage, options);
  }
}

/** The broker answered and refused, or the request was never sent. Nothing was placed. */
export class BrokerRejectedError extends BrokerError {
  readonly kind: BrokerRejectionKind;
  /**
   * The broker's own error code when it sent one (`40010001`, `INSUFFICIENT_FUND`), or the
   * adapter's for a refusal it decided itself (`not_sized`, `circuit_open`); `broker_refused`
   * (`broker_<kind>`) otherwise.
   */
  readonly code: string;

  constructor(
    provider: BrokerProvider,
    /** What the broker said, fit for a chat message. */
    readonly reason: string,
    code?: string,
    kind: BrokerRejectionKind = 'refused',
  ) {
    super(
      provider,
      `${provider} rejected the request: ${reason}`,
      brokerFailureSentence(kind, provider, reason),
    );
    this.kind = kind;
    this.code = code ?? `broker_${kind}`;
  }
}

/** No usable answer (timeout, reset, 5xx after sending). The order may exist: reconcile first. */
export class BrokerUnreachableError extends BrokerError {
  readonly kind: BrokerUnreachableKind = 'unreachable';
  readonly code: string = 'broker_unreachable';

  constructor(
    provider: BrokerProvider,
    /** For logs only: may name the request (method and path), never shown to users. */
    message: string,
    options?: { cause?: unknown },
  ) {
    super(provider, message, brokerFailureSentence('unreachable', provider), options);
  }
}
