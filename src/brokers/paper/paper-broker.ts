/**
 * The built-in paper broker: the default for every user. It behaves like a broker (idempotent
 * client order ids, resting orders, rejections) and keeps a real ledger in its own tables
 * (paper_accounts, paper_positions, paper_orders, paper_fills), separate from our order view.
 *
 * Every change to an account happens in one transaction that first locks the account row, so
 * concurrent orders and fills on one account are applied one after another.
 *
 * Options may be sold to open when covered (cash-secured puts, covered calls; option-cover.ts), and
 * expired contracts are settled by `settleExpirations` (settlement.ts).
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
import type { PrismaClient, SqlExecutor } from '../../core/db/database.js';
import { Prisma } from '../../core/db/database.js';
import { isUniqueViolation } from '../../core/db/errors.js';
import type { AssetClass, OrderStatus } from '../../core/db/generated/enums.js';
import { prismaExecutor } from '../../core/db/sql.js';
import { contractMultiplier } from '../../core/domain/contract-multiplier.js';
import { Decimal, type TimeInForce } from '../../core/domain/values.js';
import {
  type MarketDataProvider,
  type OptionContract,
  type Quote,
  type QuoteRequest,
  UnknownInstrumentError,
} from '../../core/market-data/market-data.js';
import { occSymbol, parseOccSymbol } from '../../core/market-data/providers/options.js';
import { newYorkTime } from '../../core/market-data/providers/us-market-calendar.js';
import { type AccountReadScope, optionUnderlyingJoin, readLedgerAccount } from './account-read.js';
import { expiresAt, intrinsicValue } from './expiry.js';
import { paperTimeInForce } from './fill-model.js';
import {
  type FillPlan,
  type LedgerOrder,
  type LockedAccount,
  OPEN_STATUSES,
  planFill,
  writePlan,
} from './ledger.js';
import { optionRoot, reservedCash, shortOptionsOf } from './option-cover.js';
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

/** The account and one of its positions (all null without positions), as the snapshot reads them. */
interface SnapshotRow {
  cash: string;
  dayRealizedPnl: string;
  dayRealizedPnlDate: string | null;
  symbol: string | null;
  assetClass: AssetClass | null;
  quantity: string | null;
  averageCost: string | null;
  realizedPnl: string | null;
  /** For an option position: its underlying's ticker, as the orders named it. */
  underlying: string | null;
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

  /** One query for the account and its positions; marks come from market data, not the database. */
  async getAccountSnapshot(accountId: string): Promise<AccountSnapshot> {
    // One row per position (or one row with null position columns), numerics as text.
    const rows = await this.sql.query<SnapshotRow>(Prisma.sql`
      SELECT a.cash::text AS cash, a."dayRealizedPnl"::text AS "dayRealizedPnl", a."dayRealizedPnlDate",
        p.symbol, p."assetClass"::text AS "assetClass", p.quantity::text AS quantity,
        p."averageCost"::text AS "averageCost", p."realizedPnl"::text AS "realizedPnl", u.underlying
      FROM paper_accounts a
      LEFT JOIN paper_positions p ON p."paperAccountId" = a.id
      ${optionUnderlyingJoin}
      WHERE a.id = ${accountId}::uuid
      ORDER BY p.symbol`);
    const account = rows[0];
    if (account === undefined) throw new BrokerRejectedError('paper', 'no such paper account');
    const positions: Position[] = await Promise.all(
      rows.flatMap((row) =>
        row.symbol === null || row.assetClass === null || row.quantity === null || row.averageCost === null
          ? []
          : [
              this.positionOf(
                row.symbol,
                row.assetClass,
                row.quantity,
                row.averageCost,
                row.realizedPnl ?? '0',
                row.underlying,
              ),
            ],
      ),
    );
    const cash = dec(account.cash);
    // Short options count at their (negative) market value; unpriced positions count at cost
    // rather than vanishing from equity.
    const positionsValue = positions.reduce(
      (sum, position) =>
        sum.add(
          position.marketValue ??
            position.averageCost.mul(position.quantity).mul(contractMultiplier(position.assetClass)),
        ),
      new Decimal(0),
    );
    const today = newYorkDate(this.clock());
    return {
      positions,
      balances: {
        cash,
        // Cash short puts set aside is not there to spend.
        buyingPower: cash.sub(reservedCash(shortOptionsOf(positions))),
        equity: cash.add(positionsValue),
        realizedPnlToday: account.dayRealizedPnlDate === today ? dec(account.dayRealizedPnl) : new Decimal(0),
        currency: 'USD',
      },
    };
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
    const changed: BrokerOrder[] = [];
    for (const candidate of open) {
      let quote: Quote;
      try {
        quote = await this.market.quote(quoteRequestFor(candidate));
      } catch {
        continue; // No price now: try again on the next pass.
      }
      const result = await this.prisma.$transaction(async (tx) => {
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
          this.planOptions(row.assetClass, now),
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
      });
      if (result !== undefined) changed.push(toBrokerOrder(result));
    }
    return changed;
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

  private async positionOf(
    symbol: string,
    assetClass: AssetClass,
    quantityText: string,
    averageCostText: string,
    realizedPnlText: string,
    underlying: string | null,
  ): Promise<Position> {
    const quantity = dec(quantityText);
    const averageCost = dec(averageCostText);
    const mark = await this.markPrice(assetClass, symbol, underlying);
    const multiplier = contractMultiplier(assetClass);
    return {
      symbol,
      assetClass,
      quantity,
      averageCost,
      marketPrice: mark,
      marketValue: mark?.mul(quantity).mul(multiplier),
      unrealizedPnl: mark?.sub(averageCost).mul(quantity).mul(multiplier),
      realizedPnl: dec(realizedPnlText),
    };
  }

  /** The mid price, per share for options; undefined when there is no price. */
  private async markPrice(
    assetClass: 'equity' | 'option' | 'crypto',
    symbol: string,
    underlying: string | null,
  ): Promise<Decimal | undefined> {
    if (assetClass !== 'option') return this.mid({ assetClass, symbol });
    const parsed = parseOccSymbol(symbol);
    if (parsed === undefined) return undefined;
    const contract = { ...parsed, underlying: underlying ?? parsed.underlying };
    try {
      const quote = await this.market.quote({ assetClass: 'option', contract });
      return quote.bid.add(quote.ask).div(2);
    } catch (error) {
      // An expired contract no longer quotes; until it settles it is worth what exercising is.
      if (!(error instanceof UnknownInstrumentError) || expiresAt(contract) > this.clock()) return undefined;
      try {
        const quote = await this.market.quote({ assetClass: 'equity', symbol: contract.underlying });
        return intrinsicValue(contract, quote.last);
      } catch {
        return undefined;
      }
    }
  }

  private async mid(request: QuoteRequest): Promise<Decimal | undefined> {
    try {
      const quote = await this.market.quote(request);
      return quote.bid.add(quote.ask).div(2);
    } catch {
      return undefined;
    }
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
   * Read, plan, write-if-unchanged: two round trips instead of a locking transaction. If another
   * write to the account gets in between, nothing is written and we plan again on fresh values;
   * after repeated conflicts (a busy account) we take the account lock instead.
   */
  /**
   * Reads the account and writes the plan if nobody changed the account in between (its version);
   * after a few lost races, under the account's lock. `tx`: inside the caller's transaction (a
   * lost race there changes nothing, so the next attempt sees the newer account).
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
    const db = tx ?? this.prisma;
    for (let attempt = 0; attempt < OPTIMISTIC_ATTEMPTS; attempt++) {
      const account = await readLedgerAccount(db, request.accountId, scope, false);
      const plan = planFill(ledgerOrder, quote, account, this.planOptions(request.assetClass, now));
      if (await writePlan(db, target, plan, { ...context, expectedVersion: account.version })) return plan;
    }
    const locked = async (inner: Transaction) => {
      const account = await this.lockAccount(inner, request.accountId, scope);
      const plan = planFill(ledgerOrder, quote, account, this.planOptions(request.assetClass, now));
      await writePlan(inner, target, plan, context);
      return plan;
    };
    return tx === undefined ? this.prisma.$transaction(locked) : locked(tx);
  }

  private planOptions(assetClass: 'equity' | 'option' | 'crypto', now: Date) {
    return {
      marketOpen: this.market.session(assetClass, now).open,
      slippageBps: this.slippageBps,
      now,
      today: newYorkDate(now),
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
