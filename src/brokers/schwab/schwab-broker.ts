/**
 * Charles Schwab (Trader API v1 and Market Data API v1) behind our `Broker` interface, over the
 * shared broker HTTP client.
 *
 * Exactly once WITHOUT a client order id: Schwab has none, and posting the same order twice places
 * two orders. So the order POST is never repeated after an unknown outcome (timeout after sending,
 * reset, 5xx, a 201 without its Location). Instead we look for the order among the account's recent
 * orders (see ./reconcile.ts): found → that is the order; not found → look once more after a short
 * wait (Schwab may list it late); still not found → a `BrokerUnreachableError` that says the order
 * was NOT found and nothing was resent. The caller decides; we never place it again ourselves.
 * A 429 is repeated by the plumbing (Schwab did not process it), and so is a 401 once, after one
 * forced renewal of the refused token (./access-tokens.ts; Schwab did not process that either).
 * List answers are read entry by entry: an entry we cannot read is logged and skipped, so it never
 * hides the others (../http/parse-list.ts). Answers become ours in ./answers.ts (pure).
 *
 * `findOrderByClientOrderId` can only know orders this instance placed (an in-memory map). After a
 * restart, an ambiguous placement is settled with `reconcilePlacement(request, sentAt)`, which runs
 * the same recent-orders match. To keep two identical intents from claiming one order, pass the
 * broker order ids already attributed to other intents: per call (`knownOrderIds`) or for every
 * call through the constructor's `knownOrderIds(accountId)` callback (the order store's ids).
 *
 * Accounts: `accountId` is Schwab's account hash (`GET /accounts/accountNumbers` → hashValue); a
 * plain account number is accepted too and resolved to its hash once.
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
import { cancelAndRead } from '../cancel-order.js';
import { type BrokerClientOptions, sharedHttpOptions } from '../http/broker-client-options.js';
import {
  BrokerHttpClient,
  type BrokerHttpRequest,
  type BrokerHttpResponse,
} from '../http/broker-http-client.js';
import { BrokerRequestRejectedError } from '../http/errors.js';
import type { ParsedList, SkippedElement } from '../http/parse-list.js';
import type { RateLimits } from '../http/rate-limiter.js';
import { type ExpiryReading, ListedExpiries } from '../option-expiries.js';
import { notSentOnFailure } from '../placement-search.js';
import { SchwabAccessTokens, type SchwabTokenSource } from './access-tokens.js';
import {
  describeSchwabError,
  OPEN_STATUSES,
  type SchwabChainEntry,
  type SchwabQuote,
  toBalances,
  toBrokerOrder,
  toChainEntry,
  toPosition,
  toQuote,
} from './answers.js';
import {
  type PositionEffect,
  positionEffectFor,
  type SchwabInstruction,
  type SchwabOrderRequest,
  schwabOptionSymbol,
  schwabOrderJson,
} from './order-json.js';
import { findPlacement, fingerprintOf, type PlacementFingerprint, reconcileWindow } from './reconcile.js';
import {
  type SchwabAccount,
  type SchwabAccountNumber,
  type SchwabOrder,
  schwabAccountNumbersSchema,
  schwabAccountSchema,
  schwabChainSchema,
  schwabExpirationChainSchema,
  schwabOrderListSchema,
  schwabOrderSchema,
  schwabQuotesSchema,
} from './schemas.js';

/**
 * Orders (place + cancel + replace): 120 per minute, Schwab's documented ceiling (set per app).
 * Reads: Schwab documents no general quota; 240 per minute keeps us polite without getting in
 * the way.
 */
export const SCHWAB_RATE_LIMITS: RateLimits = {
  default: { limit: 240, intervalMs: 60_000 },
  orders: { limit: 120, intervalMs: 60_000 },
};

/** Wait before the second look for an order that was not listed yet. */
export const RECHECK_DELAY_MS = 3_000;
/** How far back `listOpenOrders` looks (a GTC order lives at most about six months; 60 days suffices). */
const OPEN_ORDERS_WINDOW_MS = 60 * 24 * 3_600_000;
/** Schwab takes at most 500 symbols per quote request. */
const QUOTE_BATCH = 500;

const TRADER = '/trader/v1';
const MARKET_DATA = '/marketdata/v1';

const noContent = z.unknown();

export interface SchwabBrokerOptions extends BrokerClientOptions, SchwabTokenSource {
  /** `https://api.schwabapi.com` (SCHWAB_API_BASE), or a fake in tests; `/trader/v1` etc. are appended. */
  readonly apiBase: string;
  /**
   * Broker order ids on this account already attributed to intents (the order store's), so that
   * reconciliation never claims another intent's order. Unset: only this instance's placements.
   */
  readonly knownOrderIds?: (accountId: string) => Promise<ReadonlySet<string>> | ReadonlySet<string>;
}

export interface SchwabQuotes {
  readonly quotes: readonly SchwabQuote[];
  /** Symbols Schwab does not know (or quoted without any price). */
  readonly invalidSymbols: readonly string[];
}

export interface SchwabChainQuery {
  readonly contractType?: 'CALL' | 'PUT' | 'ALL';
  /** Expirations from this day (YYYY-MM-DD). */
  readonly fromDate?: string;
  /** Expirations up to this day (YYYY-MM-DD). */
  readonly toDate?: string;
  /** Strikes around the money per expiration. */
  readonly strikeCount?: number;
}

export interface SchwabOptionChain {
  readonly underlying: string;
  readonly underlyingPrice: Decimal | undefined;
  /** Every expiration in the chain, YYYY-MM-DD, ascending. */
  readonly expirations: readonly string[];
  /** Every contract, by expiration, then strike, then calls before puts. */
  readonly contracts: readonly SchwabChainEntry[];
  readonly at: Date;
}

export class SchwabBroker implements Broker {
  readonly provider = 'schwab' as const;
  /** Schwab keeps no client order id: an unclear placement is matched among recent orders. */
  readonly placementLookup = 'reconciliation' as const;
  readonly reportsOwnFills = false;
  readonly sellsOptionsToOpen = true;
  /** The connection's HTTP client; `http.health()` is the connection's health. */
  readonly http: BrokerHttpClient;
  private readonly options: SchwabBrokerOptions;
  private readonly tokens: SchwabAccessTokens;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly now: () => Date;
  /** `${hash}|${clientOrderId}` → Schwab order id, for orders this instance placed or reconciled. */
  private readonly placed = new Map<string, string>();
  /** Schwab order id → our client order id (the reverse of `placed`). */
  private readonly clientOrderIds = new Map<string, string>();
  /** Account number → hash, read once. */
  private hashes: Map<string, string> | undefined;
  private readonly expiries: ListedExpiries;

  constructor(options: SchwabBrokerOptions) {
    this.options = options;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.now = options.now ?? (() => new Date());
    this.tokens = new SchwabAccessTokens(options, options.logger);
    this.http = new BrokerHttpClient({
      provider: 'schwab',
      baseUrl: options.apiBase,
      ...sharedHttpOptions(options, SCHWAB_RATE_LIMITS),
      authorize: this.tokens.authorize,
      describeError: describeSchwabError,
    });
    this.expiries = new ListedExpiries({
      provider: 'schwab',
      read: (symbol) => this.readExpirations(symbol),
      now: this.now,
      logger: options.logger,
    });
  }

  /** The linked accounts: plain number and the hash every other call takes as `accountId`. */
  async listAccounts(): Promise<SchwabAccountNumber[]> {
    const { data } = await this.send({
      method: 'GET',
      path: `${TRADER}/accounts/accountNumbers`,
      schema: schwabAccountNumbersSchema,
    });
    const accounts = this.readable('account numbers', data);
    this.hashes = new Map(accounts.map((account) => [account.accountNumber, account.hashValue]));
    return accounts;
  }

  async placeOrder(request: PlaceOrderRequest): Promise<BrokerOrder> {
    const prepared = await notSentOnFailure('schwab', 'Schwab', async () => {
      const hash = await this.accountHash(request.accountId);
      const earlier = this.placed.get(placedKey(hash, request.clientOrderId));
      const order = earlier === undefined ? undefined : await this.getOrder(hash, earlier);
      if (order !== undefined) return { hash, order };
      const effect = request.assetClass === 'option' ? await this.positionEffect(hash, request) : 'open';
      return { hash, body: schwabOrderJson(request, effect) };
    });
    if (prepared.order !== undefined) return { ...prepared.order, clientOrderId: request.clientOrderId };
    const { hash, body } = prepared;
    const sentAt = this.now();
    let orderId: string | undefined;
    try {
      const response = await this.send({
        method: 'POST',
        path: `${TRADER}/accounts/${encodeURIComponent(hash)}/orders`,
        body,
        schema: noContent,
        bucket: 'orders',
        idempotent: false,
      });
      orderId = orderIdFromLocation(response.headers.get('location'));
      if (orderId === undefined) {
        throw new BrokerUnreachableError('schwab', 'Schwab accepted the order without saying its id');
      }
    } catch (error) {
      if (!(error instanceof BrokerUnreachableError)) throw error;
      return this.settleAmbiguous(request, hash, fingerprintOf(body), sentAt, error);
    }
    this.remember(hash, request.clientOrderId, orderId);
    return this.placedOrder(request, hash, orderId);
  }

  /**
   * Our order among the account's recent orders: for an order POST whose outcome is unknown, e.g.
   * after a restart. `sentAt` is when the POST was sent (by our clock). Matches symbol, side
   * (open or close alike), quantity, type, prices and duration, entered no earlier than `sentAt`
   * less two minutes, and not among `knownOrderIds` (plus the constructor's callback and this
   * instance's placements for other client order ids). Undefined when there is no such order.
   * @throws BrokerUnreachableError when several orders match (we cannot tell which is ours)
   */
  async reconcilePlacement(
    request: PlaceOrderRequest,
    sentAt: Date,
    options: { readonly knownOrderIds?: ReadonlySet<string> } = {},
  ): Promise<BrokerOrder | undefined> {
    const hash = await this.accountHash(request.accountId);
    const earlier = this.placed.get(placedKey(hash, request.clientOrderId));
    if (earlier !== undefined) return this.getOrder(hash, earlier);
    const sent = schwabOrderJson(request, 'open');
    const leg = sent.orderLegCollection[0];
    const instructions: SchwabInstruction[] =
      leg.instrument.assetType === 'OPTION'
        ? request.side === 'buy'
          ? ['BUY_TO_OPEN', 'BUY_TO_CLOSE']
          : ['SELL_TO_OPEN', 'SELL_TO_CLOSE']
        : [leg.instruction];
    const found = await this.lookForPlacement(
      request,
      hash,
      { sent, instructions },
      sentAt,
      options.knownOrderIds,
    );
    return found === undefined ? undefined : toBrokerOrder(found, request.clientOrderId);
  }

  /**
   * Only orders this instance placed or reconciled (Schwab keeps no client order id); after a
   * restart use `reconcilePlacement`.
   */
  async findOrderByClientOrderId(accountId: string, clientOrderId: string): Promise<BrokerOrder | undefined> {
    const hash = await this.accountHash(accountId);
    const orderId = this.placed.get(placedKey(hash, clientOrderId));
    return orderId === undefined ? undefined : this.getOrder(hash, orderId);
  }

  async getOrder(accountId: string, brokerOrderId: string): Promise<BrokerOrder | undefined> {
    if (!/^\d+$/.test(brokerOrderId)) return undefined;
    const hash = await this.accountHash(accountId);
    try {
      const { data } = await this.send({
        method: 'GET',
        path: `${TRADER}/accounts/${encodeURIComponent(hash)}/orders/${brokerOrderId}`,
        schema: schwabOrderSchema,
      });
      return toBrokerOrder(data, this.clientOrderIds.get(brokerOrderId));
    } catch (error) {
      if (error instanceof BrokerRequestRejectedError && error.status === 404) return undefined;
      throw error;
    }
  }

  /**
   * `DELETE .../orders/{id}` answers 200 with no body; the order's new state comes from a GET.
   * A cancel with an unknown outcome is settled the same way: the order says whether it took.
   */
  async cancelOrder(accountId: string, brokerOrderId: string): Promise<BrokerOrder> {
    if (!/^\d+$/.test(brokerOrderId)) throw new BrokerRejectedError('schwab', 'no such order');
    const hash = await this.accountHash(accountId);
    return cancelAndRead(
      'schwab',
      () =>
        this.send({
          method: 'DELETE',
          path: `${TRADER}/accounts/${encodeURIComponent(hash)}/orders/${brokerOrderId}`,
          schema: noContent,
          bucket: 'orders',
          idempotent: false,
        }),
      () => this.getOrder(hash, brokerOrderId),
    );
  }

  /** Orders still live (working, queued, awaiting a trigger, pending cancel) entered in the last 60 days. */
  async listOpenOrders(accountId: string): Promise<BrokerOrder[]> {
    const hash = await this.accountHash(accountId);
    const now = this.now();
    const orders = await this.recentOrders(hash, {
      fromEnteredTime: new Date(now.getTime() - OPEN_ORDERS_WINDOW_MS).toISOString(),
      toEnteredTime: new Date(now.getTime() + 60_000).toISOString(),
    });
    return orders
      .map((order) => toBrokerOrder(order, this.clientOrderIds.get(String(order.orderId))))
      .filter((order) => OPEN_STATUSES.has(order.status))
      .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
  }

  async getBalances(accountId: string): Promise<Balances> {
    return (await this.getAccountSnapshot(accountId)).balances;
  }

  async getPositions(accountId: string): Promise<Position[]> {
    return [...(await this.getAccountSnapshot(accountId)).positions];
  }

  /** One call: `GET /accounts/{hash}?fields=positions` carries balances and positions. */
  async getAccountSnapshot(accountId: string): Promise<AccountSnapshot> {
    const account = await this.account(await this.accountHash(accountId));
    return {
      balances: toBalances(account),
      positions: account.securitiesAccount.positions.items.map(toPosition),
    };
  }

  // ------------------------------------------------------------------ market data

  /** One quote for the card: a ticker, or an option contract by its Schwab symbol. */
  async quote(request: QuoteRequest): Promise<Quote> {
    const symbol =
      request.assetClass === 'option'
        ? schwabOptionSymbol({ symbol: '', option: request.contract })
        : request.symbol.toUpperCase();
    const { quotes } = await this.getQuotes([symbol]);
    const found = quotes.find((quote) => quote.symbol.toUpperCase() === symbol);
    if (found === undefined)
      throw new UnknownInstrumentError(request.assetClass === 'option' ? symbol.replace(/\s+/g, '') : symbol);
    return found;
  }

  /** Quotes for tickers and Schwab option symbols (`AAPL  240517P00190000`). */
  async getQuotes(symbols: readonly string[]): Promise<SchwabQuotes> {
    const unique = [...new Set(symbols.map((symbol) => symbol.trim().toUpperCase()))].filter(
      (symbol) => symbol !== '',
    );
    const quotes: SchwabQuote[] = [];
    const invalidSymbols: string[] = [];
    for (let start = 0; start < unique.length; start += QUOTE_BATCH) {
      const batch = unique.slice(start, start + QUOTE_BATCH);
      const { data } = await this.send({
        method: 'GET',
        path: `${MARKET_DATA}/quotes`,
        query: { symbols: batch.join(','), fields: 'quote' },
        schema: schwabQuotesSchema,
      });
      invalidSymbols.push(...data.invalidSymbols);
      // An entry we cannot read is a symbol we could not quote.
      this.logSkipped('quotes', data.skipped);
      invalidSymbols.push(...data.skipped.map((entry) => entry.at));
      for (const entry of data.quotes) {
        const quote = toQuote(entry, this.now());
        if (quote === undefined) invalidSymbols.push(entry.symbol);
        else quotes.push(quote);
      }
    }
    return { quotes, invalidSymbols };
  }

  /**
   * The expiries Schwab lists for options on `underlying`, from its expiration chain (one small
   * answer, where the option chain would carry every contract); standard series only, as an
   * adjusted series trades under another root. Kept a few minutes; undefined when Schwab cannot
   * tell (../option-expiries.ts).
   * @throws UnknownInstrumentError when Schwab lists no options on it
   */
  async optionExpiries(underlying: string): Promise<readonly string[] | undefined> {
    return this.expiries.get(underlying);
  }

  /**
   * The option chain of an underlying (single-leg contracts).
   * @throws UnknownInstrumentError when Schwab has no chain for it
   */
  async getOptionChain(symbol: string, query: SchwabChainQuery = {}): Promise<SchwabOptionChain> {
    const underlying = symbol.trim().toUpperCase();
    const { data } = await this.send({
      method: 'GET',
      path: `${MARKET_DATA}/chains`,
      query: {
        symbol: underlying,
        contractType: query.contractType ?? 'ALL',
        fromDate: query.fromDate,
        toDate: query.toDate,
        strikeCount: query.strikeCount === undefined ? undefined : String(query.strikeCount),
      },
      schema: schwabChainSchema,
    });
    if (data.status !== 'SUCCESS') throw new UnknownInstrumentError(underlying);
    const contracts = this.readable('option chain contracts', data.contracts).map((listing) =>
      toChainEntry(data.symbol, listing),
    );
    contracts.sort(
      (a, b) =>
        a.contract.expiry.localeCompare(b.contract.expiry) ||
        a.contract.strike.comparedTo(b.contract.strike) ||
        a.contract.right.localeCompare(b.contract.right),
    );
    return {
      underlying: data.symbol,
      underlyingPrice: data.underlyingPrice,
      expirations: [...new Set(contracts.map((entry) => entry.contract.expiry))],
      contracts,
      at: this.now(),
    };
  }

  // ------------------------------------------------------------------ internals

  /**
   * One request; a 401 is answered by one forced renewal of the refused token and one repetition
   * (Schwab did not process a request it refused as unauthorized, so even an order POST may be
   * repeated, once). See ./access-tokens.ts.
   */
  private async send<T>(request: BrokerHttpRequest<T>): Promise<BrokerHttpResponse<T>> {
    return this.tokens.send(request, () => this.http.request(request));
  }

  /** `GET /expirationchain`: the days of the symbol's series. */
  private async readExpirations(symbol: string): Promise<ExpiryReading> {
    const { data } = await this.send({
      method: 'GET',
      path: `${MARKET_DATA}/expirationchain`,
      query: { symbol },
      schema: schwabExpirationChainSchema,
    });
    // As for chains, a symbol Schwab does not know may be answered 200 with status FAILED.
    if (data.status === 'FAILED') throw new UnknownInstrumentError(symbol);
    const listed = data.expirationList ?? { items: [], skipped: [] };
    this.logSkipped('option expirations', listed.skipped);
    return {
      expiries: listed.items.filter((series) => series.standard).map((series) => series.day),
      unreadable: listed.skipped.length,
    };
  }

  /** The readable entries of a list answer; the others are logged. */
  private readable<T>(list: string, listed: ParsedList<T>): T[] {
    this.logSkipped(list, listed.skipped);
    return listed.items;
  }

  /** Each skipped entry, logged as the shared list reader logs it: where, which id, which fields. */
  private logSkipped(list: string, skipped: readonly SkippedElement[]): void {
    for (const element of skipped) {
      this.options.logger?.warn(
        { provider: 'schwab', list, ...element },
        `skipped an element of a schwab ${list} list that we could not read`,
      );
    }
  }

  /** After a placement failed ambiguously: look, wait, look again; never post again. */
  private async settleAmbiguous(
    request: PlaceOrderRequest,
    hash: string,
    fingerprint: PlacementFingerprint,
    sentAt: Date,
    placementError: BrokerUnreachableError,
  ): Promise<BrokerOrder> {
    for (let look = 1; look <= 2; look++) {
      if (look === 2) await this.sleep(RECHECK_DELAY_MS);
      let found: SchwabOrder | undefined;
      try {
        found = await this.lookForPlacement(request, hash, fingerprint, sentAt, undefined);
      } catch (lookupError) {
        if (lookupError instanceof BrokerUnreachableError && lookupError.cause === SEVERAL) throw lookupError;
        throw new BrokerUnreachableError(
          'schwab',
          'Schwab did not confirm the order, and looking for it failed: it may or may not have been placed. Nothing was resent.',
          { cause: new AggregateError([placementError, lookupError]) },
        );
      }
      if (found !== undefined) {
        this.options.logger?.info(
          { provider: 'schwab', orderId: found.orderId, look },
          'found the order after an ambiguous placement',
        );
        return toBrokerOrder(found, request.clientOrderId);
      }
    }
    throw new BrokerUnreachableError(
      'schwab',
      "Schwab did not confirm the order, and it was NOT found among the account's recent orders (looked twice). Nothing was resent: check the account before placing it again.",
      { cause: placementError },
    );
  }

  /** The single unattributed recent order matching the placement; remembered as this intent's. */
  private async lookForPlacement(
    request: PlaceOrderRequest,
    hash: string,
    fingerprint: PlacementFingerprint,
    sentAt: Date,
    knownOrderIds: ReadonlySet<string> | undefined,
  ): Promise<SchwabOrder | undefined> {
    const attributed = new Set<string>(knownOrderIds ?? []);
    for (const id of (await this.options.knownOrderIds?.(request.accountId)) ?? []) attributed.add(id);
    for (const [orderId, clientOrderId] of this.clientOrderIds) {
      if (clientOrderId !== request.clientOrderId) attributed.add(orderId);
    }
    const recent = await this.recentOrders(hash, reconcileWindow(sentAt, this.now()));
    const outcome = findPlacement(recent, fingerprint, sentAt, attributed);
    if (outcome.kind === 'none') return undefined;
    if (outcome.kind === 'several') {
      throw new BrokerUnreachableError(
        'schwab',
        `Schwab lists ${outcome.orderIds.length} orders (${outcome.orderIds.join(', ')}) that match this one; we cannot tell which is ours. Nothing was resent.`,
        { cause: SEVERAL },
      );
    }
    this.remember(hash, request.clientOrderId, String(outcome.order.orderId));
    return outcome.order;
  }

  /** The order we just placed, read back for its state; the placement itself is certain. */
  private async placedOrder(request: PlaceOrderRequest, hash: string, orderId: string): Promise<BrokerOrder> {
    let order: BrokerOrder | undefined;
    try {
      order = await this.getOrder(hash, orderId);
    } catch (error) {
      throw new BrokerUnreachableError(
        'schwab',
        `Schwab placed the order as ${orderId}, but reading it back failed; findOrderByClientOrderId finds it`,
        { cause: error },
      );
    }
    if (order === undefined) {
      throw new BrokerUnreachableError(
        'schwab',
        `Schwab placed the order as ${orderId} but does not show it yet; findOrderByClientOrderId finds it`,
      );
    }
    return { ...order, clientOrderId: request.clientOrderId };
  }

  private async recentOrders(
    hash: string,
    window: { fromEnteredTime: string; toEnteredTime: string },
  ): Promise<SchwabOrder[]> {
    const { data } = await this.send({
      method: 'GET',
      path: `${TRADER}/accounts/${encodeURIComponent(hash)}/orders`,
      query: window,
      schema: schwabOrderListSchema,
    });
    return this.readable('orders', data);
  }

  private async account(hash: string): Promise<SchwabAccount> {
    const { data } = await this.send({
      method: 'GET',
      path: `${TRADER}/accounts/${encodeURIComponent(hash)}`,
      query: { fields: 'positions' },
      schema: schwabAccountSchema,
    });
    this.logSkipped('positions', data.securitiesAccount.positions.skipped);
    return data;
  }

  /**
   * Open or close for an option order, from the account's position in the contract: our
   * `PlaceOrderRequest` does not say, and Schwab needs it in the instruction.
   */
  private async positionEffect(hash: string, request: PlaceOrderRequest): Promise<PositionEffect> {
    const symbol = schwabOptionSymbol(request);
    const account = await this.account(hash);
    const held = account.securitiesAccount.positions.items
      .filter((position) => position.instrument.symbol === symbol)
      .reduce(
        (sum, position) => sum.plus(position.longQuantity).minus(position.shortQuantity),
        new Decimal(0),
      );
    return positionEffectFor(request.side, held);
  }

  /** The hash for an account id: hashes pass through; plain account numbers are looked up once. */
  private async accountHash(accountId: string): Promise<string> {
    if (!/^\d{1,12}$/.test(accountId)) return accountId;
    const known = this.hashes?.get(accountId);
    if (known !== undefined) return known;
    await this.listAccounts();
    const hash = this.hashes?.get(accountId);
    if (hash === undefined) {
      throw new BrokerRejectedError('schwab', 'this Schwab sign-in does not include that account');
    }
    return hash;
  }

  private remember(hash: string, clientOrderId: string, orderId: string): void {
    this.placed.set(placedKey(hash, clientOrderId), orderId);
    this.clientOrderIds.set(orderId, clientOrderId);
  }
}

/** Marks the "several matches" refusal so it is passed on as it is, not wrapped. */
const SEVERAL = Symbol('several matching orders');

function placedKey(hash: string, clientOrderId: string): string {
  return `${hash}|${clientOrderId}`;
}

/** `.../accounts/{hash}/orders/{orderId}` → the order id (the last path segment, digits). */
export function orderIdFromLocation(location: string | null): string | undefined {
  if (location === null) return undefined;
  let path: string;
  try {
    path = new URL(location, 'https://api.schwabapi.com').pathname;
  } catch {
    return undefined;
  }
  const last = path
    .split('/')
    .filter((segment) => segment !== '')
    .pop();
  return last !== undefined && /^\d+$/.test(last) ? last : undefined;
}

export type { OptionGreeks, SchwabChainEntry, SchwabQuote } from './answers.js';
export { describeSchwabError, orderStatusFor, toBalances, toBrokerOrder, toPosition } from './answers.js';
export type { SchwabOrderRequest };
