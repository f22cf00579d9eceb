/**
 * Alpaca (Trading API v2) behind our `Broker` interface, over the shared broker HTTP client.
 *
 * Exactly once: Alpaca refuses a second order with the same `client_order_id` (422 "client_order_id
 * must be unique"), and `GET /v2/orders:by_client_order_id` finds an order by it. So an order POST
 * with an unknown outcome (timeout after Alpaca accepted it, reset, 5xx) is never blindly retried:
 * we look the order up first; found → that is the order; 404 → it was not placed and sending it
 * again (same client order id) is safe. A duplicate refusal is answered by the same lookup.
 *
 * One set of API keys opens exactly one Alpaca account, so the `accountId` arguments only name it.
 */

import { z } from 'zod';
import {
  type AccountSnapshot,
  type Balances,
  type Broker,
  type BrokerFill,
  type BrokerOrder,
  BrokerRejectedError,
  BrokerUnreachableError,
  type OrderStatus,
  type PlaceOrderRequest,
  type Position,
} from '../../core/brokers/broker.js';
import type { OrderType } from '../../core/domain/values.js';
import { Decimal } from '../../core/domain/values.js';
import type { Logger } from '../../core/logging/logger.js';
import type { OptionContract } from '../../core/market-data/market-data.js';
import { newYorkTime } from '../../core/market-data/providers/us-market-calendar.js';
import { cancelAndRead } from '../cancel-order.js';
import { type BrokerClientOptions, sharedHttpOptions } from '../http/broker-client-options.js';
import { BrokerHttpClient } from '../http/broker-http-client.js';
import { BrokerRequestRejectedError } from '../http/errors.js';
import { firstIdField, parseList, rawList } from '../http/parse-list.js';
import type { RateLimits } from '../http/rate-limiter.js';
import { ListedExpiries } from '../option-expiries.js';
import { readOptionExpiries } from './option-contracts.js';
import {
  type AlpacaAccount,
  type AlpacaOrder,
  type AlpacaOrderRequest,
  type AlpacaPosition,
  alpacaAccountSchema,
  alpacaErrorSchema,
  alpacaOrderSchema,
  alpacaPositionSchema,
} from './schemas.js';

/** Alpaca's documented quota: 200 requests per minute per account. */
export const ALPACA_RATE_LIMITS: RateLimits = { default: { limit: 200, intervalMs: 60_000 } };

/** Alpaca's limit on `client_order_id`. */
export const MAX_CLIENT_ORDER_ID_LENGTH = 128;

/**
 * Placements in all for one `placeOrder` call: each ambiguous one is followed by a lookup, and only
 * a definite "not there" allows the next. After the last, the outcome stays unknown.
 */
const MAX_PLACEMENT_ROUNDS = 3;

/** Alpaca's list endpoint returns 50 orders unless asked; 500 is its maximum. */
const LIST_LIMIT = '500';

export interface AlpacaBrokerOptions extends BrokerClientOptions {
  readonly keyId: string;
  readonly secretKey: string;
  readonly environment: 'paper' | 'live';
  /** `https://paper-api.alpaca.markets` or `https://api.alpaca.markets` (or a fake in tests). */
  readonly baseUrl: string;
}

const noContent = z.unknown();

/** How a listed order or position is named in the log when it cannot be read. */
const orderId = firstIdField(['id'], ['client_order_id']);
const positionId = firstIdField(['symbol'], ['asset_id']);

export class AlpacaBroker implements Broker {
  readonly provider = 'alpaca' as const;
  readonly placementLookup = 'client_order_id' as const;
  readonly reportsOwnFills = false;
  readonly sellsOptionsToOpen = false;
  readonly environment: 'paper' | 'live';
  /** The connection's HTTP client; `http.health()` is the connection's health. */
  readonly http: BrokerHttpClient;
  private readonly logger: Logger | undefined;
  private readonly expiries: ListedExpiries;

  constructor(options: AlpacaBrokerOptions) {
    this.environment = options.environment;
    this.logger = options.logger;
    const now = options.now ?? (() => new Date());
    const { keyId, secretKey } = options;
    this.http = new BrokerHttpClient({
      provider: 'alpaca',
      baseUrl: options.baseUrl,
      ...sharedHttpOptions(options, ALPACA_RATE_LIMITS),
      authorize: () => ({ 'APCA-API-KEY-ID': keyId, 'APCA-API-SECRET-KEY': secretKey }),
      describeError: describeAlpacaError,
      errorCode: (_status, body) => {
        const parsed = alpacaErrorSchema.safeParse(body);
        return parsed.success ? String(parsed.data.code) : undefined;
      },
    });
    this.expiries = new ListedExpiries({
      provider: 'alpaca',
      read: (symbol) => readOptionExpiries(this.http, symbol, newYorkTime(now()).date, this.logger),
      now,
      logger: this.logger,
    });
  }

  async placeOrder(request: PlaceOrderRequest): Promise<BrokerOrder> {
    const body = alpacaOrderRequest(request);
    for (let round = 1; ; round++) {
      try {
        const { data } = await this.http.request({
          method: 'POST',
          path: '/v2/orders',
          body,
          schema: alpacaOrderSchema,
          idempotent: false,
        });
        return toBrokerOrder(data);
      } catch (error) {
        const duplicate = isDuplicateClientOrderId(error);
        if (!duplicate && !(error instanceof BrokerUnreachableError)) throw error;
        // Either Alpaca already holds this client order id, or we cannot tell whether it does.
        const existing = await this.reconcile(request.clientOrderId, error);
        if (existing !== undefined) return existing;
        if (duplicate) {
          throw new BrokerUnreachableError(
            'alpaca',
            'Alpaca refused a duplicate client order id but does not show the order',
            { cause: error },
          );
        }
        // Alpaca says it has no such order: it was not placed, so sending it again is safe.
        if (round >= MAX_PLACEMENT_ROUNDS) throw error;
      }
    }
  }

  /** The client order id is the broker's own key: a lookup by it settles any placement. */
  async reconcilePlacement(request: PlaceOrderRequest, _sentAt: Date): Promise<BrokerOrder | undefined> {
    return this.findOrderByClientOrderId(request.accountId, request.clientOrderId);
  }

  async findOrderByClientOrderId(
    _accountId: string,
    clientOrderId: string,
  ): Promise<BrokerOrder | undefined> {
    return this.getOrUndefined({
      path: '/v2/orders:by_client_order_id',
      query: { client_order_id: clientOrderId },
    });
  }

  async getOrder(_accountId: string, brokerOrderId: string): Promise<BrokerOrder | undefined> {
    return this.getOrUndefined({ path: `/v2/orders/${encodeURIComponent(brokerOrderId)}` });
  }

  /**
   * `DELETE /v2/orders/{id}` answers 204 with no body; the order's new state comes from a GET.
   * A cancel with an unknown outcome is settled the same way: the order says whether it took.
   */
  async cancelOrder(accountId: string, brokerOrderId: string): Promise<BrokerOrder> {
    return cancelAndRead(
      'alpaca',
      () =>
        this.http.request({
          method: 'DELETE',
          path: `/v2/orders/${encodeURIComponent(brokerOrderId)}`,
          schema: noContent,
          idempotent: false,
        }),
      () => this.getOrder(accountId, brokerOrderId),
    );
  }

  /** Open orders, oldest first; one Alpaca lists that we cannot read is skipped and logged. */
  async listOpenOrders(_accountId: string): Promise<BrokerOrder[]> {
    const { data } = await this.http.request({
      method: 'GET',
      path: '/v2/orders',
      query: { status: 'open', limit: LIST_LIMIT, direction: 'asc' },
      schema: rawList,
    });
    return this.readList(data, alpacaOrderSchema, 'open orders', orderId).map(toBrokerOrder);
  }

  /**
   * The expiries of the option contracts Alpaca lists on `underlying` (active, tradable, its own
   * root), every page read (./option-contracts.ts). Kept a few minutes; undefined when Alpaca
   * cannot tell (../option-expiries.ts).
   * @throws UnknownInstrumentError when Alpaca lists no option contracts on it
   */
  async optionExpiries(underlying: string): Promise<readonly string[] | undefined> {
    return this.expiries.get(underlying);
  }

  /** The one account these keys open (`GET /v2/account`). */
  async getAccount(): Promise<AlpacaAccount> {
    const { data } = await this.http.request({
      method: 'GET',
      path: '/v2/account',
      schema: alpacaAccountSchema,
    });
    return data;
  }

  async getBalances(_accountId: string): Promise<Balances> {
    return toBalances(await this.getAccount());
  }

  /** Open positions; one Alpaca lists that we cannot read is skipped and logged. */
  async getPositions(_accountId: string): Promise<Position[]> {
    const { data } = await this.http.request({
      method: 'GET',
      path: '/v2/positions',
      schema: rawList,
    });
    return this.readList(data, alpacaPositionSchema, 'positions', positionId).map(toPosition);
  }

  /** Alpaca has no combined call: account and positions in parallel. */
  async getAccountSnapshot(accountId: string): Promise<AccountSnapshot> {
    const [balances, positions] = await Promise.all([
      this.getBalances(accountId),
      this.getPositions(accountId),
    ]);
    return { balances, positions };
  }

  // ------------------------------------------------------------------ internals

  /** The elements of a list answer that match `schema`; the others are skipped and logged. */
  private readList<T>(
    raw: readonly unknown[],
    schema: z.ZodType<T>,
    list: string,
    idOf: (element: unknown) => string | undefined,
  ): T[] {
    return parseList(raw, schema, { provider: 'alpaca', list, idOf, logger: this.logger });
  }

  /** A GET for one order; Alpaca's 404 means there is none. */
  private async getOrUndefined(request: {
    path: string;
    query?: Record<string, string>;
  }): Promise<BrokerOrder | undefined> {
    try {
      const { data } = await this.http.request({ method: 'GET', ...request, schema: alpacaOrderSchema });
      return toBrokerOrder(data);
    } catch (error) {
      if (error instanceof BrokerRequestRejectedError && error.status === 404) return undefined;
      throw error;
    }
  }

  /**
   * After an ambiguous placement: the order if Alpaca has it, undefined if Alpaca says it does not.
   * If the lookup itself fails (even with an open circuit, a "nothing sent" error for the lookup),
   * the placement's outcome is still unknown: that is a BrokerUnreachableError, never a rejection.
   */
  private async reconcile(clientOrderId: string, placementError: unknown): Promise<BrokerOrder | undefined> {
    try {
      return await this.findOrderByClientOrderId('', clientOrderId);
    } catch (lookupError) {
      throw new BrokerUnreachableError(
        'alpaca',
        'Alpaca did not confirm the order, and looking it up failed: it may or may not have been placed',
        { cause: new AggregateError([placementError, lookupError]) },
      );
    }
  }
}

// ------------------------------------------------------------------ mapping (pure)

/** Alpaca error body → a sentence for the chat. */
export function describeAlpacaError(status: number, body: unknown): string {
  const parsed = alpacaErrorSchema.safeParse(body);
  if (parsed.success && parsed.data.message.trim() !== '') return parsed.data.message;
  if (status === 401) return 'Alpaca did not accept the API keys';
  if (status === 403) return 'Alpaca refused the request (forbidden)';
  if (status === 404) return 'Alpaca does not know it';
  return `Alpaca answered HTTP ${status}`;
}

function isDuplicateClientOrderId(error: unknown): boolean {
  return (
    error instanceof BrokerRequestRejectedError &&
    error.status === 422 &&
    /client_order_id must be unique/i.test(error.reason)
  );
}

/**
 * Our order → Alpaca's `POST /v2/orders` body. Refuses locally (nothing sent) what Alpaca would
 * refuse for certain, so the user gets a plain message rather than a 422 code.
 */
export function alpacaOrderRequest(request: PlaceOrderRequest): AlpacaOrderRequest {
  const reject = (reason: string): never => {
    throw new BrokerRejectedError('alpaca', reason);
  };
  if (request.clientOrderId.length === 0 || request.clientOrderId.length > MAX_CLIENT_ORDER_ID_LENGTH) {
    reject(`the client order id must be 1 to ${MAX_CLIENT_ORDER_ID_LENGTH} characters`);
  }
  if ((request.quantity === undefined) === (request.notional === undefined)) {
    reject('an order needs exactly one of quantity and notional');
  }
  if (request.notional !== undefined && request.orderType !== 'market') {
    reject('Alpaca takes dollar amounts for market orders only');
  }
  const needsLimit = request.orderType === 'limit' || request.orderType === 'stop_limit';
  const needsStop = request.orderType === 'stop' || request.orderType === 'stop_limit';
  if (needsLimit && request.limitPrice === undefined) reject('a limit order needs a limit price');
  if (needsStop && request.stopPrice === undefined) reject('a stop order needs a stop price');
  return {
    symbol: alpacaSymbol(request),
    ...(request.quantity !== undefined && { qty: request.quantity.toFixed() }),
    ...(request.notional !== undefined && { notional: request.notional.toFixed() }),
    side: request.side,
    type: request.orderType,
    time_in_force: request.timeInForce,
    ...(needsLimit && request.limitPrice !== undefined && { limit_price: request.limitPrice.toFixed() }),
    ...(needsStop && request.stopPrice !== undefined && { stop_price: request.stopPrice.toFixed() }),
    client_order_id: request.clientOrderId,
  };
}

/** Options: the OCC symbol without padding (AAPL240517P00190000); crypto: BTC → BTC/USD. */
function alpacaSymbol(request: PlaceOrderRequest): string {
  if (request.assetClass === 'option') {
    return request.option ? occSymbol(request.option) : request.symbol.replace(/\s+/g, '');
  }
  if (request.assetClass === 'crypto' && !request.symbol.includes('/')) return `${request.symbol}/USD`;
  return request.symbol;
}

/** OCC: root + YYMMDD + C|P + strike × 1000 in 8 digits; Alpaca writes it without the root's padding. */
export function occSymbol(contract: OptionContract): string {
  const [year = '', month = '', day = ''] = contract.expiry.split('-');
  const strike = contract.strike.mul(1000).toFixed(0).padStart(8, '0');
  return `${contract.underlying.toUpperCase()}${year.slice(2)}${month}${day}${contract.right === 'call' ? 'C' : 'P'}${strike}`;
}

/** Our symbol for Alpaca's: crypto pairs against USD lose the quote currency. */
function ourSymbol(symbol: string, assetClass: string | null | undefined): string {
  if (assetClass !== 'crypto') return symbol;
  return symbol.replace(/\/?USD$/, '');
}

/**
 * Alpaca's order status → ours. Statuses of a live order (new, accepted, done_for_day, stopped,
 * pending_replace, calculated...) report their fill progress; `replaced` counts as cancelled
 * (another order took its place); anything Alpaca adds later is `unknown` until we map it.
 */
export function orderStatusFor(alpaca: AlpacaOrder): OrderStatus {
  const progress: OrderStatus = alpaca.filled_qty.greaterThan(0) ? 'partially_filled' : 'accepted';
  switch (alpaca.status) {
    case 'pending_new':
    case 'suspended':
      return 'pending';
    case 'new':
    case 'accepted':
    case 'accepted_for_bidding':
    case 'held':
    case 'done_for_day':
    case 'stopped':
    case 'pending_replace':
    case 'partially_filled':
      return progress;
    case 'calculated':
      return alpaca.qty !== undefined && alpaca.filled_qty.greaterThanOrEqualTo(alpaca.qty)
        ? 'filled'
        : progress;
    case 'filled':
      return 'filled';
    case 'pending_cancel':
      return 'cancel_requested';
    case 'canceled':
    case 'replaced':
      return 'cancelled';
    case 'expired':
      return 'expired';
    case 'rejected':
      return 'rejected';
    default:
      return 'unknown';
  }
}

const FINAL_STATUSES: readonly OrderStatus[] = ['filled', 'cancelled', 'expired', 'rejected'];

/**
 * Alpaca's order carries the aggregate fill (filled_qty at filled_avg_price), not each execution.
 * We report it as one fill, and only once the order is final, under the order's id: a fill
 * recorded by id is then recorded exactly once, with the final totals, never a partial aggregate
 * that a later poll would add to again. Progress before that is in `filledQuantity`.
 */
function fillsFor(alpaca: AlpacaOrder, status: OrderStatus): BrokerFill[] {
  if (
    !FINAL_STATUSES.includes(status) ||
    alpaca.filled_qty.isZero() ||
    alpaca.filled_avg_price === undefined
  ) {
    return [];
  }
  return [
    {
      id: alpaca.id,
      quantity: alpaca.filled_qty,
      price: alpaca.filled_avg_price,
      fee: new Decimal(0),
      at: alpaca.filled_at ?? alpaca.updated_at ?? alpaca.created_at,
    },
  ];
}

function orderTypeFor(type: AlpacaOrder['type']): OrderType {
  // A trailing stop is a stop whose price moves; we place none, but may list one placed elsewhere.
  return type === 'trailing_stop' ? 'stop' : type;
}

export function toBrokerOrder(alpaca: AlpacaOrder): BrokerOrder {
  const status = orderStatusFor(alpaca);
  return {
    brokerOrderId: alpaca.id,
    clientOrderId: alpaca.client_order_id,
    status,
    symbol: ourSymbol(alpaca.symbol, alpaca.asset_class),
    side: alpaca.side,
    orderType: orderTypeFor(alpaca.type),
    quantity: alpaca.qty,
    notional: alpaca.notional,
    limitPrice: alpaca.limit_price,
    stopPrice: alpaca.stop_price,
    filledQuantity: alpaca.filled_qty,
    averageFillPrice: alpaca.filled_avg_price,
    rejectReason: status === 'rejected' ? 'Alpaca rejected the order' : undefined,
    fills: fillsFor(alpaca, status),
    createdAt: alpaca.created_at,
  };
}

/**
 * Alpaca reports no realized P&L for the day. We use today's change in equity (equity −
 * last_equity, last_equity being the previous close), which also counts unrealized moves: for the
 * daily loss limit that errs on the careful side.
 */
export function toBalances(account: AlpacaAccount): Balances {
  return {
    cash: account.cash,
    buyingPower: account.buying_power,
    // Alpaca documents that available buying power "is reduced by your existing open buy long and
    // sell short orders" ("Orders at Alpaca", Buying Power): working orders are out of it already.
    netsWorkingOrders: true,
    equity: account.equity,
    realizedPnlToday: account.equity.sub(account.last_equity),
    currency: account.currency,
  };
}

const ASSET_CLASSES: Record<string, Position['assetClass']> = {
  us_equity: 'equity',
  us_option: 'option',
  crypto: 'crypto',
};

/** Short positions come back negative; Alpaca reports no realized P&L per position (0 here). */
export function toPosition(position: AlpacaPosition): Position {
  const quantity =
    position.side === 'short' && position.qty.greaterThan(0) ? position.qty.neg() : position.qty;
  return {
    symbol: ourSymbol(position.symbol, position.asset_class),
    assetClass: ASSET_CLASSES[position.asset_class] ?? 'equity',
    quantity,
    averageCost: position.avg_entry_price,
    marketPrice: position.current_price,
    marketValue: position.market_value,
    unrealizedPnl: position.unrealized_pl,
    realizedPnl: new Decimal(0),
  };
}
