/**
 * The order row state machine: what a broker reports about an order (or our own `abandon`) moves
 * an `orders` row only along one table, as in NautilusTrader's order FSM. Anything not in the table
 * is refused, never silently overwritten: reports race (the conversation's cancel, the order
 * tracker, the background pass), so a report may be older than what the row already says.
 *
 * Besides the table, two rules hold for every report:
 * - a terminal status (filled, cancelled, rejected, expired) never changes;
 * - the filled quantity only grows: a report with less filled than stored is stale.
 * Re-reporting the status a row already has moves it only when it brings more filled quantity.
 *
 * Pure: the SQL guard of order-rows.ts is built from `fromStatusesFor` and `nextOrderStatus`.
 */
import type { OrderStatus } from '../db/generated/enums.js';
import type { Decimal } from '../domain/values.js';

export type { OrderStatus };

/**
 * A status the broker reports for the order, or `abandon`: a placement whose answer was unclear
 * and that the broker does not show after looking for it (closed as rejected, never resent).
 */
export type OrderEvent = OrderStatus | 'abandon';

export const ORDER_EVENTS: readonly OrderEvent[] = [
  'pending',
  'accepted',
  'partially_filled',
  'filled',
  'cancel_requested',
  'cancelled',
  'rejected',
  'expired',
  'unknown',
  'abandon',
];

export const TERMINAL_ORDER_STATUSES: readonly OrderStatus[] = ['filled', 'cancelled', 'rejected', 'expired'];

/** Whatever the broker reports about an order it shows us: it is the authority on it. */
const ANYTHING_REPORTED: Partial<Record<OrderEvent, OrderStatus>> = {
  pending: 'pending',
  accepted: 'accepted',
  partially_filled: 'partially_filled',
  filled: 'filled',
  cancel_requested: 'cancel_requested',
  cancelled: 'cancelled',
  rejected: 'rejected',
  expired: 'expired',
  unknown: 'unknown',
  abandon: 'rejected',
};

const TABLE: Readonly<Record<OrderStatus, Partial<Record<OrderEvent, OrderStatus>>>> = {
  // Not acknowledged yet (pending), or sent ambiguously (unknown). A reported `unknown` (a status we
  // do not recognise) still records that the order exists, so it is never abandoned afterwards.
  pending: ANYTHING_REPORTED,
  unknown: ANYTHING_REPORTED,
  // Refused from the working statuses: `pending` (a report from before the acknowledgement),
  // `unknown` (an unrecognised status tells nothing new: keep what we knew) and `abandon`
  // (the broker has shown us the order).
  accepted: {
    accepted: 'accepted',
    partially_filled: 'partially_filled',
    filled: 'filled',
    cancel_requested: 'cancel_requested',
    cancelled: 'cancelled',
    // A broker may still refuse an acknowledged order (a later check, the exchange).
    rejected: 'rejected',
    expired: 'expired',
  },
  partially_filled: {
    partially_filled: 'partially_filled',
    filled: 'filled',
    cancel_requested: 'cancel_requested',
    cancelled: 'cancelled',
    expired: 'expired',
    // Not `accepted` (backwards) nor `rejected`: part of it filled, it can no longer be refused
    // (the intent machine refuses partially_filled + reject too).
  },
  cancel_requested: {
    cancel_requested: 'cancel_requested',
    // A fill while the cancel is pending is recorded, and the cancel stays pending: a working report
    // after a cancel request may be a poll that started before it. Its outcome arrives as
    // cancelled, filled or expired. For the same reason `accepted` is refused here, and `rejected`
    // too (a refused cancel is not a refused order).
    partially_filled: 'cancel_requested',
    filled: 'filled',
    cancelled: 'cancelled',
    expired: 'expired',
  },
  filled: {},
  cancelled: {},
  rejected: {},
  expired: {},
};

/** The row as stored: its status and how much of it has filled. */
export interface OrderState {
  readonly status: OrderStatus;
  readonly filledQuantity: Decimal;
}

/** One event with what it says about the fills (`abandon` says nothing). */
export type OrderUpdate =
  | { readonly event: OrderStatus; readonly filledQuantity: Decimal }
  | { readonly event: 'abandon' };

export type OrderIgnoreReason = 'terminal' | 'illegal' | 'stale' | 'unchanged';

export type OrderDecision =
  | { readonly kind: 'move'; readonly to: OrderStatus; readonly filledQuantity: Decimal }
  | { readonly kind: 'ignore'; readonly reason: OrderIgnoreReason };

export function isTerminalOrderStatus(status: OrderStatus): boolean {
  return TERMINAL_ORDER_STATUSES.includes(status);
}

/** The status the table moves `from` to on `event`, or undefined when the table refuses it. */
export function nextOrderStatus(from: OrderStatus, event: OrderEvent): OrderStatus | undefined {
  return TABLE[from][event];
}

/** Every status `event` may move from (for a `WHERE status IN (...)` guard). */
export function fromStatusesFor(event: OrderEvent): OrderStatus[] {
  return (Object.keys(TABLE) as OrderStatus[]).filter((from) => TABLE[from][event] !== undefined);
}

/**
 * What to do with `update` on a row in `current`: move (to a status and a filled quantity), or
 * ignore it and why. Checked in this order: terminal, stale (less filled), illegal (not in the
 * table), unchanged (same status, same filled quantity).
 */
export function decideOrderUpdate(current: OrderState, update: OrderUpdate): OrderDecision {
  if (isTerminalOrderStatus(current.status)) return { kind: 'ignore', reason: 'terminal' };
  const filledQuantity = update.event === 'abandon' ? current.filledQuantity : update.filledQuantity;
  if (filledQuantity.lessThan(current.filledQuantity)) return { kind: 'ignore', reason: 'stale' };
  const to = nextOrderStatus(current.status, update.event);
  if (to === undefined) return { kind: 'ignore', reason: 'illegal' };
  if (to === current.status && filledQuantity.equals(current.filledQuantity))
    return { kind: 'ignore', reason: 'unchanged' };
  return { kind: 'move', to, filledQuantity };
}

/** Every (from, event, to) row, for tests and docs. */
export function orderTransitionTable(): { from: OrderStatus; event: OrderEvent; to: OrderStatus }[] {
  return (Object.keys(TABLE) as OrderStatus[]).flatMap((from) =>
    (Object.entries(TABLE[from]) as [OrderEvent, OrderStatus][]).map(([event, to]) => ({ from, event, to })),
  );
}
