/**
 * What a paper account's working orders set aside, so buying power is what is really free to spend.
 *
 * A working buy holds what it would pay if it filled: its limit x the quantity still to fill (a
 * stop-limit too); a market order at the current ask, a stop at the higher of its stop and the ask,
 * both plus the paper book's slippage (what it would pay); a dollar-amount order its amount. A
 * working sale of a put holds the collateral of the contracts it would open (strike x 100 each,
 * beyond the contracts held long). Paper fills charge no commission, so no fees are added.
 *
 * Like the short options' commitments (option-cover.ts) these are computed from the working orders
 * on every decision, never stored, so they cannot drift from the book. Sales of stock and covered
 * calls hold no cash.
 */
import { z } from 'zod';
import { BrokerRejectedError } from '../../core/brokers/broker.js';
import { Prisma } from '../../core/db/database.js';
import type { AssetClass, OrderSide, OrderType } from '../../core/db/generated/enums.js';
import { contractMultiplier, OPTION_CONTRACT_MULTIPLIER } from '../../core/domain/contract-multiplier.js';
import { Decimal } from '../../core/domain/values.js';
import type { OptionContract, QuoteRequest } from '../../core/market-data/market-data.js';

/** An order as the reservations see it: the ledger's orders and the working ones share this shape. */
export interface ReservableOrder {
  readonly side: OrderSide;
  readonly assetClass: AssetClass;
  readonly symbol: string;
  readonly orderType: OrderType;
  readonly quantity: Decimal | undefined;
  readonly notional: Decimal | undefined;
  readonly limitPrice: Decimal | undefined;
  readonly stopPrice: Decimal | undefined;
  readonly filledQuantity: Decimal;
  /** The contract of an option order. */
  readonly option: OptionContract | undefined;
}

/** An order still working in the account, and the position held in its symbol. */
export interface WorkingOrder extends ReservableOrder {
  readonly id: string;
  /** The account's position in the order's symbol (0 when none; negative when short an option). */
  readonly held: Decimal;
}

/** The asks of the instruments working orders reserve at the market, by `instrumentKey`. */
export type Asks = ReadonlyMap<string, Decimal>;

/** Paper fills charge no commission: the fees a reservation adds. */
const PAPER_FEES = new Decimal(0);

/** What names an instrument in `Asks`: its asset class and symbol (an option's OCC symbol). */
export function instrumentKey(order: Pick<ReservableOrder, 'assetClass' | 'symbol'>): string {
  return `${order.assetClass}:${order.symbol}`;
}

/** True when what `order` holds depends on the market: a buy by quantity with no limit price. */
export function reservesAtMarket(order: ReservableOrder): boolean {
  return order.side === 'buy' && order.quantity !== undefined && order.limitPrice === undefined;
}

/** The quote to ask for an order's instrument. */
export function quoteRequestOf(
  order: Pick<ReservableOrder, 'assetClass' | 'symbol' | 'option'>,
): QuoteRequest {
  if (order.assetClass !== 'option') return { assetClass: order.assetClass, symbol: order.symbol };
  if (order.option === undefined) throw new Error(`paper option order ${order.symbol} has no contract`);
  return { assetClass: 'option', contract: order.option };
}

/**
 * A working order that holds cash at the market has no price now, so buying power is not known:
 * fail closed (nothing is placed or filled on a guess; a later attempt prices it again).
 */
export class UnpricedReservationError extends BrokerRejectedError {
  constructor(symbol: string) {
    super(
      'paper',
      `a working order on ${symbol} has no price now, so the cash it holds is not known; try again in a moment`,
      'unpriced_reservation',
    );
    this.name = 'UnpricedReservationError';
  }
}

/**
 * The cash a working buy holds (see the module comment); 0 for a sale.
 * @throws UnpricedReservationError for a market buy whose ask is not known
 */
export function buyReservation(
  order: ReservableOrder,
  ask: Decimal | undefined,
  slippageBps: number,
): Decimal {
  if (order.side !== 'buy') return new Decimal(0);
  if (order.quantity === undefined) {
    // A dollar-amount order fills whole or not at all.
    return order.filledQuantity.isZero() ? (order.notional ?? new Decimal(0)) : new Decimal(0);
  }
  const remaining = Decimal.max(order.quantity.sub(order.filledQuantity), 0);
  const value = remaining
    .mul(reservationPrice(order, ask, slippageBps))
    .mul(contractMultiplier(order.assetClass));
  return value.add(PAPER_FEES);
}

/** The price per unit a working buy by quantity is expected to pay at most. */
function reservationPrice(order: ReservableOrder, ask: Decimal | undefined, slippageBps: number): Decimal {
  if (order.limitPrice !== undefined) return order.limitPrice;
  const slipped = (price: Decimal) => price.mul(new Decimal(slippageBps).div(10_000).add(1));
  if (order.stopPrice !== undefined) {
    return slipped(ask === undefined ? order.stopPrice : Decimal.max(order.stopPrice, ask));
  }
  if (ask === undefined) throw new UnpricedReservationError(order.symbol);
  return slipped(ask);
}

/**
 * The collateral working sales of puts would set aside if they filled: per contract, strike x 100
 * for each contract sold beyond those held long (several sales of one contract share what is held).
 */
export function putSaleReservation(orders: readonly WorkingOrder[]): Decimal {
  const bySymbol = new Map<string, { strike: Decimal; held: Decimal; selling: Decimal }>();
  for (const order of orders) {
    if (order.side !== 'sell' || order.option?.right !== 'put' || order.quantity === undefined) continue;
    const remaining = Decimal.max(order.quantity.sub(order.filledQuantity), 0);
    const seen = bySymbol.get(order.symbol);
    bySymbol.set(order.symbol, {
      strike: order.option.strike,
      held: order.held,
      selling: (seen?.selling ?? new Decimal(0)).add(remaining),
    });
  }
  let total = new Decimal(0);
  for (const { strike, held, selling } of bySymbol.values()) {
    const opening = Decimal.max(selling.sub(Decimal.max(held, 0)), 0);
    total = total.add(strike.mul(OPTION_CONTRACT_MULTIPLIER).mul(opening));
  }
  return total;
}

/**
 * Everything `orders` hold: their buys and their sales of puts.
 * @throws UnpricedReservationError when a market buy among them has no ask in `asks`
 */
export function reservedForOrders(orders: readonly WorkingOrder[], asks: Asks, slippageBps: number): Decimal {
  return orders
    .reduce(
      (sum, order) => sum.add(buyReservation(order, asks.get(instrumentKey(order)), slippageBps)),
      new Decimal(0),
    )
    .add(putSaleReservation(orders));
}

/**
 * The account's working orders as one JSON text column, each with the position held in its
 * symbol; reads `a` (paper_accounts) of the enclosing query.
 */
export const workingOrdersColumn = Prisma.sql`(SELECT COALESCE(json_agg(json_build_object(
    'id', o.id::text, 'side', o.side, 'assetClass', o."assetClass", 'symbol', o.symbol, 'orderType', o."orderType",
    'quantity', o.quantity::text, 'notional', o.notional::text, 'limitPrice', o."limitPrice"::text,
    'stopPrice', o."stopPrice"::text, 'filledQuantity', o."filledQuantity"::text,
    'optionUnderlying', o."optionUnderlying", 'optionExpiry', o."optionExpiry", 'optionRight', o."optionRight",
    'optionStrike', o."optionStrike"::text, 'held', h.quantity::text) ORDER BY o."createdAt"), '[]'::json)::text
  FROM paper_orders o
  LEFT JOIN paper_positions h ON h."paperAccountId" = o."paperAccountId" AND h.symbol = o.symbol
  WHERE o."paperAccountId" = a.id AND o.status IN ('pending', 'accepted', 'partially_filled'))`;

const number = z.string().nullable();
const workingOrderSchema = z.object({
  id: z.string(),
  side: z.enum(['buy', 'sell']),
  assetClass: z.enum(['equity', 'option', 'crypto']),
  symbol: z.string(),
  orderType: z.enum(['market', 'limit', 'stop', 'stop_limit']),
  quantity: number,
  notional: number,
  limitPrice: number,
  stopPrice: number,
  filledQuantity: z.string(),
  optionUnderlying: z.string().nullable(),
  optionExpiry: z.string().nullable(),
  optionRight: z.enum(['call', 'put']).nullable(),
  optionStrike: number,
  held: number,
});

/** Reads `workingOrdersColumn`. */
export function parseWorkingOrders(text: string): WorkingOrder[] {
  const optional = (value: string | null) => (value === null ? undefined : new Decimal(value));
  return z
    .array(workingOrderSchema)
    .parse(JSON.parse(text))
    .map((row) => ({
      id: row.id,
      side: row.side,
      assetClass: row.assetClass,
      symbol: row.symbol,
      orderType: row.orderType,
      quantity: optional(row.quantity),
      notional: optional(row.notional),
      limitPrice: optional(row.limitPrice),
      stopPrice: optional(row.stopPrice),
      filledQuantity: new Decimal(row.filledQuantity),
      option:
        row.optionUnderlying !== null &&
        row.optionExpiry !== null &&
        row.optionRight !== null &&
        row.optionStrike !== null
          ? {
              underlying: row.optionUnderlying,
              expiry: row.optionExpiry,
              right: row.optionRight,
              strike: new Decimal(row.optionStrike),
            }
          : undefined,
      held: new Decimal(row.held ?? '0'),
    }));
}
