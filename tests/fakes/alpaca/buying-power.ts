/**
 * The Alpaca fake's buying power, as Alpaca documents it ("Orders at Alpaca", Buying Power): an
 * opening order must fit the *available* buying power, which "is reduced by your existing open buy
 * long and sell short orders, whereas your sell long and buy to cover orders do not replenish your
 * available buying power until they have executed" ($10,000 of buying power and a working $3,000
 * buy limit leave $7,000; a further $8,000 order is refused). `cash` is not touched by open orders.
 *
 * The fake sells only what is held (no short selling), so the open orders that hold buying power
 * are its buys. An open buy holds its limit × the quantity left; one without a limit (a market or
 * trailing stop order) the current price; a stop the higher of its stop and the current price (it
 * turns into a market order at the stop). Options count 100 shares a contract.
 */
import { Decimal } from 'decimal.js';
import type { FakeAlpacaOrder } from './fake-alpaca.js';

/** The parts of an account buying power depends on. */
export interface BuyingPowerAccount {
  readonly cash: Decimal;
  readonly positions: ReadonlyMap<
    string,
    {
      readonly assetClass: FakeAlpacaOrder['asset_class'];
      readonly qty: Decimal;
      readonly avgEntryPrice: Decimal;
    }
  >;
  readonly orders: readonly FakeAlpacaOrder[];
}

/** The statuses of an order Alpaca still works. */
export const OPEN_STATUSES: ReadonlySet<string> = new Set([
  'new',
  'accepted',
  'pending_new',
  'partially_filled',
  'held',
]);

export function multiplier(assetClass: FakeAlpacaOrder['asset_class']): number {
  return assetClass === 'us_option' ? 100 : 1;
}

/** The market value of the long positions, at the current prices (the entry price where none). */
export function marketValue(account: BuyingPowerAccount, prices: ReadonlyMap<string, Decimal>): Decimal {
  let total = new Decimal(0);
  for (const [symbol, position] of account.positions) {
    const price = prices.get(symbol) ?? position.avgEntryPrice;
    total = total.add(price.mul(position.qty).mul(multiplier(position.assetClass)));
  }
  return total;
}

/**
 * What one buy is worth against buying power: its limit, else the higher of its stop and the
 * price, else the price; times the quantity (or the dollar amount of a notional order).
 * `price` undefined (no quote): the stop or limit alone, 0 when neither is set.
 */
export function buyValue(
  order: Pick<FakeAlpacaOrder, 'asset_class' | 'limit_price' | 'stop_price' | 'notional'>,
  quantity: Decimal | undefined,
  price: Decimal | undefined,
): Decimal {
  if (quantity === undefined) return new Decimal(order.notional ?? 0);
  const stop = order.stop_price === null ? undefined : new Decimal(order.stop_price);
  const unit =
    order.limit_price !== null
      ? new Decimal(order.limit_price)
      : stop !== undefined
        ? Decimal.max(stop, price ?? stop)
        : (price ?? new Decimal(0));
  return unit.mul(quantity).mul(multiplier(order.asset_class));
}

/** What the account's open buys hold: each one's value for the quantity it has left. */
export function heldByOpenBuys(account: BuyingPowerAccount, prices: ReadonlyMap<string, Decimal>): Decimal {
  let held = new Decimal(0);
  for (const order of account.orders) {
    if (order.side !== 'buy' || !OPEN_STATUSES.has(order.status)) continue;
    const left = order.qty === null ? undefined : new Decimal(order.qty).sub(order.filled_qty);
    held = held.add(buyValue(order, left, prices.get(order.symbol)));
  }
  return held;
}

/**
 * `buying_power` of GET /v2/account: Reg T (twice the equity less what long positions already
 * use) less what open buys hold, never below 0.
 */
export function availableBuyingPower(
  account: BuyingPowerAccount,
  prices: ReadonlyMap<string, Decimal>,
): Decimal {
  const longValue = marketValue(account, prices);
  const regT = account.cash.add(longValue).mul(2).sub(longValue);
  return Decimal.max(0, regT.sub(heldByOpenBuys(account, prices)));
}
