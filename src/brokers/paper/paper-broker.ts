/**
 * The built-in paper broker: the default for every user. It behaves like a broker (idempotent
 * client order ids, resting orders, rejections) and keeps a real ledger in its own tables
 * (paper_accounts, paper_positions, paper_orders, paper_fills), separate from our order view.
 *
 * Every change to an account happens in one transaction that first locks the account row, so
 * concurrent orders and fills on one account are applied one after another.
 *
 * Options may be sold to open when covered (cash-secured puts, covered calls; option-cover.ts), and
 * expired contracts are settled by `settleExpirations` (settlement.ts). Buying power is cash less
 * what short puts and working orders set aside (reservations.ts), in the balances it reports and in
 * its own placements alike.
 */

import { randomUUID } from 'node:crypto';
import type { NewPaperAccount, PaperAccounts } from '../../core/accounts/paper-accounts.js';
import {
  type AccountSnapshot,
  type Balances,
  type Broker,
  type BrokerOrder,
  BrokerRejectedError,
  type PlaceOrderRequest,
  type Position,
  type TimeInForceRequest,
} from '../../core/brokers/broker.js';
import type { Prisma, PrismaClient, SqlExecutor } from '../../core/db/database.js';
import { isUniqueViolation } from '../../core/db/errors.js';
import type { OrderStatus } from '../../core/db/generated/enums.js';
import { prismaExecutor } from '../../core/db/sql.js';
import { Decimal, type TimeInForce } from '../../core/domain/values.js';
import type {
  MarketDataProvider,
  OptionContract,
  Quote,
  QuoteRequest,
} from '../../core/market-data/market-data.js';
import { occSymbol, parseOccSymbol } from '../../core/market-data/providers/options.js';
import { newYorkTime } from '../../core/market-data/providers/us-market-calendar.js';
import { type AccountReadScope, readLedgerAccount } from './account-read.js';
import { asksOf, readAccountSnapshot } from './account-snapshot.js';
import { paperTimeInForce } from './fill-model.js';
import {
  type FillPlan,
  type LedgerOrder,
  type LockedAccount,
  OPEN_STATUSES,
  type PlanOptions,
  planFill,
  writePlan,
} from './ledger.js';
import { optionRoot } from './option-cover.js';
import { type Asks, instrumentKey, reservedForOrders, UnpricedReservationError } from './reservations.js';
import { type SettlementEvent, type SettlementListener, settleExpirations } from './settlement.js';

/** Optimistic placement attempts before falling back to the account lock. */
const OPTIMISTIC_ATTEMPTS = 5;

type Transaction = Prisma.TransactionClient;

type PaperOrderRow = Prisma.PaperOrderGetPayload<{ include: { fills: true } }>;

const OPEN: OrderStatus[] = [...OPEN_STATUSES];

export interface PaperBrokerOptions {
  readonly prisma: PrismaClient;
  /** Plain SQL for the account snapshot, read on every order message; Prisma otherwise. */
  readonly sql?: SqlExecutor;
  readonly market: MarketDataProvider;
  /** Extra price paid (buys) or given up (sells) by market orders, in basis points. Default 2. */
  readonly slippageBps?: number;
  readonly clock?: () => Date;
}

/** Prisma's Decimal is another decimal.js copy: convert through strings, exactly. */
function dec(value: { toString(): string }): Decimal {
  return new Decimal(value.toString());
}

function optionalDec(value: { toString(): string } | null): Decimal | undefined {
  return value === null ? undefined : dec(value);
}

function toBrokerOrder(row: PaperOrderRow): BrokerOrder {
  return {
    brokerOrderId: row.id,
    clientOrderId: row.clientOrderId,
    status: row.status,
    symbol: row.symbol,
    side: row.side,
    orderType: row.orderType,
    quantity: optionalDec(row.quantity),
    notional: optionalDec(row.notional),
    limitPrice: optionalDec(row.limitPrice),
    stopPrice: optionalDec(row.stopPrice),
    filledQuantity: dec(row.filledQuantity),
    averageFillPrice: optionalDec(row.averageFillPrice),
    rejectReason: row.rejectReason ?? undefined,
    fills: row.fills.map((fill) => ({
      id: fill.id,
      quantity: dec(fill.quantity),
      price: dec(fill.price),
      fee: dec(fill.fee),
      at: fill.filledAt,
    })),
    createdAt: row.createdAt,
  };
}

function quoteRequestFor(row: {
  assetClass: 'equity' | 'option' | 'crypto';
  symbol: string;
  optionUnderlying: string | null;
  optionExpiry: string | null;
  optionRight: 'call' | 'put' | null;
  optionStrike: { toString(): string } | null;
}): QuoteRequest {
  if (row.assetClass !== 'option') return { assetClass: row.assetClass, symbol: row.symbol };
  if (!row.optionUnderlying || !row.optionExpiry || !row.optionRight || !row.optionStrike) {
    throw new Error(`paper option order ${row.symbol} has no contract`);
  }
  return {
    assetClass: 'option',
    contract: {
      underlying: row.optionUnderlying,
      expiry: row.optionExpiry,
      right: row.optionRight,
      strike: dec(row.optionStrike),
    },
  };
}

export class PaperBroker implements Broker, PaperAccounts {
  readonly provider = 'paper' as const;
  readonly placementLookup = 'client_order_id' as const;
  /** Resting orders fill in `processRestingOrders`, which the background pass hands over. */
  readonly reportsOwnFills = true;
  /** Cash-secured puts and covered calls; the ledger re-checks the cover at fill time. */
  readonly sellsOptionsToOpen = true;
  private readonly prisma: PrismaClient;
  private readonly sql: SqlExecutor;
  private readonly market: MarketDataProvider;
  private readonly slippageBps: number;
  private readonly clock: () => Date;

  constructor(options: PaperBrokerOptions) {
    this.prisma = options.prisma;
    this.sql = options.sql ?? prismaExecutor(options.prisma);
    this.market = options.market;
    this.slippageBps = options.slippageBps ?? 2;
    this.clock = options.clock ?? (() => new Date());
  }

  /** What the paper book does with the time in force asked (see `paperTimeInForce`). */
  async appliedTimeInForce(order: TimeInForceRequest): Promise<TimeInForce> {
    return paperTimeInForce(order);
  }

  /** Opens the ledger of a new paper account, in the transaction that creates its user. */
  async open(tx: Transaction, account: NewPaperAccount): Promise<void> {
    const { ledgerId: id, brokerAccountId, startingCash } = account;
    await tx.paperAccount.create({ data: { id, brokerAccountId, cash: startingCash, startingCash } });
  }

  async placeOrder(request: PlaceOrderRequest): Promise<BrokerOrder> {
    const placement = await this.prepare(request);
    try {
      const plan = await this.placeOptimistically(request, placement);
      return placedOrder(request, placement, plan);
    } catch (error) {
      // The same client order id again (a retry, or a concurrent placement): return the first order.
      if (isUniqueViolation(error)) {
        const first = await this.findOrderByClientOrderId(request.accountId, request.clientOrderId);
        if (first !== undefined) return first;
      }
      throw error;
    }
  }

  /**
   * The placement quoted now (a slow provider must not hold a transaction), written by the caller's
   * transaction: the fill commits with the intent's move (see Broker.preparePlacement).
   */
  async preparePlacement(request: PlaceOrderRequest): Promise<(tx: Transaction) => Promise<BrokerOrder>> {
    const placement = await this.prepare(request);
    return async (tx) => {
      const plan = await this.placeOptimistically(request, placement, tx);
      return placedOrder(request, placement, plan);
    };
  }

  /** Checks the request and quotes it: everything a placement needs before the ledger is touched. */
  private async prepare(request: PlaceOrderRequest): Promise<PreparedPlacement> {
    if ((request.quantity === undefined) === (request.notional === undefined)) {
      throw new BrokerRejectedError('paper', 'an order needs exactly one of quantity and notional');
    }
    const quoteRequest: QuoteRequest =
      request.assetClass === 'option'
        ? { assetClass: 'option', contract: this.requireContract(request.option, request.symbol) }
        : { assetClass: request.assetClass, symbol: request.symbol };
    const contract = contractOf(quoteRequest);
    const quote = await this.market.quote(quoteRequest);
    const ledgerOrder: LedgerOrder = {
      side: request.side,
      assetClass: request.assetClass,
      symbol: request.symbol,
      option: contract,
      orderType: request.orderType,
      quantity: request.quantity,
      notional: request.notional,
      limitPrice: request.limitPrice,
      stopPrice: request.stopPrice,
      filledQuantity: new Decimal(0),
      averageFillPrice: undefined,
      triggeredAt: null,
    };
    return { id: randomUUID(), ledgerOrder, quote, now: this.clock() };
  }

  /** The client order id is the broker's own key: a lookup by it settles any placement. */
  async reconcilePlacement(request: PlaceOrderRequest, _sentAt: Date): Promise<BrokerOrder | undefined> {
    return this.findOrderByClientOrderId(request.accountId, request.clientOrderId);
  }

  async findOrderByClientOrderId(accountId: string, clientOrderId: string): Promise<BrokerOrder | undefined> {
    const row = await this.prisma.paperOrder.findUnique({
      where: { paperAccountId_clientOrderId: { paperAccountId: accountId, clientOrderId } },
      include: { fills: true },
    });
    return row === null ? undefined : toBrokerOrder(row);
  }

  async getOrder(accountId: string, brokerOrderId: string): Promise<BrokerOrder | undefined> {
    const row = await this.prisma.paperOrder.findFirst({
      where: { id: brokerOrderId, paperAccountId: accountId },
      include: { fills: true },
    });
    return row === null ? undefined : toBrokerOrder(row);
  }

  async cancelOrder(accountId: string, brokerOrderId: string): Promise<BrokerOrder> {
    return this.prisma.$transaction(async (tx) => {
      await this.lockAccount(tx, accountId, { symbol: '', underlying: undefined });
      const row = await tx.paperOrder.findFirst({
        where: { id: brokerOrderId, paperAccountId: accountId },
        include: { fills: true },
      });
      if (row === null) throw new BrokerRejectedError('paper', 'no such order');
      if (!OPEN.includes(row.status)) {
        throw new BrokerRejectedError('paper', `the order is already ${row.status.replace('_', ' ')}`);
      }
      const cancelled = await tx.paperOrder.update({
        where: { id: row.id },
        data: { status: 'cancelled' },
        include: { fills: true },
      });
      return toBrokerOrder(cancelled);
    });
  }

  async listOpenOrders(accountId: string): Promise<BrokerOrder[]> {
    const rows = await this.prisma.paperOrder.findMany({
      where: { paperAccountId: accountId, status: { in: OPEN } },
      include: { fills: true },
      orderBy: { createdAt: 'asc' },
    });
    return rows.map(toBrokerOrder);
  }

  async getPositions(accountId: string): Promise<Position[]> {
    return [...(await this.getAccountSnapshot(accountId)).positions];
  }

  async getBalances(accountId: string): Promise<Balances> {
    return (await this.getAccountSnapshot(accountId)).balances;
  }

  /**
   * The account, its positions marked at the market, and buying power net of what short puts and
   * working orders set aside (account-snapshot.ts): what every risk check and the balance see.
   */
  async getAccountSnapshot(accountId: string): Promise<AccountSnapshot> {
    return readAccountSnapshot(
      { sql: this.sql, market: this.market, clock: this.clock, slippageBps: this.slippageBps },
      accountId,
    );
  }

  /**
   * Fills resting orders whose price has been reached and expires day orders whose session ended.
   * Run periodically by the job runner; returns the orders that changed.
   */
  async processRestingOrders(): Promise<BrokerOrder[]> {
    const open = await this.prisma.paperOrder.findMany({
      where: { status: { in: OPEN } },
      orderBy: { createdAt: 'asc' },
    });
    // Each instrument quoted once, before any transaction (a slow provider must not hold a lock);
    // the working market orders beside a candidate are priced from these too.
    const quotes = await this.quotesOf(open);
    const asks: Asks = new Map([...quotes].map(([key, quote]) => [key, quote.ask]));
    const changed: BrokerOrder[] = [];
    for (const candidate of open) {
      const quote = quotes.get(instrumentKey(candidate));
      if (quote === undefined) continue; // No price now: try again on the next pass.
      try {
        const result = await this.prisma.$transaction((tx) => this.revisit(tx, candidate, quote, asks));
        if (result !== undefined) changed.push(toBrokerOrder(result));
      } catch (error) {
        // Another working order has no price, so the cash left is unknown: try on the next pass.
        if (!(error instanceof UnpricedReservationError)) throw error;
      }
    }
    return changed;
  }

  /** One resting order looked at again under its account's lock: filled, expired, or unchanged. */
  private async revisit(
    tx: Transaction,
    candidate: { id: string; paperAccountId: string; symbol: string; optionUnderlying: string | null },
    quote: Quote,
    asks: Asks,
  ): Promise<PaperOrderRow | undefined> {
    const account = await this.lockAccount(tx, candidate.paperAccountId, {
      symbol: candidate.symbol,
      underlying: candidate.optionUnderlying ?? undefined,
    });
    const row = await tx.paperOrder.findUnique({ where: { id: candidate.id }, include: { fills: true } });
    if (row === null || !OPEN.includes(row.status)) return undefined;
    if (this.dayOrderEnded(row)) {
      return tx.paperOrder.update({
        where: { id: row.id },
        data: { status: 'expired' },
        include: { fills: true },
      });
    }
    const now = this.clock();
    const plan = planFill(
      {
        side: row.side,
        assetClass: row.assetClass,
        symbol: row.symbol,
        option: contractOf(quoteRequestFor(row)),
        orderType: row.orderType,
        quantity: optionalDec(row.quantity),
        notional: optionalDec(row.notional),
        limitPrice: optionalDec(row.limitPrice),
        stopPrice: optionalDec(row.stopPrice),
        filledQuantity: dec(row.filledQuantity),
        averageFillPrice: optionalDec(row.averageFillPrice),
        triggeredAt: row.triggeredAt,
      },
      quote,
      account,
      await this.planOptions(row.assetClass, now, { account, asks, excluding: row.id, placing: false }),
    );
    if (plan.status === row.status && plan.triggeredAt?.getTime() === row.triggeredAt?.getTime())
      return undefined;
    await writePlan(tx, { kind: 'existing', id: row.id }, plan, {
      accountId: row.paperAccountId,
      symbol: row.symbol,
      assetClass: row.assetClass,
      now,
    });
    return tx.paperOrder.findUniqueOrThrow({ where: { id: row.id }, include: { fills: true } });
  }

  /**
   * The quotes of `orders`' instruments, by `instrumentKey`, one instrument after another (as the
   * pass always asked: no burst at a rate-limited provider); an instrument with no price is left out.
   */
  private async quotesOf(
    orders: readonly Parameters<typeof quoteRequestFor>[0][],
  ): Promise<Map<string, Quote>> {
    const quotes = new Map<string, Quote>();
    const requests = new Map(orders.map((order) => [instrumentKey(order), order] as const));
    for (const [key, order] of requests) {
      try {
        quotes.set(key, await this.market.quote(quoteRequestFor(order)));
      } catch {
        // No price now: its orders wait for the next pass.
      }
    }
    return quotes;
  }

  /**
   * Settles option positions whose contracts expired at or before `at` (16:00 New York on the
   * expiry date): assigned, called away, exercised or expired worthless, at the underlying's price
   * now. Idempotent and safe from several processes at once; returns what this call settled, and
   * tells `onSettled` each settlement inside its transaction (to write its notice there). Run by
   * the job runner after the close.
   */
  async settleExpirations(at: Date, onSettled?: SettlementListener): Promise<SettlementEvent[]> {
    return settleExpirations({ prisma: this.prisma, market: this.market, clock: this.clock }, at, onSettled);
  }

  // ------------------------------------------------------------------ internals

  /**
   * The contract of an option order, which must be the one its symbol names: option positions are
   * kept under the order's symbol, and their cover and settlement read the contract back from it.
   */
  private requireContract(option: OptionContract | undefined, symbol: string): OptionContract {
    if (option === undefined)
      throw new BrokerRejectedError('paper', `option order ${symbol} has no contract`);
    const named = parseOccSymbol(symbol);
    if (
      named === undefined ||
      named.expiry !== option.expiry ||
      named.right !== option.right ||
      !named.strike.equals(option.strike) ||
      named.underlying !== optionRoot(option.underlying)
    ) {
      throw new BrokerRejectedError(
        'paper',
        `option order symbol ${symbol} does not name its contract (${occLabel(option)})`,
      );
    }
    return option;
  }

  /** Locks the account row for this transaction and reads what a decision in `scope` needs. */
  private lockAccount(tx: Transaction, accountId: string, scope: AccountReadScope): Promise<LockedAccount> {
    return readLedgerAccount(tx, accountId, scope, true);
  }

  private dayOrderEnded(row: { timeInForce: string; assetClass: string; createdAt: Date }): boolean {
    if (row.timeInForce !== 'day' || row.assetClass === 'crypto') return false;
    const atCreation = this.market.session('equity', row.createdAt);
    const sessionClose = atCreation.open ? atCreation.nextClose : this.closeAfter(atCreation.nextOpen);
    return sessionClose !== undefined && this.clock() >= sessionClose;
  }

  private closeAfter(open: Date | undefined): Date | undefined {
    return open === undefined ? undefined : this.market.session('equity', open).nextClose;
  }

  /**
   * Reads the account and writes the plan if nobody changed the account in between (its version);
   * after a few lost races, under the account's lock. `tx`: inside the caller's transaction (a
   * lost race there changes nothing, so the next attempt sees the newer account). Two round trips
   * instead of a locking transaction when the account is not busy.
   */
  private async placeOptimistically(
    request: PlaceOrderRequest,
    placement: PreparedPlacement,
    tx?: Transaction,
  ): Promise<FillPlan> {
    const { id, ledgerOrder, quote, now } = placement;
    const context = placementContext(request, now);
    const target = { kind: 'new' as const, order: { ...request, id } };
    const scope = { symbol: request.symbol, underlying: request.option?.underlying };
    const asks: Asks = new Map([[instrumentKey(request), quote.ask]]);
    const plan = async (account: LockedAccount) =>
      planFill(
        ledgerOrder,
        quote,
        account,
        await this.planOptions(request.assetClass, now, { account, asks, excluding: id, placing: true }),
      );
    const db = tx ?? this.prisma;
    for (let attempt = 0; attempt < OPTIMISTIC_ATTEMPTS; attempt++) {
      const account = await readLedgerAccount(db, request.accountId, scope, false);
      const planned = await plan(account);
      if (await writePlan(db, target, planned, { ...context, expectedVersion: account.version }))
        return planned;
    }
    const locked = async (inner: Transaction) => {
      const planned = await plan(await this.lockAccount(inner, request.accountId, scope));
      await writePlan(inner, target, planned, context);
      return planned;
    };
    return tx === undefined ? this.prisma.$transaction(locked) : locked(tx);
  }

  /**
   * The plan's options: the session, and the cash the account's working orders other than
   * `excluding` hold. A working market order on another instrument is quoted here when no ask of
   * it is known yet (rare: only buy stops and market buys placed while the market is closed work at
   * the market).
   */
  private async planOptions(
    assetClass: 'equity' | 'option' | 'crypto',
    now: Date,
    decision: { account: LockedAccount; asks: Asks; excluding: string; placing: boolean },
  ): Promise<PlanOptions> {
    const others = decision.account.workingOrders.filter((order) => order.id !== decision.excluding);
    const asks = await asksOf(this.market, others, decision.asks);
    return {
      marketOpen: this.market.session(assetClass, now).open,
      slippageBps: this.slippageBps,
      now,
      today: newYorkDate(now),
      reservedForOrders: reservedForOrders(others, asks, this.slippageBps),
      placing: decision.placing,
    };
  }
}

/** A placement checked and quoted, not yet written. */
interface PreparedPlacement {
  readonly id: string;
  readonly ledgerOrder: LedgerOrder;
  readonly quote: Quote;
  readonly now: Date;
}

function placementContext(request: PlaceOrderRequest, now: Date) {
  return { accountId: request.accountId, symbol: request.symbol, assetClass: request.assetClass, now };
}

/** The broker's answer to a placement, as written. */
function placedOrder(request: PlaceOrderRequest, placement: PreparedPlacement, plan: FillPlan): BrokerOrder {
  const { id, now } = placement;
  return {
    brokerOrderId: id,
    clientOrderId: request.clientOrderId,
    status: plan.status,
    symbol: request.symbol,
    side: request.side,
    orderType: request.orderType,
    quantity: request.quantity,
    notional: request.notional,
    limitPrice: request.limitPrice,
    stopPrice: request.stopPrice,
    filledQuantity: plan.fill?.filledQuantity ?? new Decimal(0),
    averageFillPrice: plan.fill?.averageFillPrice,
    rejectReason: plan.rejectReason,
    fills: plan.fill
      ? [
          {
            id: plan.fill.id,
            quantity: plan.fill.quantity,
            price: plan.fill.price,
            fee: new Decimal(0),
            at: now,
          },
        ]
      : [],
    createdAt: now,
  };
}

/** The contract of an option quote request; undefined for stocks and coins. */
function contractOf(request: QuoteRequest): OptionContract | undefined {
  return request.assetClass === 'option' ? request.contract : undefined;
}

/** A contract for a message, even one that cannot be written as an OCC symbol. */
function occLabel(contract: OptionContract): string {
  try {
    return occSymbol(contract);
  } catch {
    return `${contract.underlying} ${contract.expiry} ${contract.right} ${contract.strike.toFixed()}`;
  }
}

/** `at`'s date in New York, YYYY-MM-DD: the daily loss limit resets at New York midnight. */
export function newYorkDate(at: Date): string {
  return newYorkTime(at).date;
}
