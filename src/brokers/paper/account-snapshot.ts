/**
 * A paper account as the risk checks and the balance answer see it: cash, what is set aside (short
 * puts' collateral and working orders' reservations), the buying power left, equity and positions
 * marked at the market. One statement reads the account, its positions and its working orders.
 */
import type { AccountSnapshot, Position } from '../../core/brokers/broker.js';
import { BrokerRejectedError } from '../../core/brokers/broker.js';
import { Prisma, type SqlExecutor } from '../../core/db/database.js';
import type { AssetClass } from '../../core/db/generated/enums.js';
import { contractMultiplier } from '../../core/domain/contract-multiplier.js';
import { Decimal } from '../../core/domain/values.js';
import {
  type MarketDataProvider,
  type QuoteRequest,
  UnknownInstrumentError,
} from '../../core/market-data/market-data.js';
import { parseOccSymbol } from '../../core/market-data/providers/options.js';
import { newYorkTime } from '../../core/market-data/providers/us-market-calendar.js';
import { optionUnderlyingJoin } from './account-read.js';
import { expiresAt, intrinsicValue } from './expiry.js';
import { reservedCash, shortOptionsOf } from './option-cover.js';
import {
  type Asks,
  instrumentKey,
  parseWorkingOrders,
  quoteRequestOf,
  reservedForOrders,
  reservesAtMarket,
  type WorkingOrder,
  workingOrdersColumn,
} from './reservations.js';

/** What reading a snapshot needs. */
export interface SnapshotSources {
  readonly sql: SqlExecutor;
  readonly market: MarketDataProvider;
  readonly clock: () => Date;
  readonly slippageBps: number;
}

/** The account and one of its positions (all null without positions), as the snapshot reads them. */
interface SnapshotRow {
  cash: string;
  dayRealizedPnl: string;
  dayRealizedPnlDate: string | null;
  /** JSON: the working orders (reservations.ts), the same on every row. */
  working: string;
  symbol: string | null;
  assetClass: AssetClass | null;
  quantity: string | null;
  averageCost: string | null;
  realizedPnl: string | null;
  /** For an option position: its underlying's ticker, as the orders named it. */
  underlying: string | null;
}

/**
 * One query for the account, its positions and its working orders; marks and the asks of working
 * market orders come from market data, not the database.
 * @throws BrokerRejectedError when there is no such account
 * @throws UnpricedReservationError when a working market buy has no price: buying power is unknown
 */
export async function readAccountSnapshot(
  sources: SnapshotSources,
  accountId: string,
): Promise<AccountSnapshot> {
  // One row per position (or one row with null position columns), numerics as text.
  const rows = await sources.sql.query<SnapshotRow>(Prisma.sql`
    SELECT a.cash::text AS cash, a."dayRealizedPnl"::text AS "dayRealizedPnl", a."dayRealizedPnlDate",
      ${workingOrdersColumn} AS working,
      p.symbol, p."assetClass"::text AS "assetClass", p.quantity::text AS quantity,
      p."averageCost"::text AS "averageCost", p."realizedPnl"::text AS "realizedPnl", u.underlying
    FROM paper_accounts a
    LEFT JOIN paper_positions p ON p."paperAccountId" = a.id
    ${optionUnderlyingJoin}
    WHERE a.id = ${accountId}::uuid
    ORDER BY p.symbol`);
  const account = rows[0];
  if (account === undefined) throw new BrokerRejectedError('paper', 'no such paper account');
  const working = parseWorkingOrders(account.working);
  const [positions, asks] = await Promise.all([
    Promise.all(
      rows.flatMap((row) =>
        row.symbol === null || row.assetClass === null || row.quantity === null || row.averageCost === null
          ? []
          : [positionOf(sources, { ...row, symbol: row.symbol, assetClass: row.assetClass })],
      ),
    ),
    asksOf(sources.market, working, new Map()),
  ]);
  const cash = new Decimal(account.cash);
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
  // Cash short puts and working orders set aside is not there to spend.
  const reserved = reservedCash(shortOptionsOf(positions)).add(
    reservedForOrders(working, asks, sources.slippageBps),
  );
  const today = newYorkTime(sources.clock()).date;
  return {
    positions,
    balances: {
      cash,
      buyingPower: Decimal.max(cash.sub(reserved), 0),
      reserved,
      netsWorkingOrders: true,
      equity: cash.add(positionsValue),
      realizedPnlToday:
        account.dayRealizedPnlDate === today ? new Decimal(account.dayRealizedPnl) : new Decimal(0),
      currency: 'USD',
    },
  };
}

/**
 * `known` and the asks of the instruments `orders` reserve at the market that it lacks. An
 * instrument with no price now is left out (its order's reservation then fails closed).
 */
export async function asksOf(
  market: Pick<MarketDataProvider, 'quote'>,
  orders: readonly WorkingOrder[],
  known: Asks,
): Promise<Asks> {
  const missing = new Map<string, QuoteRequest>();
  for (const order of orders) {
    const key = instrumentKey(order);
    if (reservesAtMarket(order) && !known.has(key)) missing.set(key, quoteRequestOf(order));
  }
  if (missing.size === 0) return known;
  const quoted = await Promise.all(
    [...missing].map(([key, request]) =>
      market.quote(request).then(
        (quote) => [key, quote.ask] as const,
        () => undefined,
      ),
    ),
  );
  return new Map([...known, ...quoted.filter((entry) => entry !== undefined)]);
}

async function positionOf(
  sources: SnapshotSources,
  row: SnapshotRow & { symbol: string; assetClass: AssetClass },
): Promise<Position> {
  const quantity = new Decimal(row.quantity ?? '0');
  const averageCost = new Decimal(row.averageCost ?? '0');
  const mark = await markPrice(sources, row.assetClass, row.symbol, row.underlying);
  const multiplier = contractMultiplier(row.assetClass);
  return {
    symbol: row.symbol,
    assetClass: row.assetClass,
    quantity,
    averageCost,
    marketPrice: mark,
    marketValue: mark?.mul(quantity).mul(multiplier),
    unrealizedPnl: mark?.sub(averageCost).mul(quantity).mul(multiplier),
    realizedPnl: new Decimal(row.realizedPnl ?? '0'),
  };
}

/** The mid price, per share for options; undefined when there is no price. */
async function markPrice(
  sources: SnapshotSources,
  assetClass: AssetClass,
  symbol: string,
  underlying: string | null,
): Promise<Decimal | undefined> {
  if (assetClass !== 'option') return mid(sources.market, { assetClass, symbol });
  const parsed = parseOccSymbol(symbol);
  if (parsed === undefined) return undefined;
  const contract = { ...parsed, underlying: underlying ?? parsed.underlying };
  try {
    const quote = await sources.market.quote({ assetClass: 'option', contract });
    return quote.bid.add(quote.ask).div(2);
  } catch (error) {
    // An expired contract no longer quotes; until it settles it is worth what exercising is.
    if (!(error instanceof UnknownInstrumentError) || expiresAt(contract) > sources.clock()) return undefined;
    try {
      const quote = await sources.market.quote({ assetClass: 'equity', symbol: contract.underlying });
      return intrinsicValue(contract, quote.last);
    } catch {
      return undefined;
    }
  }
}

async function mid(market: MarketDataProvider, request: QuoteRequest): Promise<Decimal | undefined> {
  try {
    const quote = await market.quote(request);
    return quote.bid.add(quote.ask).div(2);
  } catch {
    return undefined;
  }
}
