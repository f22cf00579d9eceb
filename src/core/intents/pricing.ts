/**
 * Prices for cards and re-checks, as pure functions over plain values: which quote to ask for,
 * the price an order is expected to trade at, how many units a dollar amount buys, and its cost.
 */
import type { Broker } from '../brokers/broker.js';
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

/** The broker's own quote where it has one, else the market data's. */
export async function quoteAt(
  broker: Pick<Broker, 'quote'>,
  market: Pick<MarketDataProvider, 'quote'>,
  request: QuoteRequest,
): Promise<Quote> {
  return (await broker.quote?.(request)) ?? market.quote(request);
}
