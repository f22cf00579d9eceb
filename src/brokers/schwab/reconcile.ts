/**
 * Finding our order among Schwab's recent orders after an order POST with an unknown outcome.
 * Pure, so the matching rule is tested with plain values.
 *
 * Schwab has no client order id, so "is this ours?" is answered by the order's content: the same
 * symbol, instruction, quantity, order type, prices and duration, entered no earlier than we sent
 * it (less a clock-skew allowance), and not already attributed to another of our intents. A price
 * the order type does not use is listed as 0 or not at all and is not compared. Two
 * identical orders sent within the window by two intents can only be told apart by that last rule,
 * which is why the caller must pass the broker order ids it already owns.
 */
import { Decimal } from '../../core/domain/values.js';
import {
  CLOCK_SKEW_MS,
  type ReconcileOutcome as GenericOutcome,
  LOOKAHEAD_MS,
  singleMatch,
} from '../placement-search.js';
import type { SchwabInstruction, SchwabOrderRequest } from './order-json.js';
import type { SchwabOrder } from './schemas.js';

export { CLOCK_SKEW_MS, LOOKAHEAD_MS };

export type ReconcileOutcome = GenericOutcome<SchwabOrder>;

/** The `fromEnteredTime` / `toEnteredTime` query for an order sent at `sentAt`. */
export function reconcileWindow(sentAt: Date, now: Date): { fromEnteredTime: string; toEnteredTime: string } {
  return {
    fromEnteredTime: new Date(sentAt.getTime() - CLOCK_SKEW_MS).toISOString(),
    toEnteredTime: new Date(Math.max(now.getTime(), sentAt.getTime()) + LOOKAHEAD_MS).toISOString(),
  };
}

/**
 * What identifies a placement without a client order id: the order body, with the instructions it
 * may carry (one when we know what we sent; open and close alike after a restart, when the
 * position that decided between them may have changed since).
 */
export interface PlacementFingerprint {
  readonly sent: SchwabOrderRequest;
  readonly instructions: readonly SchwabInstruction[];
}

/** The fingerprint of a body we just sent: exactly its instruction. */
export function fingerprintOf(sent: SchwabOrderRequest): PlacementFingerprint {
  return { sent, instructions: [sent.orderLegCollection[0].instruction] };
}

/** Whether `order` is the placement `fingerprint` describes, entered after `sentAt` (less the skew). */
export function matchesPlacement(
  order: SchwabOrder,
  fingerprint: PlacementFingerprint,
  sentAt: Date,
): boolean {
  const { sent, instructions } = fingerprint;
  const [leg] = sent.orderLegCollection;
  const theirs = order.orderLegCollection;
  const their = theirs[0];
  return (
    theirs.length === 1 &&
    their !== undefined &&
    their.instrument.symbol === leg.instrument.symbol &&
    (instructions as readonly string[]).includes(their.instruction) &&
    their.quantity.equals(leg.quantity) &&
    order.orderType === sent.orderType &&
    (order.duration === undefined || order.duration === sent.duration) &&
    samePrice(order.price, sent.price) &&
    samePrice(order.stopPrice, sent.stopPrice) &&
    order.enteredTime.getTime() >= sentAt.getTime() - CLOCK_SKEW_MS
  );
}

/**
 * Our order among `recent` (oldest or newest first, either): the single match not in `attributed`
 * (broker order ids that already belong to other intents).
 */
export function findPlacement(
  recent: readonly SchwabOrder[],
  fingerprint: PlacementFingerprint,
  sentAt: Date,
  attributed: ReadonlySet<string>,
): ReconcileOutcome {
  return singleMatch(
    recent,
    (order) => matchesPlacement(order, fingerprint, sentAt),
    (order) => String(order.orderId),
    attributed,
  );
}

/**
 * A price we sent must be listed as sent. A price we did not send (a market order's limit, a limit
 * order's stop) may be listed as absent or as 0: Schwab lists market orders with `"price": 0`, and
 * 0 is never a price anyone set.
 */
function samePrice(theirs: Decimal | undefined, ours: string | undefined): boolean {
  if (ours === undefined) return theirs === undefined || theirs.isZero();
  return theirs?.equals(new Decimal(ours)) === true;
}
