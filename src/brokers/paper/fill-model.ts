import type { TimeInForceRequest } from '../../core/brokers/broker.js';
import { Decimal, type OrderSide, type OrderType, type TimeInForce } from '../../core/domain/values.js';
import type { Quote } from '../../core/market-data/market-data.js';

export interface FillableOrder {
  readonly side: OrderSide;
  readonly orderType: OrderType;
  readonly limitPrice: Decimal | undefined;
  readonly stopPrice: Decimal | undefined;
  /** A stop that has already triggered on an earlier quote. */
  readonly triggered: boolean;
}

export type FillDecision =
  | { readonly action: 'fill'; readonly price: Decimal; readonly triggered: boolean }
  | { readonly action: 'rest'; readonly triggered: boolean };

function slipped(price: Decimal, side: OrderSide, slippageBps: number): Decimal {
  const factor = new Decimal(slippageBps).div(10_000);
  return side === 'buy' ? price.mul(Decimal.add(1, factor)) : price.mul(Decimal.sub(1, factor));
}

/** Decides whether `order` fills on `quote`, and at what price. */
export function decideFill(order: FillableOrder, quote: Quote, slippageBps: number): FillDecision {
  const isStop = order.orderType === 'stop' || order.orderType === 'stop_limit';
  let triggered = order.triggered;
  if (isStop && !triggered) {
    const stop = order.stopPrice;
    if (stop === undefined) return { action: 'rest', triggered: false };
    triggered =
      order.side === 'buy' ? quote.last.greaterThanOrEqualTo(stop) : quote.last.lessThanOrEqualTo(stop);
    if (!triggered) return { action: 'rest', triggered: false };
  }

  const touch = order.side === 'buy' ? quote.ask : quote.bid;
  if (order.orderType === 'market' || order.orderType === 'stop') {
    return { action: 'fill', price: slipped(touch, order.side, slippageBps), triggered };
  }
  const limit = order.limitPrice;
  if (limit === undefined) return { action: 'rest', triggered };
  const marketable =
    order.side === 'buy' ? touch.lessThanOrEqualTo(limit) : touch.greaterThanOrEqualTo(limit);
  // A marketable limit order gets the touch price, never worse than its limit.
  return marketable ? { action: 'fill', price: touch, triggered } : { action: 'rest', triggered };
}

/** Decimal places for a paper quantity bought by notional. */
export function quantityPrecision(assetClass: 'equity' | 'option' | 'crypto'): number {
  return assetClass === 'crypto' ? 8 : assetClass === 'equity' ? 6 : 0;
}

/**
 * The time in force the paper book applies. A crypto market order fills in full at once (crypto
 * never closes), so it is immediate-or-cancel. Other IOC/FOK orders are not cancelled when they do
 * not fill at once: they rest until cancelled, like GTC. Day orders end at the US equity close,
 * except crypto ones, which never end: GTC.
 */
export function paperTimeInForce(order: TimeInForceRequest): TimeInForce {
  if (order.assetClass === 'crypto' && order.orderType === 'market') return 'ioc';
  if (order.timeInForce === 'ioc' || order.timeInForce === 'fok') return 'gtc';
  if (order.timeInForce === 'day' && order.assetClass === 'crypto') return 'gtc';
  return order.timeInForce;
}
