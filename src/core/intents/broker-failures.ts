/**
 * Broker failures as chat sentences: which broker, what happened, and whether anything was done.
 * Broker errors carry the broker's own words for refusals; everything else gets a fixed text, so
 * no internals (URLs, ids, stack traces) reach a chat. Only the core `kind` of a broker error
 * decides the words (`brokerFailureSentence`), never an adapter's class.
 */

import { BrokerError } from '../brokers/broker.js';
import { ArbionError, GENERIC_USER_MESSAGE } from '../errors.js';

/** One or two sentences for a chat, for any error a broker call can end in. */
export function describeBrokerFailure(error: unknown): string {
  // A broker error's userMessage is `brokerFailureSentence` of its kind (src/core/brokers/errors.ts).
  return error instanceof ArbionError ? error.userMessage : GENERIC_USER_MESSAGE;
}

/** Whether an error came from a broker call (and `describeBrokerFailure` has words for it). */
export function isBrokerFailure(error: unknown): error is BrokerError {
  return error instanceof BrokerError;
}
