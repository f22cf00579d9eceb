/**
 * Prices for cards and re-checks, as pure functions over plain values: which quote to ask for,
 * the price an order is expected to trade at, how many units a dollar amount buys, and its cost.
 */
import type { Broker, OrderPreview } from '../brokers/broker.js';
import { Decimal, type OrderSide } from '../domain/values.js';
import type { MarketDataProvider, Quote, QuoteRequest } from '../market-data/market-data.js';

/** The side of the book an order meets: the ask for a buy, the bid for a sell. */
export function touchOf(side: OrderSide, quote: Pick<Quote, 'ask' | 'bid'>): Decimal {
  return side === 'buy' ? quote.ask : quote.bid;
}

/** The price an order is expected to trade at: the touch for market orders, the limit otherwise. */
export function estimatePrice(
  order: { readonly side: OrderSide; readonly limitPrice?: Decimal; readonly stopPrice?: Decimal },
  quote: Pick<Quote, 'ask' | 'bid'>,
): Decimal {
  const touch = touchOf(order.side, quote);
  if (order.limitPrice !== undefined) {
    // A marketable limit trades at the touch; a resting one at its limit.
    return order.side === 'buy' ? Decimal.min(order.limitPrice, touch) : Decimal.max(order.limitPrice, touch);
  }
  if (order.stopPrice !== undefined) return order.stopPrice;
  return touch;
}

/** Units an order stands for: its quantity, or what its dollar amount buys at `price`. */
export function unitsOf(
  order: { readonly quantity?: Decimal; readonly notional?: Decimal },
  price: Decimal,
  multiplier: number,
): Decimal {
  return order.quantity ?? (order.notional ?? new Decimal(0)).div(price.mul(multiplier));
}

/** What `quantity` costs at `price`, to the cent (an option's price is per share of its contract). */
export function costOf(quantity: Decimal, price: Decimal, multiplier: number): Decimal {
  return quantity.mul(price).mul(multiplier).toDecimalPlaces(2);
}

/** What an order is expected to trade as, before any broker preview. */
export interface ExpectedTrade {
  /** Units it stands for (see `unitsOf`). */
  readonly units: Decimal;
  /** The price it is expected to trade at (see `estimatePrice`). */
  readonly price: Decimal;
  readonly multiplier: number;
}

/**
 * The card's estimate of what an order costs (a buy) or brings in (a sale), to the cent.
 *
 * An order with a limit price and a quantity is estimated at quantity x limit: what the broker sets
 * aside for it whether it fills now or rests. A preview's total is not used for it, because a
 * preview may price only what would fill at once (a card showed $0.00 for a resting crypto limit
 * buy); the preview's fees are added to a buy and taken off a sale. Any other order: the
 * broker's previewed total (fees included) where it previews, else the expected price.
 */
export function estimatedCost(
  order: { readonly side: OrderSide; readonly quantity?: Decimal; readonly limitPrice?: Decimal },
  expected: ExpectedTrade,
  preview: OrderPreview | undefined,
): Decimal {
  if (order.quantity !== undefined && order.limitPrice !== undefined) {
    const value = order.quantity.mul(order.limitPrice).mul(expected.multiplier);
    const fees = preview?.fees ?? new Decimal(0);
    return (order.side === 'buy' ? value.add(fees) : value.sub(fees)).toDecimalPlaces(2);
  }
  if (preview !== undefined) return preview.total.toDecimalPlaces(2);
  return costOf(expected.units, expected.price, expected.multiplier);
}

/** The broker's own quote where it has one, else the market data's. */
export async function quoteAt(
  broker: Pick<Broker, 'quote'>,
  market: Pick<MarketDataProvider, 'quote'>,
  request: QuoteRequest,
): Promise<Quote> {
  return (await broker.quote?.(request)) ?? market.quote(request);
}
