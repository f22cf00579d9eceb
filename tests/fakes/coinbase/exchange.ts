/**
 * The trading model behind the Coinbase fake: products with Coinbase's increments and limits, a
 * best bid/ask per product set by the test, portfolios of wallets (available and on hold), and
 * orders with Coinbase's validation, holds, fees and fills. No HTTP here: the server turns these
 * answers into responses.
 *
 * Behaviour as Coinbase documents it: a refusal of an order is HTTP 200 `success: false` with an
 * `error_response`; a repeated `client_order_id` creates nothing and returns the order already
 * placed with it; market orders fill at once (buys at the ask, sells at the bid, taker fee); limit
 * and stop-limit orders hold funds and rest until `fillResting` finds them marketable (they fill
 * at their limit, maker fee); a marketable limit fills at once at the book; IOC/FOK limits that
 * cannot fill are cancelled; GTD orders expire at `end_time`.
 *
 * Simplifications: one fill per order, no partial fills; USD and USDC are separate wallets (no
 * automatic conversion); fees are a flat rate on the filled value.
 */
import { randomUUID } from 'node:crypto';
import { Decimal } from 'decimal.js';

export interface FakeProduct {
  product_id: string;
  base_currency_id: string;
  quote_currency_id: string;
  base_name: string;
  base_increment: string;
  quote_increment: string;
  price_increment: string;
  base_min_size: string;
  base_max_size: string;
  quote_min_size: string;
  quote_max_size: string;
  status: string;
  trading_disabled: boolean;
  is_disabled: boolean;
  cancel_only: boolean;
  limit_only: boolean;
  post_only: boolean;
}

/** BTC-USD and ETH-USD with increments and limits as Coinbase lists them (minimums rounded up). */
export function defaultProducts(): FakeProduct[] {
  const common = {
    quote_currency_id: 'USD',
    base_increment: '0.00000001',
    quote_increment: '0.01',
    price_increment: '0.01',
    quote_min_size: '1',
    quote_max_size: '150000000',
    status: 'online',
    trading_disabled: false,
    is_disabled: false,
    cancel_only: false,
    limit_only: false,
    post_only: false,
  };
  return [
    {
      ...common,
      product_id: 'BTC-USD',
      base_currency_id: 'BTC',
      base_name: 'Bitcoin',
      base_min_size: '0.00001',
      base_max_size: '3400',
    },
    {
      ...common,
      product_id: 'ETH-USD',
      base_currency_id: 'ETH',
      base_name: 'Ethereum',
      base_min_size: '0.0001',
      base_max_size: '48000',
    },
  ];
}

type Kind =
  | 'market_market_ioc'
  | 'limit_limit_gtc'
  | 'limit_limit_gtd'
  | 'limit_limit_fok'
  | 'sor_limit_ioc'
  | 'stop_limit_stop_limit_gtc'
  | 'stop_limit_stop_limit_gtd';

const KINDS: ReadonlySet<string> = new Set<Kind>([
  'market_market_ioc',
  'limit_limit_gtc',
  'limit_limit_gtd',
  'limit_limit_fok',
  'sor_limit_ioc',
  'stop_limit_stop_limit_gtc',
  'stop_limit_stop_limit_gtd',
]);

const TIME_IN_FORCE: Record<Kind, string> = {
  market_market_ioc: 'IMMEDIATE_OR_CANCEL',
  limit_limit_gtc: 'GOOD_UNTIL_CANCELLED',
  limit_limit_gtd: 'GOOD_UNTIL_DATE_TIME',
  limit_limit_fok: 'FILL_OR_KILL',
  sor_limit_ioc: 'IMMEDIATE_OR_CANCEL',
  stop_limit_stop_limit_gtc: 'GOOD_UNTIL_CANCELLED',
  stop_limit_stop_limit_gtd: 'GOOD_UNTIL_DATE_TIME',
};

const DECIMAL = /^\d+(?:\.\d+)?$/;

interface Wallet {
  readonly uuid: string;
  available: Decimal;
  hold: Decimal;
}

interface FakeFill {
  readonly entry_id: string;
  readonly trade_id: string;
  readonly order_id: string;
  readonly trade_time: string;
  readonly trade_type: 'FILL';
  readonly price: string;
  readonly size: string;
  readonly commission: string;
  readonly product_id: string;
  readonly sequence_timestamp: string;
  readonly liquidity_indicator: 'MAKER' | 'TAKER';
  readonly size_in_quote: false;
  readonly user_id: string;
  readonly side: 'BUY' | 'SELL';
}

interface FakeOrder {
  readonly orderId: string;
  readonly clientOrderId: string;
  readonly productId: string;
  readonly side: 'BUY' | 'SELL';
  readonly kind: Kind;
  /** The configuration as sent (Coinbase echoes it). */
  readonly configuration: Record<string, unknown>;
  readonly baseSize: Decimal | undefined;
  readonly quoteSize: Decimal | undefined;
  readonly limitPrice: Decimal | undefined;
  readonly stopPrice: Decimal | undefined;
  readonly stopUp: boolean;
  readonly endTime: Date | undefined;
  readonly created: Date;
  status: 'OPEN' | 'FILLED' | 'CANCELLED' | 'EXPIRED' | 'FAILED';
  triggered: boolean;
  hold: { readonly currency: string; readonly amount: Decimal };
  filledSize: Decimal;
  filledValue: Decimal;
  fees: Decimal;
  fills: number;
  lastFill: Date | undefined;
  cancelMessage: string;
}

interface Portfolio {
  readonly id: string;
  readonly wallets: Map<string, Wallet>;
  readonly orders: FakeOrder[];
  readonly fills: FakeFill[];
}

/** An HTTP error answer (not an order refusal). */
export class CoinbaseHttpError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    message: string,
  ) {
    super(message);
  }
}

const badRequest = (message: string) => new CoinbaseHttpError(400, 'INVALID_ARGUMENT', message);

/** Why an order would be refused: Create Order's `error_response`. */
interface Failure {
  readonly error: string;
  readonly message: string;
  readonly preview_failure_reason: string;
  readonly new_order_failure_reason: string;
}

function failure(preview: string, newOrder: string, message: string): Failure {
  return {
    error: newOrder === 'UNKNOWN_FAILURE_REASON' ? preview.replace(/^PREVIEW_/, '') : newOrder,
    message,
    preview_failure_reason: preview,
    new_order_failure_reason: newOrder,
  };
}

/** The lists a test can add raw elements to (`listRaw`). */
export type RawList = 'accounts' | 'orders' | 'fills';

/** What an order would do, once it passed validation. */
interface Plan {
  readonly product: FakeProduct;
  readonly side: 'BUY' | 'SELL';
  readonly kind: Kind;
  readonly configuration: Record<string, unknown>;
  readonly baseSize: Decimal | undefined;
  readonly quoteSize: Decimal | undefined;
  readonly limitPrice: Decimal | undefined;
  readonly stopPrice: Decimal | undefined;
  readonly stopUp: boolean;
  readonly endTime: Date | undefined;
  /** The base amount that would trade (for a quote-size buy: what the dollars buy at the ask). */
  readonly base: Decimal;
  /** The expected price: the book's for a fill at once, the limit otherwise. */
  readonly price: Decimal;
  readonly value: Decimal;
  readonly fee: Decimal;
  /** What leaves the account (buys, fees included) or arrives (sells, fees deducted). */
  readonly total: Decimal;
  readonly hold: { readonly currency: string; readonly amount: Decimal };
  /** Fills at placement (market, or a marketable limit). */
  readonly immediate: boolean;
}

export class FakeExchange {
  readonly products = new Map<string, FakeProduct>();
  readonly books = new Map<string, { bid: Decimal; ask: Decimal }>();
  /** Fee rates on the filled value. */
  takerFeeRate = new Decimal('0.006');
  makerFeeRate = new Decimal('0.004');
  /**
   * True: the preview of a limit order that would rest (nothing fills at once) answers
   * `order_total` and `commission_total` "0", as a preview that prices only what would fill now
   * does. Coinbase's documentation is silent on it; a card once showed $0.00 for such an order.
   */
  previewRestingAtZero = false;
  private readonly portfolios = new Map<string, Portfolio>();
  /** Elements every first page of a list carries after its own (`listRaw`). */
  private readonly rawListed = new Map<RawList, unknown[]>();

  constructor(private readonly now: () => Date) {
    for (const product of defaultProducts()) this.products.set(product.product_id, product);
    this.books.set('BTC-USD', { bid: new Decimal('64000.00'), ask: new Decimal('64010.00') });
    this.books.set('ETH-USD', { bid: new Decimal('3000.00'), ask: new Decimal('3000.50') });
  }

  // ------------------------------------------------------------------ test controls

  setBook(productId: string, bid: string, ask: string): void {
    this.books.set(productId, { bid: new Decimal(bid), ask: new Decimal(ask) });
  }

  /** Sets a wallet's available balance (creating the wallet), keeping its hold. */
  setBalance(portfolioId: string, currency: string, available: string): void {
    this.wallet(this.portfolio(portfolioId), currency).available = new Decimal(available);
  }

  balance(portfolioId: string, currency: string): { available: string; hold: string } {
    const wallet = this.wallet(this.portfolio(portfolioId), currency);
    return { available: wallet.available.toFixed(), hold: wallet.hold.toFixed() };
  }

  /** Orders as Coinbase would render them, oldest first. */
  orders(portfolioId: string): Record<string, unknown>[] {
    return this.portfolio(portfolioId).orders.map((order) => this.orderJson(order));
  }

  /**
   * Expires GTD orders past their end time, triggers stops the book reached, and fills resting
   * orders that are marketable at their limit (maker fee). Returns how many filled.
   */
  fillResting(): number {
    const now = this.now();
    let filled = 0;
    for (const portfolio of this.portfolios.values()) {
      this.expire(portfolio, now);
      for (const order of portfolio.orders) {
        if (order.status !== 'OPEN') continue;
        const book = this.books.get(order.productId);
        if (book === undefined || order.limitPrice === undefined || order.baseSize === undefined) continue;
        const buy = order.side === 'BUY';
        if (order.stopPrice !== undefined && !order.triggered) {
          order.triggered = order.stopUp
            ? book.ask.greaterThanOrEqualTo(order.stopPrice)
            : book.bid.lessThanOrEqualTo(order.stopPrice);
          if (!order.triggered) continue;
        }
        const marketable = buy
          ? book.ask.lessThanOrEqualTo(order.limitPrice)
          : book.bid.greaterThanOrEqualTo(order.limitPrice);
        if (!marketable) continue;
        this.fill(portfolio, order, order.baseSize, order.limitPrice, 'MAKER', now);
        filled += 1;
      }
    }
    return filled;
  }

  /**
   * `element` is listed as it is, after the list's own elements on every first page of `list` in
   * every portfolio: how a test sends an element Coinbase's documentation does not allow.
   */
  listRaw(list: RawList, element: unknown): void {
    this.rawListed.set(list, [...(this.rawListed.get(list) ?? []), element]);
  }

  private withRaw(list: RawList, offset: number, elements: unknown[]): unknown[] {
    return offset === 0 ? [...elements, ...(this.rawListed.get(list) ?? [])] : elements;
  }

  // ------------------------------------------------------------------ endpoints

  /** `GET /accounts`: one wallet per currency, cursor = offset. */
  accounts(portfolioId: string, query: URLSearchParams): Record<string, unknown> {
    const portfolio = this.portfolio(portfolioId);
    const limit = intParam(query.get('limit'), 49, 250);
    const offset = intParam(query.get('cursor'), 0, Number.MAX_SAFE_INTEGER);
    const wallets = [...portfolio.wallets].sort(([a], [b]) => a.localeCompare(b));
    const page = wallets.slice(offset, offset + limit);
    const hasNext = offset + limit < wallets.length;
    const created = '2024-01-02T03:04:05Z';
    return {
      accounts: this.withRaw(
        'accounts',
        offset,
        page.map(([currency, wallet]) => ({
          uuid: wallet.uuid,
          name: `${currency} Wallet`,
          currency,
          available_balance: { value: wallet.available.toFixed(), currency },
          default: currency === 'USD',
          active: true,
          created_at: created,
          updated_at: created,
          deleted_at: null,
          type: currency === 'USD' ? 'ACCOUNT_TYPE_FIAT' : 'ACCOUNT_TYPE_CRYPTO',
          ready: true,
          hold: { value: wallet.hold.toFixed(), currency },
          retail_portfolio_id: portfolio.id,
        })),
      ),
      has_next: hasNext,
      cursor: hasNext ? String(offset + limit) : '',
      size: page.length,
    };
  }

  /** `GET /products/{id}`. */
  product(productId: string): Record<string, unknown> {
    const product = this.products.get(productId);
    if (product === undefined) throw new CoinbaseHttpError(404, 'NOT_FOUND', 'ProductID is invalid');
    const book = this.books.get(productId);
    const mid = book === undefined ? '' : book.bid.add(book.ask).div(2).toFixed();
    return {
      ...product,
      price: mid,
      price_percentage_change_24h: '0',
      volume_24h: '1000',
      quote_name: 'US Dollar',
      watched: false,
      new: false,
      auction_mode: false,
      product_type: 'SPOT',
      mid_market_price: mid,
      base_display_symbol: product.base_currency_id,
      quote_display_symbol: product.quote_currency_id,
      display_name: product.product_id,
      view_only: false,
      product_venue: 'CBE',
    };
  }

  /** `GET /best_bid_ask`: the products asked for (all when none); unknown ones are left out. */
  bestBidAsk(query: URLSearchParams): Record<string, unknown> {
    const asked = query.getAll('product_ids');
    const ids = asked.length > 0 ? asked : [...this.books.keys()];
    const time = this.now().toISOString();
    return {
      pricebooks: ids.flatMap((id) => {
        const book = this.books.get(id);
        if (book === undefined) return [];
        return [
          {
            product_id: id,
            bids: [{ price: book.bid.toFixed(), size: '1.5' }],
            asks: [{ price: book.ask.toFixed(), size: '1.5' }],
            time,
          },
        ];
      }),
    };
  }

  /** `POST /orders`. */
  createOrder(portfolioId: string, body: unknown): Record<string, unknown> {
    const portfolio = this.portfolio(portfolioId);
    const fields = objectBody(body);
    const clientOrderId = fields['client_order_id'];
    if (typeof clientOrderId !== 'string' || clientOrderId === '') {
      throw badRequest('client_order_id is required');
    }
    // Coinbase: "If the ID provided is not unique, the order will not be created and the order
    // corresponding with that ID will be returned instead."
    const existing = portfolio.orders.find((order) => order.clientOrderId === clientOrderId);
    if (existing !== undefined) return successResponse(existing);
    const evaluation = this.evaluate(portfolio, fields);
    if ('error' in evaluation) {
      return {
        success: false,
        failure_reason: 'UNKNOWN_FAILURE_REASON',
        order_id: '',
        error_response: { ...evaluation, error_details: '' },
      };
    }
    const plan = evaluation;
    const now = this.now();
    const order: FakeOrder = {
      orderId: randomUUID(),
      clientOrderId,
      productId: plan.product.product_id,
      side: plan.side,
      kind: plan.kind,
      configuration: plan.configuration,
      baseSize: plan.baseSize,
      quoteSize: plan.quoteSize,
      limitPrice: plan.limitPrice,
      stopPrice: plan.stopPrice,
      stopUp: plan.stopUp,
      endTime: plan.endTime,
      created: now,
      status: 'OPEN',
      triggered: false,
      hold: plan.immediate ? { currency: plan.hold.currency, amount: new Decimal(0) } : plan.hold,
      filledSize: new Decimal(0),
      filledValue: new Decimal(0),
      fees: new Decimal(0),
      fills: 0,
      lastFill: undefined,
      cancelMessage: '',
    };
    portfolio.orders.push(order);
    if (plan.immediate) {
      this.fill(portfolio, order, plan.base, plan.price, 'TAKER', now);
    } else if (plan.kind === 'sor_limit_ioc' || plan.kind === 'limit_limit_fok') {
      order.status = 'CANCELLED';
      order.cancelMessage = 'Order could not be filled at once';
    } else {
      const wallet = this.wallet(portfolio, plan.hold.currency);
      wallet.available = wallet.available.sub(plan.hold.amount);
      wallet.hold = wallet.hold.add(plan.hold.amount);
    }
    return successResponse(order);
  }

  /** `POST /orders/preview`: the same checks; a refusal is a listed reason, not an HTTP error. */
  previewOrder(portfolioId: string, body: unknown): Record<string, unknown> {
    const evaluation = this.evaluate(this.portfolio(portfolioId), objectBody(body));
    const common = { warning: [], is_max: false, slippage: '0', preview_id: randomUUID() };
    if ('error' in evaluation) {
      return {
        ...common,
        order_total: '0',
        commission_total: '0',
        errs: [evaluation.preview_failure_reason],
        quote_size: '0',
        base_size: '0',
        best_bid: '',
        best_ask: '',
      };
    }
    const book = this.books.get(evaluation.product.product_id);
    const zero = this.previewRestingAtZero && !evaluation.immediate;
    return {
      ...common,
      order_total: zero ? '0' : evaluation.total.toFixed(),
      commission_total: zero ? '0' : evaluation.fee.toFixed(),
      errs: [],
      quote_size: evaluation.value.toFixed(),
      base_size: evaluation.base.toFixed(),
      best_bid: book?.bid.toFixed() ?? '',
      best_ask: book?.ask.toFixed() ?? '',
    };
  }

  /** `GET /orders/historical/{id}`. */
  getOrder(portfolioId: string, orderId: string): Record<string, unknown> {
    const portfolio = this.portfolio(portfolioId);
    this.expire(portfolio, this.now());
    const order = portfolio.orders.find((candidate) => candidate.orderId === orderId);
    if (order === undefined) {
      throw new CoinbaseHttpError(404, 'NOT_FOUND', 'order with this orderID was not found');
    }
    return { order: this.orderJson(order) };
  }

  /**
   * `GET /orders/historical/batch`: filters order_status, product_ids, order_ids (repeated),
   * start_date, end_date; newest first; cursor = offset.
   */
  listOrders(portfolioId: string, query: URLSearchParams): Record<string, unknown> {
    const portfolio = this.portfolio(portfolioId);
    this.expire(portfolio, this.now());
    const statuses = query.getAll('order_status');
    const products = query.getAll('product_ids');
    const ids = query.getAll('order_ids');
    const start = dateParam(query.get('start_date'));
    const end = dateParam(query.get('end_date'));
    const limit = intParam(query.get('limit'), 100, 1000);
    const offset = intParam(query.get('cursor'), 0, Number.MAX_SAFE_INTEGER);
    const selected = [...portfolio.orders]
      .reverse()
      .filter(
        (order) =>
          (statuses.length === 0 || statuses.includes(order.status)) &&
          (products.length === 0 || products.includes(order.productId)) &&
          (ids.length === 0 || ids.includes(order.orderId)) &&
          (start === undefined || order.created >= start) &&
          (end === undefined || order.created <= end),
      );
    const page = selected.slice(offset, offset + limit);
    const hasNext = offset + limit < selected.length;
    return {
      orders: this.withRaw(
        'orders',
        offset,
        page.map((order) => this.orderJson(order)),
      ),
      sequence: '0',
      has_next: hasNext,
      cursor: hasNext ? String(offset + limit) : '',
    };
  }

  /** `GET /orders/historical/fills`: filters order_ids (or the older order_id), product_ids. */
  listFills(portfolioId: string, query: URLSearchParams): Record<string, unknown> {
    const portfolio = this.portfolio(portfolioId);
    const ids = [...query.getAll('order_ids'), ...query.getAll('order_id')];
    const products = query.getAll('product_ids');
    const limit = intParam(query.get('limit'), 100, 1000);
    const offset = intParam(query.get('cursor'), 0, Number.MAX_SAFE_INTEGER);
    const selected = [...portfolio.fills]
      .reverse()
      .filter(
        (fill) =>
          (ids.length === 0 || ids.includes(fill.order_id)) &&
          (products.length === 0 || products.includes(fill.product_id)),
      );
    const page = selected.slice(offset, offset + limit);
    return {
      fills: this.withRaw('fills', offset, page),
      cursor: offset + limit < selected.length ? String(offset + limit) : '',
    };
  }

  /** `POST /orders/batch_cancel`. */
  cancelOrders(portfolioId: string, body: unknown): Record<string, unknown> {
    const portfolio = this.portfolio(portfolioId);
    this.expire(portfolio, this.now());
    const ids = objectBody(body)['order_ids'];
    if (!Array.isArray(ids) || ids.length === 0 || !ids.every((id) => typeof id === 'string')) {
      throw badRequest('order_ids is required');
    }
    return {
      results: (ids as string[]).map((id) => {
        const order = portfolio.orders.find((candidate) => candidate.orderId === id);
        if (order === undefined)
          return { success: false, failure_reason: 'UNKNOWN_CANCEL_ORDER', order_id: id };
        if (order.status !== 'OPEN') {
          const reason = order.status === 'FILLED' ? 'ORDER_IS_FULLY_FILLED' : 'INVALID_CANCEL_REQUEST';
          return { success: false, failure_reason: reason, order_id: id };
        }
        this.release(portfolio, order);
        order.status = 'CANCELLED';
        order.cancelMessage = 'User requested cancel';
        return { success: true, failure_reason: 'UNKNOWN_CANCEL_FAILURE_REASON', order_id: id };
      }),
    };
  }

  // ------------------------------------------------------------------ internals

  private portfolio(id: string): Portfolio {
    let portfolio = this.portfolios.get(id);
    if (portfolio === undefined) {
      portfolio = { id, wallets: new Map(), orders: [], fills: [] };
      // A new portfolio has a funded dollar wallet and empty wallets for the listed assets.
      this.wallet(portfolio, 'USD').available = new Decimal('10000');
      for (const currency of ['USDC', 'BTC', 'ETH']) this.wallet(portfolio, currency);
      this.portfolios.set(id, portfolio);
    }
    return portfolio;
  }

  private wallet(portfolio: Portfolio, currency: string): Wallet {
    let wallet = portfolio.wallets.get(currency);
    if (wallet === undefined) {
      wallet = { uuid: randomUUID(), available: new Decimal(0), hold: new Decimal(0) };
      portfolio.wallets.set(currency, wallet);
    }
    return wallet;
  }

  /** Validation as Coinbase does it: malformed → HTTP 400; refusals → a Failure. */
  private evaluate(portfolio: Portfolio, fields: Record<string, unknown>): Plan | Failure {
    const productId = fields['product_id'];
    if (typeof productId !== 'string' || productId === '') throw badRequest('product_id is required');
    const side = fields['side'];
    if (side !== 'BUY' && side !== 'SELL') throw badRequest('side must be BUY or SELL');
    const product = this.products.get(productId);
    if (product === undefined) {
      return failure('PREVIEW_INVALID_PRODUCT_ID', 'INVALID_PRODUCT_ID', 'Invalid product_id');
    }
    const config = fields['order_configuration'];
    const entries = typeof config === 'object' && config !== null ? Object.entries(config) : [];
    const [entry] = entries;
    if (entries.length !== 1 || entry === undefined || !KINDS.has(entry[0])) {
      return failure(
        'PREVIEW_INVALID_ORDER_CONFIG',
        'UNSUPPORTED_ORDER_CONFIGURATION',
        'Unsupported order configuration',
      );
    }
    const kind = entry[0] as Kind;
    const configuration = objectBody(entry[1]);
    const baseSize = decimalField(configuration['base_size'], 'base_size');
    const quoteSize = decimalField(configuration['quote_size'], 'quote_size');
    const limitPrice = decimalField(configuration['limit_price'], 'limit_price');
    const stopPrice = decimalField(configuration['stop_price'], 'stop_price');
    const market = kind === 'market_market_ioc';
    const stop = kind.startsWith('stop_limit_');
    const tradable =
      product.status === 'online' &&
      !product.trading_disabled &&
      !product.is_disabled &&
      !product.cancel_only;
    if (!tradable || (market && (product.limit_only || product.post_only))) {
      return failure(
        'PREVIEW_INVALID_ORDER_CONFIG',
        'ORDER_ENTRY_DISABLED',
        'Orders are disabled for this product',
      );
    }
    if (market) {
      if ((baseSize === undefined) === (quoteSize === undefined)) {
        throw badRequest('market orders take exactly one of base_size and quote_size');
      }
      if (side === 'SELL' && quoteSize !== undefined) {
        return failure(
          'PREVIEW_INVALID_ORDER_CONFIG',
          'UNSUPPORTED_ORDER_CONFIGURATION',
          'Market sells take base_size',
        );
      }
    } else if (baseSize === undefined || limitPrice === undefined) {
      throw badRequest('base_size and limit_price are required');
    }
    let endTime: Date | undefined;
    if (kind.endsWith('_gtd')) {
      endTime = dateParam(typeof configuration['end_time'] === 'string' ? configuration['end_time'] : null);
      if (endTime === undefined || endTime <= this.now()) throw badRequest('end_time must be in the future');
    }
    const direction = configuration['stop_direction'];
    if (stop) {
      if (stopPrice === undefined) throw badRequest('stop_price is required');
      if (direction !== 'STOP_DIRECTION_STOP_UP' && direction !== 'STOP_DIRECTION_STOP_DOWN') {
        throw badRequest('stop_direction must be STOP_DIRECTION_STOP_UP or STOP_DIRECTION_STOP_DOWN');
      }
    }
    if (baseSize !== undefined && !onStep(baseSize, product.base_increment)) {
      return failure(
        'PREVIEW_INVALID_SIZE_PRECISION',
        'INVALID_SIZE_PRECISION',
        'Invalid order size precision',
      );
    }
    if (quoteSize !== undefined && !onStep(quoteSize, product.quote_increment)) {
      return failure(
        'PREVIEW_INVALID_QUOTE_SIZE_PRECISION',
        'INVALID_SIZE_PRECISION',
        'Invalid quote size precision',
      );
    }
    for (const price of [limitPrice, stopPrice]) {
      if (price !== undefined && !onStep(price, product.price_increment)) {
        return failure(
          'PREVIEW_INVALID_PRICE_PRECISION',
          'INVALID_PRICE_PRECISION',
          'Invalid price precision',
        );
      }
    }
    if (baseSize?.lessThan(product.base_min_size)) {
      return failure('PREVIEW_INVALID_BASE_SIZE_TOO_SMALL', 'UNKNOWN_FAILURE_REASON', 'Too small order size');
    }
    if (baseSize?.greaterThan(product.base_max_size)) {
      return failure('PREVIEW_INVALID_BASE_SIZE_TOO_LARGE', 'UNKNOWN_FAILURE_REASON', 'Too large order size');
    }
    if (quoteSize?.lessThan(product.quote_min_size)) {
      return failure(
        'PREVIEW_INVALID_QUOTE_SIZE_TOO_SMALL',
        'UNKNOWN_FAILURE_REASON',
        'Too small order size',
      );
    }
    if (quoteSize?.greaterThan(product.quote_max_size)) {
      return failure(
        'PREVIEW_INVALID_QUOTE_SIZE_TOO_LARGE',
        'UNKNOWN_FAILURE_REASON',
        'Too large order size',
      );
    }
    const book = this.books.get(product.product_id);
    if (book === undefined) {
      return failure('PREVIEW_INVALID_NO_LIQUIDITY', 'INVALID_NO_LIQUIDITY', 'No liquidity for this product');
    }
    const stopUp = direction === 'STOP_DIRECTION_STOP_UP';
    if (
      stop &&
      stopPrice !== undefined &&
      (stopUp ? stopPrice.lessThanOrEqualTo(book.ask) : stopPrice.greaterThanOrEqualTo(book.bid))
    ) {
      return failure(
        'PREVIEW_INVALID_STOP_PRICE',
        'UNKNOWN_FAILURE_REASON',
        'Stop price is on the wrong side of the market',
      );
    }

    const buy = side === 'BUY';
    const marketableLimit =
      !stop &&
      limitPrice !== undefined &&
      (buy ? book.ask.lessThanOrEqualTo(limitPrice) : book.bid.greaterThanOrEqualTo(limitPrice));
    const immediate = market || marketableLimit;
    const price = immediate ? (buy ? book.ask : book.bid) : (limitPrice as Decimal);
    const rate = this.takerFeeRate;
    let base: Decimal;
    if (quoteSize !== undefined) {
      // Dollars in, fees included: the base bought is what remains after the fee, in whole steps.
      const step = new Decimal(product.base_increment);
      base = quoteSize.div(rate.add(1)).div(price).div(step).floor().mul(step);
    } else {
      base = baseSize as Decimal;
    }
    const value = base.mul(price);
    const fee = value.mul(rate);
    const total = buy ? value.add(fee) : value.sub(fee);
    const hold = buy
      ? { currency: product.quote_currency_id, amount: quoteSize ?? total }
      : { currency: product.base_currency_id, amount: base };
    if (hold.amount.greaterThan(this.wallet(portfolio, hold.currency).available)) {
      return failure(
        'PREVIEW_INSUFFICIENT_FUND',
        'INSUFFICIENT_FUND',
        'Insufficient balance in source account',
      );
    }
    return {
      product,
      side,
      kind,
      configuration,
      baseSize,
      quoteSize,
      limitPrice,
      stopPrice,
      stopUp,
      endTime,
      base,
      price,
      value,
      fee,
      total,
      hold,
      immediate,
    };
  }

  private fill(
    portfolio: Portfolio,
    order: FakeOrder,
    base: Decimal,
    price: Decimal,
    liquidity: 'MAKER' | 'TAKER',
    now: Date,
  ): void {
    const product = this.products.get(order.productId) as FakeProduct;
    const value = base.mul(price);
    const fee = value.mul(liquidity === 'MAKER' ? this.makerFeeRate : this.takerFeeRate);
    this.release(portfolio, order);
    const quote = this.wallet(portfolio, product.quote_currency_id);
    const asset = this.wallet(portfolio, product.base_currency_id);
    if (order.side === 'BUY') {
      quote.available = quote.available.sub(value).sub(fee);
      asset.available = asset.available.add(base);
    } else {
      asset.available = asset.available.sub(base);
      quote.available = quote.available.add(value).sub(fee);
    }
    order.filledSize = order.filledSize.add(base);
    order.filledValue = order.filledValue.add(value);
    order.fees = order.fees.add(fee);
    order.fills += 1;
    order.lastFill = now;
    order.status = 'FILLED';
    portfolio.fills.push({
      entry_id: randomUUID(),
      trade_id: randomUUID(),
      order_id: order.orderId,
      trade_time: now.toISOString(),
      trade_type: 'FILL',
      price: price.toFixed(),
      size: base.toFixed(),
      commission: fee.toFixed(),
      product_id: order.productId,
      sequence_timestamp: now.toISOString(),
      liquidity_indicator: liquidity,
      size_in_quote: false,
      user_id: 'fake-user',
      side: order.side,
    });
  }

  /** Gives an order's held funds back to the wallet. */
  private release(portfolio: Portfolio, order: FakeOrder): void {
    const wallet = this.wallet(portfolio, order.hold.currency);
    wallet.hold = wallet.hold.sub(order.hold.amount);
    wallet.available = wallet.available.add(order.hold.amount);
    order.hold = { currency: order.hold.currency, amount: new Decimal(0) };
  }

  private expire(portfolio: Portfolio, now: Date): void {
    for (const order of portfolio.orders) {
      if (order.status === 'OPEN' && order.endTime !== undefined && order.endTime <= now) {
        this.release(portfolio, order);
        order.status = 'EXPIRED';
      }
    }
  }

  private orderJson(order: FakeOrder): Record<string, unknown> {
    const filled = order.filledSize.greaterThan(0);
    const target = order.baseSize ?? (filled ? order.filledSize : undefined);
    const stop = order.kind.startsWith('stop_limit_');
    const final = order.status !== 'OPEN';
    return {
      order_id: order.orderId,
      product_id: order.productId,
      user_id: 'fake-user',
      order_configuration: { [order.kind]: order.configuration },
      side: order.side,
      client_order_id: order.clientOrderId,
      status: order.status,
      time_in_force: TIME_IN_FORCE[order.kind],
      created_time: order.created.toISOString(),
      // Null while nothing says what complete is (a dollar-amount order before its fill).
      completion_percentage:
        target === undefined || target.isZero() ? null : order.filledSize.div(target).mul(100).toFixed(2),
      filled_size: order.filledSize.toFixed(),
      average_filled_price: filled ? order.filledValue.div(order.filledSize).toFixed() : '0',
      fee: '',
      number_of_fills: String(order.fills),
      filled_value: order.filledValue.toFixed(),
      pending_cancel: false,
      size_in_quote: order.quoteSize !== undefined,
      total_fees: order.fees.toFixed(),
      size_inclusive_of_fees: order.quoteSize !== undefined,
      total_value_after_fees: (order.side === 'BUY'
        ? order.filledValue.add(order.fees)
        : order.filledValue.sub(order.fees)
      ).toFixed(),
      trigger_status: stop ? (order.triggered ? 'STOP_TRIGGERED' : 'STOP_PENDING') : 'INVALID_ORDER_TYPE',
      order_type: order.kind === 'market_market_ioc' ? 'MARKET' : stop ? 'STOP_LIMIT' : 'LIMIT',
      reject_reason: 'REJECT_REASON_UNSPECIFIED',
      // Unfilled and unsettled orders carry zeros and nulls, as Coinbase's listings do.
      settled: final ? true : null,
      product_type: 'SPOT',
      reject_message: '',
      cancel_message: order.cancelMessage,
      order_placement_source: 'RETAIL_ADVANCED',
      outstanding_hold_amount: order.hold.amount.toFixed(),
      is_liquidation: false,
      last_fill_time: order.lastFill?.toISOString() ?? null,
      edit_history: [],
      leverage: '',
      margin_type: 'UNKNOWN_MARGIN_TYPE',
      retail_portfolio_id: '',
    };
  }
}

// ------------------------------------------------------------------ helpers

function successResponse(order: FakeOrder): Record<string, unknown> {
  return {
    success: true,
    failure_reason: 'UNKNOWN_FAILURE_REASON',
    order_id: order.orderId,
    success_response: {
      order_id: order.orderId,
      product_id: order.productId,
      side: order.side,
      client_order_id: order.clientOrderId,
    },
    order_configuration: { [order.kind]: order.configuration },
  };
}

function objectBody(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw badRequest('request body must be a JSON object');
  }
  return body as Record<string, unknown>;
}

/** Coinbase takes amounts as decimal strings. */
function decimalField(value: unknown, name: string): Decimal | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string' || !DECIMAL.test(value)) throw badRequest(`${name} must be a decimal string`);
  const decimal = new Decimal(value);
  if (!decimal.greaterThan(0)) throw badRequest(`${name} must be greater than zero`);
  return decimal;
}

function onStep(value: Decimal, step: string): boolean {
  return value.mod(step).isZero();
}

function intParam(raw: string | null, fallback: number, max: number): number {
  if (raw === null || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) throw badRequest('invalid paging parameter');
  return Math.min(value, max);
}

function dateParam(raw: string | null): Date | undefined {
  if (raw === null || raw === '') return undefined;
  const at = Date.parse(raw);
  if (Number.isNaN(at)) throw badRequest(`invalid timestamp ${raw}`);
  return new Date(at);
}
