/**
 * Coinbase Advanced Trade (`/api/v3/brokerage`) behind our `Broker` interface, over the shared
 * broker HTTP client. Every request carries a fresh bearer: a CDP key JWT bound to that request's
 * method, host and path (cdp-jwt.ts), or an OAuth access token for users who linked by signing in.
 *
 * Exactly once. What we rely on from Coinbase's Create Order documentation: `client_order_id` is
 * "a unique ID provided for the order ... If the ID provided is not unique, the order will not be
 * created and the order corresponding with that ID will be returned instead". So sending the same
 * body again with the same `client_order_id` can never make a second order. Coinbase has no
 * "get order by client order id" call: List Orders (`GET /orders/historical/batch`) filtered by
 * product and start date is searched for it instead. An order POST with an unknown outcome
 * (timeout, reset, 5xx, an answer we cannot read) is therefore never blindly retried: we look the
 * order up first; found → that is the order; not listed → we send the same body (same client
 * order id) again, which Coinbase de-duplicates should the list simply not show it yet.
 *
 * A CDP key is scoped to one portfolio, and an OAuth grant to the user's default one, so the
 * `accountId` arguments only name it.
 */

import type { z } from 'zod';
import {
  type AccountSnapshot,
  type Balances,
  type Broker,
  type BrokerOrder,
  BrokerRejectedError,
  BrokerUnreachableError,
  type OrderPreview,
  type OrderSize,
  type PlaceOrderRequest,
  type Position,
  type SizingRequest,
  type TimeInForceRequest,
} from '../../core/brokers/broker.js';
import { Decimal, formatUsd, type TimeInForce } from '../../core/domain/values.js';
import { type Quote, type QuoteRequest, UnknownInstrumentError } from '../../core/market-data/market-data.js';
import { cancelAndRead } from '../cancel-order.js';
import { type BrokerClientOptions, sharedHttpOptions } from '../http/broker-client-options.js';
import { BrokerHttpClient } from '../http/broker-http-client.js';
import { BrokerRequestRejectedError } from '../http/errors.js';
import { firstIdField, parseList } from '../http/parse-list.js';
import type { RateLimits } from '../http/rate-limiter.js';
import { importCdpPrivateKey, signCdpRequestJwt } from './cdp-jwt.js';
import {
  baseSymbolOf,
  coinbaseOrderBody,
  coinbaseTimeInForce,
  describeFailureReason,
  describeOrderError,
  type FailureContext,
  productIdFor,
  type SizeableOrder,
  sameSize,
  sizeOrder,
  symbolForProduct,
  toBrokerOrder,
} from './order-json.js';
import {
  type CoinbaseAccount,
  type CoinbaseFill,
  type CoinbaseOrder,
  type CoinbaseOrderBody,
  type CoinbasePricebook,
  type CoinbaseProduct,
  coinbaseAccountSchema,
  coinbaseAccountsPageSchema,
  coinbaseBestBidAskSchema,
  coinbaseCancelResponseSchema,
  coinbaseCancelResultSchema,
  coinbaseCreateOrderResponseSchema,
  coinbaseErrorSchema,
  coinbaseFillSchema,
  coinbaseFillsPageSchema,
  coinbaseOrderResponseSchema,
  coinbaseOrderSchema,
  coinbaseOrdersPageSchema,
  coinbasePreviewResponseSchema,
  coinbasePricebookSchema,
  coinbaseProductSchema,
} from './schemas.js';

/**
 * Coinbase documents 30 requests per second per user for Advanced Trade's private endpoints
 * ("REST API Rate Limits"), and says the limit can tighten at busy times. The same user's other
 * apps and keys share it, so we stay at 25.
 */
export const COINBASE_RATE_LIMITS: RateLimits = { default: { limit: 25, intervalMs: 1_000 } };

/** Placements in all for one `placeOrder`; each ambiguous one is followed by a lookup. */
const MAX_PLACEMENT_ROUNDS = 3;

/** How far before our send a lookup starts (our clock and Coinbase's may disagree). */
export const CLOCK_SKEW_MS = 2 * 60_000;

/** Page sizes and the most pages we follow (a lookup that needs more gives up: "not found"). */
const ORDERS_PAGE_SIZE = '100';
const MAX_ORDER_PAGES = 10;
const FILLS_PAGE_SIZE = '100';
const MAX_FILL_PAGES = 10;
const ACCOUNTS_PAGE_SIZE = '250';
const MAX_ACCOUNT_PAGES = 20;

/** How an element of each list is named in the log when it cannot be read (ids, never amounts). */
const LISTED_IDS = {
  accounts: firstIdField(['uuid'], ['currency']),
  orders: firstIdField(['order_id'], ['client_order_id']),
  fills: firstIdField(['entry_id'], ['trade_id']),
  'best bid/ask': firstIdField(['product_id']),
  'cancel results': firstIdField(['order_id']),
} as const;

/** Currencies we count as cash: Coinbase trades USDC 1:1 against USD pairs. */
const CASH_CURRENCIES = new Set(['USD', 'USDC']);

const API_PATH = '/api/v3/brokerage';

/** A CDP API key, as linking stores it. */
export interface CoinbaseKeyCredentials {
  /** "organizations/{org}/apiKeys/{id}" or the key id: the JWT's kid and sub. */
  readonly keyName: string;
  /** EC P-256 PEM or Ed25519 (base64). */
  readonly privateKey: string;
}

/** One of: a CDP key (a JWT per request) or an OAuth access token (read for every attempt). */
export type CoinbaseAuth =
  | { readonly credentials: CoinbaseKeyCredentials; readonly accessToken?: undefined }
  | { readonly accessToken: () => Promise<string>; readonly credentials?: undefined };

export type CoinbaseBrokerOptions = BrokerClientOptions &
  CoinbaseAuth & {
    /** `https://api.coinbase.com` (or a fake in tests); `/api/v3/brokerage` is appended. */
    readonly apiBase: string;
  };

/** What Coinbase's preview says an order would cost, for the confirmation card. */
export interface CoinbasePreview {
  readonly productId: string;
  /** Everything the order moves, fees included (dollars for a buy). */
  readonly orderTotal: Decimal;
  readonly commissionTotal: Decimal;
  readonly baseSize: Decimal | undefined;
  readonly quoteSize: Decimal | undefined;
  readonly bestBid: Decimal | undefined;
  readonly bestAsk: Decimal | undefined;
  readonly slippage: Decimal | undefined;
  readonly previewId: string | undefined;
  /** Coinbase's warnings, as sentences where we know them (else its codes). */
  readonly warnings: readonly string[];
}

export class CoinbaseBroker implements Broker {
  readonly provider = 'coinbase' as const;
  /** Listed orders carry our `client_order_id`. */
  readonly placementLookup = 'client_order_id' as const;
  readonly reportsOwnFills = false;
  readonly sellsOptionsToOpen = false;
  /** The connection's HTTP client; `http.health()` is the connection's health. */
  readonly http: BrokerHttpClient;
  private readonly now: () => Date;

  /** @throws CdpKeyError when the key cannot be read (nothing is sent) */
  constructor(private readonly options: CoinbaseBrokerOptions) {
    this.now = options.now ?? (() => new Date());
    const bearer = bearerFor(options, this.now);
    this.http = new BrokerHttpClient({
      provider: 'coinbase',
      baseUrl: `${options.apiBase.replace(/\/+$/, '')}${API_PATH}`,
      ...sharedHttpOptions(options, COINBASE_RATE_LIMITS),
      authorize: async (request) => ({ authorization: `Bearer ${await bearer(request)}` }),
      describeError: describeCoinbaseError,
      errorCode: (_status, body) => {
        const parsed = coinbaseErrorSchema.safeParse(body);
        return parsed.success ? parsed.data.error : undefined;
      },
    });
  }

  // ------------------------------------------------------------------ orders

  async placeOrder(request: PlaceOrderRequest): Promise<BrokerOrder> {
    const { body, context } = await this.prepare(request, 'place');
    const sentAt = this.now();
    for (let round = 1; ; round++) {
      try {
        const { data } = await this.http.request({
          method: 'POST',
          path: '/orders',
          body,
          schema: coinbaseCreateOrderResponseSchema,
          idempotent: false,
        });
        if (!data.success) {
          // A refusal is HTTP 200 with success: false; nothing was placed.
          const { reason, code } = describeOrderError(data.error_response, context);
          throw new BrokerRejectedError('coinbase', reason, code ?? data.failure_reason ?? undefined);
        }
        return await this.readPlaced(data.success_response.order_id, request, sentAt);
      } catch (error) {
        if (!(error instanceof BrokerUnreachableError)) throw error;
        const existing = await this.reconcile(request, sentAt, error);
        if (existing !== undefined) return existing;
        // Not listed: send the same body again; Coinbase de-duplicates the client order id.
        if (round >= MAX_PLACEMENT_ROUNDS) throw error;
      }
    }
  }

  /**
   * What Coinbase's preview says the order would cost (`POST /orders/preview`), sized as it would
   * be placed. Changes nothing, so it is repeated freely after a timeout.
   * @throws BrokerRejectedError when Coinbase says the order would fail (its reason, for people)
   */
  async previewOrder(request: PlaceOrderRequest): Promise<CoinbasePreview> {
    const { body, context } = await this.prepare(request, 'preview');
    const { client_order_id: _clientOrderId, ...previewBody } = body;
    const { data } = await this.http.request({
      method: 'POST',
      path: '/orders/preview',
      body: previewBody,
      schema: coinbasePreviewResponseSchema,
      idempotent: true,
    });
    const [problem] = reasonCodes(data.errs);
    if (problem !== undefined) {
      throw new BrokerRejectedError('coinbase', describeFailureReason(problem, context) ?? problem, problem);
    }
    return {
      productId: body.product_id,
      orderTotal: data.order_total,
      commissionTotal: data.commission_total,
      baseSize: data.base_size,
      quoteSize: data.quote_size,
      bestBid: data.best_bid,
      bestAsk: data.best_ask,
      slippage: data.slippage,
      previewId: data.preview_id ?? undefined,
      warnings: reasonCodes(data.warning).map((code) => describeFailureReason(code, context) ?? code),
    };
  }

  /** The card's preview: Coinbase's total and fees for the order as it would be placed. */
  async previewCost(request: PlaceOrderRequest): Promise<OrderPreview> {
    const preview = await this.previewOrder(request);
    return { total: preview.orderTotal, fees: preview.commissionTotal };
  }

  /** Market orders run immediate-or-cancel here, whatever was asked (see `coinbaseTimeInForce`). */
  async appliedTimeInForce(order: TimeInForceRequest): Promise<TimeInForce> {
    return coinbaseTimeInForce(order);
  }

  /** Coinbase keeps the client order id: a lookup by it (product, from `sentAt`) settles a placement. */
  async reconcilePlacement(request: PlaceOrderRequest, sentAt: Date): Promise<BrokerOrder | undefined> {
    return this.findListed(
      {
        product_ids: [productIdFor(request.symbol)],
        start_date: new Date(sentAt.getTime() - CLOCK_SKEW_MS).toISOString(),
      },
      (order) => order.client_order_id === request.clientOrderId,
    );
  }

  /** Searches recent orders (newest first, up to 1,000) for the client order id. */
  async findOrderByClientOrderId(
    _accountId: string,
    clientOrderId: string,
  ): Promise<BrokerOrder | undefined> {
    return this.findListed({}, (order) => order.client_order_id === clientOrderId);
  }

  async getOrder(_accountId: string, brokerOrderId: string): Promise<BrokerOrder | undefined> {
    let order: CoinbaseOrder;
    try {
      const { data } = await this.http.request({
        method: 'GET',
        path: `/orders/historical/${encodeURIComponent(brokerOrderId)}`,
        schema: coinbaseOrderResponseSchema,
      });
      order = data.order;
    } catch (error) {
      if (error instanceof BrokerRequestRejectedError && error.status === 404) return undefined;
      throw error;
    }
    return this.withFills(order);
  }

  /** The executions of one order (`GET /orders/historical/fills?order_ids=`), oldest pages first. */
  async getFills(brokerOrderId: string): Promise<CoinbaseFill[]> {
    const fills: CoinbaseFill[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < MAX_FILL_PAGES; page++) {
      const { data } = await this.http.request({
        method: 'GET',
        path: '/orders/historical/fills',
        query: { order_ids: [brokerOrderId], limit: FILLS_PAGE_SIZE, cursor },
        schema: coinbaseFillsPageSchema,
      });
      fills.push(...this.readList(data.fills, coinbaseFillSchema, 'fills'));
      if (data.cursor === '' || data.fills.length === 0) break;
      cursor = data.cursor;
    }
    return fills;
  }

  /**
   * `POST /orders/batch_cancel` with one id; the order's new state comes from a GET. A cancel with
   * an unknown outcome is settled the same way: the order says whether it took.
   */
  async cancelOrder(accountId: string, brokerOrderId: string): Promise<BrokerOrder> {
    return cancelAndRead(
      'coinbase',
      async () => {
        const { data } = await this.http.request({
          method: 'POST',
          path: '/orders/batch_cancel',
          body: { order_ids: [brokerOrderId] },
          schema: coinbaseCancelResponseSchema,
          idempotent: false,
        });
        const results = this.readList(data.results, coinbaseCancelResultSchema, 'cancel results');
        const result = results.find((candidate) => candidate.order_id === brokerOrderId);
        const reason = result?.failure_reason ?? undefined;
        // A cancel already on its way is what we asked for.
        if (result?.success || reason === 'DUPLICATE_CANCEL_REQUEST') return;
        throw new BrokerRejectedError('coinbase', describeCancelFailure(reason), reason);
      },
      () => this.getOrder(accountId, brokerOrderId),
    );
  }

  /** Open orders, newest first; their executions are not fetched (`fills` is empty). */
  async listOpenOrders(_accountId: string): Promise<BrokerOrder[]> {
    const orders: BrokerOrder[] = [];
    for await (const order of this.listedOrders({ order_status: ['OPEN'] }))
      orders.push(toBrokerOrder(order));
    return orders;
  }

  // ------------------------------------------------------------------ products and prices

  /** Rounded to the product's increments and checked against its sizes (see `sizeOrder`). */
  async sizeOrder(order: SizingRequest): Promise<OrderSize> {
    if (order.assetClass !== 'crypto') {
      throw new BrokerRejectedError(
        'coinbase',
        `Coinbase trades crypto only, not ${order.symbol}.`,
        'not_crypto',
      );
    }
    const product = await this.getProduct(productIdFor(order.symbol));
    const sized = sizeOrder(product, order);
    return {
      quantity: sized.quantity,
      notional: sized.notional,
      limitPrice: sized.limitPrice,
      stopPrice: sized.stopPrice,
    };
  }

  /**
   * A product's increments, limits and trading state (`GET /products/{id}`).
   * @throws BrokerRejectedError when Coinbase does not list it
   */
  async getProduct(productId: string): Promise<CoinbaseProduct> {
    try {
      const { data } = await this.http.request({
        method: 'GET',
        path: `/products/${encodeURIComponent(productId)}`,
        schema: coinbaseProductSchema,
      });
      return data;
    } catch (error) {
      if (error instanceof BrokerRequestRejectedError && (error.status === 404 || error.status === 400)) {
        throw new BrokerRejectedError('coinbase', `Coinbase does not trade ${productId}.`, 'unknown_product');
      }
      throw error;
    }
  }

  /** Best bid and ask per product, in one call (`GET /best_bid_ask?product_ids=A&product_ids=B`). */
  async getBestBidAsk(productIds: readonly string[]): Promise<CoinbasePricebook[]> {
    const { data } = await this.http.request({
      method: 'GET',
      path: '/best_bid_ask',
      query: { product_ids: productIds },
      schema: coinbaseBestBidAskSchema,
    });
    return this.readList(data.pricebooks, coinbasePricebookSchema, 'best bid/ask');
  }

  /**
   * Crypto from Coinbase's own book: bid and ask as the order will meet them; `last` is their
   * midpoint (the book has no last trade). Other asset classes are not Coinbase's: undefined.
   * @throws UnknownInstrumentError when Coinbase has no book for the pair
   */
  async quote(request: QuoteRequest): Promise<Quote | undefined> {
    if (request.assetClass !== 'crypto') return undefined;
    const productId = productIdFor(request.symbol);
    let books: CoinbasePricebook[];
    try {
      books = await this.getBestBidAsk([productId]);
    } catch (error) {
      if (error instanceof BrokerRequestRejectedError && (error.status === 404 || error.status === 400)) {
        throw new UnknownInstrumentError(request.symbol);
      }
      throw error;
    }
    const book = books.find((candidate) => candidate.product_id === productId);
    const bid = book?.bids[0]?.price;
    const ask = book?.asks[0]?.price;
    if (book === undefined || bid === undefined || ask === undefined) {
      throw new UnknownInstrumentError(request.symbol);
    }
    return {
      symbol: symbolForProduct(productId),
      assetClass: 'crypto',
      bid,
      ask,
      last: bid.add(ask).div(2),
      at: book.time ?? this.now(),
      source: 'coinbase',
    };
  }

  // ------------------------------------------------------------------ balances and positions

  async getBalances(accountId: string): Promise<Balances> {
    return (await this.getAccountSnapshot(accountId)).balances;
  }

  async getPositions(accountId: string): Promise<Position[]> {
    return [...(await this.getAccountSnapshot(accountId)).positions];
  }

  /**
   * From `GET /accounts` (one wallet per currency): USD and USDC are cash, every other currency
   * with a balance is a position. Positions are priced at the best bid in one extra call; if that
   * fails they are left unpriced rather than failing the snapshot.
   *
   * The accounts carry neither a cost basis nor realized P&L: `averageCost` and
   * `realizedPnlToday` are 0 here, and `unrealizedPnl` is unknown.
   *
   * Buying power is the cash wallets' `available_balance`, which leaves out their `hold`: what
   * open orders have set aside (client libraries say pending transfers too). So working orders are
   * out of it already, and the hold is what is reserved.
   */
  async getAccountSnapshot(_accountId: string): Promise<AccountSnapshot> {
    const accounts = await this.readAccounts();
    const held = new Map<string, { available: Decimal; total: Decimal }>();
    for (const account of accounts) {
      const currency = account.currency.toUpperCase();
      const available = account.available_balance.value;
      const total = available.add(account.hold?.value ?? 0);
      const sum = held.get(currency);
      held.set(
        currency,
        sum === undefined
          ? { available, total }
          : { available: sum.available.add(available), total: sum.total.add(total) },
      );
    }
    let cash = new Decimal(0);
    let buyingPower = new Decimal(0);
    const owned: { currency: string; quantity: Decimal }[] = [];
    for (const [currency, { available, total }] of held) {
      if (CASH_CURRENCIES.has(currency)) {
        cash = cash.add(total);
        buyingPower = buyingPower.add(available);
      } else if (total.greaterThan(0)) {
        owned.push({ currency, quantity: total });
      }
    }
    const bids = await this.bidsFor(owned.map(({ currency }) => productIdFor(currency)));
    const positions: Position[] = owned.map(({ currency, quantity }) => {
      const price = bids.get(productIdFor(currency));
      return {
        symbol: currency,
        assetClass: 'crypto',
        quantity,
        averageCost: new Decimal(0),
        marketPrice: price,
        marketValue: price?.mul(quantity),
        unrealizedPnl: undefined,
        realizedPnl: new Decimal(0),
      };
    });
    const equity = positions.reduce((sum, position) => sum.add(position.marketValue ?? 0), cash);
    return {
      balances: {
        cash,
        buyingPower,
        reserved: cash.sub(buyingPower), // the cash wallets' holds
        netsWorkingOrders: true,
        equity,
        realizedPnlToday: new Decimal(0),
        currency: 'USD',
      },
      positions,
    };
  }

  // ------------------------------------------------------------------ internals

  /** The elements of a list answer that match `schema`; the others are skipped and logged. */
  private readList<T>(raw: readonly unknown[], schema: z.ZodType<T>, list: keyof typeof LISTED_IDS): T[] {
    const idOf = LISTED_IDS[list];
    return parseList(raw, schema, { provider: 'coinbase', list, idOf, logger: this.options.logger });
  }

  /**
   * The body to send, after the checks that need no order request: the order's shape, then the
   * product (trading? sizes within its limits?). Placement refuses an order that sizing would
   * change, so what the card showed is what is placed; a preview previews the sized order.
   */
  private async prepare(
    request: PlaceOrderRequest,
    purpose: 'place' | 'preview',
  ): Promise<{ body: CoinbaseOrderBody; context: FailureContext }> {
    coinbaseOrderBody(request, this.now());
    const product = await this.getProduct(productIdFor(request.symbol));
    const sized = sizeOrder(product, request);
    if (purpose === 'place' && !sameSize(sized, request)) {
      throw new BrokerRejectedError(
        'coinbase',
        `Coinbase takes this order only in its own steps: it would be ${describeSize(sized, baseSymbolOf(product))}. Nothing was placed.`,
        'not_sized',
      );
    }
    return {
      body: coinbaseOrderBody(sized, this.now()),
      context: { side: request.side, base: baseSymbolOf(product) },
    };
  }

  /**
   * The order just placed, as Coinbase reports it. Create Order answers only with the ids; if the
   * read fails, the order is still placed: it is reported pending, and the order tracker follows it.
   */
  private async readPlaced(orderId: string, request: PlaceOrderRequest, sentAt: Date): Promise<BrokerOrder> {
    const order = await this.getOrder(request.accountId, orderId).catch(() => undefined);
    return (
      order ?? {
        brokerOrderId: orderId,
        clientOrderId: request.clientOrderId,
        status: 'pending',
        symbol: symbolForProduct(productIdFor(request.symbol)),
        side: request.side,
        orderType: request.orderType,
        quantity: request.quantity,
        notional: request.notional,
        limitPrice: request.limitPrice,
        stopPrice: request.stopPrice,
        filledQuantity: new Decimal(0),
        averageFillPrice: undefined,
        rejectReason: undefined,
        fills: [],
        createdAt: sentAt,
      }
    );
  }

  /**
   * After an ambiguous placement: the order if Coinbase lists it, undefined if it does not. If the
   * lookup itself fails (even with an open circuit, a "nothing sent" error for the lookup), the
   * placement's outcome is still unknown: that is a BrokerUnreachableError, never a rejection.
   */
  private async reconcile(
    request: PlaceOrderRequest,
    sentAt: Date,
    placementError: unknown,
  ): Promise<BrokerOrder | undefined> {
    try {
      return await this.reconcilePlacement(request, sentAt);
    } catch (lookupError) {
      throw new BrokerUnreachableError(
        'coinbase',
        'Coinbase did not confirm the order, and looking it up failed: it may or may not have been placed',
        { cause: new AggregateError([placementError, lookupError]) },
      );
    }
  }

  /** The first listed order matching `wanted`, with its executions. */
  private async findListed(
    query: Readonly<Record<string, string | readonly string[]>>,
    wanted: (order: CoinbaseOrder) => boolean,
  ): Promise<BrokerOrder | undefined> {
    for await (const order of this.listedOrders(query)) {
      if (wanted(order)) return this.withFills(order);
    }
    return undefined;
  }

  /** `GET /orders/historical/batch`, page after page (cursor), up to MAX_ORDER_PAGES. */
  private async *listedOrders(
    query: Readonly<Record<string, string | readonly string[]>>,
  ): AsyncGenerator<CoinbaseOrder> {
    let cursor: string | undefined;
    for (let page = 0; page < MAX_ORDER_PAGES; page++) {
      const { data } = await this.http.request({
        method: 'GET',
        path: '/orders/historical/batch',
        query: { ...query, limit: ORDERS_PAGE_SIZE, cursor },
        schema: coinbaseOrdersPageSchema,
      });
      yield* this.readList(data.orders, coinbaseOrderSchema, 'orders');
      if (!data.has_next || data.cursor === '') return;
      cursor = data.cursor;
    }
  }

  private async withFills(order: CoinbaseOrder): Promise<BrokerOrder> {
    const filled = order.number_of_fills > 0 || (order.filled_size?.greaterThan(0) ?? false);
    return toBrokerOrder(order, filled ? await this.getFills(order.order_id) : []);
  }

  /** Every wallet of the portfolio (`GET /accounts`, cursor paging). */
  private async readAccounts(): Promise<CoinbaseAccount[]> {
    const accounts: CoinbaseAccount[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < MAX_ACCOUNT_PAGES; page++) {
      const { data } = await this.http.request({
        method: 'GET',
        path: '/accounts',
        query: { limit: ACCOUNTS_PAGE_SIZE, cursor },
        schema: coinbaseAccountsPageSchema,
      });
      accounts.push(...this.readList(data.accounts, coinbaseAccountSchema, 'accounts'));
      if (!data.has_next || data.cursor === '') break;
      cursor = data.cursor;
    }
    return accounts;
  }

  /** Best bids by product id; empty when there is nothing to price or pricing failed. */
  private async bidsFor(productIds: readonly string[]): Promise<Map<string, Decimal>> {
    const bids = new Map<string, Decimal>();
    if (productIds.length === 0) return bids;
    try {
      for (const book of await this.getBestBidAsk(productIds)) {
        const bid = book.bids[0]?.price;
        if (bid !== undefined) bids.set(book.product_id, bid);
      }
    } catch (error) {
      this.options.logger?.warn(
        { provider: 'coinbase', error: error instanceof Error ? error.name : 'unknown' },
        'positions left unpriced: best bid/ask failed',
      );
    }
    return bids;
  }
}

// ------------------------------------------------------------------ pure helpers

/**
 * The bearer for one attempt: a CDP key JWT for exactly this method, host and path (valid 120 s,
 * so signed again for every attempt), or the OAuth access token as it is now (the token keeper
 * refreshes it).
 */
function bearerFor(
  auth: CoinbaseAuth,
  now: () => Date,
): (request: { readonly method: string; readonly url: URL }) => Promise<string> {
  if (auth.credentials === undefined) return auth.accessToken;
  const { keyName, privateKey } = auth.credentials;
  importCdpPrivateKey(privateKey);
  return (request) => signCdpRequestJwt({ name: keyName, privateKey }, request, now());
}

/** Coinbase error body → a sentence for the chat. */
export function describeCoinbaseError(status: number, body: unknown): string {
  const parsed = coinbaseErrorSchema.safeParse(body);
  const message = parsed.success ? (parsed.data.message ?? parsed.data.error_details)?.trim() : undefined;
  if (status === 401) return 'Coinbase did not accept the key or sign-in (unauthorized)';
  if (message) return message;
  if (status === 403) return 'Coinbase refused the request (the key lacks a permission)';
  if (status === 404) return 'Coinbase does not know it';
  return `Coinbase answered HTTP ${status}`;
}

/** Batch cancel's `failure_reason` → a sentence. */
export function describeCancelFailure(reason: string | undefined): string {
  switch (reason) {
    case 'UNKNOWN_CANCEL_ORDER':
      return 'no such order';
    case 'ORDER_IS_FULLY_FILLED':
      return 'the order has already filled';
    case 'ORDER_IS_BEING_REPLACED':
      return 'the order is being changed; try again in a moment';
    default:
      return `Coinbase did not cancel the order${reason ? ` (${reason})` : ''}`;
  }
}

/** Preview `errs` / `warning` entries → their codes (strings, or the first string in an object). */
function reasonCodes(items: readonly unknown[] | null | undefined): string[] {
  const codes: string[] = [];
  for (const item of items ?? []) {
    if (typeof item === 'string') codes.push(item);
    else if (typeof item === 'object' && item !== null) {
      const text = Object.values(item).find((value): value is string => typeof value === 'string');
      if (text !== undefined) codes.push(text);
    }
  }
  return codes.filter((code) => code !== '' && !/^UNKNOWN_.*REASON$/.test(code));
}

/** "buy 0.12345678 BTC (limit 64000.12)" for the not-sized refusal. */
function describeSize(order: SizeableOrder, base: string): string {
  const size =
    order.quantity !== undefined ? `${order.quantity.toFixed()} ${base}` : formatUsd(order.notional ?? 0);
  const prices = [
    order.limitPrice !== undefined ? `limit ${order.limitPrice.toFixed()}` : undefined,
    order.stopPrice !== undefined ? `stop ${order.stopPrice.toFixed()}` : undefined,
  ].filter((part) => part !== undefined);
  return `${order.side} ${size}${prices.length > 0 ? ` (${prices.join(', ')})` : ''}`;
}
