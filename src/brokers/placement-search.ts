/**
 * What brokers without a searchable client order id (Schwab, E*TRADE) share when they look for a
 * placement whose answer was lost: the clock-skew window, the "exactly one match" rule, and the
 * rule that a failure before the order was sent means nothing was placed. Each broker keeps its
 * own notion of "same order" (its listing's fields).
 */
import { type BrokerProvider, BrokerRejectedError, BrokerUnreachableError } from '../core/brokers/broker.js';

/** How far our clock and the broker's may disagree; also how far before the send the lookup starts. */
export const CLOCK_SKEW_MS = 2 * 60_000;
/** How far past "now" the lookup window reaches (the broker's clock may run ahead). */
export const LOOKAHEAD_MS = 60_000;

export type ReconcileOutcome<Order> =
  | { readonly kind: 'found'; readonly order: Order }
  | { readonly kind: 'none' }
  /** More than one candidate: we cannot tell which is ours, so we claim none. */
  | { readonly kind: 'several'; readonly orderIds: readonly string[] };

/**
 * Our order among `recent` (in any order): the single one `isOurs` accepts whose id is not in
 * `attributed` (broker order ids that already belong to other intents).
 */
export function singleMatch<Order>(
  recent: readonly Order[],
  isOurs: (order: Order) => boolean,
  idOf: (order: Order) => string,
  attributed: ReadonlySet<string>,
): ReconcileOutcome<Order> {
  const candidates = recent.filter((order) => !attributed.has(idOf(order)) && isOurs(order));
  const [only] = candidates;
  if (only === undefined) return { kind: 'none' };
  if (candidates.length === 1) return { kind: 'found', order: only };
  return { kind: 'several', orderIds: candidates.map(idOf) };
}

/**
 * Runs the reads (and previews) that come before an order is sent. Their failures happen before
 * anything was sent, so "unreachable" there means "nothing placed": a rejection the caller may
 * simply retry later.
 */
export async function notSentOnFailure<T>(
  provider: BrokerProvider,
  brokerName: string,
  prepare: () => Promise<T>,
): Promise<T> {
  try {
    return await prepare();
  } catch (error) {
    if (!(error instanceof BrokerUnreachableError)) throw error;
    throw new BrokerRejectedError(
      provider,
      `${brokerName} could not be reached to prepare the order; nothing was placed. Try again in a minute.`,
      'not_sent',
    );
  }
}
