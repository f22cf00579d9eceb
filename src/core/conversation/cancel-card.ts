/**
 * The card of a "cancel open orders" request: every order it would cancel (side, size, symbol,
 * type and prices; a protective stop says so), and Confirm/Cancel while it can be answered.
 */
import type {
  CancelRequestStatus,
  OrderSide,
  OrderType,
  TimeInForce,
  TradingMode,
} from '../db/generated/enums.js';
import { clockTime } from '../domain/time-zones.js';
import { Decimal, formatDecimal, formatUsd } from '../domain/values.js';
import {
  ACTION_CANCEL_ORDERS,
  ACTION_KEEP_ORDERS,
  type Card,
  type CardField,
  ordersActionId,
} from '../messages.js';

/** The most orders one card lists: every channel shows them all (Discord stops at 25 fields). */
export const MAX_LISTED_ORDERS = 20;

type DecimalValue = { toString(): string };

/** An order as the card shows it (an order row with its intent's mode and position effect). */
export interface ListedOrder {
  readonly intentId: string;
  readonly side: OrderSide;
  readonly symbol: string;
  readonly quantity: DecimalValue | null;
  readonly notional: DecimalValue | null;
  readonly filledQuantity: DecimalValue;
  readonly orderType: OrderType;
  readonly limitPrice: DecimalValue | null;
  readonly stopPrice: DecimalValue | null;
  readonly timeInForce: TimeInForce;
  readonly intent: { readonly mode: TradingMode; readonly positionEffect: 'open' | 'close' | null };
}

/** The request as the card shows it. */
export interface ListedRequest {
  readonly id: string;
  /** The card's number (users.lastCardNumber), shown on it and in its buttons. */
  readonly cardNumber: number | null;
  readonly status: CancelRequestStatus;
  readonly expiresAt: Date;
  readonly doneAt: Date | null;
}

/** A stop that closes a position: cancelling it leaves that position without its protection. */
export function isProtectiveStop(order: ListedOrder): boolean {
  const stop = order.orderType === 'stop' || order.orderType === 'stop_limit';
  return stop && (order.side === 'sell' || order.intent.positionEffect === 'close');
}

/** "SELL 10 AAPL, stop $140.00, good till cancelled (protective stop)". */
export function describeListedOrder(order: ListedOrder): string {
  const size =
    order.quantity !== null
      ? `${formatDecimal(order.quantity.toString())} ${order.symbol}`
      : order.notional !== null
        ? `${formatUsd(order.notional.toString())} of ${order.symbol}`
        : order.symbol;
  const limit = order.limitPrice === null ? '?' : formatUsd(order.limitPrice.toString());
  const stop = order.stopPrice === null ? '?' : formatUsd(order.stopPrice.toString());
  const type = {
    market: 'market',
    limit: `limit ${limit}`,
    stop: `stop ${stop}`,
    stop_limit: `stop ${stop}, limit ${limit}`,
  }[order.orderType];
  const filled = order.filledQuantity.toString();
  const partly = new Decimal(filled).gt(0) ? `, ${formatDecimal(filled)} filled so far` : '';
  const lasting = order.timeInForce === 'gtc' ? ', good till cancelled' : '';
  return `${order.side.toUpperCase()} ${size}, ${type}${lasting}${partly}${isProtectiveStop(order) ? ' (protective stop)' : ''}`;
}

/** How the card is shown: now, the requester's time zone (an expiry says its time), orders left off. */
export interface CancelCardView {
  readonly now: Date;
  /** The requester's IANA zone (User.timezone); an unknown one reads as the default. */
  readonly timeZone: string;
  /** Open orders not listed (past MAX_LISTED_ORDERS): they stay. */
  readonly more?: number;
}

/** "Expired at 10:02 EST; nothing was cancelled.", as a typed answer words an expired order card. */
function expiredNotice(request: ListedRequest, view: CancelCardView): string {
  return `Expired at ${clockTime(request.expiresAt, view.now, view.timeZone)}; nothing was cancelled.`;
}

function noticeOf(request: ListedRequest, orders: readonly ListedOrder[], view: CancelCardView): string {
  switch (request.status) {
    case 'open': {
      const seconds = Math.max(0, Math.round((request.expiresAt.getTime() - view.now.getTime()) / 1000));
      if (seconds === 0) return expiredNotice(request, view);
      const more = view.more ?? 0;
      const protective = orders.some(isProtectiveStop)
        ? 'Protective stops are included: cancelling one leaves its position unprotected. '
        : '';
      const rest =
        more > 0 ? `${more} more open order${more === 1 ? ' is' : 's are'} not on this card and stay. ` : '';
      return `${protective}${rest}Confirm cancels only the orders listed; Cancel keeps them working. Confirm within ${seconds} s. Only you can confirm.`;
    }
    case 'confirmed':
      return request.doneAt === null
        ? 'Confirmed: cancelling the orders listed...'
        : 'Confirmed: each order listed was asked to cancel (the results follow).';
    case 'kept':
      return 'Kept: nothing was cancelled.';
    case 'expired':
      return expiredNotice(request, view);
  }
}

/** The card: the orders, and the buttons while (and only while) it is open and not expired. */
export function renderCancelCard(
  request: ListedRequest,
  orders: readonly ListedOrder[],
  view: CancelCardView,
): Card {
  const open = request.status === 'open' && request.expiresAt > view.now;
  const count = `${orders.length} open order${orders.length === 1 ? '' : 's'}`;
  const fields: CardField[] = orders.map((order) => ({
    label: order.intentId.slice(0, 8),
    value: describeListedOrder(order),
  }));
  const number = request.cardNumber === null ? '' : ` #${request.cardNumber}`;
  const title = open ? `Cancel ${count}?` : `Cancel ${count}`;
  return {
    title: request.cardNumber === null ? title : `Card #${request.cardNumber} · ${title}`,
    ...(request.cardNumber === null ? {} : { number: request.cardNumber }),
    badge: orders.some((order) => order.intent.mode === 'live') ? 'LIVE' : 'PAPER',
    fields,
    notice: noticeOf(request, orders, view),
    actions: open
      ? [
          {
            id: ordersActionId(ACTION_CANCEL_ORDERS, request.id),
            label: `Confirm${number}`,
            style: 'danger',
          },
          { id: ordersActionId(ACTION_KEEP_ORDERS, request.id), label: `Cancel${number}`, style: 'default' },
        ]
      : [],
  };
}
