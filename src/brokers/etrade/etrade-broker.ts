/**
 * E*TRADE (API v1, stocks and options) behind our `Broker` interface, over the shared broker HTTP
 * client. Every request is signed with OAuth 1.0a (HMAC-SHA1, `Authorization` header) in the
 * client's `authorize` hook, so each attempt gets a fresh nonce and timestamp.
 *
 * - Orders are previewed, then placed with the same body plus the preview's ids (E*TRADE refuses a
 *   place without a matching preview).
 * - Exactly once: E*TRADE refuses a second order with the same `clientOrderId`. A place with an
 *   unknown outcome is never blindly repeated: we list the account's orders and look for the id;
 *   found → that is the order; not found → placing again with the same id is safe (a duplicate
 *   would be refused). A duplicate refusal means the order exists: we look it up and return it.
 * - Tokens: after two idle hours E*TRADE stops accepting the access token until it is renewed; a
 *   401 is answered by one renewal and one retry. At midnight US Eastern the token dies: renewal
 *   fails and the user must link E*TRADE again (`BrokerAuthError`, code `reauth_required`).
 * - Rate limits: about 2 requests/s for accounts and orders and 4/s for market data. E*TRADE answers
 *   an excess with HTTP 400 and an HTML page; that answer is turned into the 429 it means before
 *   the HTTP client sees it, so it is waited out (the request was not processed) instead of being
 *   taken for a refusal.
 *
 * `accountId` arguments are E*TRADE's `accountIdKey` (what the API paths take), not the account
 * number.
 */

import { z } from 'zod';
import {
  type AccountSnapshot,
  type Balances,
  type Broker,
  type BrokerOrder,
  BrokerRejectedError,
  BrokerUnreachableError,
  type PlaceOrderRequest,
  type Position,
} from '../../core/brokers/broker.js';
import { Decimal } from '../../core/domain/values.js';
import { type Quote, type QuoteRequest, UnknownInstrumentError } from '../../core/market-data/market-data.js';
import { type OAuth1Consumer, OAuth1Signer, type OAuth1Tokens } from '../../core/oauth/oauth1-signer.js';
import { cancelAndRead } from '../cancel-order.js';
import {
  type BrokerClientOptions,
  type HttpOverrides,
  sharedHttpOptions,
} from '../http/broker-client-options.js';
import {
  BrokerHttpClient,
  type BrokerHttpRequest,
  type BrokerHttpResponse,
} from '../http/broker-http-client.js';
import { BrokerAuthError, BrokerRequestRejectedError } from '../http/errors.js';
import type { RateLimits } from '../http/rate-limiter.js';
import {
  etradeClientOrderId,
  etradeOrderBody,
  optionContractOf,
  optionEffectFor,
  symbolOf,
  toBrokerOrder,
} from './order-json.js';
import {
  accountListSchema,
  balanceSchema,
  cancelResponseSchema,
  type EtradeBalance,
  type EtradeListedOrder,
  type EtradeOrderBody,
  type EtradePortfolio,
  type EtradePortfolioPosition,
  etradeErrorSchema,
  ordersSchema,
  placeResponseSchema,
  portfolioSchema,
  previewResponseSchema,
  quoteSchema,
} from './schemas.js';

/**
 * E*TRADE's documented quotas: about 2 requests per second for accounts and orders (`default`),
 * 4 per second for market data (`market`).
 */
export const ETRADE_RATE_LIMITS: RateLimits = {
  default: { limit: 2, intervalMs: 1_000 },
  market: { limit: 4, intervalMs: 1_000 },
};

/** E*TRADE's limit on symbols per quote request. */
export const MAX_QUOTE_SYMBOLS = 25;

/** Placements in all for one `placeOrder`; each ambiguous one is followed by a lookup. */
const MAX_PLACEMENT_ROUNDS = 3;

/** Orders per page of `GET .../orders` (E*TRADE's maximum), and pages we follow at most. */
const ORDERS_PAGE_SIZE = '100';
const MAX_ORDER_PAGES = 20;

/** The `oauth_problem`s of a token E*TRADE no longer accepts; one renewal may bring it back. */
const RENEWABLE_PROBLEMS = new Set(['token_inactive', 'token_rejected', 'token_expired']);

export interface EtradeBrokerOptions extends BrokerClientOptions {
  /** `https://api.etrade.com` or `https://apisb.etrade.com` (or a fake in tests). */
  readonly apiBase: string;
  readonly consumerKey: string;
  readonly consumerSecret: string;
  /** The connection's access token and secret, read for every attempt (they live in the vault). */
  readonly tokens: () => Promise<OAuth1Tokens>;
  readonly http?: HttpOverrides & {
    /** How long to wait after E*TRADE's "too many requests" page. Default 1 s (its window). */
    readonly rateLimitPauseSeconds?: number;
  };
}

/** One account as `GET /v1/accounts/list` shows it. */
export interface EtradeAccount {
  readonly accountId: string;
  /** What every other account call takes. */
  readonly accountIdKey: string;
  readonly accountMode: string | undefined;
  readonly accountType: string | undefined;
  readonly accountStatus: string | undefined;
}

const anything = z.unknown();

export class EtradeBroker implements Broker {
  readonly provider = 'etrade' as const;
  /** Its order list carries our `clientOrderId` (or its 20-character digest). */
  readonly placementLookup = 'client_order_id' as const;
  readonly reportsOwnFills = false;
  readonly sellsOptionsToOpen = true;
  /** The connection's HTTP client; `http.health()` is the connection's health. */
  readonly http: BrokerHttpClient;
  private readonly now: () => Date;
  private renewal: Promise<void> | undefined;

  constructor(options: EtradeBrokerOptions) {
    this.now = options.now ?? (() => new Date());
    const consumer: OAuth1Consumer = {
      consumerKey: options.consumerKey,
      consumerSecret: options.consumerSecret,
    };
    const signer = new OAuth1Signer(consumer, this.now);
    this.http = new BrokerHttpClient({
      provider: 'etrade',
      baseUrl: options.apiBase,
      ...sharedHttpOptions(options, ETRADE_RATE_LIMITS),
      // JSON bodies are not part of an OAuth 1.0a signature; method, URL and query are.
      authorize: async ({ method, url }) => ({
        authorization: signer.authorization(method, url, await options.tokens()),
      }),
      describeError: describeEtradeError,
      errorCode: etradeErrorCode,
      fetch: recogniseRateLimitPage(options.fetch ?? fetch, options.http?.rateLimitPauseSeconds ?? 1),
    });
  }

  /** The accounts this sign-in may trade (linking shows them; `accountIdKey` names one). */
  async listAccounts(): Promise<EtradeAccount[]> {
    const { data } = await this.call({ method: 'GET', path: '/v1/accounts/list', schema: accountListSchema });
    return data.AccountListResponse.Accounts.Account.map((account) => ({
      accountId: account.accountId,
      accountIdKey: account.accountIdKey,
      accountMode: account.accountMode,
      accountType: account.accountType,
      accountStatus: account.accountStatus,
    }));
  }

  async placeOrder(request: PlaceOrderRequest): Promise<BrokerOrder> {
    // Refuse what E*TRADE would refuse before sending anything, options included.
    let body = etradeOrderBody(request, 'open');
    if (request.assetClass === 'option') body = etradeOrderBody(request, await this.optionEffect(request));
    const orders = ordersPath(request.accountId);
    for (let round = 1; ; round++) {
      try {
        const previewIds = await this.preview(orders, body);
        const { data } = await this.call({
          method: 'POST',
          path: `${orders}/place`,
          body: { PlaceOrderRequest: { ...body, PreviewIds: previewIds } },
          schema: placeResponseSchema,
          idempotent: false,
        });
        const [placed] = data.PlaceOrderResponse.OrderIds;
        return await this.placedOrder(
          request,
          body,
          placed?.orderId ?? 0,
          data.PlaceOrderResponse.placedTime,
        );
      } catch (error) {
        const duplicate = isDuplicateClientOrderId(error);
        if (!duplicate && !(error instanceof BrokerUnreachableError)) throw error;
        // Either E*TRADE already holds this client order id, or we cannot tell whether it does.
        const existing = await this.reconcile(request, error);
        if (existing !== undefined) return existing;
        if (duplicate) {
          throw new BrokerUnreachableError(
            'etrade',
            'E*TRADE refused a duplicate client order id but does not list the order',
            { cause: error },
          );
        }
        // E*TRADE lists no such order: it was not placed, so placing it again (same id) is safe.
        if (round >= MAX_PLACEMENT_ROUNDS) throw error;
      }
    }
  }

  /** The client order id is the broker's own key: a lookup by it settles any placement. */
  async reconcilePlacement(request: PlaceOrderRequest, _sentAt: Date): Promise<BrokerOrder | undefined> {
    return this.findOrderByClientOrderId(request.accountId, request.clientOrderId);
  }

  async findOrderByClientOrderId(accountId: string, clientOrderId: string): Promise<BrokerOrder | undefined> {
    const wanted = etradeClientOrderId(clientOrderId);
    const found = await this.findListed(accountId, {}, (order) => order.clientOrderId === wanted);
    return found === undefined ? undefined : toBrokerOrder(found, clientOrderId);
  }

  async getOrder(accountId: string, brokerOrderId: string): Promise<BrokerOrder | undefined> {
    const found = await this.findListed(accountId, {}, (order) => String(order.orderId) === brokerOrderId);
    return found === undefined ? undefined : toBrokerOrder(found);
  }

  /**
   * `PUT .../orders/cancel`; the order's new state comes from the list. A cancel with an unknown
   * outcome is settled the same way: the order says whether it took.
   */
  async cancelOrder(accountId: string, brokerOrderId: string): Promise<BrokerOrder> {
    const orderId = Number(brokerOrderId);
    if (!Number.isSafeInteger(orderId) || orderId <= 0) {
      throw new BrokerRejectedError('etrade', 'no such order');
    }
    return cancelAndRead(
      'etrade',
      () =>
        this.call({
          method: 'PUT',
          path: `${ordersPath(accountId)}/cancel`,
          body: { CancelOrderRequest: { orderId } },
          schema: cancelResponseSchema,
          idempotent: false,
        }),
      () => this.getOrder(accountId, brokerOrderId),
    );
  }

  async listOpenOrders(accountId: string): Promise<BrokerOrder[]> {
    const open = await this.listOrders(accountId, { status: 'OPEN' });
    return open.map((order) => toBrokerOrder(order));
  }

  /** Balance and portfolio totals (E*TRADE's day gain lives there) in parallel. */
  async getBalances(accountId: string): Promise<Balances> {
    return (await this.getAccountSnapshot(accountId)).balances;
  }

  async getPositions(accountId: string): Promise<Position[]> {
    return toPositions(await this.portfolio(accountId));
  }

  async getAccountSnapshot(accountId: string): Promise<AccountSnapshot> {
    const [balance, portfolio] = await Promise.all([this.balance(accountId), this.portfolio(accountId)]);
    return { balances: toBalances(balance, portfolio), positions: toPositions(portfolio) };
  }

  /** Quotes for stock symbols, 25 per request (E*TRADE's maximum), in the `market` bucket. */
  /** Equity quotes from E*TRADE; options are priced by the market data (their symbology differs). */
  async quote(request: QuoteRequest): Promise<Quote | undefined> {
    if (request.assetClass !== 'equity') return undefined;
    const symbol = request.symbol.toUpperCase();
    const found = (await this.getQuotes([symbol])).find((quote) => quote.symbol.toUpperCase() === symbol);
    if (found === undefined) throw new UnknownInstrumentError(symbol);
    return found;
  }

  async getQuotes(symbols: readonly string[]): Promise<Quote[]> {
    const quotes: Quote[] = [];
    for (let start = 0; start < symbols.length; start += MAX_QUOTE_SYMBOLS) {
      const chunk = symbols.slice(start, start + MAX_QUOTE_SYMBOLS);
      const { data } = await this.call({
        method: 'GET',
        path: `/v1/market/quote/${chunk.map((symbol) => encodeURIComponent(symbol.toUpperCase())).join(',')}`,
        query: { detailFlag: 'ALL' },
        schema: quoteSchema,
        bucket: 'market',
      });
      for (const item of data.QuoteResponse.QuoteData) {
        quotes.push({
          symbol: symbolOf(item.Product),
          assetClass: item.Product.securityType === 'OPTN' ? 'option' : 'equity',
          bid: item.All.bid,
          ask: item.All.ask,
          last: item.All.lastTrade,
          at: item.dateTimeUTC === undefined ? this.now() : new Date(item.dateTimeUTC * 1000),
          source: 'etrade',
        });
      }
    }
    return quotes;
  }

  // ------------------------------------------------------------------ internals

  /**
   * One request; a 401 for a token E*TRADE stopped accepting is answered by one renewal and one
   * retry (a 401 means the request was not processed, so repeating it is safe).
   */
  private async call<T>(request: BrokerHttpRequest<T>): Promise<BrokerHttpResponse<T>> {
    try {
      return await this.http.request(request);
    } catch (error) {
      if (!(error instanceof BrokerAuthError) || !RENEWABLE_PROBLEMS.has(error.code ?? '')) throw error;
      await this.renew();
      return await this.http.request(request);
    }
  }

  /** `GET /oauth/renew_access_token`, shared by concurrent callers. */
  private async renew(): Promise<void> {
    this.renewal ??= this.http
      .request({ method: 'GET', path: '/oauth/renew_access_token', schema: anything })
      .then(
        () => undefined,
        (error: unknown) => {
          if (error instanceof BrokerAuthError) {
            throw new BrokerAuthError(
              'etrade',
              'Your E*TRADE sign-in has ended (E*TRADE ends every sign-in at midnight US Eastern time). Link E*TRADE again to keep trading.',
              'reauth_required',
            );
          }
          throw error;
        },
      )
      .finally(() => {
        this.renewal = undefined;
      });
    return this.renewal;
  }

  /** Previewing changes nothing at E*TRADE, so it may be repeated after an unknown outcome. */
  private async preview(orders: string, body: EtradeOrderBody): Promise<{ previewId: number }[]> {
    const { data } = await this.call({
      method: 'POST',
      path: `${orders}/preview`,
      body: { PreviewOrderRequest: body },
      schema: previewResponseSchema,
      idempotent: true,
    });
    return data.PreviewOrderResponse.PreviewIds.map(({ previewId }) => ({ previewId }));
  }

  /**
   * The order just placed, as E*TRADE lists it. If the list cannot be read, the order still
   * exists: it is reported as accepted, from what we sent.
   */
  private async placedOrder(
    request: PlaceOrderRequest,
    body: EtradeOrderBody,
    orderId: number,
    placedTime: Date | undefined,
  ): Promise<BrokerOrder> {
    const listed = await this.findListed(request.accountId, {}, (order) => order.orderId === orderId).catch(
      () => undefined,
    );
    if (listed !== undefined) return toBrokerOrder(listed, request.clientOrderId);
    const [order] = body.Order;
    return {
      brokerOrderId: String(orderId),
      clientOrderId: request.clientOrderId,
      status: 'accepted',
      symbol: request.assetClass === 'option' ? symbolOf(productOf(request)) : request.symbol.toUpperCase(),
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
      createdAt: placedTime ?? this.now(),
    };
  }

  /**
   * After an ambiguous placement: the order if E*TRADE lists it, undefined if it does not. If the
   * lookup itself fails, the placement's outcome is still unknown: never a rejection.
   */
  private async reconcile(
    request: PlaceOrderRequest,
    placementError: unknown,
  ): Promise<BrokerOrder | undefined> {
    try {
      return await this.findOrderByClientOrderId(request.accountId, request.clientOrderId);
    } catch (lookupError) {
      throw new BrokerUnreachableError(
        'etrade',
        'E*TRADE did not confirm the order, and looking it up failed: it may or may not have been placed',
        { cause: new AggregateError([placementError, lookupError]) },
      );
    }
  }

  /** Whether an option order closes a position the account holds. */
  private async optionEffect(request: PlaceOrderRequest) {
    const symbol = symbolOf(productOf(request));
    const positions = await this.getPositions(request.accountId);
    const held = positions.find((position) => position.symbol === symbol)?.quantity ?? new Decimal(0);
    return optionEffectFor(request.side, held);
  }

  /** Every order of the account (page after page), optionally filtered by E*TRADE status. */
  private async listOrders(accountId: string, filter: { status?: string }): Promise<EtradeListedOrder[]> {
    const all: EtradeListedOrder[] = [];
    await this.findListed(accountId, filter, (order) => {
      all.push(order);
      return false;
    });
    return all;
  }

  /** The first listed order that `matches`, following `marker` pages; stops early when found. */
  private async findListed(
    accountId: string,
    filter: { status?: string },
    matches: (order: EtradeListedOrder) => boolean,
  ): Promise<EtradeListedOrder | undefined> {
    let marker: string | undefined;
    for (let page = 0; page < MAX_ORDER_PAGES; page++) {
      const { data } = await this.call({
        method: 'GET',
        path: ordersPath(accountId),
        query: { count: ORDERS_PAGE_SIZE, status: filter.status, marker },
        schema: ordersSchema,
      });
      const found = data?.OrdersResponse.Order.find(matches);
      if (found !== undefined) return found;
      marker = data?.OrdersResponse.marker;
      if (marker === undefined || marker === '') return undefined;
    }
    return undefined;
  }

  private async balance(accountId: string): Promise<EtradeBalance> {
    const { data } = await this.call({
      method: 'GET',
      path: `/v1/accounts/${encodeURIComponent(accountId)}/balance`,
      query: { instType: 'BROKERAGE', realTimeNAV: 'true' },
      schema: balanceSchema,
    });
    return data.BalanceResponse;
  }

  private async portfolio(accountId: string): Promise<EtradePortfolio> {
    const { data } = await this.call({
      method: 'GET',
      path: `/v1/accounts/${encodeURIComponent(accountId)}/portfolio`,
      query: { totalsRequired: 'true', view: 'QUICK' },
      schema: portfolioSchema,
    });
    return data;
  }
}

// ------------------------------------------------------------------ mapping (pure)

function ordersPath(accountId: string): string {
  return `/v1/accounts/${encodeURIComponent(accountId)}/orders`;
}

function productOf(request: PlaceOrderRequest) {
  const contract = optionContractOf(request);
  const [year, month, day] = contract.expiry.split('-').map(Number);
  return {
    symbol: contract.underlying.toUpperCase(),
    securityType: 'OPTN',
    callPut: contract.right === 'call' ? ('CALL' as const) : ('PUT' as const),
    expiryYear: year,
    expiryMonth: month,
    expiryDay: day,
    strikePrice: contract.strike,
  };
}

/**
 * E*TRADE's "too many requests" answer is HTTP 400 with an HTML page (its own error answers are
 * JSON). It means the request was not processed: it becomes a 429 with a pause, which the HTTP
 * client waits out like any other rate limit.
 */
export function recogniseRateLimitPage(inner: typeof fetch, pauseSeconds: number): typeof fetch {
  return async (input, init) => {
    const response = await inner(input, init);
    const contentType = response.headers.get('content-type') ?? '';
    if (response.status !== 400 || !contentType.includes('text/html')) return response;
    await response.body?.cancel();
    return new Response(null, {
      status: 429,
      statusText: 'Too Many Requests',
      headers: { 'retry-after': String(Math.max(0, Math.round(pauseSeconds))) },
    });
  };
}

/** E*TRADE error body → a sentence for the chat. */
export function describeEtradeError(status: number, body: unknown): string {
  const parsed = etradeErrorSchema.safeParse(body);
  if (parsed.success && parsed.data.Error.message.trim() !== '') return parsed.data.Error.message;
  const problem = oauthProblem(body);
  if (problem !== undefined) return `E*TRADE did not accept the sign-in (${problem})`;
  if (status === 401) return 'E*TRADE did not accept the sign-in';
  if (status === 404) return 'E*TRADE does not know it';
  return `E*TRADE answered HTTP ${status}`;
}

/** E*TRADE's error code, or the `oauth_problem` of a refused signature or token. */
export function etradeErrorCode(_status: number, body: unknown): string | undefined {
  const parsed = etradeErrorSchema.safeParse(body);
  if (parsed.success) return parsed.data.Error.code;
  return oauthProblem(body);
}

function oauthProblem(body: unknown): string | undefined {
  if (typeof body !== 'string') return undefined;
  return /oauth_problem=([A-Za-z_]{1,64})/.exec(body)?.[1];
}

/** E*TRADE's refusal of a client order id it has seen: the order exists. */
export function isDuplicateClientOrderId(error: unknown): boolean {
  return (
    error instanceof BrokerRequestRejectedError &&
    error.status === 400 &&
    /client\s*order\s*id/i.test(error.reason) &&
    /duplicate|already|unique/i.test(error.reason)
  );
}

/**
 * E*TRADE reports no realized P&L for the day; its portfolio total `todaysGainLoss` also counts
 * unrealized moves, which errs on the careful side for the daily loss limit. Buying power is the
 * margin figure for margin accounts.
 */
export function toBalances(balance: EtradeBalance, portfolio: EtradePortfolio): Balances {
  const computed = balance.Computed;
  return {
    cash: computed.cashBalance ?? computed.netCash ?? computed.cashBuyingPower,
    buyingPower:
      balance.accountMode === 'MARGIN' && computed.marginBuyingPower !== undefined
        ? computed.marginBuyingPower
        : computed.cashBuyingPower,
    equity: computed.RealTimeValues.totalAccountValue,
    realizedPnlToday: portfolio?.PortfolioResponse.Totals?.todaysGainLoss ?? new Decimal(0),
    currency: 'USD',
  };
}

export function toPositions(portfolio: EtradePortfolio): Position[] {
  const positions = (portfolio?.PortfolioResponse.AccountPortfolio ?? []).flatMap(
    (account) => account.Position ?? [],
  );
  return positions.map(toPosition);
}

/** Short positions come back negative; E*TRADE reports no realized P&L per position (0 here). */
export function toPosition(position: EtradePortfolioPosition): Position {
  const quantity =
    position.positionType === 'SHORT' && position.quantity.greaterThan(0)
      ? position.quantity.neg()
      : position.quantity;
  const averageCost =
    position.costPerShare ??
    (position.totalCost !== undefined && !quantity.isZero()
      ? position.totalCost.div(quantity.abs())
      : new Decimal(0));
  return {
    symbol: symbolOf(position.Product),
    assetClass: position.Product.securityType === 'OPTN' ? 'option' : 'equity',
    quantity,
    averageCost,
    marketPrice: position.Quick?.lastTrade,
    marketValue: position.marketValue,
    unrealizedPnl: position.totalGain,
    realizedPnl: new Decimal(0),
  };
}
