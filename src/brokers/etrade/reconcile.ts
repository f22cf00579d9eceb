/**
 * Finding our order among E*TRADE's recent orders after a place with an unknown outcome. Pure, so
 * the matching rule is tested with plain values.
 *
 * E*TRADE keeps our `clientOrderId` (it refuses a duplicate) but never shows it in any answer, so
 * "is this ours?" is answered by the order's content, as for Schwab: the same product (symbol, and
 * an option's right, expiry and strike), order action, quantity, price type, term and session,
 * the same limit and stop prices where the price type has them (a market order's are
 * irrelevant), placed no earlier than we sent it (less a clock-skew allowance), and not already
 * attributed to another of our intents. Two identical orders sent within the window can only be
 * told apart by that last rule, so the caller passes the order ids it already owns; when several
 * still match, none is claimed.
 */
import { Decimal } from '../../core/domain/values.js';
import { newYorkTime } from '../../core/market-data/providers/us-market-calendar.js';
import {
  CLOCK_SKEW_MS,
  type ReconcileOutcome as GenericOutcome,
  LOOKAHEAD_MS,
  singleMatch,
} from '../placement-search.js';
import type {
  EtradeListedOrder,
  EtradeOrderAction,
  EtradeOrderBody,
  EtradeProduct,
  EtradeRequestProduct,
} from './schemas.js';

export { CLOCK_SKEW_MS, LOOKAHEAD_MS };

export type ReconcileOutcome = GenericOutcome<EtradeListedOrder>;

/** The `fromDate` / `toDate` query of `GET .../orders` (MMDDYYYY, E*TRADE's US Eastern days). */
export interface OrderListWindow {
  readonly fromDate: string;
  readonly toDate: string;
}

/**
 * The days to list for an order sent at `sentAt`: from the day of `sentAt` less the skew to the
 * day of "now" plus the lookahead, in New York (E*TRADE lists by day; the time is matched here).
 */
export function reconcileWindow(sentAt: Date, now: Date): OrderListWindow {
  return {
    fromDate: easternDay(new Date(sentAt.getTime() - CLOCK_SKEW_MS)),
    toDate: easternDay(new Date(Math.max(now.getTime(), sentAt.getTime()) + LOOKAHEAD_MS)),
  };
}

/** MMDDYYYY of an instant's day in New York. */
export function easternDay(at: Date): string {
  const { year, month, day } = newYorkTime(at);
  return `${String(month).padStart(2, '0')}${String(day).padStart(2, '0')}${year}`;
}

/**
 * What identifies a placement: the body we sent, with the order actions it may carry (one when we
 * know what we sent; for an option after a restart, opening and closing alike, since the position
 * that decided between them may have changed since).
 */
export interface PlacementFingerprint {
  readonly sent: EtradeOrderBody;
  readonly orderActions: readonly EtradeOrderAction[];
}

/** The fingerprint of a body we just sent: exactly its order action. */
export function fingerprintOf(sent: EtradeOrderBody): PlacementFingerprint {
  return { sent, orderActions: [sent.Order[0].Instrument[0].orderAction] };
}

/** The fingerprint of a body rebuilt after the fact: an option's action may open or close. */
export function fingerprintEitherEffect(sent: EtradeOrderBody): PlacementFingerprint {
  if (sent.orderType !== 'OPTN') return fingerprintOf(sent);
  const buys = sent.Order[0].Instrument[0].orderAction.startsWith('BUY');
  return { sent, orderActions: buys ? ['BUY_OPEN', 'BUY_CLOSE'] : ['SELL_OPEN', 'SELL_CLOSE'] };
}

/** Whether `order` is the placement `fingerprint` describes, placed after `sentAt` (less the skew). */
export function matchesPlacement(
  order: EtradeListedOrder,
  fingerprint: PlacementFingerprint,
  sentAt: Date,
): boolean {
  const [detail, ...otherDetails] = order.OrderDetail;
  const [theirs, ...otherLegs] = detail?.Instrument ?? [];
  if (detail === undefined || theirs === undefined || otherDetails.length > 0 || otherLegs.length > 0) {
    return false;
  }
  const [sent] = fingerprint.sent.Order;
  const [ours] = sent.Instrument;
  return (
    sameProduct(theirs.Product, ours.Product) &&
    (fingerprint.orderActions as readonly string[]).includes(theirs.orderAction) &&
    theirs.orderedQuantity.equals(new Decimal(String(ours.quantity))) &&
    detail.priceType === sent.priceType &&
    (detail.orderTerm === undefined || detail.orderTerm === sent.orderTerm) &&
    (detail.marketSession === undefined || detail.marketSession === sent.marketSession) &&
    samePrice(detail.limitPrice, sent.limitPrice) &&
    samePrice(detail.stopPrice, sent.stopPrice) &&
    // Without a placed time we cannot tell a new order from an old one: not ours.
    detail.placedTime !== undefined &&
    detail.placedTime.getTime() >= sentAt.getTime() - CLOCK_SKEW_MS
  );
}

/**
 * Our order among `recent` (in any order): the single match not in `attributed` (E*TRADE order
 * ids that already belong to other intents).
 */
export function findPlacement(
  recent: readonly EtradeListedOrder[],
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

function sameProduct(theirs: EtradeProduct, ours: EtradeRequestProduct): boolean {
  if (theirs.securityType !== ours.securityType) return false;
  if (theirs.symbol.toUpperCase() !== ours.symbol.toUpperCase()) return false;
  if (ours.securityType !== 'OPTN') return true;
  return (
    theirs.callPut === ours.callPut &&
    theirs.expiryYear === ours.expiryYear &&
    theirs.expiryMonth === ours.expiryMonth &&
    theirs.expiryDay === ours.expiryDay &&
    samePrice(theirs.strikePrice, ours.strikePrice)
  );
}

/**
 * Our price (sent only where the price type has one) against theirs; a price we did not send is
 * irrelevant (E*TRADE may list 0 or null for it).
 */
function samePrice(theirs: Decimal | undefined, ours: number | undefined): boolean {
  if (ours === undefined) return true;
  return theirs?.equals(new Decimal(String(ours))) ?? false;
}
