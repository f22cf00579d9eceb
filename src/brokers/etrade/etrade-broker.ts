/**
 * E*TRADE (API v1, stocks and options) behind our `Broker` interface. The parts:
 *
 * - ./etrade-session.ts: the signed HTTP connection (OAuth 1.0a), token renewal, and E*TRADE's
 *   rate limits (its "too many requests" answer is HTTP 400 with an HTML page: waited out with a
 *   growing pause, never taken for a refusal; see ./etrade-errors.ts).
 * - ./placement.ts: preview then place, exactly once. E*TRADE never shows our client order id in
 *   an answer, so a place with an unknown outcome is found again among recent orders by content
 *   (./reconcile.ts), like Schwab's: `placementLookup` is `reconciliation`, and nothing is resent.
 * - ./order-list.ts and ./account-json.ts: E*TRADE's lists read element by element, so one
 *   element we cannot read is skipped and logged instead of hiding the rest.
 *
 * `accountId` arguments are E*TRADE's `accountIdKey` (what the API paths take), not the account
 * number.
 */
import {
  type AccountSnapshot,
  type Balances,
  type Broker,
  type BrokerOrder,
  BrokerRejectedError,
  type PlaceOrderRequest,
  type Position,
} from '../../core/brokers/broker.js';
import { Decimal } from '../../core/domain/values.js';
import type { Logger } from '../../core/logging/logger.js';
import { type Quote, type QuoteRequest, UnknownInstrumentError } from '../../core/market-data/market-data.js';
import { cancelAndRead } from '../cancel-order.js';
import type { BrokerHttpClient } from '../http/broker-http-client.js';
import { BrokerRequestRejectedError } from '../http/errors.js';
import { idField, parseList } from '../http/parse-list.js';
import { type ExpiryReading, ListedExpiries } from '../option-expiries.js';
import {
  type EtradeAccount,
  readAccounts,
  readPortfolio,
  readQuotes,
  toBalances,
  toPositions,
  toQuote,
} from './account-json.js';
import { type EtradeBrokerOptions, EtradeSession } from './etrade-session.js';
import { toBrokerOrder } from './order-json.js';
import { EtradeOrderList, ordersPath } from './order-list.js';
import { EtradePlacements } from './placement.js';
import {
  accountListSchema,
  balanceSchema,
  cancelResponseSchema,
  type EtradeBalance,
  type EtradePortfolio,
  expireDateSchema,
  optionExpireDateSchema,
  portfolioSchema,
  quoteSchema,
} from './schemas.js';

export type { EtradeAccount } from './account-json.js';
export type { EtradeBrokerOptions } from './etrade-session.js';

/** E*TRADE's limit on symbols per quote request. */
export const MAX_QUOTE_SYMBOLS = 25;

/** E*TRADE's error code for a symbol it does not know ("The symbol entered is invalid"). */
const INVALID_SYMBOL = '10033';

/** How an expiry of the listing is named in the log when it cannot be read: its parts as sent. */
function expiryId(raw: unknown): string | undefined {
  const parts = ['year', 'month', 'day'].map((part) => idField(raw, part));
  return parts.every((part) => part !== undefined) ? parts.join('-') : undefined;
}

/** Quotes read from one answer, and the symbols whose quote could not be read. */
interface QuoteRead {
  readonly quotes: Quote[];
  readonly unreadable: Set<string>;
}

export class EtradeBroker implements Broker {
  readonly provider = 'etrade' as const;
  /**
   * E*TRADE never shows our client order id in an answer: an unclear placement is matched among
   * the account's recent orders, and "not found" does not prove "not placed".
   */
  readonly placementLookup = 'reconciliation' as const;
  readonly reportsOwnFills = false;
  readonly sellsOptionsToOpen = true;
  /** The connection's HTTP client; `http.health()` is the connection's health. */
  readonly http: BrokerHttpClient;
  private readonly session: EtradeSession;
  private readonly orders: EtradeOrderList;
  private readonly placements: EtradePlacements;
  private readonly now: () => Date;
  private readonly logger: Logger | undefined;
  private readonly expiries: ListedExpiries;

  constructor(options: EtradeBrokerOptions) {
    this.now = options.now ?? (() => new Date());
    this.logger = options.logger;
    this.session = new EtradeSession(options, this.now);
    this.http = this.session.http;
    this.orders = new EtradeOrderList(this.session.call, options.logger);
    this.placements = new EtradePlacements({
      call: this.session.call,
      orders: this.orders,
      sleep: options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms))),
      now: this.now,
      logger: options.logger,
      knownOrderIds: options.knownOrderIds,
      heldQuantity: async (accountId, symbol) =>
        (await this.getPositions(accountId)).find((position) => position.symbol === symbol)?.quantity ??
        new Decimal(0),
    });
    this.expiries = new ListedExpiries({
      provider: 'etrade',
      read: (symbol) => this.readExpireDates(symbol),
      now: this.now,
      logger: options.logger,
    });
  }

  /** The accounts this sign-in may trade (linking shows them; `accountIdKey` names one). */
  async listAccounts(): Promise<EtradeAccount[]> {
    const { data } = await this.session.call({
      method: 'GET',
      path: '/v1/accounts/list',
      schema: accountListSchema,
    });
    return readAccounts(data.AccountListResponse.Accounts.Account, this.logger);
  }

  /**
   * Previews, then places once. A place with an unknown outcome is looked for (twice) among the
   * account's recent orders, never sent again.
   * @throws BrokerRejectedError when E*TRADE refused it or it was never sent (nothing placed)
   * @throws BrokerUnreachableError when the outcome is unknown (not found, several candidates, a
   *   duplicate client order id, or the lookup failed)
   */
  async placeOrder(request: PlaceOrderRequest): Promise<BrokerOrder> {
    return this.placements.place(request);
  }

  /**
   * The order a place with an unknown outcome created, matched among the account's orders placed
   * from `sentAt` on (less a clock-skew allowance) and not attributed to another intent.
   * @throws BrokerUnreachableError when several orders match (none is claimed)
   */
  async reconcilePlacement(request: PlaceOrderRequest, sentAt: Date): Promise<BrokerOrder | undefined> {
    return this.placements.reconcile(request, sentAt);
  }

  /**
   * Only orders this instance placed or found: E*TRADE never shows client order ids, so undefined
   * never means "not placed" (`placementLookup` says so); `reconcilePlacement` looks for it.
   */
  async findOrderByClientOrderId(accountId: string, clientOrderId: string): Promise<BrokerOrder | undefined> {
    return this.placements.findByClientOrderId(accountId, clientOrderId);
  }

  async getOrder(accountId: string, brokerOrderId: string): Promise<BrokerOrder | undefined> {
    const found = await this.orders.byId(accountId, brokerOrderId);
    return found === undefined
      ? undefined
      : toBrokerOrder(found, this.placements.clientOrderIdOf(brokerOrderId));
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
        this.session.call({
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
    const open = await this.orders.all(accountId, { status: 'OPEN' });
    return open.map((order) => toBrokerOrder(order, this.placements.clientOrderIdOf(String(order.orderId))));
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

  /**
   * Equity quotes from E*TRADE; options are priced by the market data (their symbology differs),
   * and so is a stock whose quote E*TRADE sent in a form we cannot read (undefined).
   * @throws UnknownInstrumentError when E*TRADE does not know the symbol
   */
  async quote(request: QuoteRequest): Promise<Quote | undefined> {
    if (request.assetClass !== 'equity') return undefined;
    const symbol = request.symbol.toUpperCase();
    const { quotes, unreadable } = await this.readQuotes([symbol]);
    const found = quotes.find((quote) => quote.symbol.toUpperCase() === symbol);
    if (found !== undefined) return found;
    if (unreadable.has(symbol) || unreadable.has('')) return undefined;
    throw new UnknownInstrumentError(symbol);
  }

  /** Quotes for stock symbols, 25 per request (E*TRADE's maximum), in the `market` bucket. */
  async getQuotes(symbols: readonly string[]): Promise<Quote[]> {
    return (await this.readQuotes(symbols)).quotes;
  }

  /**
   * The expiries E*TRADE lists for options on `underlying` (`GET /v1/market/optionexpiredate`,
   * every expiry type). Kept a few minutes; undefined when E*TRADE cannot tell
   * (../option-expiries.ts).
   * @throws UnknownInstrumentError when E*TRADE lists no options on it
   */
  async optionExpiries(underlying: string): Promise<readonly string[] | undefined> {
    return this.expiries.get(underlying);
  }

  // ------------------------------------------------------------------ internals

  /** `GET /v1/market/optionexpiredate`, every expiry type; read one expiry at a time. */
  private async readExpireDates(symbol: string): Promise<ExpiryReading> {
    const { data } = await this.session
      .call({
        method: 'GET',
        path: '/v1/market/optionexpiredate',
        query: { symbol, expiryType: 'ALL' },
        schema: optionExpireDateSchema,
        bucket: 'market',
      })
      .catch((error: unknown) => {
        if (error instanceof BrokerRequestRejectedError && error.code === INVALID_SYMBOL) {
          throw new UnknownInstrumentError(symbol);
        }
        throw error;
      });
    const raw = data?.OptionExpireDateResponse?.ExpirationDate ?? [];
    const expiries = parseList(raw, expireDateSchema, {
      provider: 'etrade',
      list: 'option expiry date',
      idOf: expiryId,
      logger: this.logger,
    });
    return { expiries, unreadable: raw.length - expiries.length };
  }

  private async readQuotes(symbols: readonly string[]): Promise<QuoteRead> {
    const read: QuoteRead = { quotes: [], unreadable: new Set() };
    for (let start = 0; start < symbols.length; start += MAX_QUOTE_SYMBOLS) {
      const chunk = symbols.slice(start, start + MAX_QUOTE_SYMBOLS).map((symbol) => symbol.toUpperCase());
      const { data } = await this.session.call({
        method: 'GET',
        path: `/v1/market/quote/${chunk.map((symbol) => encodeURIComponent(symbol)).join(',')}`,
        query: { detailFlag: 'ALL' },
        schema: quoteSchema,
        bucket: 'market',
      });
      const raw = data.QuoteResponse.QuoteData;
      const items = readQuotes(raw, this.logger);
      read.quotes.push(...items.map((item) => toQuote(item, this.now())));
      if (items.length < raw.length)
        for (const symbol of unreadSymbols(raw, items)) read.unreadable.add(symbol);
    }
    return read;
  }

  private async balance(accountId: string): Promise<EtradeBalance> {
    const { data } = await this.session.call({
      method: 'GET',
      path: `/v1/accounts/${encodeURIComponent(accountId)}/balance`,
      query: { instType: 'BROKERAGE', realTimeNAV: 'true' },
      schema: balanceSchema,
    });
    return data.BalanceResponse;
  }

  private async portfolio(accountId: string): Promise<EtradePortfolio> {
    const { data } = await this.session.call({
      method: 'GET',
      path: `/v1/accounts/${encodeURIComponent(accountId)}/portfolio`,
      query: { totalsRequired: 'true', view: 'QUICK' },
      schema: portfolioSchema,
    });
    return readPortfolio(data, this.logger, accountId);
  }
}

/**
 * The symbols of quote elements that were not read ('' for one whose symbol is unreadable too),
 * so a quote we could not read is not mistaken for an unknown symbol.
 */
function unreadSymbols(raw: readonly unknown[], read: readonly { Product: { symbol: string } }[]): string[] {
  const readSymbols = new Set(read.map((item) => item.Product.symbol.toUpperCase()));
  return raw.map((element) => symbolField(element)).filter((symbol) => !readSymbols.has(symbol));
}

function symbolField(element: unknown): string {
  if (element === null || typeof element !== 'object') return '';
  const product = (element as { Product?: unknown }).Product;
  if (product === null || typeof product !== 'object') return '';
  const symbol = (product as { symbol?: unknown }).symbol;
  return typeof symbol === 'string' ? symbol.toUpperCase() : '';
}
