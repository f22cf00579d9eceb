/**
 * Broker failures as chat sentences: which broker, what happened, and whether anything was done.
 * Broker errors carry the broker's own words for refusals; everything else gets a fixed text, so
 * no internals (URLs, ids, stack traces) reach a chat.
 */
import {
  type BrokerProvider,
  BrokerRejectedError,
  BrokerUnreachableError,
  brokerName,
} from '../brokers/broker.js';
import {
  BrokerAuthError,
  BrokerCircuitOpenError,
  BrokerRateLimitedError,
  BrokerUnexpectedAnswerError,
} from '../../brokers/http/errors.js';
import { ArbionError, GENERIC_USER_MESSAGE } from '../errors.js';

/** One or two sentences for a chat, for any error a broker call can end in. */
export function describeBrokerFailure(error: unknown, provider: BrokerProvider): string {
  const name = brokerName(provider);
  const Name = name.charAt(0).toUpperCase() + name.slice(1);
  if (error instanceof ArbionError) return error.userMessage;
  if (error instanceof BrokerCircuitOpenError)
    return `${Name} is not answering right now, so I paused requests to it for a moment.`;
  if (error instanceof BrokerRateLimitedError)
    return `${Name} asked us to slow down and did not take the request.`;
  if (error instanceof BrokerAuthError)
    return `${Name} did not accept our sign-in. Say "link" to sign in again.`;
  if (error instanceof BrokerUnexpectedAnswerError) return `${Name} answered in a way I do not understand.`;
  if (error instanceof BrokerRejectedError) return `${Name} refused: ${sentence(error.reason)}`;
  if (error instanceof BrokerUnreachableError) return `${Name} did not answer in time.`;
  return GENERIC_USER_MESSAGE;
}

/** Whether an error came from a broker call (and `describeBrokerFailure` has words for it). */
export function isBrokerFailure(error: unknown): boolean {
  return error instanceof BrokerRejectedError || error instanceof BrokerUnreachableError;
}

function sentence(text: string): string {
  const trimmed = text.trim();
  return /[.!?]$/.test(trimmed) ? trimmed : `${trimmed}.`;
}
