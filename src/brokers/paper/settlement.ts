/**
 * Settles paper option positions whose contracts have expired (expiry.ts decides how), and expires
 * the orders still working on such contracts.
 *
 * Safe to run again and from several processes at once: each position settles in its own
 * transaction that locks the account and re-reads the position first, so a position another pass
 * settled is gone and is skipped. Every settlement bumps the account's version, so an optimistic
 * placement that read the account before it plans again.
 *
 * Each leg is recorded as a filled paper order whose client order id says why: "assigned:…",
 * "assigned-shares:…", "called_away:…", "exercised:…", "expired:…", "cash_settled:…" followed by the
 * OCC symbol without spaces. A contract settles once per account, so the ids never repeat.
 */
import { Prisma, type PrismaClient } from '../../core/db/database.js';
import type { AssetClass } from '../../core/db/generated/enums.js';
import { Decimal } from '../../core/domain/values.js';
import type { MarketDataProvider, OptionContract } from '../../core/market-data/market-data.js';
import { parseOccSymbol } from '../../core/market-data/providers/options.js';
import { newYorkTime } from '../../core/market-data/providers/us-market-calendar.js';
import { optionUnderlyingJoin, readLedgerAccount } from './account-read.js';
import { expiresAt, planSettlement, type SettlementLeg, type SettlementOutcome } from './expiry.js';
import { OPEN_STATUSES, positionChangeOf, type TradeResult } from './ledger.js';
import { lockedShares, reservedCash } from './option-cover.js';

/** What happened to one option position at expiry, for telling its owner. */
export interface SettlementEvent {
  /** The paper account (BrokerAccount.externalId). */
  readonly accountId: string;
  /** The account's owner. */
  readonly userId: string;
  /** The position's OCC symbol. */
  readonly symbol: string;
  readonly contract: OptionContract;
  readonly outcome: SettlementOutcome;
  /** The contracts that settled: negative when they were short. */
  readonly contracts: Decimal;
  /** Shares that moved: positive when bought, negative when delivered, 0 when none moved. */
  readonly shares: Decimal;
  /**
   * Per share: the strike when shares moved; otherwise what the option closed at (0 when it
   * expired, its intrinsic value when cash-settled).
   */
  readonly price: Decimal;
  /** The underlying's price the settlement was decided at. */
  readonly underlyingPrice: Decimal;
  /** Signed change of the account's cash. */
  readonly cashChange: Decimal;
  /** P&L the settlement realized (the premium kept or lost, and any shares sold). */
  readonly realizedPnl: Decimal;
}

export interface SettlementDependencies {
  readonly prisma: PrismaClient;
  readonly market: MarketDataProvider;
  /** The ledger's clock: when settlements are recorded. */
  readonly clock: () => Date;
}

/** An option position found expired, before its account is locked. */
interface Candidate {
  readonly accountId: string;
  readonly userId: string;
  readonly symbol: string;
  readonly contract: OptionContract;
}

interface CandidateRow {
  accountId: string;
  userId: string;
  symbol: string;
  underlying: string | null;
}

/**
 * Told each settlement inside the transaction that makes it (to write the notice telling it there,
 * so the two commit together); a throw rolls the settlement back.
 */
export type SettlementListener = (tx: Prisma.TransactionClient, event: SettlementEvent) => Promise<void>;

/**
 * Settles every option position whose contract expired at or before `at`, and expires the orders
 * still open on such contracts. Positions whose underlying has no price now stay for the next pass.
 * Returns the settlements this call made (none for positions another pass settled).
 */
export async function settleExpirations(
  deps: SettlementDependencies,
  at: Date,
  onSettled?: SettlementListener,
): Promise<SettlementEvent[]> {
  await expireOpenOrders(deps, at);
  const prices = new Map<string, Promise<Decimal | undefined>>();
  const events: SettlementEvent[] = [];
  for (const candidate of await expiredPositions(deps.prisma, at)) {
    const ticker = candidate.contract.underlying;
    let price = prices.get(ticker);
    if (price === undefined) {
      // The simulated market refuses to quote an expired contract: it settles on its underlying.
      price = deps.market.quote({ assetClass: 'equity', symbol: ticker }).then(
        (quote) => quote.last,
        () => undefined,
      );
      prices.set(ticker, price);
    }
    const underlyingPrice = await price;
    if (underlyingPrice === undefined) continue;
    const event = await settlePosition(deps, candidate, underlyingPrice, onSettled);
    if (event !== undefined) events.push(event);
  }
  return events;
}

/** Option positions past expiry, shorts first: obligations settle before rights that use their shares. */
async function expiredPositions(prisma: PrismaClient, at: Date): Promise<Candidate[]> {
  const rows = await prisma.$queryRaw<CandidateRow[]>(Prisma.sql`
    SELECT p."paperAccountId"::text AS "accountId", c."userId"::text AS "userId", p.symbol, u.underlying
    FROM paper_positions p
    JOIN paper_accounts a ON a.id = p."paperAccountId"
    JOIN broker_accounts b ON b.id = a."brokerAccountId"
    JOIN broker_connections c ON c.id = b."connectionId"
    ${optionUnderlyingJoin}
    WHERE p."assetClass" = 'option'
    ORDER BY p.quantity, p."paperAccountId", p.symbol`);
  return rows.flatMap((row) => {
    const parsed = parseOccSymbol(row.symbol);
    if (parsed === undefined || expiresAt(parsed) > at) return [];
    const contract = { ...parsed, underlying: row.underlying ?? parsed.underlying };
    return [{ accountId: row.accountId, userId: row.userId, symbol: row.symbol, contract }];
  });
}

/** Settles one position under its account's lock; undefined when it is already gone. */
async function settlePosition(
  deps: SettlementDependencies,
  candidate: Candidate,
  underlyingPrice: Decimal,
  onSettled: SettlementListener | undefined,
): Promise<SettlementEvent | undefined> {
  const { accountId, symbol, contract } = candidate;
  return deps.prisma.$transaction(async (tx) => {
    const account = await readLedgerAccount(tx, accountId, { symbol, underlying: contract.underlying }, true);
    const option = account.position;
    if (option === undefined || option.quantity.isZero()) return undefined;
    const others = account.shortOptions.filter((short) => short.symbol !== symbol);
    const plan = planSettlement({
      contract,
      option,
      underlyingPrice,
      shares: account.underlyingPosition,
      buyingPower: account.cash.sub(reservedCash(others)),
      sharesLockedByOthers: lockedShares(others, contract.underlying),
    });

    const now = deps.clock();
    const today = newYorkTime(now).date;
    const dayBase = account.dayRealizedPnlDate === today ? account.dayRealizedPnl : new Decimal(0);
    await tx.$executeRaw`UPDATE paper_accounts SET version = version + 1, cash = cash + ${plan.cashChange.toFixed()}::numeric,
      "realizedPnl" = "realizedPnl" + ${plan.realized.toFixed()}::numeric,
      "dayRealizedPnl" = ${dayBase.add(plan.realized).toFixed()}::numeric, "dayRealizedPnlDate" = ${today},
      "updatedAt" = ${now}
      WHERE id = ${accountId}::uuid`;
    const key = symbol.replace(/\s+/g, '');
    await recordLeg(tx, {
      accountId,
      clientOrderId: `${plan.outcome}:${key}`,
      symbol,
      contract,
      leg: plan.option,
      now,
    });
    await writePosition(tx, accountId, symbol, 'option', plan.option.result, now);
    if (plan.shares !== undefined) {
      const ticker = contract.underlying;
      const clientOrderId = `${plan.outcome}-shares:${key}`;
      await recordLeg(tx, {
        accountId,
        clientOrderId,
        symbol: ticker,
        contract: undefined,
        leg: plan.shares,
        now,
      });
      await writePosition(tx, accountId, ticker, 'equity', plan.shares.result, now);
    }
    const event: SettlementEvent = {
      accountId,
      userId: candidate.userId,
      symbol,
      contract,
      outcome: plan.outcome,
      contracts: option.quantity,
      shares:
        plan.shares === undefined
          ? new Decimal(0)
          : plan.shares.side === 'buy'
            ? plan.shares.quantity
            : plan.shares.quantity.negated(),
      price: (plan.shares ?? plan.option).price,
      underlyingPrice,
      cashChange: plan.cashChange,
      realizedPnl: plan.realized,
    };
    await onSettled?.(tx, event);
    return event;
  });
}

/** One settlement leg to record: the option leg carries its contract, the shares leg none. */
interface LegRecord {
  readonly accountId: string;
  readonly clientOrderId: string;
  readonly symbol: string;
  readonly contract: OptionContract | undefined;
  readonly leg: SettlementLeg;
  readonly now: Date;
}

/** Records one leg as a filled paper order with its fill. */
async function recordLeg(tx: Prisma.TransactionClient, record: LegRecord): Promise<void> {
  const { contract, leg, now } = record;
  await tx.paperOrder.create({
    data: {
      paperAccountId: record.accountId,
      clientOrderId: record.clientOrderId,
      status: 'filled',
      side: leg.side,
      assetClass: contract === undefined ? 'equity' : 'option',
      symbol: record.symbol,
      quantity: leg.quantity.toFixed(),
      orderType: 'market',
      timeInForce: 'day',
      optionUnderlying: contract?.underlying ?? null,
      optionExpiry: contract?.expiry ?? null,
      optionRight: contract?.right ?? null,
      optionStrike: contract?.strike.toFixed() ?? null,
      filledQuantity: leg.quantity.toFixed(),
      averageFillPrice: leg.price.toFixed(),
      createdAt: now,
      fills: {
        create: {
          quantity: leg.quantity.toFixed(),
          price: leg.price.toFixed(),
          realizedPnl: leg.result.realized.toFixed(),
          filledAt: now,
        },
      },
    },
  });
}

/** Writes a position after a settlement leg: removed when flat. */
async function writePosition(
  tx: Prisma.TransactionClient,
  accountId: string,
  symbol: string,
  assetClass: AssetClass,
  result: TradeResult,
  now: Date,
): Promise<void> {
  const change = positionChangeOf(result);
  if (change.kind === 'close') {
    await tx.paperPosition.deleteMany({ where: { paperAccountId: accountId, symbol } });
    return;
  }
  await tx.paperPosition.upsert({
    where: { paperAccountId_symbol: { paperAccountId: accountId, symbol } },
    create: {
      paperAccountId: accountId,
      symbol,
      assetClass,
      quantity: change.quantity.toFixed(),
      averageCost: change.averageCost.toFixed(),
      realizedPnl: change.realized.toFixed(),
      updatedAt: now,
    },
    update: {
      quantity: change.quantity.toFixed(),
      averageCost: change.averageCost.toFixed(),
      realizedPnl: { increment: change.realized.toFixed() },
      updatedAt: now,
    },
  });
}

/** Orders still working on contracts that expired at or before `at` expire with them. */
async function expireOpenOrders(deps: SettlementDependencies, at: Date): Promise<void> {
  const open = await deps.prisma.paperOrder.findMany({
    where: {
      assetClass: 'option',
      status: { in: [...OPEN_STATUSES] },
      optionExpiry: { lte: newYorkTime(at).date },
    },
    select: { id: true, paperAccountId: true, optionExpiry: true },
  });
  for (const order of open) {
    if (order.optionExpiry === null || expiresAt({ expiry: order.optionExpiry }) > at) continue;
    await deps.prisma.$transaction(async (tx) => {
      // Under the account's lock, like every ledger write: a fill being written now wins.
      await readLedgerAccount(tx, order.paperAccountId, { symbol: '', underlying: undefined }, true);
      await tx.paperOrder.updateMany({
        where: { id: order.id, status: { in: [...OPEN_STATUSES] } },
        data: { status: 'expired' },
      });
    });
  }
}
