/**
 * A local stand-in for Coinbase Advanced Trade (`/api/v3/brokerage`), faithful to its documented
 * shapes. Every request is authenticated (cdp-auth.ts): a CDP key JWT checked for signature, kid,
 * nonce, iss, sub, lifetime and the `uri` of this very request, an OAuth access token the fake
 * issued, or one from a trusted authorization server (`trustAuthorizationServer`), checked for
 * expiry, revocation and the endpoint's scope. The trading model (exchange.ts) serves accounts, products, best bid/ask, orders with
 * client_order_id de-duplication, preview, cancel and fills.
 *
 * Each key or token opens one portfolio ('default' unless named), as a CDP key is scoped to one.
 * Prices are set by the test (`setBestBidAsk`): market orders fill at once; limit and stop-limit
 * orders rest until `fillRestingOrders()`. Failure injection as in the Alpaca fake: `latencyMs`,
 * `failNext` (a status, Retry-After, optionally after processing; `'*'` for a 429 storm on
 * everything), `acceptThenTimeout`, `dropNext`, `down`/`up`.
 */
import type { KeyObject } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { Decimal } from 'decimal.js';
import { listenOnLoopback } from '../listen.js';
import { CdpAuth, type TrustedAuthorizationServer } from './cdp-auth.js';
import { CoinbaseHttpError, FakeExchange, type FakeProduct, type RawList } from './exchange.js';

export const API_PREFIX = '/api/v3/brokerage';

export interface FakeCoinbaseRequest {
  readonly method: string;
  /** The full path, e.g. `/api/v3/brokerage/orders`. */
  readonly path: string;
  /** The JWT's key name; undefined for OAuth tokens and unreadable tokens. */
  readonly kid: string | undefined;
  /** The status answered; 0 when the connection was dropped or the answer never came. */
  readonly status: number;
  /** Why authentication failed, for 401s. */
  readonly problem?: string;
  /** When the request arrived (performance.now() milliseconds). */
  readonly receivedAt: number;
}

export interface FakeFailure {
  readonly status: number;
  /** Sent as the Retry-After header (seconds, or an HTTP date string). */
  readonly retryAfter?: number | string;
  /** How many matching requests fail. Default 1. */
  readonly times?: number;
  /** Process the request first, then answer with the failure (an order is created; the client cannot know). */
  readonly afterProcessing?: boolean;
}

interface FailureRule extends FakeFailure {
  readonly target: string;
  remaining: number;
}

const ERROR_CODES: Record<number, string> = {
  429: 'RESOURCE_EXHAUSTED',
  500: 'INTERNAL',
  502: 'UNAVAILABLE',
  503: 'UNAVAILABLE',
  504: 'DEADLINE_EXCEEDED',
};

export class FakeCoinbase {
  /** Every request, in arrival order (no tokens kept). */
  readonly requests: FakeCoinbaseRequest[] = [];
  /** Delay before each request is handled. */
  latencyMs = 0;
  /** The fake's clock: JWT lifetimes, order times and GTD expiry. */
  now: () => Date = () => new Date();
  private readonly auth = new CdpAuth();
  private readonly exchange = new FakeExchange(() => this.now());
  private readonly failures: FailureRule[] = [];
  private readonly drops: string[] = [];
  private acceptThenTimeoutMode: 'hang' | 'reset' | undefined;
  private isDown = false;

  private constructor(
    private readonly server: Server,
    readonly baseUrl: string,
  ) {}

  static async start(): Promise<FakeCoinbase> {
    let fake: FakeCoinbase | undefined;
    const server = createServer((request, response) => {
      fake?.handle(request, response).catch(() => {
        if (!response.headersSent) response.writeHead(500).end();
      });
    });
    const port = await listenOnLoopback(server);
    fake = new FakeCoinbase(server, `http://127.0.0.1:${port}`);
    return fake;
  }

  // ------------------------------------------------------------------ credentials

  /** Registers a CDP key by name with its public half (derived from the private key given). */
  addKey(name: string, privateKey: KeyObject, portfolio = 'default'): void {
    this.auth.addKey(name, privateKey, portfolio);
  }

  revokeKey(name: string): void {
    this.auth.revokeKey(name);
  }

  /** An OAuth access token for a portfolio, as if issued by Coinbase's token endpoint. */
  issueAccessToken(portfolio = 'default'): string {
    return this.auth.issueAccessToken(portfolio);
  }

  revokeAccessToken(token: string): void {
    this.auth.revokeAccessToken(token);
  }

  /**
   * Accepts the access tokens an authorization server issues (the fake OAuth 2.0 provider as
   * login.coinbase.com), as Coinbase accepts its own: each opens the user's default portfolio.
   */
  trustAuthorizationServer(server: TrustedAuthorizationServer, portfolio = 'default'): void {
    this.auth.trust(server, portfolio);
  }

  // ------------------------------------------------------------------ market and accounts

  /** The best bid and ask of a product: what market orders fill at and resting orders check. */
  setBestBidAsk(productId: string, bid: string, ask: string): void {
    this.exchange.setBook(productId, bid, ask);
  }

  /** Changes a product's listing (e.g. `{ trading_disabled: true }`). */
  updateProduct(productId: string, patch: Partial<FakeProduct>): void {
    const product = this.exchange.products.get(productId);
    if (product === undefined) throw new Error(`no product ${productId}`);
    Object.assign(product, patch);
  }

  /** Sets a wallet's available balance. A new portfolio starts with $10,000 and no assets. */
  setBalance(currency: string, available: string, portfolio = 'default'): void {
    this.exchange.setBalance(portfolio, currency, available);
  }

  balance(currency: string, portfolio = 'default'): { available: string; hold: string } {
    return this.exchange.balance(portfolio, currency);
  }

  /** The fee rates on filled value (defaults: taker 0.6 %, maker 0.4 %). */
  setFeeRates(taker: string, maker: string): void {
    this.exchange.takerFeeRate = new Decimal(taker);
    this.exchange.makerFeeRate = new Decimal(maker);
  }

  /** Previews of limit orders that would rest answer a total and fees of "0" (see FakeExchange). */
  previewRestingAtZero(on = true): void {
    this.exchange.previewRestingAtZero = on;
  }

  /** Lists `element` as it is on every first page of `list` (see FakeExchange.listRaw). */
  listRaw(list: RawList, element: unknown): void {
    this.exchange.listRaw(list, element);
  }

  /** The portfolio's orders as Coinbase renders them, oldest first. */
  orders(portfolio = 'default'): Record<string, unknown>[] {
    return this.exchange.orders(portfolio);
  }

  /** Triggers stops, expires GTD orders and fills marketable resting orders; returns how many filled. */
  fillRestingOrders(): number {
    return this.exchange.fillResting();
  }

  // ------------------------------------------------------------------ failure injection

  /**
   * The next matching request(s) answer `status` (with Coinbase's error body and Retry-After if
   * given), by default without being processed. `target` is `'*'`, a path or a method and path;
   * paths may leave out `/api/v3/brokerage` (`'POST /orders'`).
   */
  failNext(target: string, failure: FakeFailure): void {
    this.failures.push({ ...failure, target, remaining: failure.times ?? 1 });
  }

  /**
   * The next order POST is processed (the order exists), then the answer never comes: `hang` keeps
   * the connection open until the client gives up; `reset` destroys it.
   */
  acceptThenTimeout(mode: 'hang' | 'reset' = 'hang'): void {
    this.acceptThenTimeoutMode = mode;
  }

  /** The next matching request (any by default) has its connection reset before processing. */
  dropNext(target = '*'): void {
    this.drops.push(target);
  }

  /** Every request answers 503 until `up()`. */
  down(): void {
    this.isDown = true;
  }

  up(): void {
    this.isDown = false;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  // ------------------------------------------------------------------ request handling

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const receivedAt = performance.now();
    const method = request.method ?? 'GET';
    const url = new URL(request.url ?? '/', this.baseUrl);
    const path = url.pathname;
    const host = request.headers.host ?? url.host;
    const rawBody = await readBody(request);
    if (this.latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, this.latencyMs));

    let kid: string | undefined;
    const record = (status: number, problem?: string) =>
      this.requests.push({ method, path, kid, status, receivedAt, ...(problem ? { problem } : {}) });
    const send = (status: number, body: unknown, headers: Record<string, string> = {}, problem?: string) => {
      record(status, problem);
      response
        .writeHead(status, { 'content-type': 'application/json', ...headers })
        .end(JSON.stringify(body));
    };
    const sendError = (
      status: number,
      error: string,
      message: string,
      headers: Record<string, string> = {},
    ) => send(status, { error, code: status, message, details: [] }, headers);

    if (this.isDown) {
      sendError(503, 'UNAVAILABLE', 'service unavailable');
      return;
    }
    const dropIndex = this.drops.findIndex((target) => matches(target, method, path));
    if (dropIndex >= 0) {
      this.drops.splice(dropIndex, 1);
      record(0);
      request.socket.destroy();
      return;
    }
    const auth = await this.auth.verify(request.headers.authorization, { method, host, path }, this.now());
    kid = auth.kid;
    if (!auth.ok) {
      if (auth.status === 403) {
        send(403, { error: 'PERMISSION_DENIED', message: 'Missing required scopes' }, {}, auth.problem);
        return;
      }
      send(401, { error: 'UNAUTHENTICATED', message: 'Unauthorized' }, {}, auth.problem);
      return;
    }
    const failure = this.takeFailure(method, path);
    const failWith = (rule: FailureRule) =>
      sendError(
        rule.status,
        ERROR_CODES[rule.status] ?? 'UNKNOWN',
        rule.status === 429 ? 'Too many requests' : 'internal error',
        rule.retryAfter === undefined ? {} : { 'retry-after': String(rule.retryAfter) },
      );
    if (failure !== undefined && !failure.afterProcessing) {
      failWith(failure);
      return;
    }
    let result: unknown;
    try {
      result = this.route(auth.portfolio, method, path, url.searchParams, rawBody);
    } catch (error) {
      if (!(error instanceof CoinbaseHttpError)) throw error;
      sendError(error.status, error.error, error.message);
      return;
    }
    if (failure !== undefined) {
      failWith(failure);
      return;
    }
    if (method === 'POST' && path === `${API_PREFIX}/orders` && this.acceptThenTimeoutMode !== undefined) {
      const mode = this.acceptThenTimeoutMode;
      this.acceptThenTimeoutMode = undefined;
      record(0);
      if (mode === 'reset') request.socket.destroy();
      // 'hang': never answer; close() ends the connection if the client has not given up.
      return;
    }
    send(200, result);
  }

  private takeFailure(method: string, path: string): FailureRule | undefined {
    const rule = this.failures.find((candidate) => matches(candidate.target, method, path));
    if (rule === undefined) return undefined;
    rule.remaining -= 1;
    if (rule.remaining <= 0) this.failures.splice(this.failures.indexOf(rule), 1);
    return rule;
  }

  private route(
    portfolio: string,
    method: string,
    fullPath: string,
    query: URLSearchParams,
    rawBody: string,
  ): unknown {
    if (!fullPath.startsWith(`${API_PREFIX}/`)) throw new CoinbaseHttpError(404, 'NOT_FOUND', 'Not Found');
    const path = fullPath.slice(API_PREFIX.length);
    const exchange = this.exchange;
    if (method === 'GET') {
      if (path === '/accounts') return exchange.accounts(portfolio, query);
      if (path === '/best_bid_ask') return exchange.bestBidAsk(query);
      if (path === '/orders/historical/batch') return exchange.listOrders(portfolio, query);
      if (path === '/orders/historical/fills') return exchange.listFills(portfolio, query);
      const product = /^\/products\/([^/]+)$/.exec(path)?.[1];
      if (product !== undefined) return exchange.product(decodeURIComponent(product));
      const order = /^\/orders\/historical\/([^/]+)$/.exec(path)?.[1];
      if (order !== undefined) return exchange.getOrder(portfolio, decodeURIComponent(order));
    }
    if (method === 'POST') {
      if (path === '/orders') return exchange.createOrder(portfolio, parseJson(rawBody));
      if (path === '/orders/preview') return exchange.previewOrder(portfolio, parseJson(rawBody));
      if (path === '/orders/batch_cancel') return exchange.cancelOrders(portfolio, parseJson(rawBody));
    }
    throw new CoinbaseHttpError(404, 'NOT_FOUND', 'Not Found');
  }
}

// ------------------------------------------------------------------ helpers

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function parseJson(raw: string): unknown {
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    throw new CoinbaseHttpError(400, 'INVALID_ARGUMENT', 'request body is not JSON');
  }
}

/**
 * `'*'`, a path, or `METHOD path`; paths without the API prefix get it, and a path ending in `/*`
 * matches one more segment (`GET /orders/historical/*` is Get Order, not List Orders).
 */
function matches(target: string, method: string, path: string): boolean {
  if (target === '*') return true;
  const [first = '', second] = target.split(' ');
  const [wantedMethod, wantedPath] = second === undefined ? [undefined, first] : [first, second];
  if (wantedMethod !== undefined && wantedMethod !== method) return false;
  const full = wantedPath.startsWith('/api/') ? wantedPath : `${API_PREFIX}${wantedPath}`;
  if (!full.endsWith('/*')) return full === path;
  const prefix = full.slice(0, -1);
  const rest = path.slice(prefix.length);
  return path.startsWith(prefix) && rest !== '' && !rest.includes('/') && !SUB_RESOURCES.has(rest);
}

/** Segments under /orders/historical/ that are endpoints of their own, not order ids. */
const SUB_RESOURCES = new Set(['batch', 'fills']);
