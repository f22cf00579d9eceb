/**
 * Finding our order among Schwab's recent orders after an order POST with an unknown outcome.
 * Pure, so the matching rule is tested with plain values.
 *
 * Schwab has no client order id, so "is this ours?" is answered by the order's content: the same
 * symbol, instruction, quantity, order type, prices and duration, entered no earlier than we sent
 * it (less a clock-skew allowance), and not already attributed to another of our intents. Two
 * identical orders sent within the window by two intents can only be told apart by that last rule,
 * which is why the caller must pass the broker order ids it already owns.
 */
import { Decimal } from '../../core/domain/values.js';
import type { SchwabInstruction, SchwabOrderRequest } from './order-json.js';
import type { SchwabOrder } from './schemas.js';

/** How far our clock and Schwab's may disagree; also how far before the send the lookup starts. */
export const CLOCK_SKEW_MS = 2 * 60_000;
/** How far past "now" the lookup window reaches (Schwab's clock may run ahead). */
export const LOOKAHEAD_MS = 60_000;

export type ReconcileOutcome =
  | { readonly kind: 'found'; readonly order: SchwabOrder }
  | { readonly kind: 'none' }
  /** More than one candidate: we cannot tell which is ours, so we claim none. */
  | { readonly kind: 'several'; readonly orderIds: readonly string[] };

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
 * Our order among `recent` (oldest or newest first, either): the single match not in `attributed` (broker order ids that already
 * belong to other intents).
 */
export function findPlacement(
  recent: readonly SchwabOrder[],
  fingerprint: PlacementFingerprint,
  sentAt: Date,
  attributed: ReadonlySet<string>,
): ReconcileOutcome {
  const candidates = recent.filter(
    (order) => !attributed.has(String(order.orderId)) && matchesPlacement(order, fingerprint, sentAt),
  );
  const [only] = candidates;
  if (only === undefined) return { kind: 'none' };
  if (candidates.length === 1) return { kind: 'found', order: only };
  return { kind: 'several', orderIds: candidates.map((order) => String(order.orderId)) };
}

function samePrice(theirs: Decimal | undefined, ours: string | undefined): boolean {
  if (theirs === undefined || ours === undefined) return theirs === undefined && ours === undefined;
  return theirs.equals(new Decimal(ours));
}
