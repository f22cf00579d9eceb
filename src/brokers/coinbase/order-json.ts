/**
 * Our orders to Coinbase Advanced Trade's order JSON and back, and order sizing. Pure: no I/O, so
 * every mapping is tested with plain values.
 *
 * Sizing (`sizeOrder`) is exported for the core: Coinbase refuses sizes off its increments or
 * outside its minimum and maximum, so an order is sized before the confirmation card shows it,
 * and the card shows what will be placed.
 */

import {
  type BrokerFill,
  type BrokerOrder,
  BrokerRejectedError,
  type OrderStatus,
  type PlaceOrderRequest,
  type TimeInForceRequest,
} from '../../core/brokers/broker.js';
import type { OrderSide, OrderType, TimeInForce } from '../../core/domain/values.js';
import { Decimal, formatUsd } from '../../core/domain/values.js';
import type {
  CoinbaseFill,
  CoinbaseOrder,
  CoinbaseOrderBody,
  CoinbaseOrderConfiguration,
  CoinbaseOrderConfigurationFields,
  CoinbaseOrderError,
  CoinbaseProduct,
} from './schemas.js';

/** Coinbase trades pairs; a bare symbol means its US dollar pair. */
const DEFAULT_QUOTE = 'USD';

/** "BTC" → "BTC-USD"; "btc/usd" → "BTC-USD"; "ETH-USDC" unchanged. */
export function productIdFor(symbol: string): string {
  const upper = symbol.trim().toUpperCase().replace('/', '-');
  return upper.includes('-') ? upper : `${upper}-${DEFAULT_QUOTE}`;
}

/** "BTC-USD" → "BTC" (our symbol); other pairs ("ETH-BTC", "BTC-USDC") keep their product id. */
export function symbolForProduct(productId: string): string {
  const suffix = `-${DEFAULT_QUOTE}`;
  return productId.endsWith(suffix) ? productId.slice(0, -suffix.length) : productId;
}

// ------------------------------------------------------------------ sizing

/** The parts of an order sizing reads and may round. */
export interface SizeableOrder {
  readonly side: OrderSide;
  readonly orderType: OrderType;
  readonly quantity?: Decimal | undefined;
  readonly notional?: Decimal | undefined;
  readonly limitPrice?: Decimal | undefined;
  readonly stopPrice?: Decimal | undefined;
}

/**
 * The order as Coinbase will take it: base sizes (quantity) rounded DOWN to `base_increment`,
 * quote sizes (notional) DOWN to `quote_increment` (never more than the user asked for), limit
 * prices to the price tick in the user's favour (a buy down, a sell up), stop prices to the
 * nearest tick. Everything else is returned unchanged.
 * @throws BrokerRejectedError (chat-ready) when the product is not trading, or the size is below
 *   Coinbase's minimum or above its maximum after rounding
 */
export function sizeOrder<T extends SizeableOrder>(product: CoinbaseProduct, order: T): T {
  const base = baseSymbolOf(product);
  const reject = (reason: string, code: string): never => {
    throw new BrokerRejectedError('coinbase', reason, code);
  };
  if (
    product.status.toLowerCase() !== 'online' ||
    product.trading_disabled ||
    product.is_disabled ||
    product.cancel_only
  ) {
    reject(`Coinbase is not taking orders for ${product.product_id} right now.`, 'product_not_trading');
  }
  if (order.orderType === 'market' && (product.limit_only || product.post_only)) {
    reject(`Coinbase takes only limit orders for ${product.product_id} right now.`, 'limit_only');
  }
  let sized: T = order;
  if (order.quantity !== undefined) {
    const quantity = roundToStep(order.quantity, product.base_increment, Decimal.ROUND_DOWN);
    if (quantity.lessThan(product.base_min_size) || quantity.isZero()) {
      reject(
        `The smallest ${base} order on Coinbase is ${plain(product.base_min_size)} ${base}.`,
        'base_size_too_small',
      );
    }
    if (quantity.greaterThan(product.base_max_size)) {
      reject(
        `The largest ${base} order on Coinbase is ${plain(product.base_max_size)} ${base}.`,
        'base_size_too_large',
      );
    }
    sized = { ...sized, quantity };
  }
  if (order.notional !== undefined) {
    const notional = roundToStep(order.notional, product.quote_increment, Decimal.ROUND_DOWN);
    if (notional.lessThan(product.quote_min_size) || notional.isZero()) {
      reject(
        `The smallest ${base} order on Coinbase is ${quoteAmount(product, product.quote_min_size)}.`,
        'quote_size_too_small',
      );
    }
    if (notional.greaterThan(product.quote_max_size)) {
      reject(
        `The largest ${base} order on Coinbase is ${quoteAmount(product, product.quote_max_size)}.`,
        'quote_size_too_large',
      );
    }
    sized = { ...sized, notional };
  }
  const tick = product.price_increment ?? product.quote_increment;
  if (order.limitPrice !== undefined) {
    const rounding = order.side === 'buy' ? Decimal.ROUND_DOWN : Decimal.ROUND_UP;
    const limitPrice = roundToStep(order.limitPrice, tick, rounding);
    if (!limitPrice.greaterThan(0)) {
      reject(`Coinbase prices ${product.product_id} in steps of ${plain(tick)}.`, 'invalid_limit_price');
    }
    sized = { ...sized, limitPrice };
  }
  if (order.stopPrice !== undefined) {
    const stopPrice = roundToStep(order.stopPrice, tick, Decimal.ROUND_HALF_UP);
    if (!stopPrice.greaterThan(0)) {
      reject(`Coinbase prices ${product.product_id} in steps of ${plain(tick)}.`, 'invalid_stop_price');
    }
    sized = { ...sized, stopPrice };
  }
  return sized;
}

/** Whether sizing left the order as it was (placement refuses an order that was not sized first). */
export function sameSize(a: SizeableOrder, b: SizeableOrder): boolean {
  const same = (x: Decimal | undefined, y: Decimal | undefined) =>
    x === undefined ? y === undefined : y !== undefined && x.equals(y);
  return (
    same(a.quantity, b.quantity) &&
    same(a.notional, b.notional) &&
    same(a.limitPrice, b.limitPrice) &&
    same(a.stopPrice, b.stopPrice)
  );
}

/** The base asset as people write it ("BTC"). */
export function baseSymbolOf(product: CoinbaseProduct): string {
  return product.base_display_symbol || product.base_currency_id;
}

function roundToStep(value: Decimal, step: Decimal, rounding: Decimal.Rounding): Decimal {
  if (!step.greaterThan(0)) return value;
  return value.div(step).toDecimalPlaces(0, rounding).mul(step);
}

/** A decimal for people, exactly: "0.00001", never "1e-5". */
function plain(value: Decimal): string {
  return value.toFixed();
}

function quoteAmount(product: CoinbaseProduct, value: Decimal): string {
  return product.quote_currency_id === 'USD'
    ? formatUsd(value)
    : `${plain(value)} ${product.quote_currency_id}`;
}

// ------------------------------------------------------------------ our order → Coinbase

/** "day" has no close in a market that trades around the clock: a day order lives 24 hours. */
const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * Our order → Coinbase's `POST /orders` body. Refuses locally (nothing sent) what Coinbase cannot
 * take: other asset classes, stop (market) orders, dollar amounts for anything but market buys,
 * stop-limits that are IOC/FOK. Sizes are sent as given: size with `sizeOrder` first.
 * @param now the clock for a day order's `end_time`; build the body once per placement, so a
 *   repeated send carries the same body
 */
export function coinbaseOrderBody(request: PlaceOrderRequest, now: Date): CoinbaseOrderBody {
  const reject = (reason: string): never => {
    throw new BrokerRejectedError('coinbase', reason);
  };
  if (request.assetClass !== 'crypto') reject('Coinbase trades crypto only.');
  if (request.clientOrderId.length === 0) reject('the order has no client order id');
  if ((request.quantity === undefined) === (request.notional === undefined)) {
    reject('an order needs exactly one of quantity and notional');
  }
  const productId = productIdFor(request.symbol);
  const base = symbolForProduct(productId);
  if (request.orderType === 'stop') {
    reject('Coinbase has no stop market orders; use a stop-limit order (a stop price and a limit price).');
  }
  if (request.notional !== undefined && request.orderType !== 'market') {
    reject(`Coinbase takes dollar amounts for market orders only; give a ${base} quantity for this order.`);
  }
  if (request.notional !== undefined && request.side === 'sell') {
    reject(`Coinbase sells an amount of ${base}, not of dollars: say how much ${base} to sell.`);
  }
  return {
    client_order_id: request.clientOrderId,
    product_id: productId,
    side: request.side === 'buy' ? 'BUY' : 'SELL',
    order_configuration: orderConfigurationFor(request, now, reject),
  };
}

/**
 * The time in force Coinbase applies (as `orderConfigurationFor` sends it): a market order is
 * always `market_market_ioc`, so immediate-or-cancel whatever was asked; a limit or stop-limit order
 * keeps the one asked (a day order is sent good-till-date, 24 hours ahead).
 */
export function coinbaseTimeInForce(order: TimeInForceRequest): TimeInForce {
  return order.orderType === 'market' ? 'ioc' : order.timeInForce;
}

function orderConfigurationFor(
  request: PlaceOrderRequest,
  now: Date,
  reject: (reason: string) => never,
): CoinbaseOrderConfiguration {
  if (request.orderType === 'market') {
    // A market order takes what the book has at once: IOC whatever time in force was asked.
    return {
      market_market_ioc:
        request.notional !== undefined
          ? { quote_size: request.notional.toFixed() }
          : { base_size: (request.quantity as Decimal).toFixed() },
    };
  }
  const limitPrice = request.limitPrice ?? reject('a limit order needs a limit price');
  const limit = { base_size: (request.quantity as Decimal).toFixed(), limit_price: limitPrice.toFixed() };
  const endTime = new Date(now.getTime() + DAY_MS).toISOString();
  if (request.orderType === 'limit') {
    switch (request.timeInForce) {
      case 'gtc':
        return { limit_limit_gtc: { ...limit, post_only: false } };
      case 'day':
        return { limit_limit_gtd: { ...limit, end_time: endTime, post_only: false } };
      case 'ioc':
        return { sor_limit_ioc: limit };
      case 'fok':
        return { limit_limit_fok: limit };
    }
  }
  const stopPrice = request.stopPrice ?? reject('a stop-limit order needs a stop price');
  const stopLimit = {
    ...limit,
    stop_price: stopPrice.toFixed(),
    // A buy stop waits for the price to rise to it; a sell stop (a stop-loss) for it to fall.
    stop_direction:
      request.side === 'buy' ? ('STOP_DIRECTION_STOP_UP' as const) : ('STOP_DIRECTION_STOP_DOWN' as const),
  };
  if (request.timeInForce === 'gtc') return { stop_limit_stop_limit_gtc: stopLimit };
  if (request.timeInForce === 'day')
    return { stop_limit_stop_limit_gtd: { ...stopLimit, end_time: endTime } };
  return reject('Coinbase stop-limit orders are good-till-cancelled or day orders, not IOC or FOK.');
}

// ------------------------------------------------------------------ refusals, for people

/**
 * Coinbase's failure reasons (Create Order's `preview_failure_reason` / `new_order_failure_reason`,
 * Preview's `errs`), without their `PREVIEW_` prefix, as chat sentences. `{base}` is the asset.
 */
const FAILURE_REASONS: Record<string, string> = {
  INSUFFICIENT_FUND: 'there is not enough {funds} available in the Coinbase account for this order',
  INSUFFICIENT_FUNDS: 'there is not enough {funds} available in the Coinbase account for this order',
  INSUFFICIENT_LEDGER_BALANCE: 'there is not enough {funds} available in the Coinbase account for this order',
  INVALID_LEDGER_BALANCE: 'there is not enough {funds} available in the Coinbase account for this order',
  INVALID_BASE_SIZE_TOO_SMALL: "the {base} amount is below Coinbase's minimum order size",
  INVALID_BASE_SIZE_TOO_LARGE: "the {base} amount is above Coinbase's maximum order size",
  INVALID_QUOTE_SIZE_TOO_SMALL: "the dollar amount is below Coinbase's minimum order size",
  INVALID_QUOTE_SIZE_TOO_LARGE: "the dollar amount is above Coinbase's maximum order size",
  INVALID_SIZE_PRECISION: 'the {base} amount has more decimals than Coinbase allows',
  INVALID_QUOTE_SIZE_PRECISION: 'the dollar amount has more decimals than Coinbase allows',
  INVALID_PRICE_PRECISION: 'the price has more decimals than Coinbase allows',
  INVALID_PRICE_TOO_LARGE: 'the price is too high for Coinbase',
  INVALID_PRODUCT_ID: 'Coinbase does not trade {base} against the dollar',
  INELIGIBLE_PAIR: 'this Coinbase account may not trade {base}',
  ORDER_ENTRY_DISABLED: 'Coinbase is not taking orders for {base} right now',
  INVALID_LIMIT_PRICE_POST_ONLY: 'a post-only limit order at that price would have traded at once',
  INVALID_LIMIT_PRICE: 'Coinbase does not accept that limit price',
  INVALID_STOP_PRICE: 'the stop price is on the wrong side of the current price',
  INVALID_NO_LIQUIDITY: 'nobody on Coinbase is trading {base} at that price right now',
  INVALID_ORDER_CONFIG: 'Coinbase does not support this kind of order',
  UNSUPPORTED_ORDER_CONFIGURATION: 'Coinbase does not support this kind of order',
  INVALID_SIDE: 'Coinbase did not understand whether to buy or sell',
  BREACHED_PRICE_LIMIT: "the price is outside Coinbase's allowed range right now",
};

/** Whose money a refusal is about: dollars for buys, the asset for sells. */
export interface FailureContext {
  readonly side: OrderSide;
  readonly base: string;
}

/** A failure reason code (with or without `PREVIEW_`) as a sentence, or undefined if unknown. */
export function describeFailureReason(code: string, context: FailureContext): string | undefined {
  const key = code.toUpperCase().replace(/^PREVIEW_/, '');
  const text = FAILURE_REASONS[key];
  if (text === undefined) return undefined;
  return text
    .replaceAll('{base}', context.base)
    .replaceAll('{funds}', context.side === 'buy' ? 'money' : context.base);
}

const UNSPECIFIED = /^UNKNOWN_|_UNSPECIFIED$|^$/;

/** `error_response` of a `success: false` order → a chat sentence and Coinbase's code. */
export function describeOrderError(
  error: CoinbaseOrderError | null | undefined,
  context: FailureContext,
): { reason: string; code: string | undefined } {
  const codes = [error?.preview_failure_reason, error?.new_order_failure_reason, error?.error].filter(
    (code): code is string => typeof code === 'string' && !UNSPECIFIED.test(code),
  );
  for (const code of codes) {
    const reason = describeFailureReason(code, context);
    if (reason !== undefined) return { reason, code };
  }
  const message = error?.message?.trim() || error?.error_details?.trim();
  return { reason: message || 'Coinbase refused the order without saying why', code: codes[0] };
}

// ------------------------------------------------------------------ Coinbase → our order

/**
 * Coinbase's order status → ours. OPEN orders report their fill progress (and a cancel in flight);
 * CANCELLED stays cancelled with whatever filled before; FAILED is a rejection; anything Coinbase
 * adds later (QUEUED, EDIT_QUEUED...) is a live order, and UNKNOWN_ORDER_STATUS is `unknown`.
 */
export function orderStatusFor(order: CoinbaseOrder): OrderStatus {
  const filled = order.filled_size ?? new Decimal(0);
  const progress: OrderStatus = filled.greaterThan(0) ? 'partially_filled' : 'accepted';
  switch (order.status) {
    case 'PENDING':
      return 'pending';
    case 'OPEN':
      return order.pending_cancel ? 'cancel_requested' : progress;
    case 'FILLED':
      return 'filled';
    case 'CANCEL_QUEUED':
      return 'cancel_requested';
    case 'CANCELLED':
      return 'cancelled';
    case 'EXPIRED':
      return 'expired';
    case 'FAILED':
      return 'rejected';
    case 'UNKNOWN_ORDER_STATUS':
      return 'unknown';
    case 'QUEUED':
    case 'EDIT_QUEUED':
      return progress;
    default:
      return 'unknown';
  }
}

/** The order configuration's kind and fields (`{ limit_limit_gtc: {...} }` → both). */
function configurationOf(
  order: CoinbaseOrder,
): { kind: string; fields: CoinbaseOrderConfigurationFields | undefined } | undefined {
  for (const [kind, fields] of Object.entries(order.order_configuration ?? {})) {
    if (fields !== null && fields !== undefined) return { kind, fields };
  }
  return undefined;
}

function orderTypeFor(order: CoinbaseOrder, kind: string | undefined): OrderType {
  if (kind?.startsWith('market_')) return 'market';
  if (kind?.startsWith('stop_limit_')) return 'stop_limit';
  if (kind !== undefined && /limit/.test(kind)) return 'limit';
  switch (order.order_type) {
    case 'MARKET':
      return 'market';
    case 'STOP_LIMIT':
      return 'stop_limit';
    case 'STOP':
      return 'stop';
    default:
      // Brackets, TWAPs and other kinds placed elsewhere all carry a limit price.
      return 'limit';
  }
}

/** One execution as ours; a size in quote currency (dollars) becomes a base quantity. */
export function toBrokerFill(fill: CoinbaseFill): BrokerFill {
  return {
    id: fill.entry_id,
    quantity: fill.size_in_quote ? fill.size.div(fill.price) : fill.size,
    price: fill.price,
    fee: fill.commission ?? new Decimal(0),
    at: fill.trade_time,
  };
}

/**
 * A Coinbase order with its executions (from the fills endpoint; each has its own id, so partial
 * fills are recorded once each as they come).
 */
export function toBrokerOrder(order: CoinbaseOrder, fills: readonly CoinbaseFill[] = []): BrokerOrder {
  const status = orderStatusFor(order);
  const configuration = configurationOf(order);
  const fields = configuration?.fields;
  const filled = order.filled_size ?? new Decimal(0);
  return {
    brokerOrderId: order.order_id,
    clientOrderId: order.client_order_id,
    status,
    symbol: symbolForProduct(order.product_id),
    side: order.side === 'BUY' ? 'buy' : 'sell',
    orderType: orderTypeFor(order, configuration?.kind),
    quantity: fields?.base_size,
    notional: fields?.quote_size,
    limitPrice: fields?.limit_price,
    stopPrice: fields?.stop_price,
    filledQuantity: filled,
    averageFillPrice: filled.greaterThan(0) ? order.average_filled_price : undefined,
    rejectReason: status === 'rejected' ? rejectReasonOf(order) : undefined,
    fills: fills.filter((fill) => fill.order_id === order.order_id).map(toBrokerFill),
    createdAt: order.created_time,
  };
}

function rejectReasonOf(order: CoinbaseOrder): string {
  const base = symbolForProduct(order.product_id);
  const context: FailureContext = { side: order.side === 'BUY' ? 'buy' : 'sell', base };
  if (order.reject_reason !== '' && !UNSPECIFIED.test(order.reject_reason)) {
    const described = describeFailureReason(order.reject_reason, context);
    if (described !== undefined) return described;
  }
  return order.reject_message.trim() || 'Coinbase rejected the order';
}
