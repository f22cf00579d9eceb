/**
 * A local stand-in for Alpaca's Trading API v2, faithful to its documented shapes: key headers
 * enforced on every request (both required, the pair registered), Alpaca's `{code, message}`
 * errors, orders with Alpaca's validation (422 code 40010001) and per-account unique
 * `client_order_id`, positions and an account whose cash and positions move with fills, and the
 * option contracts of the symbols it prices, page by page (./option-contracts.ts).
 *
 * Prices are set by the test (`setPrice`): market orders fill at once at that price; limit and
 * stop orders rest until `fillRestingOrders()` finds them marketable. Failure injection:
 * `latencyMs`, `failNext`, `acceptThenTimeout`, `dropNext`, `down`/`up`.
 *
 * Buying power is Alpaca's available buying power (./buying-power.ts): Reg T (2 × equity − long
 * market value) less what open buys hold, as Alpaca documents; an order beyond it is refused (403).
 *
 * Simplifications: one fill per order (no partial fills), no market hours, no short selling
 * (Alpaca would allow it on margin accounts).
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { Decimal } from 'decimal.js';
import { listenOnLoopback } from '../listen.js';
import { newYorkDay } from '../option-expiries.js';
import { availableBuyingPower, buyValue, marketValue, multiplier, OPEN_STATUSES } from './buying-power.js';
import { optionContractsPage } from './option-contracts.js';

export interface FakeAlpacaKey {
  readonly keyId: string;
  readonly secretKey: string;
  readonly accountNumber: string;
}

export interface FakeAlpacaRequest {
  readonly method: string;
  readonly path: string;
  readonly keyId: string | undefined;
  /** The status answered; 0 when the connection was dropped or the answer never came. */
  readonly status: number;
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

/** An order as Alpaca returns it (the fields Alpaca documents; amounts are decimal strings). */
export interface FakeAlpacaOrder {
  id: string;
  client_order_id: string;
  created_at: string;
  updated_at: string;
  submitted_at: string;
  filled_at: string | null;
  expired_at: string | null;
  canceled_at: string | null;
  failed_at: string | null;
  replaced_at: string | null;
  replaced_by: string | null;
  replaces: string | null;
  asset_id: string;
  symbol: string;
  asset_class: 'us_equity' | 'us_option' | 'crypto';
  notional: string | null;
  qty: string | null;
  filled_qty: string;
  filled_avg_price: string | null;
  order_class: string;
  order_type: string;
  type: string;
  side: 'buy' | 'sell';
  time_in_force: string;
  limit_price: string | null;
  stop_price: string | null;
  status: string;
  extended_hours: boolean;
  legs: null;
  trail_percent: null;
  trail_price: null;
  hwm: null;
}

interface FakePosition {
  readonly assetClass: FakeAlpacaOrder['asset_class'];
  qty: Decimal;
  avgEntryPrice: Decimal;
}

interface FakeAccount {
  readonly accountNumber: string;
  cash: Decimal;
  /** Equity at the previous close: the starting equity, as no day passes in a test. */
  readonly lastEquity: Decimal;
  readonly positions: Map<string, FakePosition>;
  readonly orders: FakeAlpacaOrder[];
}

interface FailureRule extends FakeFailure {
  readonly target: string;
  remaining: number;
}

const STARTING_CASH = '100000';
const ORDER_TYPES = new Set(['market', 'limit', 'stop', 'stop_limit', 'trailing_stop']);
const TIME_IN_FORCE = new Set(['day', 'gtc', 'opg', 'cls', 'ioc', 'fok']);
const OCC_SYMBOL = /^[A-Z]{1,6}\d{6}[CP]\d{8}$/;
const DECIMAL = /^\d+(?:\.\d+)?$/;

class AlpacaError extends Error {
  constructor(
    readonly status: number,
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

const invalid = (message: string) => new AlpacaError(422, 40010001, message);

/** The list answers a test can add raw elements to (`listRaw`). */
export type RawListPath = '/v2/orders' | '/v2/positions' | '/v2/options/contracts';

export interface FakeAlpacaOptions {
  /** The fake's clock, for the option contracts it lists; defaults to the real one. */
  readonly now?: () => Date;
}

export class FakeAlpaca {
  /** Every request, in arrival order (secrets are not kept). */
  readonly requests: FakeAlpacaRequest[] = [];
  /** Delay before each request is handled. */
  latencyMs = 0;
  /** The most option contracts one page holds, whatever `limit` asks (unset: `limit`). */
  contractsPageCap: number | undefined;
  private readonly keys = new Map<string, FakeAlpacaKey>();
  private readonly accounts = new Map<string, FakeAccount>();
  private readonly prices = new Map<string, Decimal>();
  private readonly failures: FailureRule[] = [];
  private readonly drops: string[] = [];
  /** Elements list answers carry after their own (`listRaw`), by path. */
  private readonly rawListed = new Map<RawListPath, unknown[]>();
  private acceptThenTimeoutMode: 'hang' | 'reset' | undefined;
  private isDown = false;

  private constructor(
    private readonly server: Server,
    readonly baseUrl: string,
    private readonly now: () => Date,
  ) {}

  static async start(
    keys: readonly FakeAlpacaKey[] = [],
    options: FakeAlpacaOptions = {},
  ): Promise<FakeAlpaca> {
    let fake: FakeAlpaca | undefined;
    const server = createServer((request, response) => {
      fake?.handle(request, response).catch(() => {
        if (!response.headersSent) response.writeHead(500).end();
      });
    });
    const port = await listenOnLoopback(server);
    fake = new FakeAlpaca(server, `http://127.0.0.1:${port}`, options.now ?? (() => new Date()));
    for (const key of keys) fake.addKey(key);
    return fake;
  }

  addKey(key: FakeAlpacaKey): void {
    this.keys.set(key.keyId, key);
  }

  /** Keys deleted in the dashboard stop working at once. */
  revokeKey(keyId: string): void {
    this.keys.delete(keyId);
  }

  /** The price market orders fill at and resting orders are checked against. */
  setPrice(symbol: string, price: string): void {
    this.prices.set(symbol, new Decimal(price));
  }

  /**
   * No quote for `symbol` any more: positions in it list their prices and values as null (as
   * alpaca-py's Position models them: optional), and orders for it are refused.
   */
  clearPrice(symbol: string): void {
    this.prices.delete(symbol);
  }

  /**
   * `element` is listed as it is after the list's own elements in every answer of `path`: how a
   * test sends an element Alpaca's documentation does not allow.
   */
  listRaw(path: RawListPath, element: unknown): void {
    this.rawListed.set(path, [...(this.rawListed.get(path) ?? []), element]);
  }

  /** Fills every resting order that is marketable at the current prices; returns how many filled. */
  fillRestingOrders(): number {
    let filled = 0;
    for (const account of this.accounts.values()) {
      for (const order of account.orders) {
        if (!OPEN_STATUSES.has(order.status)) continue;
        const price = this.prices.get(order.symbol);
        const fillPrice = price === undefined ? undefined : restingFillPrice(order, price);
        if (fillPrice === undefined) continue;
        this.fill(account, order, new Decimal(order.qty ?? '0'), fillPrice);
        filled += 1;
      }
    }
    return filled;
  }

  /**
   * The next matching request(s) answer `status` (with Alpaca's error body and Retry-After if
   * given), by default without being processed. `target` is a path (`/v2/orders`) or a method and
   * path (`POST /v2/orders`).
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

  /** The next matching request (any request by default) has its connection reset before processing. */
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

  /** The orders of an account as Alpaca would list them (oldest first). */
  orders(accountNumber: string): readonly FakeAlpacaOrder[] {
    return this.accounts.get(accountNumber)?.orders.map((order) => ({ ...order })) ?? [];
  }

  /** The account's cash, as a decimal string. */
  cash(accountNumber: string): string {
    return this.account(accountNumber).cash.toFixed();
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  // ------------------------------------------------------------------ request handling

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const receivedAt = performance.now();
    const method = request.method ?? 'GET';
    const url = new URL(request.url ?? '/', 'http://fake');
    const path = url.pathname;
    const keyId = header(request, 'apca-api-key-id');
    const secret = header(request, 'apca-api-secret-key');
    const rawBody = await readBody(request);
    if (this.latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, this.latencyMs));

    const record = (status: number) => this.requests.push({ method, path, keyId, status, receivedAt });
    const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      record(status);
      if (body === undefined) {
        response.writeHead(status, headers).end();
        return;
      }
      response
        .writeHead(status, { 'content-type': 'application/json', ...headers })
        .end(JSON.stringify(body));
    };
    const sendError = (error: AlpacaError, headers: Record<string, string> = {}) =>
      send(error.status, { code: error.code, message: error.message }, headers);

    if (this.isDown) {
      sendError(new AlpacaError(503, 50300000, 'service unavailable'));
      return;
    }
    const dropIndex = this.drops.findIndex((target) => target === '*' || matches(target, method, path));
    if (dropIndex >= 0) {
      this.drops.splice(dropIndex, 1);
      record(0);
      request.socket.destroy();
      return;
    }
    const key = keyId === undefined ? undefined : this.keys.get(keyId);
    if (key === undefined || secret === undefined || key.secretKey !== secret) {
      sendError(new AlpacaError(401, 40110000, 'request is not authorized'));
      return;
    }
    const failure = this.takeFailure(method, path);
    const failWith = (rule: FailureRule) =>
      sendError(
        new AlpacaError(
          rule.status,
          rule.status * 100_000,
          rule.status === 429 ? 'rate limit exceeded' : 'internal server error',
        ),
        rule.retryAfter === undefined ? {} : { 'retry-after': String(rule.retryAfter) },
      );
    if (failure !== undefined && !failure.afterProcessing) {
      failWith(failure);
      return;
    }

    const account = this.account(key.accountNumber);
    let result: { status: number; body: unknown };
    try {
      result = this.route(account, method, path, url.searchParams, rawBody);
    } catch (error) {
      if (!(error instanceof AlpacaError)) throw error;
      sendError(error);
      return;
    }
    if (failure !== undefined) {
      failWith(failure);
      return;
    }
    if (method === 'POST' && path === '/v2/orders' && this.acceptThenTimeoutMode !== undefined) {
      const mode = this.acceptThenTimeoutMode;
      this.acceptThenTimeoutMode = undefined;
      record(0);
      if (mode === 'reset') request.socket.destroy();
      // 'hang': never answer; close() ends the connection if the client has not given up.
      return;
    }
    send(result.status, result.body);
  }

  private takeFailure(method: string, path: string): FailureRule | undefined {
    const rule = this.failures.find((candidate) => matches(candidate.target, method, path));
    if (rule === undefined) return undefined;
    rule.remaining -= 1;
    if (rule.remaining <= 0) this.failures.splice(this.failures.indexOf(rule), 1);
    return rule;
  }

  private route(
    account: FakeAccount,
    method: string,
    path: string,
    query: URLSearchParams,
    rawBody: string,
  ): { status: number; body: unknown } {
    if (method === 'GET' && path === '/v2/account') return { status: 200, body: this.accountJson(account) };
    if (method === 'GET' && path === '/v2/positions')
      return { status: 200, body: [...this.positionsJson(account), ...(this.rawListed.get(path) ?? [])] };
    if (method === 'POST' && path === '/v2/orders') {
      return { status: 200, body: this.placeOrder(account, parseJson(rawBody)) };
    }
    if (method === 'GET' && path === '/v2/orders') {
      return { status: 200, body: [...listOrders(account, query), ...(this.rawListed.get(path) ?? [])] };
    }
    if (method === 'GET' && path === '/v2/options/contracts') {
      const page = optionContractsPage(query, {
        priceOf: (symbol) => this.prices.get(symbol),
        today: newYorkDay(this.now()),
        pageCap: this.contractsPageCap,
        extra: this.rawListed.get(path) ?? [],
      });
      if ('refusal' in page)
        throw new AlpacaError(page.refusal.status, page.refusal.code, page.refusal.message);
      return { status: 200, body: page.body };
    }
    if (method === 'GET' && path === '/v2/orders:by_client_order_id') {
      const clientOrderId = query.get('client_order_id');
      if (!clientOrderId) throw invalid('client_order_id is required');
      const order = account.orders.find((candidate) => candidate.client_order_id === clientOrderId);
      if (order === undefined) throw new AlpacaError(404, 40410000, 'order not found');
      return { status: 200, body: order };
    }
    const orderPath = /^\/v2\/orders\/([^/]+)$/.exec(path);
    if (orderPath?.[1] !== undefined) {
      const id = decodeURIComponent(orderPath[1]);
      const order = account.orders.find((candidate) => candidate.id === id);
      if (order === undefined) throw new AlpacaError(404, 40410000, `order not found for ${id}`);
      if (method === 'GET') return { status: 200, body: order };
      if (method === 'DELETE') {
        if (!OPEN_STATUSES.has(order.status)) {
          throw new AlpacaError(422, 42210000, `order is already in "${order.status}" state`);
        }
        const now = new Date().toISOString();
        order.status = 'canceled';
        order.canceled_at = now;
        order.updated_at = now;
        return { status: 204, body: undefined };
      }
    }
    throw new AlpacaError(404, 40410000, 'endpoint not found');
  }

  /** `POST /v2/orders`, validated the way Alpaca validates it. */
  private placeOrder(account: FakeAccount, body: unknown): FakeAlpacaOrder {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw new AlpacaError(400, 40010000, 'request body format is invalid');
    }
    const field = (name: string): unknown => (body as Record<string, unknown>)[name];
    const symbol = field('symbol');
    if (typeof symbol !== 'string' || symbol === '') throw invalid('symbol is required');
    const side = field('side');
    if (side !== 'buy' && side !== 'sell') throw invalid('invalid side');
    const type = field('type');
    if (typeof type !== 'string' || !ORDER_TYPES.has(type)) throw invalid('invalid order type');
    const timeInForce = field('time_in_force');
    if (typeof timeInForce !== 'string' || !TIME_IN_FORCE.has(timeInForce)) {
      throw invalid('invalid time_in_force');
    }
    const qty = decimalField(field('qty'), 'qty');
    const notional = decimalField(field('notional'), 'notional');
    if (qty === undefined && notional === undefined) throw invalid('qty or notional is required');
    if (qty !== undefined && notional !== undefined)
      throw invalid('only one of qty or notional can be given');
    if (notional !== undefined && (type !== 'market' || timeInForce !== 'day')) {
      throw invalid('notional orders are only allowed for market orders with time_in_force day');
    }
    const limitPrice = decimalField(field('limit_price'), 'limit_price');
    const stopPrice = decimalField(field('stop_price'), 'stop_price');
    if ((type === 'limit' || type === 'stop_limit') && limitPrice === undefined) {
      throw invalid('limit_price is required');
    }
    if ((type === 'stop' || type === 'stop_limit') && stopPrice === undefined) {
      throw invalid('stop_price is required');
    }
    if (type === 'market' && (limitPrice !== undefined || stopPrice !== undefined)) {
      throw invalid('market orders take no limit_price or stop_price');
    }
    const assetClass: FakeAlpacaOrder['asset_class'] = OCC_SYMBOL.test(symbol)
      ? 'us_option'
      : symbol.includes('/')
        ? 'crypto'
        : 'us_equity';
    if (assetClass === 'us_option') {
      if (qty === undefined || !qty.isInteger()) throw invalid('qty must be a whole number for options');
      if (timeInForce !== 'day') throw invalid('options orders must be day orders');
    }
    if (assetClass === 'crypto' && timeInForce !== 'gtc' && timeInForce !== 'ioc') {
      throw invalid('invalid crypto time_in_force');
    }
    const rawClientOrderId = field('client_order_id');
    if (rawClientOrderId !== undefined && typeof rawClientOrderId !== 'string') {
      throw invalid('client_order_id must be a string');
    }
    const clientOrderId = rawClientOrderId ?? randomUUID();
    if (clientOrderId.length > 128) throw invalid('client_order_id must be no more than 128 characters');
    if (account.orders.some((order) => order.client_order_id === clientOrderId)) {
      throw invalid('client_order_id must be unique');
    }
    const price = this.prices.get(symbol);
    if (price === undefined) throw invalid(`asset "${symbol}" not found`);

    const quantity = qty ?? (notional as Decimal).div(price).toDecimalPlaces(9, Decimal.ROUND_DOWN);
    if (side === 'buy') {
      const cost = buyValue(
        {
          asset_class: assetClass,
          limit_price: limitPrice?.toFixed() ?? null,
          stop_price: stopPrice?.toFixed() ?? null,
          notional: notional?.toFixed() ?? null,
        },
        qty,
        price,
      );
      // Alpaca: the order's value must fit the buying power its open buys have not taken already.
      if (cost.greaterThan(availableBuyingPower(account, this.prices))) {
        throw new AlpacaError(403, 40310000, 'insufficient buying power');
      }
    } else {
      const held = account.positions.get(symbol)?.qty ?? new Decimal(0);
      const reserved = account.orders
        .filter(
          (order) => order.symbol === symbol && order.side === 'sell' && OPEN_STATUSES.has(order.status),
        )
        .reduce((sum, order) => sum.add(order.qty ?? '0'), new Decimal(0));
      const available = held.sub(reserved);
      if (quantity.greaterThan(available)) {
        throw new AlpacaError(
          403,
          40310000,
          `insufficient qty available for order (requested: ${quantity.toFixed()}, available: ${available.toFixed()})`,
        );
      }
    }

    const now = new Date().toISOString();
    const order: FakeAlpacaOrder = {
      id: randomUUID(),
      client_order_id: clientOrderId,
      created_at: now,
      updated_at: now,
      submitted_at: now,
      filled_at: null,
      expired_at: null,
      canceled_at: null,
      failed_at: null,
      replaced_at: null,
      replaced_by: null,
      replaces: null,
      asset_id: randomUUID(),
      symbol,
      asset_class: assetClass,
      notional: notional?.toFixed() ?? null,
      qty: qty?.toFixed() ?? null,
      filled_qty: '0',
      filled_avg_price: null,
      order_class: '',
      order_type: type,
      type,
      side,
      time_in_force: timeInForce,
      limit_price: limitPrice?.toFixed() ?? null,
      stop_price: stopPrice?.toFixed() ?? null,
      status: 'new',
      extended_hours: false,
      legs: null,
      trail_percent: null,
      trail_price: null,
      hwm: null,
    };
    account.orders.push(order);
    if (type === 'market') this.fill(account, order, quantity, price);
    return { ...order };
  }

  private fill(account: FakeAccount, order: FakeAlpacaOrder, quantity: Decimal, price: Decimal): void {
    const now = new Date().toISOString();
    order.status = 'filled';
    order.filled_qty = quantity.toFixed();
    order.filled_avg_price = price.toFixed();
    order.filled_at = now;
    order.updated_at = now;
    const amount = quantity.mul(price).mul(multiplier(order.asset_class));
    const position = account.positions.get(order.symbol);
    if (order.side === 'buy') {
      account.cash = account.cash.sub(amount);
      if (position === undefined) {
        account.positions.set(order.symbol, {
          assetClass: order.asset_class,
          qty: quantity,
          avgEntryPrice: price,
        });
      } else {
        const total = position.qty.add(quantity);
        position.avgEntryPrice = position.avgEntryPrice.mul(position.qty).add(price.mul(quantity)).div(total);
        position.qty = total;
      }
    } else if (position !== undefined) {
      account.cash = account.cash.add(amount);
      position.qty = position.qty.sub(quantity);
      if (position.qty.isZero()) account.positions.delete(order.symbol);
    }
  }

  private account(accountNumber: string): FakeAccount {
    let account = this.accounts.get(accountNumber);
    if (account === undefined) {
      account = {
        accountNumber,
        cash: new Decimal(STARTING_CASH),
        lastEquity: new Decimal(STARTING_CASH),
        positions: new Map(),
        orders: [],
      };
      this.accounts.set(accountNumber, account);
    }
    return account;
  }

  private accountJson(account: FakeAccount): Record<string, unknown> {
    const longMarketValue = marketValue(account, this.prices);
    const equity = account.cash.add(longMarketValue);
    return {
      id: `acct-${account.accountNumber}`,
      account_number: account.accountNumber,
      status: 'ACTIVE',
      currency: 'USD',
      // Open orders leave cash alone and come off buying power (Alpaca documents the latter).
      cash: account.cash.toFixed(),
      buying_power: availableBuyingPower(account, this.prices).toFixed(),
      regt_buying_power: availableBuyingPower(account, this.prices).toFixed(),
      equity: equity.toFixed(),
      last_equity: account.lastEquity.toFixed(),
      portfolio_value: equity.toFixed(),
      long_market_value: longMarketValue.toFixed(),
      short_market_value: '0',
      multiplier: '2',
      pattern_day_trader: false,
      trading_blocked: false,
      transfers_blocked: false,
      account_blocked: false,
      shorting_enabled: false,
    };
  }

  private positionsJson(account: FakeAccount): Record<string, unknown>[] {
    return [...account.positions].map(([symbol, position]) => {
      const m = multiplier(position.assetClass);
      const costBasis = position.avgEntryPrice.mul(position.qty).mul(m);
      return {
        asset_id: randomUUID(),
        symbol: symbol.replace('/', ''),
        exchange: position.assetClass === 'crypto' ? 'CRYPTO' : 'NASDAQ',
        asset_class: position.assetClass,
        avg_entry_price: position.avgEntryPrice.toFixed(),
        qty: position.qty.toFixed(),
        qty_available: position.qty.toFixed(),
        side: 'long',
        cost_basis: costBasis.toFixed(),
        ...priceFields(this.prices.get(symbol), position.qty.mul(m), costBasis),
      };
    });
  }
}

// ------------------------------------------------------------------ helpers

function header(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name];
  return typeof value === 'string' ? value : undefined;
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function parseJson(raw: string): unknown {
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    throw new AlpacaError(400, 40010000, 'request body format is invalid');
  }
}

function matches(target: string, method: string, path: string): boolean {
  const [first, second] = target.split(' ');
  return second === undefined ? first === path : first === method && second === path;
}

/** Alpaca takes amounts as strings or JSON numbers; anything else is refused. */
function decimalField(value: unknown, name: string): Decimal | undefined {
  if (value === undefined || value === null) return undefined;
  const text = typeof value === 'number' ? String(value) : value;
  if (typeof text !== 'string' || !DECIMAL.test(text)) throw invalid(`invalid ${name}`);
  const decimal = new Decimal(text);
  if (!decimal.greaterThan(0)) throw invalid(`${name} must be > 0`);
  return decimal;
}

/** A position's price-dependent fields; all null while there is no quote for it. */
function priceFields(
  price: Decimal | undefined,
  units: Decimal,
  costBasis: Decimal,
): Record<string, string | null> {
  if (price === undefined) {
    return Object.fromEntries(PRICE_FIELDS.map((name) => [name, null]));
  }
  const value = price.mul(units);
  return {
    market_value: value.toFixed(),
    unrealized_pl: value.sub(costBasis).toFixed(),
    unrealized_plpc: costBasis.isZero() ? '0' : value.sub(costBasis).div(costBasis).toFixed(),
    unrealized_intraday_pl: value.sub(costBasis).toFixed(),
    unrealized_intraday_plpc: '0',
    current_price: price.toFixed(),
    lastday_price: price.toFixed(),
    change_today: '0',
  };
}

const PRICE_FIELDS = [
  'market_value',
  'unrealized_pl',
  'unrealized_plpc',
  'unrealized_intraday_pl',
  'unrealized_intraday_plpc',
  'current_price',
  'lastday_price',
  'change_today',
] as const;

/** The price a resting order fills at now, or undefined while it is not marketable. */
function restingFillPrice(order: FakeAlpacaOrder, price: Decimal): Decimal | undefined {
  const buy = order.side === 'buy';
  const limit = order.limit_price === null ? undefined : new Decimal(order.limit_price);
  const stop = order.stop_price === null ? undefined : new Decimal(order.stop_price);
  if (stop !== undefined && (buy ? price.lessThan(stop) : price.greaterThan(stop))) return undefined;
  if (limit === undefined) return price;
  const marketable = buy ? price.lessThanOrEqualTo(limit) : price.greaterThanOrEqualTo(limit);
  return marketable ? limit : undefined;
}

function listOrders(account: FakeAccount, query: URLSearchParams): FakeAlpacaOrder[] {
  const status = query.get('status') ?? 'open';
  if (status !== 'open' && status !== 'closed' && status !== 'all') throw invalid('invalid status');
  const limit = Number(query.get('limit') ?? '50');
  if (!Number.isInteger(limit) || limit < 1 || limit > 500) throw invalid('invalid limit');
  const direction = query.get('direction') ?? 'desc';
  if (direction !== 'asc' && direction !== 'desc') throw invalid('invalid direction');
  const selected = account.orders.filter((order) =>
    status === 'all' ? true : OPEN_STATUSES.has(order.status) === (status === 'open'),
  );
  const ordered = direction === 'asc' ? selected : [...selected].reverse();
  return ordered.slice(0, limit);
}
