/**
 * Schwab's answers as ours (pure): orders and their statuses, fills, balances, positions, quotes
 * with greeks, chain contracts, and error bodies as chat sentences. A price an order type does
 * not use (a market order's listed `"price": 0`) is not reported as a limit or stop price.
 */
import type { Balances, BrokerFill, BrokerOrder, OrderStatus, Position } from '../../core/brokers/broker.js';
import { OPTION_CONTRACT_MULTIPLIER } from '../../core/domain/contract-multiplier.js';
import type { OrderSide, OrderType } from '../../core/domain/values.js';
import { Decimal } from '../../core/domain/values.js';
import type { OptionContract, Quote } from '../../core/market-data/market-data.js';
import {
  type SchwabAccount,
  type SchwabChainListing,
  type SchwabOrder,
  type SchwabPosition,
  type SchwabQuoteEntry,
  schwabMarketDataErrorSchema,
  schwabTraderErrorSchema,
} from './schemas.js';

/** A quote with Schwab's mark and, for options, the greeks it provides. */
export interface SchwabQuote extends Quote {
  readonly mark: Decimal | undefined;
  readonly greeks: OptionGreeks | undefined;
}

/** The greeks Schwab quotes for an option; undefined where it has none (-999, NaN, null). */
export interface OptionGreeks {
  readonly delta: Decimal | undefined;
  readonly gamma: Decimal | undefined;
  readonly theta: Decimal | undefined;
  readonly vega: Decimal | undefined;
  readonly rho: Decimal | undefined;
  /** Implied volatility as a fraction (0.253 = 25.3 %); Schwab sends percent. */
  readonly impliedVolatility: Decimal | undefined;
}

/** One contract of an option chain, with its prices and greeks. */
export interface SchwabChainEntry {
  readonly contract: OptionContract;
  /** Schwab's (padded OCC) option symbol, e.g. "AAPL  240517P00190000". */
  readonly symbol: string;
  readonly bid: Decimal | undefined;
  readonly ask: Decimal | undefined;
  readonly last: Decimal | undefined;
  readonly mark: Decimal | undefined;
  readonly daysToExpiry: number | undefined;
  readonly openInterest: number | undefined;
  readonly greeks: OptionGreeks;
}

/** Schwab error body → a sentence for the chat (a gateway's HTML page gives the status only). */
export function describeSchwabError(status: number, body: unknown): string {
  const trader = schwabTraderErrorSchema.safeParse(body);
  if (trader.success) {
    const details = (trader.data.errors ?? [])
      .map((detail) => detail.trim())
      .filter((detail) => detail !== '');
    const message = trader.data.message.trim().replace(/\.$/, '');
    if (details.length === 0) return `${message}.`;
    return `${message}: ${details.map((detail) => detail.replace(/\.$/, '')).join('; ')}.`;
  }
  const marketData = schwabMarketDataErrorSchema.safeParse(body);
  if (marketData.success) {
    return marketData.data.errors.map((error) => error.detail ?? error.title ?? `HTTP ${status}`).join('; ');
  }
  if (status === 401) return 'Schwab no longer accepts this sign-in; link Schwab again.';
  if (status === 403) return 'Schwab refused the request (forbidden).';
  if (status === 404) return 'Schwab does not know it.';
  return `Schwab answered HTTP ${status}.`;
}

/**
 * Schwab's order status → ours. Live statuses report their fill progress; `REPLACED` counts as
 * cancelled (another order took its place); statuses waiting on Schwab's own review or
 * acknowledgement are `pending`.
 */
export function orderStatusFor(order: Pick<SchwabOrder, 'status' | 'filledQuantity'>): OrderStatus {
  const progress: OrderStatus = order.filledQuantity.gt(0) ? 'partially_filled' : 'accepted';
  switch (order.status) {
    case 'NEW':
    case 'PENDING_ACKNOWLEDGEMENT':
    case 'AWAITING_MANUAL_REVIEW':
      return 'pending';
    case 'ACCEPTED':
    case 'WORKING':
    case 'QUEUED':
    case 'PENDING_ACTIVATION':
    case 'PENDING_REPLACE':
    case 'AWAITING_PARENT_ORDER':
    case 'AWAITING_CONDITION':
    case 'AWAITING_STOP_CONDITION':
    case 'AWAITING_UR_OUT':
    case 'AWAITING_RELEASE_TIME':
      return progress;
    case 'PENDING_CANCEL':
    case 'PENDING_RECALL':
      return 'cancel_requested';
    case 'FILLED':
      return 'filled';
    case 'CANCELED':
    case 'REPLACED':
      return 'cancelled';
    case 'EXPIRED':
      return 'expired';
    case 'REJECTED':
      return 'rejected';
    default:
      return 'unknown';
  }
}

/** Statuses of an order still live at Schwab. */
export const OPEN_STATUSES: ReadonlySet<OrderStatus> = new Set([
  'pending',
  'accepted',
  'partially_filled',
  'cancel_requested',
]);

/** Schwab's many order types → our four (on-close and net-priced orders are limits or markets). */
function orderTypeFor(orderType: string): OrderType {
  switch (orderType) {
    case 'LIMIT':
    case 'LIMIT_ON_CLOSE':
    case 'NET_DEBIT':
    case 'NET_CREDIT':
    case 'NET_ZERO':
      return 'limit';
    case 'STOP':
    case 'TRAILING_STOP':
      return 'stop';
    case 'STOP_LIMIT':
    case 'TRAILING_STOP_LIMIT':
      return 'stop_limit';
    default:
      return 'market';
  }
}

function sideFor(instruction: string): OrderSide {
  return instruction.startsWith('BUY') ? 'buy' : 'sell';
}

/**
 * Each execution leg is one fill, under an id stable across polls (order, activity, leg), so a
 * fill recorded by id is recorded once. Schwab reports commissions elsewhere: fee 0 here.
 */
function fillsFor(order: SchwabOrder): BrokerFill[] {
  const fills: BrokerFill[] = [];
  order.orderActivityCollection.forEach((activity, activityIndex) => {
    if (activity.activityType !== undefined && activity.activityType !== 'EXECUTION') return;
    activity.executionLegs.forEach((leg, legIndex) => {
      fills.push({
        id: `${order.orderId}:${activity.activityId ?? activityIndex}:${leg.legId ?? legIndex}`,
        quantity: leg.quantity,
        price: leg.price,
        fee: new Decimal(0),
        at: leg.time,
      });
    });
  });
  return fills;
}

export function toBrokerOrder(order: SchwabOrder, clientOrderId = ''): BrokerOrder {
  const status = orderStatusFor(order);
  const fills = fillsFor(order);
  const filled = fills.reduce((sum, fill) => sum.plus(fill.quantity), new Decimal(0));
  const cost = fills.reduce((sum, fill) => sum.plus(fill.quantity.mul(fill.price)), new Decimal(0));
  const leg = order.orderLegCollection[0];
  const orderType = orderTypeFor(order.orderType);
  return {
    brokerOrderId: String(order.orderId),
    clientOrderId,
    status,
    symbol: leg?.instrument.symbol ?? '',
    side: sideFor(leg?.instruction ?? ''),
    orderType,
    quantity: order.quantity,
    notional: undefined,
    // A market order lists "price": 0, and a limit order may list a stop price of 0: neither is one.
    limitPrice: orderType === 'limit' || orderType === 'stop_limit' ? order.price : undefined,
    stopPrice: orderType === 'stop' || orderType === 'stop_limit' ? order.stopPrice : undefined,
    filledQuantity: order.filledQuantity,
    averageFillPrice: filled.gt(0) ? cost.div(filled) : undefined,
    rejectReason:
      status === 'rejected' ? (order.statusDescription ?? 'Schwab rejected the order') : undefined,
    fills,
    createdAt: order.enteredTime,
  };
}

/**
 * Cash, buying power and equity from the current balances (margin and cash accounts name them
 * differently). Schwab reports no realized P&L for the day; like Alpaca we use today's change in
 * liquidation value (now − start of day), which also counts unrealized moves: for the daily loss
 * limit that errs on the careful side.
 */
export function toBalances(account: SchwabAccount): Balances {
  const { currentBalances: current, initialBalances: initial } = account.securitiesAccount;
  const zero = new Decimal(0);
  const cash =
    current?.cashBalance ?? current?.totalCash ?? initial?.cashBalance ?? initial?.totalCash ?? zero;
  const equity =
    current?.liquidationValue ??
    account.aggregatedBalance?.currentLiquidationValue ??
    account.aggregatedBalance?.liquidationValue ??
    current?.equity ??
    initial?.liquidationValue ??
    cash;
  const startOfDay = initial?.liquidationValue ?? initial?.accountValue ?? equity;
  return {
    cash,
    buyingPower: current?.buyingPower ?? current?.cashAvailableForTrading ?? current?.availableFunds ?? cash,
    equity,
    realizedPnlToday: equity.minus(startOfDay),
    currency: 'USD',
  };
}

/** Short positions come back negative; Schwab reports no realized P&L per position (0 here). */
export function toPosition(position: SchwabPosition): Position {
  const option = position.instrument.assetType === 'OPTION';
  const quantity = position.longQuantity.minus(position.shortQuantity);
  const multiplier = option
    ? (position.instrument.optionMultiplier ?? new Decimal(OPTION_CONTRACT_MULTIPLIER))
    : new Decimal(1);
  const marketPrice =
    position.marketValue !== undefined && !quantity.isZero()
      ? position.marketValue.div(quantity.mul(multiplier)).abs()
      : undefined;
  return {
    symbol: position.instrument.symbol,
    assetClass: option ? 'option' : 'equity',
    quantity,
    averageCost: position.averagePrice ?? new Decimal(0),
    marketPrice,
    marketValue: position.marketValue,
    unrealizedPnl: quantity.gte(0)
      ? (position.longOpenProfitLoss ?? position.shortOpenProfitLoss)
      : (position.shortOpenProfitLoss ?? position.longOpenProfitLoss),
    realizedPnl: new Decimal(0),
  };
}

function greeksOf(values: {
  delta: Decimal | undefined;
  gamma: Decimal | undefined;
  theta: Decimal | undefined;
  vega: Decimal | undefined;
  rho: Decimal | undefined;
  volatility: Decimal | undefined;
}): OptionGreeks {
  return {
    delta: values.delta,
    gamma: values.gamma,
    theta: values.theta,
    vega: values.vega,
    rho: values.rho,
    impliedVolatility: values.volatility?.div(100),
  };
}

/** A quote entry → our quote; undefined when Schwab gave no price at all. */
export function toQuote(entry: SchwabQuoteEntry, now: Date): SchwabQuote | undefined {
  const quote = entry.quote;
  const last = quote?.lastPrice ?? quote?.mark;
  const bid = quote?.bidPrice ?? last;
  const ask = quote?.askPrice ?? last;
  if (quote === undefined || last === undefined || bid === undefined || ask === undefined) return undefined;
  const option = entry.assetMainType === 'OPTION';
  return {
    symbol: entry.symbol,
    assetClass: option ? 'option' : 'equity',
    bid,
    ask,
    last,
    mark: quote.mark,
    at: quote.quoteTime === undefined ? now : new Date(quote.quoteTime),
    source: 'schwab',
    greeks: option ? greeksOf(quote) : undefined,
  };
}

export function toChainEntry(
  underlying: string,
  { expiry, contract: entry }: SchwabChainListing,
): SchwabChainEntry {
  return {
    contract: {
      underlying,
      expiry,
      right: entry.putCall === 'CALL' ? 'call' : 'put',
      strike: entry.strikePrice,
    },
    symbol: entry.symbol,
    bid: entry.bid ?? entry.bidPrice,
    ask: entry.ask ?? entry.askPrice,
    last: entry.last ?? entry.lastPrice,
    mark: entry.mark ?? entry.markPrice,
    daysToExpiry: entry.daysToExpiration,
    openInterest: entry.openInterest,
    greeks: greeksOf(entry),
  };
}
