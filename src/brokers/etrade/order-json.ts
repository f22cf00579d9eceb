/**
 * Our orders to E*TRADE's order JSON and back. Pure: no I/O, so every mapping is tested with plain
 * values.
 *
 * E*TRADE's `clientOrderId` is at most 20 alphanumerics and unique per account: a second place
 * with the same id is refused. E*TRADE never shows it in an answer, so orders are found again by
 * their content (./reconcile.ts), not by it. Ours already has that form (see
 * core/intents/order-identity.ts) and is sent unchanged; any other id is replaced by a digest of
 * it, so the same intent always sends the same E*TRADE id.
 */
import { createHash } from 'node:crypto';
import {
  type BrokerFill,
  type BrokerOrder,
  BrokerRejectedError,
  type OrderStatus,
  type PlaceOrderRequest,
} from '../../core/brokers/broker.js';
import type { OrderSide, OrderType } from '../../core/domain/values.js';
import { Decimal } from '../../core/domain/values.js';
import type { OptionContract } from '../../core/market-data/market-data.js';
import { occSymbol, parseOccSymbol } from '../../core/market-data/providers/options.js';
import type {
  EtradeListedOrder,
  EtradeOrderAction,
  EtradeOrderBody,
  EtradeOrderTerm,
  EtradePriceType,
  EtradeProduct,
  EtradeRequestOrder,
  EtradeRequestProduct,
} from './schemas.js';

const CLIENT_ORDER_ID = /^[A-Za-z0-9]{1,20}$/;

/** Our client order id as E*TRADE accepts it: unchanged when it fits, else a stable digest. */
export function etradeClientOrderId(ours: string): string {
  if (CLIENT_ORDER_ID.test(ours)) return ours;
  return `H${createHash('sha256').update(`etrade-client-order-id:${ours}`).digest('hex').slice(0, 19).toUpperCase()}`;
}

const PRICE_TYPES: Record<OrderType, EtradePriceType> = {
  market: 'MARKET',
  limit: 'LIMIT',
  stop: 'STOP',
  stop_limit: 'STOP_LIMIT',
};

const ORDER_TERMS: Record<PlaceOrderRequest['timeInForce'], EtradeOrderTerm> = {
  day: 'GOOD_FOR_DAY',
  gtc: 'GOOD_UNTIL_CANCEL',
  ioc: 'IMMEDIATE_OR_CANCEL',
  fok: 'FILL_OR_KILL',
};

/** Whether an option order opens a position or closes one the account holds. */
export type OptionEffect = 'open' | 'close';

/**
 * E*TRADE needs to be told whether an option order opens or closes: buying while short closes,
 * selling while long closes, anything else opens. `held` is the account's signed position.
 */
export function optionEffectFor(side: OrderSide, held: Decimal): OptionEffect {
  if (side === 'buy' && held.isNegative()) return 'close';
  if (side === 'sell' && held.greaterThan(0)) return 'close';
  return 'open';
}

/** The contract of an option order: its parts, or read from its OCC symbol. */
export function optionContractOf(request: PlaceOrderRequest): OptionContract {
  const contract = request.option ?? parseOccSymbol(request.symbol);
  if (contract === undefined) {
    throw new BrokerRejectedError('etrade', `${request.symbol} is not an option contract E*TRADE can trade`);
  }
  return contract;
}

/**
 * Our order → the body E*TRADE previews and then places. Refuses locally (nothing sent) what
 * E*TRADE would refuse for certain: dollar amounts, fractional shares, crypto, missing prices.
 * @param effect required for options (see `optionEffectFor`)
 */
export function etradeOrderBody(request: PlaceOrderRequest, effect?: OptionEffect): EtradeOrderBody {
  const reject = (reason: string): never => {
    throw new BrokerRejectedError('etrade', reason);
  };
  if (request.assetClass === 'crypto') reject('E*TRADE does not trade crypto');
  if (request.notional !== undefined || request.quantity === undefined) {
    reject('E*TRADE takes orders in shares or contracts, not dollar amounts');
  }
  const quantity = request.quantity ?? new Decimal(0);
  if (!quantity.isInteger() || quantity.lessThanOrEqualTo(0)) {
    reject('E*TRADE takes whole numbers of shares or contracts');
  }
  const needsLimit = request.orderType === 'limit' || request.orderType === 'stop_limit';
  const needsStop = request.orderType === 'stop' || request.orderType === 'stop_limit';
  if (needsLimit && request.limitPrice === undefined) reject('a limit order needs a limit price');
  if (needsStop && request.stopPrice === undefined) reject('a stop order needs a stop price');

  const isOption = request.assetClass === 'option';
  let product: EtradeRequestProduct;
  let orderAction: EtradeOrderAction;
  if (isOption) {
    const contract = optionContractOf(request);
    const [year, month, day] = contract.expiry.split('-').map(Number);
    product = {
      securityType: 'OPTN',
      symbol: contract.underlying.toUpperCase(),
      callPut: contract.right === 'call' ? 'CALL' : 'PUT',
      expiryYear: year ?? 0,
      expiryMonth: month ?? 0,
      expiryDay: day ?? 0,
      strikePrice: jsonNumber(contract.strike, 'strike'),
    };
    if (effect === undefined) reject('an option order must say whether it opens or closes');
    orderAction = `${request.side === 'buy' ? 'BUY' : 'SELL'}_${effect === 'close' ? 'CLOSE' : 'OPEN'}`;
  } else {
    product = { securityType: 'EQ', symbol: request.symbol.toUpperCase() };
    orderAction = request.side === 'buy' ? 'BUY' : 'SELL';
  }
  const order: EtradeRequestOrder = {
    allOrNone: false,
    priceType: PRICE_TYPES[request.orderType],
    orderTerm: ORDER_TERMS[request.timeInForce],
    marketSession: 'REGULAR',
    ...(needsLimit &&
      request.limitPrice !== undefined && {
        limitPrice: jsonNumber(request.limitPrice, 'limit price'),
      }),
    ...(needsStop &&
      request.stopPrice !== undefined && {
        stopPrice: jsonNumber(request.stopPrice, 'stop price'),
      }),
    Instrument: [
      { Product: product, orderAction, quantityType: 'QUANTITY', quantity: jsonNumber(quantity, 'quantity') },
    ],
  };
  return {
    orderType: isOption ? 'OPTN' : 'EQ',
    clientOrderId: etradeClientOrderId(request.clientOrderId),
    Order: [order],
  };
}

/**
 * E*TRADE's JSON takes amounts as numbers. A Decimal goes over only if the number reads back as
 * the same decimal (true for any price with a handful of decimals), so nothing is rounded silently.
 */
function jsonNumber(value: Decimal, what: string): number {
  const number = Number(value.toFixed());
  if (!Number.isFinite(number) || !new Decimal(String(number)).equals(value)) {
    throw new BrokerRejectedError(
      'etrade',
      `the ${what} ${value.toFixed()} cannot be sent to E*TRADE exactly`,
    );
  }
  return number;
}

// ------------------------------------------------------------------ answers → ours

/**
 * E*TRADE's order status → ours. An OPEN order with executions is partially filled; anything
 * E*TRADE adds later is `unknown` until we map it.
 */
export function orderStatusFor(status: string, filledQuantity: Decimal): OrderStatus {
  switch (status) {
    case 'OPEN':
      return filledQuantity.greaterThan(0) ? 'partially_filled' : 'accepted';
    case 'PARTIAL':
    case 'INDIVIDUAL_FILLS':
      return 'partially_filled';
    case 'EXECUTED':
    case 'DONE_TRADE_EXECUTED':
      return 'filled';
    case 'CANCEL_REQUESTED':
      return 'cancel_requested';
    case 'CANCELLED':
      return 'cancelled';
    case 'EXPIRED':
      return 'expired';
    case 'REJECTED':
      return 'rejected';
    default:
      return 'unknown';
  }
}

const FINAL_STATUSES: readonly OrderStatus[] = ['filled', 'cancelled', 'expired', 'rejected'];

const ORDER_TYPES: Record<string, OrderType> = {
  MARKET: 'market',
  LIMIT: 'limit',
  STOP: 'stop',
  STOP_LIMIT: 'stop_limit',
};

/** Our symbol for an E*TRADE product: the ticker, or the OCC symbol of an option. */
export function symbolOf(product: EtradeProduct): string {
  if (
    product.securityType !== 'OPTN' ||
    product.callPut === undefined ||
    product.expiryYear === undefined ||
    product.expiryMonth === undefined ||
    product.expiryDay === undefined ||
    product.strikePrice === undefined
  ) {
    return product.symbol;
  }
  const pad = (value: number) => String(value).padStart(2, '0');
  return occSymbol({
    underlying: product.symbol,
    expiry: `${product.expiryYear}-${pad(product.expiryMonth)}-${pad(product.expiryDay)}`,
    right: product.callPut === 'CALL' ? 'call' : 'put',
    strike: product.strikePrice,
  });
}

/** Price types that carry a limit price, and those that carry a stop price. */
const LIMIT_PRICE_TYPES: ReadonlySet<string> = new Set(['LIMIT', 'STOP_LIMIT']);
const STOP_PRICE_TYPES: ReadonlySet<string> = new Set(['STOP', 'STOP_LIMIT']);

/** A listed price that means something: E*TRADE lists 0 (or null) where there is none. */
function meaningfulPrice(price: Decimal | undefined): Decimal | undefined {
  return price?.greaterThan(0) ? price : undefined;
}

/**
 * One listed order → ours. E*TRADE reports the aggregate execution per instrument (filled quantity
 * at an average price); like Alpaca's, it becomes one fill under the order id once the order is
 * final, so a fill recorded by id is recorded once with the final totals.
 * @param clientOrderId ours, when the caller knows it (E*TRADE never shows it)
 */
export function toBrokerOrder(listed: EtradeListedOrder, clientOrderId = ''): BrokerOrder {
  const [detail] = listed.OrderDetail;
  const [instrument] = detail?.Instrument ?? [];
  if (detail === undefined || instrument === undefined) {
    throw new TypeError('an E*TRADE order without detail or instrument');
  }
  const filledQuantity = instrument.filledQuantity ?? new Decimal(0);
  const status = orderStatusFor(detail.status, filledQuantity);
  const averageFillPrice = filledQuantity.greaterThan(0)
    ? meaningfulPrice(instrument.averageExecutionPrice)
    : undefined;
  const createdAt = detail.placedTime ?? new Date(0);
  const fills: BrokerFill[] =
    FINAL_STATUSES.includes(status) && filledQuantity.greaterThan(0) && averageFillPrice !== undefined
      ? [
          {
            id: String(listed.orderId),
            quantity: filledQuantity,
            price: averageFillPrice,
            fee: new Decimal(0),
            at: detail.executedTime ?? createdAt,
          },
        ]
      : [];
  return {
    brokerOrderId: String(listed.orderId),
    clientOrderId,
    status,
    symbol: symbolOf(instrument.Product),
    side: instrument.orderAction.startsWith('BUY') ? 'buy' : 'sell',
    orderType: ORDER_TYPES[detail.priceType] ?? 'market',
    quantity: instrument.orderedQuantity,
    notional: undefined,
    limitPrice: LIMIT_PRICE_TYPES.has(detail.priceType) ? meaningfulPrice(detail.limitPrice) : undefined,
    stopPrice: STOP_PRICE_TYPES.has(detail.priceType) ? meaningfulPrice(detail.stopPrice) : undefined,
    filledQuantity,
    averageFillPrice,
    rejectReason: status === 'rejected' ? 'E*TRADE rejected the order' : undefined,
    fills,
    createdAt,
  };
}

/**
 * An order E*TRADE placed (it gave its id) that we could not read back yet: accepted, as we sent
 * it. The tracker reads its real state later.
 */
export function acceptedAsSent(
  request: PlaceOrderRequest,
  body: EtradeOrderBody,
  orderId: string,
  placedAt: Date,
): BrokerOrder {
  const [order] = body.Order;
  return {
    brokerOrderId: orderId,
    clientOrderId: request.clientOrderId,
    status: 'accepted',
    symbol:
      request.assetClass === 'option' ? occSymbol(optionContractOf(request)) : request.symbol.toUpperCase(),
    side: request.side,
    orderType: request.orderType,
    quantity: request.quantity,
    notional: undefined,
    limitPrice: order.limitPrice === undefined ? undefined : request.limitPrice,
    stopPrice: order.stopPrice === undefined ? undefined : request.stopPrice,
    filledQuantity: new Decimal(0),
    averageFillPrice: undefined,
    rejectReason: undefined,
    fills: [],
    createdAt: placedAt,
  };
}
