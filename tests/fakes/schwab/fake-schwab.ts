/**
 * A local stand-in for Charles Schwab's Trader API (`/trader/v1`) and Market Data API
 * (`/marketdata/v1`) that refuses what Schwab refuses: bearer tokens the FakeOAuth2Provider did not
 * issue, expired or revoked ones; order bodies that break the published OpenAPI schema or Schwab's
 * rules (leg collection, option symbol layout, price decimals, instruction per asset type); unknown
 * account hashes; order listings without both entry-time bounds. It answers in the documented
 * shapes (its own tests validate every answer against the specs) and, like Schwab, has NO client
 * order id: posting the same order twice places two orders.
 *
 * Failure injection for clients' ambiguity handling: latency, a scripted failure, an order that is
 * created but never answered, a connection reset before processing, a whole-service outage, and
 * the per-app order rate limit (120 place/cancel/replace per 60 s on the fake's clock).
 *
 * And the untidy parts of the real service: a market order is listed (and read) with
 * `"price": 0`; order listings leave out, for every other order (even order ids), the fields the
 * published schema lets them leave out; a gateway answers with an HTML error page
 * (`failNextWithGatewayPage`); listings can carry entries a client cannot use (`listAlso`,
 * `listExpirationAlso`); and every bearer token can be refused while the token endpoint still
 * issues new ones (`refuseEveryToken`). Tokens refused before their expiry come from the provider's
 * `revokeAccessTokens()` and `refreshRevokesAccessTokens`.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Decimal } from 'decimal.js';
import { listenOnLoopback } from '../listen.js';
import type { FakeOAuth2Provider } from '../oauth2-provider/fake-oauth2-provider.js';
import { expirationChain } from './expiration-chain.js';
import { easternDate, FakeMarket, type MarketDataError, marketDataErrorBody } from './market-data.js';
import { SCHWAB_DATE_TIME, SchwabSchemas } from './openapi-validation.js';
import {
  type FakeAccount,
  type FakeOrder,
  type FakeSchwabAccountSeed,
  OrderBook,
  schwabTime,
} from './order-book.js';
import { type CheckedOrder, checkOrder, OrderRequestView, parseOptionSymbol } from './order-rules.js';

export type { FakeSchwabAccountSeed, FakeSchwabPositionSeed } from './order-book.js';

export interface FakeSchwabOptions {
  readonly oauth: FakeOAuth2Provider;
  readonly accounts: readonly FakeSchwabAccountSeed[];
  /** The fake's clock: order times, option expiry, the rate-limit window. */
  readonly now?: () => Date;
  /** Makes account hashes, order ids and option volatilities reproducible. */
  readonly seed?: number;
  readonly latencyMs?: number;
  /** Place + cancel + replace requests allowed per window (Schwab: 120 per minute, set per app). */
  readonly orderRateLimit?: { readonly max: number; readonly windowMs: number };
}

export type SchwabApiName = 'trader' | 'marketdata';

/** Which requests a fault applies to: method and/or path (exact or pattern), or a predicate. */
export type FakeSchwabRequestMatcher =
  | { readonly method?: string; readonly path?: string | RegExp }
  | ((request: { readonly method: string; readonly path: string }) => boolean);

export interface FakeSchwabFault {
  readonly status: number;
  /** Seconds, sent as `Retry-After`. */
  readonly retryAfter?: number;
  /** Raw text (sent as HTML, like a gateway page) or JSON; default: the API's own error shape. */
  readonly body?: string | Record<string, unknown>;
}

export interface FakeSchwabRequest {
  readonly method: string;
  readonly path: string;
  readonly query: string;
  /** The parsed JSON body of POST/PUT (orders carry no secrets); headers are never kept. */
  readonly body?: unknown;
  /** The status answered; undefined when the fake dropped the connection or never answered. */
  readonly status: number | undefined;
  readonly outcome: 'answered' | 'dropped' | 'unanswered';
}

type MutableRequest = { -readonly [K in keyof FakeSchwabRequest]: FakeSchwabRequest[K] };

interface Answer {
  readonly status: number;
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
}

class HttpRefusal {
  constructor(readonly answer: Answer) {}
}

const TRADER = '/trader/v1';
const MARKET_DATA = '/marketdata/v1';
const VALIDATION_MESSAGE = 'A validation error occurred while processing the request.';
const ORDER_STATUSES = new Set([
  'AWAITING_PARENT_ORDER',
  'AWAITING_CONDITION',
  'AWAITING_STOP_CONDITION',
  'AWAITING_MANUAL_REVIEW',
  'ACCEPTED',
  'AWAITING_UR_OUT',
  'PENDING_ACTIVATION',
  'QUEUED',
  'WORKING',
  'REJECTED',
  'PENDING_CANCEL',
  'CANCELED',
  'PENDING_REPLACE',
  'REPLACED',
  'FILLED',
  'EXPIRED',
  'NEW',
  'AWAITING_RELEASE_TIME',
  'PENDING_ACKNOWLEDGEMENT',
  'PENDING_RECALL',
  'UNKNOWN',
]);
const ONE_YEAR_MS = 366 * 24 * 3_600_000;
/** Order fields the published schema lets a listing leave out, and the fake's sparse entries do. */
const SPARSE_ORDER_FIELDS = [
  'session',
  'duration',
  'complexOrderStrategyType',
  'remainingQuantity',
  'requestedDestination',
  'destinationLinkName',
  'cancelable',
  'editable',
  'accountNumber',
  'orderStrategyType',
] as const;
const SPARSE_LEG_FIELDS = ['orderLegType', 'legId', 'positionEffect'] as const;
/** What an HTTP gateway in front of the API answers when the service behind it fails. */
export const GATEWAY_ERROR_PAGE =
  '<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1>' +
  '<p>The proxy server received an invalid response from an upstream server.</p>' +
  '<p>Reference&#32;&#35;97&#46;3c2b1002&#46;1715610600&#46;1f2e3d4c</p></body></html>';

export class FakeSchwab {
  /** Every request in arrival order (method, path, status, body; never headers). */
  readonly requests: FakeSchwabRequest[] = [];
  /** Added before every answer, after the request was processed. */
  latencyMs: number;
  private readonly market: FakeMarket;
  private readonly book: OrderBook;
  private readonly now: () => Date;
  private readonly faults: { matcher: FakeSchwabRequestMatcher; fault: FakeSchwabFault }[] = [];
  private readonly drops: FakeSchwabRequestMatcher[] = [];
  private readonly orderRequestTimes: number[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private acceptThenTimeoutMode: 'hang' | 'reset' | undefined;
  private isDown = false;
  private refusingTokens = false;
  private readonly waiters: {
    condition: (requests: readonly FakeSchwabRequest[]) => boolean;
    resolve: () => void;
  }[] = [];
  /** Raw entries appended to an account's order listings, by account hash. */
  private readonly extraListed = new Map<string, Record<string, unknown>[]>();
  /** Raw series appended to every expiration chain. */
  private readonly extraExpirations: unknown[] = [];

  private constructor(
    private readonly server: Server,
    private readonly options: FakeSchwabOptions,
  ) {
    this.now = options.now ?? (() => new Date());
    this.latencyMs = options.latencyMs ?? 0;
    const seed = options.seed ?? 1;
    this.market = new FakeMarket(seed, this.now);
    this.book = new OrderBook(options.accounts, seed, this.market, this.now);
  }

  static async start(options: FakeSchwabOptions): Promise<FakeSchwab> {
    let fake: FakeSchwab | undefined;
    const server = createServer((request, response) => {
      fake?.handle(request, response).catch((error: unknown) => {
        if (!response.headersSent) response.writeHead(500, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ message: `fake Schwab crashed: ${String(error)}`, errors: [] }));
      });
    });
    fake = new FakeSchwab(server, options);
    await listenOnLoopback(server);
    return fake;
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }
  /** Like `https://api.schwabapi.com/trader/v1`. */
  get traderUrl(): string {
    return `${this.baseUrl}${TRADER}`;
  }
  /** Like `https://api.schwabapi.com/marketdata/v1`. */
  get marketDataUrl(): string {
    return `${this.baseUrl}${MARKET_DATA}`;
  }

  /** The hash Schwab uses in paths for an account number. */
  hashOf(accountNumber: string): string {
    const account = this.book.accounts.find((candidate) => candidate.accountNumber === accountNumber);
    if (account === undefined) throw new Error(`fake Schwab: no account ${accountNumber}`);
    return account.hashValue;
  }

  /** Sets an equity's price (`'190.00'`); options are priced from their underlying. */
  setPrice(symbol: string, price: string): void {
    this.market.setPrice(symbol, price);
  }

  /** Orders of an account in Schwab's Order shape, oldest first. */
  orders(hashValue: string): Record<string, unknown>[] {
    const account = this.book.accountByHash(hashValue);
    if (account === undefined) throw new Error(`fake Schwab: no account hash ${hashValue}`);
    return this.book.ordersOf(account).map((order) => this.book.orderJson(order));
  }

  /** Cash of an account as a decimal string. */
  cash(hashValue: string): string {
    const account = this.book.accountByHash(hashValue);
    if (account === undefined) throw new Error(`fake Schwab: no account hash ${hashValue}`);
    return account.cash.toFixed(2);
  }

  /** Signed position quantity (short < 0), 0 when none. */
  position(hashValue: string, symbol: string): number {
    return this.book.accountByHash(hashValue)?.positions.get(symbol)?.quantity ?? 0;
  }

  /** The market reached resting orders: fill every WORKING order the current prices allow. */
  fillRestingOrders(): void {
    this.book.fillResting();
  }

  /** Fills `quantity` (default: all that remains) of one working order, at `price` or the market. */
  fillOrder(hashValue: string, orderId: number, options: { quantity?: number; price?: string } = {}): void {
    const account = this.book.accountByHash(hashValue);
    const order = account === undefined ? undefined : this.book.find(account, orderId);
    if (order === undefined) throw new Error(`fake Schwab: no order ${orderId}`);
    const left = order.order.quantity - order.fills.reduce((sum, fill) => sum + fill.quantity, 0);
    this.book.fillOrder(
      order,
      options.quantity ?? left,
      options.price === undefined ? undefined : new Decimal(options.price),
    );
  }

  /** The next request matching `matcher` is answered with `fault` and not processed. */
  failNext(matcher: FakeSchwabRequestMatcher, fault: FakeSchwabFault): void {
    this.faults.push({ matcher, fault });
  }

  /**
   * The next order POST is processed (the order exists and may fill) and then never answered
   * (`hang`, until the client gives up) or its connection reset (`reset`): the ambiguous outcome
   * a client must resolve by looking the order up, never by posting again.
   */
  acceptThenTimeout(mode: 'hang' | 'reset' = 'hang'): void {
    this.acceptThenTimeoutMode = mode;
  }

  /** The next matching request (any, by default) has its connection reset before processing. */
  dropNext(matcher: FakeSchwabRequestMatcher = () => true): void {
    this.drops.push(matcher);
  }

  /**
   * The next matching request is answered, unprocessed, with the HTML error page a gateway sends
   * (text/html, `status`), not the API's JSON.
   */
  failNextWithGatewayPage(matcher: FakeSchwabRequestMatcher, status = 502): void {
    this.failNext(matcher, { status, body: GATEWAY_ERROR_PAGE });
  }

  /**
   * Every bearer token, however fresh, is refused with 401 until called with `false`, while the
   * token endpoint keeps issuing new ones: a sign-in the API no longer honours.
   */
  refuseEveryToken(refuse = true): void {
    this.refusingTokens = refuse;
  }

  /**
   * `entry` is listed, as given, with the account's orders (whatever the time window): an order a
   * client cannot read (a shape it does not expect) or one placed elsewhere.
   */
  listAlso(hashValue: string, entry: Record<string, unknown>): void {
    if (this.book.accountByHash(hashValue) === undefined)
      throw new Error(`fake Schwab: no account hash ${hashValue}`);
    this.extraListed.set(hashValue, [...(this.extraListed.get(hashValue) ?? []), entry]);
  }

  /** `entry` is listed, as given, after the series of every expiration chain. */
  listExpirationAlso(entry: unknown): void {
    this.extraExpirations.push(entry);
  }

  /**
   * Resolves once `condition` holds, checked now and whenever a request has been processed,
   * answered or dropped (it may look at anything: the requests, the orders...).
   */
  until(condition: (requests: readonly FakeSchwabRequest[]) => boolean): Promise<void> {
    if (condition(this.requests)) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ condition, resolve }));
  }

  /** Every request answers 503 until `up()`. */
  down(): void {
    this.isDown = true;
  }

  up(): void {
    this.isDown = false;
  }

  async close(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const method = request.method ?? 'GET';
    const url = new URL(request.url ?? '/', this.baseUrl);
    const path = url.pathname;
    const record: MutableRequest = {
      method,
      path,
      query: url.search,
      status: undefined,
      outcome: 'unanswered',
    };
    this.requests.push(record);
    const api: SchwabApiName = path.startsWith(MARKET_DATA) ? 'marketdata' : 'trader';

    const drop = this.drops.findIndex((matcher) => matches(matcher, method, path));
    if (drop !== -1) {
      this.drops.splice(drop, 1);
      record.outcome = 'dropped';
      request.socket.destroy();
      this.settleWaiters();
      return;
    }
    const text = await readBody(request);
    if (text !== '' && (method === 'POST' || method === 'PUT')) {
      try {
        record.body = JSON.parse(text) as unknown;
      } catch {
        record.body = text;
      }
    }

    let answer: Answer;
    let created: FakeOrder | undefined;
    const faultIndex = this.faults.findIndex((entry) => matches(entry.matcher, method, path));
    const fault = faultIndex === -1 || this.isDown ? undefined : this.faults.splice(faultIndex, 1)[0]?.fault;
    if (this.isDown) {
      answer = errorAnswer(api, 503, 'Service Unavailable', ['The service is down (injected).']);
    } else if (fault !== undefined) {
      answer = {
        status: fault.status,
        body:
          fault.body ?? errorAnswer(api, fault.status, 'Injected failure', ['Injected by the test.']).body,
        headers: fault.retryAfter === undefined ? {} : { 'retry-after': String(fault.retryAfter) },
      };
    } else {
      try {
        const outcome = this.route(api, method, path, url.searchParams, request.headers, text);
        answer = outcome.answer;
        created = outcome.created;
      } catch (error) {
        if (!(error instanceof HttpRefusal)) throw error;
        answer = error.answer;
      }
    }

    // Processed (an order may exist now), answered or not: tell whoever waits for that.
    this.settleWaiters();
    if (created !== undefined && this.acceptThenTimeoutMode !== undefined) {
      const mode = this.acceptThenTimeoutMode;
      this.acceptThenTimeoutMode = undefined;
      record.outcome = mode === 'reset' ? 'dropped' : 'unanswered';
      if (mode === 'reset') request.socket.destroy();
      this.settleWaiters();
      return;
    }
    const send = () => {
      if (response.destroyed) return;
      record.status = answer.status;
      record.outcome = 'answered';
      const headers: Record<string, string> = {
        'schwab-client-correlid': randomUUID(),
        ...(answer.body === undefined
          ? {}
          : {
              'content-type':
                typeof answer.body === 'string' ? 'text/html; charset=utf-8' : 'application/json',
            }),
        ...answer.headers,
      };
      response.writeHead(answer.status, headers);
      response.end(
        answer.body === undefined
          ? undefined
          : typeof answer.body === 'string'
            ? answer.body
            : JSON.stringify(answer.body),
      );
      this.settleWaiters();
    };
    if (this.latencyMs <= 0) {
      send();
      return;
    }
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      send();
    }, this.latencyMs);
    this.timers.add(timer);
  }

  private settleWaiters(): void {
    for (const waiter of [...this.waiters]) {
      if (!waiter.condition(this.requests)) continue;
      this.waiters.splice(this.waiters.indexOf(waiter), 1);
      waiter.resolve();
    }
  }

  private route(
    api: SchwabApiName,
    method: string,
    path: string,
    query: URLSearchParams,
    headers: IncomingMessage['headers'],
    text: string,
  ): { answer: Answer; created?: FakeOrder } {
    const within =
      api === 'marketdata'
        ? path.slice(MARKET_DATA.length)
        : path.startsWith(TRADER)
          ? path.slice(TRADER.length)
          : undefined;
    if (within === undefined)
      return { answer: errorAnswer('trader', 404, 'Not Found', [`No route ${path}`]) };
    this.authenticate(api, headers.authorization);
    return api === 'marketdata'
      ? { answer: this.marketDataRoute(method, within, query) }
      : this.traderRoute(method, within, query, headers['content-type'], text);
  }

  /** Bearer token issued by the provider, not expired, not revoked. */
  private authenticate(api: SchwabApiName, authorization: string | undefined): void {
    const token = /^Bearer ([^\s]+)$/.exec(authorization ?? '')?.[1];
    const issued = token === undefined ? 'missing' : this.options.oauth.accessTokenStatus(token);
    const status = issued === 'valid' && this.refusingTokens ? 'unknown' : issued;
    if (status === 'valid') return;
    const detail =
      status === 'missing'
        ? 'Missing or malformed Authorization header (Bearer token required).'
        : status === 'expired'
          ? 'The access token has expired.'
          : 'The access token is invalid.';
    throw new HttpRefusal({
      ...errorAnswer(api, 401, 'Client not authorized', [detail]),
      headers: { 'www-authenticate': `Bearer error="invalid_token"` },
    });
  }

  private marketDataRoute(method: string, path: string, query: URLSearchParams): Answer {
    if (method !== 'GET') return errorAnswer('marketdata', 404, 'Not Found', [`No route ${method} ${path}`]);
    let outcome:
      | { status: 200; body: Record<string, unknown> }
      | { status: 400; errors: MarketDataError[] }
      | undefined;
    if (path === '/quotes') outcome = this.market.quotes(query);
    else if (path === '/chains') outcome = this.market.chain(query);
    else if (path === '/expirationchain') {
      const knows = (symbol: string) => this.market.equityPrice(symbol) !== undefined;
      outcome = expirationChain(query, knows, easternDate(this.now()), this.extraExpirations);
    } else {
      const single = /^\/([^/]+)\/quotes$/.exec(path)?.[1];
      if (single !== undefined) {
        const forOne = new URLSearchParams(query);
        forOne.set('symbols', decodeURIComponent(single));
        outcome = this.market.quotes(forOne);
      }
    }
    if (outcome === undefined) return errorAnswer('marketdata', 404, 'Not Found', [`No route ${path}`]);
    return outcome.status === 200
      ? { status: 200, body: outcome.body }
      : { status: 400, body: marketDataErrorBody(outcome.errors) };
  }

  private traderRoute(
    method: string,
    path: string,
    query: URLSearchParams,
    contentType: string | undefined,
    text: string,
  ): { answer: Answer; created?: FakeOrder } {
    const segments = path.split('/').filter((segment) => segment !== '');
    const json = (body: unknown): { answer: Answer } => ({ answer: { status: 200, body } });
    if (method === 'GET' && path === '/accounts/accountNumbers') {
      return json(
        this.book.accounts.map((account) => ({
          accountNumber: account.accountNumber,
          hashValue: account.hashValue,
        })),
      );
    }
    if (method === 'GET' && path === '/accounts') {
      const positions = positionsFlag(query);
      return json(this.book.accounts.map((account) => this.book.accountJson(account, positions)));
    }
    if (method === 'GET' && path === '/orders') {
      const filter = orderFilter(query);
      return json(this.listOrders(this.book.allOrders(), filter));
    }
    if (segments[0] !== 'accounts' || segments[1] === undefined) {
      return { answer: errorAnswer('trader', 404, 'Not Found', [`No route ${method} ${path}`]) };
    }
    const account = this.book.accountByHash(segments[1]);
    const rest = segments.slice(2).join('/');
    const known = ['', 'orders', 'previewOrder'].includes(rest) || /^orders\/[^/]+$/.test(rest);
    if (!known) return { answer: errorAnswer('trader', 404, 'Not Found', [`No route ${method} ${path}`]) };
    if (account === undefined)
      return { answer: { status: 400, body: { message: 'Invalid account number' } } };

    if (rest === '' && method === 'GET') return json(this.book.accountJson(account, positionsFlag(query)));
    if (rest === 'orders' && method === 'GET') {
      const listed = this.listOrders(this.book.ordersOf(account), orderFilter(query));
      return json([...listed, ...(this.extraListed.get(account.hashValue) ?? [])]);
    }
    if (rest === 'orders' && method === 'POST') {
      this.takeOrderSlot();
      const order = this.parseOrder(contentType, text);
      const created = this.book.place(account, order);
      return { answer: this.createdAnswer(account, created), created };
    }
    if (rest === 'previewOrder' && method === 'POST') {
      const order = this.parseOrder(contentType, text);
      return json(this.preview(account, order));
    }
    const orderId = rest.startsWith('orders/') ? Number(rest.slice('orders/'.length)) : Number.NaN;
    if (rest.startsWith('orders/') && ['GET', 'DELETE', 'PUT'].includes(method)) {
      if (!Number.isSafeInteger(orderId) || orderId <= 0) {
        return { answer: errorAnswer('trader', 400, VALIDATION_MESSAGE, ['orderId must be an integer']) };
      }
      if (method !== 'GET') this.takeOrderSlot();
      const order = this.book.find(account, orderId);
      if (order === undefined)
        return {
          answer: errorAnswer('trader', 404, 'Order not found', [`No order ${orderId} in this account`]),
        };
      if (method === 'GET') return json(this.book.orderJson(order));
      if (method === 'DELETE') {
        if (this.book.cancel(order) === 'not-cancelable') {
          return {
            answer: errorAnswer('trader', 400, 'Order is not cancelable', [
              `Order ${orderId} is ${order.status}`,
            ]),
          };
        }
        return { answer: { status: 200 } };
      }
      const replacement = this.parseOrder(contentType, text);
      const created = this.book.replace(order, replacement);
      if (created === 'not-replaceable') {
        return {
          answer: errorAnswer('trader', 400, 'Order is not replaceable', [
            `Order ${orderId} is ${order.status}`,
          ]),
        };
      }
      return { answer: this.createdAnswer(account, created) };
    }
    return { answer: errorAnswer('trader', 404, 'Not Found', [`No route ${method} ${path}`]) };
  }

  /** 201, empty body, Location of the new order. */
  private createdAnswer(account: FakeAccount, order: FakeOrder): Answer {
    return {
      status: 201,
      headers: {
        location: `${this.traderUrl}/accounts/${account.hashValue}/orders/${order.orderId}`,
        'content-length': '0',
      },
    };
  }

  /** JSON body -> schema check -> Schwab's rules -> known, live instrument; else a 400 listing every problem. */
  private parseOrder(contentType: string | undefined, text: string): CheckedOrder {
    if (!(contentType ?? '').toLowerCase().startsWith('application/json')) {
      throw new HttpRefusal(
        errorAnswer('trader', 415, 'Unsupported Media Type', ['Content-Type must be application/json']),
      );
    }
    let body: unknown;
    try {
      body = JSON.parse(text) as unknown;
    } catch {
      throw new HttpRefusal(
        errorAnswer('trader', 400, VALIDATION_MESSAGE, ['The request body is not valid JSON']),
      );
    }
    const schemaErrors = SchwabSchemas.get().validateComponent('trader', 'OrderRequest', body);
    if (schemaErrors.length > 0)
      throw new HttpRefusal(errorAnswer('trader', 400, VALIDATION_MESSAGE, schemaErrors));
    const checked = checkOrder(OrderRequestView.parse(body));
    if ('problems' in checked)
      throw new HttpRefusal(errorAnswer('trader', 400, VALIDATION_MESSAGE, checked.problems));
    const { order } = checked;
    if (order.assetType === 'EQUITY' && this.market.equityPrice(order.symbol) === undefined) {
      throw new HttpRefusal(
        errorAnswer('trader', 400, VALIDATION_MESSAGE, [`Symbol ${order.symbol} was not found`]),
      );
    }
    if (order.assetType === 'OPTION' && this.market.valueOption(order.symbol) === undefined) {
      const underlyingKnown =
        this.market.equityPrice(parseOptionSymbol(order.symbol)?.root ?? '') !== undefined;
      throw new HttpRefusal(
        errorAnswer('trader', 400, VALIDATION_MESSAGE, [
          underlyingKnown ? `Option ${order.symbol} has expired` : `Symbol ${order.symbol} was not found`,
        ]),
      );
    }
    return order;
  }

  /** Place + cancel + replace share one budget per window on the fake's clock; excess answers 429. */
  private takeOrderSlot(): void {
    const { max, windowMs } = this.options.orderRateLimit ?? { max: 120, windowMs: 60_000 };
    const now = this.now().getTime();
    while (this.orderRequestTimes.length > 0 && (this.orderRequestTimes[0] ?? 0) <= now - windowMs) {
      this.orderRequestTimes.shift();
    }
    if (this.orderRequestTimes.length >= max) {
      throw new HttpRefusal(
        errorAnswer('trader', 429, 'Too Many Requests', [
          `More than ${max} order requests within ${windowMs / 1000} s`,
        ]),
      );
    }
    this.orderRequestTimes.push(now);
  }

  private listOrders(orders: readonly FakeOrder[], filter: OrderFilter): Record<string, unknown>[] {
    return orders
      .filter(
        (order) =>
          order.enteredTime.getTime() >= filter.from &&
          order.enteredTime.getTime() <= filter.to &&
          (filter.status === undefined || order.status === filter.status),
      )
      .sort((a, b) => b.enteredTime.getTime() - a.enteredTime.getTime() || b.orderId - a.orderId)
      .slice(0, filter.maxResults)
      .map((order) => listedOrder(this.book.orderJson(order)));
  }

  /** `PreviewOrder`: what the order would cost and whether it would be accepted; nothing is placed. */
  private preview(account: FakeAccount, order: CheckedOrder): Record<string, unknown> {
    const value = this.book.estimate(order, order.quantity) ?? new Decimal(0);
    const buying = ['BUY', 'BUY_TO_OPEN', 'BUY_TO_CLOSE', 'BUY_TO_COVER'].includes(order.instruction);
    const available = this.book.availableCash(account);
    const projected = buying ? available.minus(value) : available.plus(value);
    const rejects =
      buying && projected.lt(0)
        ? [
            {
              validationRuleName: 'BUYING_POWER',
              message: 'Your buying power is insufficient for this order.',
              activityMessage: 'Insufficient buying power',
            },
          ]
        : [];
    const market = this.market.fillPrice(order.symbol, order.assetType)?.toNumber();
    return {
      orderId: 0,
      orderStrategy: {
        accountNumber: account.accountNumber,
        advancedOrderType: 'NONE',
        allOrNone: false,
        discretionary: false,
        duration: order.duration,
        enteredTime: schwabTime(this.now()),
        orderBalance: {
          orderValue: value.toDecimalPlaces(2).toNumber(),
          projectedAvailableFund: projected.toDecimalPlaces(2).toNumber(),
          projectedBuyingPower: projected.toDecimalPlaces(2).toNumber(),
          projectedCommission: 0,
        },
        orderLegs: [
          {
            assetType: order.assetType,
            finalSymbol: order.symbol,
            instruction: order.instruction,
            legId: 1,
            quantity: order.quantity,
            projectedCommission: 0,
            ...(market === undefined ? {} : { lastPrice: market, markPrice: market }),
          },
        ],
        orderStrategyType: 'SINGLE',
        orderType: order.orderType,
        orderValue: value.toDecimalPlaces(2).toNumber(),
        ...(order.price === undefined ? {} : { price: order.price.toNumber() }),
        quantity: order.quantity,
        remainingQuantity: order.quantity,
        filledQuantity: 0,
        session: order.session,
        status: rejects.length > 0 ? 'REJECTED' : 'ACCEPTED',
        strategy: order.complexOrderStrategyType ?? 'NONE',
      },
      orderValidationResult: {
        accepts:
          rejects.length > 0
            ? []
            : [{ validationRuleName: 'ORDER_ACCEPTED', message: 'The order is acceptable.' }],
        alerts: [],
        rejects,
        reviews: [],
        warns: [],
      },
      commissionAndFee: {
        commission: { commissionLegs: [{ commissionValues: [{ value: 0, type: 'COMMISSION' }] }] },
        fee: { feeLegs: [{ feeValues: [{ value: 0, type: 'SEC_FEE' }] }] },
        trueCommission: { commissionLegs: [{ commissionValues: [{ value: 0, type: 'COMMISSION' }] }] },
      },
    };
  }
}

interface OrderFilter {
  readonly from: number;
  readonly to: number;
  readonly status: string | undefined;
  readonly maxResults: number;
}

/**
 * An order as a listing shows it: for every other order (even ids), without the fields the
 * published schema lets it leave out, and without a fill count of 0.
 */
function listedOrder(order: Record<string, unknown>): Record<string, unknown> {
  if (Number(order['orderId']) % 2 !== 0) return order;
  const sparse: Record<string, unknown> = { ...order };
  for (const field of SPARSE_ORDER_FIELDS) delete sparse[field];
  if (sparse['filledQuantity'] === 0) delete sparse['filledQuantity'];
  const legs = Array.isArray(order['orderLegCollection']) ? order['orderLegCollection'] : [];
  sparse['orderLegCollection'] = legs.map((leg: Record<string, unknown>) => {
    const trimmed = { ...leg };
    for (const field of SPARSE_LEG_FIELDS) delete trimmed[field];
    return trimmed;
  });
  return sparse;
}

/** fromEnteredTime and toEnteredTime are both required ISO-8601 date-times at most a year apart. */
function orderFilter(query: URLSearchParams): OrderFilter {
  const problems: string[] = [];
  const time = (name: string): number | undefined => {
    const value = query.get(name);
    if (value === null || value === '') {
      problems.push(`${name} is required`);
      return undefined;
    }
    const normalized = value.replace(/([+-]\d{2})(\d{2})$/, '$1:$2');
    const parsed = Date.parse(normalized);
    if (!SCHWAB_DATE_TIME.test(value) || Number.isNaN(parsed)) {
      problems.push(`${name} must be an ISO-8601 date-time like 2024-03-29T00:00:00.000Z`);
      return undefined;
    }
    return parsed;
  };
  const from = time('fromEnteredTime');
  const to = time('toEnteredTime');
  if (from !== undefined && to !== undefined) {
    if (from > to) problems.push('fromEnteredTime must not be after toEnteredTime');
    else if (to - from > ONE_YEAR_MS)
      problems.push('The date range between fromEnteredTime and toEnteredTime must not exceed 1 year');
  }
  const status = query.get('status') ?? undefined;
  if (status !== undefined && !ORDER_STATUSES.has(status))
    problems.push(`status ${status} is not a valid order status`);
  const maxResultsText = query.get('maxResults');
  const maxResults = maxResultsText === null ? 3000 : Number(maxResultsText);
  if (!Number.isSafeInteger(maxResults) || maxResults <= 0)
    problems.push('maxResults must be a positive integer');
  if (problems.length > 0 || from === undefined || to === undefined) {
    throw new HttpRefusal(errorAnswer('trader', 400, VALIDATION_MESSAGE, problems));
  }
  return { from, to, status, maxResults };
}

/** `fields=positions` or nothing; any other value is refused rather than silently ignored. */
function positionsFlag(query: URLSearchParams): boolean {
  const fields = query.get('fields');
  if (fields === null || fields === '') return false;
  if (fields === 'positions') return true;
  throw new HttpRefusal(
    errorAnswer('trader', 400, VALIDATION_MESSAGE, [`fields ${fields} is not valid (positions)`]),
  );
}

/** Trader errors are `{message, errors: [text]}`; market data errors `{errors: [{id, status, title, detail}]}`. */
function errorAnswer(
  api: SchwabApiName,
  status: number,
  message: string,
  details: readonly string[],
): Answer {
  if (api === 'trader') return { status, body: { message, errors: [...details] } };
  return { status, body: marketDataErrorBody(details.map((detail) => ({ status, detail }))) };
}

function matches(matcher: FakeSchwabRequestMatcher, method: string, path: string): boolean {
  if (typeof matcher === 'function') return matcher({ method, path });
  if (matcher.method !== undefined && matcher.method.toUpperCase() !== method) return false;
  if (matcher.path === undefined) return true;
  return typeof matcher.path === 'string' ? matcher.path === path : matcher.path.test(path);
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
