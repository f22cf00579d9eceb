/**
 * Reads a paper account as the ledger decides on it: the account row, the position in the order's
 * symbol, the position in an option's underlying, every short option and every working order (what
 * they tie up). One statement, so all of it comes from one snapshot.
 */
import { z } from 'zod';
import { BrokerRejectedError } from '../../core/brokers/broker.js';
import { Prisma, type PrismaClient } from '../../core/db/database.js';
import { Decimal } from '../../core/domain/values.js';
import type { HeldPosition, LockedAccount } from './ledger.js';
import { shortOptionsOf } from './option-cover.js';
import { parseWorkingOrders, workingOrdersColumn } from './reservations.js';

/** The positions a decision needs besides the account row. */
export interface AccountReadScope {
  /** The order's symbol (ticker, or OCC symbol). */
  readonly symbol: string;
  /** For an option order: its underlying's ticker. */
  readonly underlying: string | undefined;
}

interface AccountRow {
  id: string;
  version: number;
  cash: string;
  dayRealizedPnl: string;
  dayRealizedPnlDate: string | null;
  positionQuantity: string | null;
  positionAverageCost: string | null;
  underlyingQuantity: string | null;
  underlyingAverageCost: string | null;
  /** JSON: [[symbol, quantity], ...] of the short options. */
  shorts: string;
  /** JSON: the working orders (see reservations.ts). */
  working: string;
}

const shortsSchema = z.array(z.tuple([z.string(), z.string()]));

/**
 * Where a position's option contract came from: the underlying's ticker as the latest order on it
 * named it (an OCC root drops punctuation: "BRKB" for "BRK.B"). Joins as `u(underlying)` onto a
 * query with `p` for paper_positions; null for stocks and coins.
 */
export const optionUnderlyingJoin = Prisma.sql`LEFT JOIN LATERAL (
    SELECT o."optionUnderlying" AS underlying FROM paper_orders o
    WHERE p."assetClass" = 'option' AND o."paperAccountId" = p."paperAccountId" AND o."assetClass" = 'option'
      AND o."optionUnderlying" IS NOT NULL AND replace(o.symbol, ' ', '') = replace(p.symbol, ' ', '')
    ORDER BY o."createdAt" DESC LIMIT 1) u ON true`;

/**
 * Reads the account for a decision. With `lock`, the account row is locked for the transaction
 * first; without, the returned version guards the write that follows.
 * @throws BrokerRejectedError when there is no such account
 */
export async function readLedgerAccount(
  db: Prisma.TransactionClient | PrismaClient,
  accountId: string,
  scope: AccountReadScope,
  lock: boolean,
): Promise<LockedAccount> {
  if (lock) {
    // FOR UPDATE re-reads the locked row after waiting, but joined rows would still come from the
    // statement's older snapshot: lock first, then read everything in a new statement.
    await db.$queryRaw`SELECT id::text AS id FROM paper_accounts WHERE id = ${accountId}::uuid FOR UPDATE`;
  }
  const rows = await db.$queryRaw<AccountRow[]>`
    SELECT a.id::text AS id, a.version, a.cash::text AS cash, a."dayRealizedPnl"::text AS "dayRealizedPnl",
      a."dayRealizedPnlDate", p.quantity::text AS "positionQuantity", p."averageCost"::text AS "positionAverageCost",
      u.quantity::text AS "underlyingQuantity", u."averageCost"::text AS "underlyingAverageCost",
      (SELECT COALESCE(json_agg(json_build_array(s.symbol, s.quantity::text)), '[]'::json)::text
        FROM paper_positions s
        WHERE s."paperAccountId" = a.id AND s."assetClass" = 'option' AND s.quantity < 0) AS shorts,
      ${workingOrdersColumn} AS working
    FROM paper_accounts a
    LEFT JOIN paper_positions p ON p."paperAccountId" = a.id AND p.symbol = ${scope.symbol}
    LEFT JOIN paper_positions u ON u."paperAccountId" = a.id AND u.symbol = ${scope.underlying ?? ''}
    WHERE a.id = ${accountId}::uuid`;
  const row = rows[0];
  if (row === undefined) throw new BrokerRejectedError('paper', 'no such paper account');
  const shorts = shortsSchema.parse(JSON.parse(row.shorts)).map(([symbol, quantity]) => ({
    symbol,
    assetClass: 'option',
    quantity: new Decimal(quantity),
  }));
  return {
    id: row.id,
    version: Number(row.version),
    cash: new Decimal(row.cash),
    dayRealizedPnl: new Decimal(row.dayRealizedPnl),
    dayRealizedPnlDate: row.dayRealizedPnlDate,
    position: heldPosition(row.positionQuantity, row.positionAverageCost),
    underlyingPosition: heldPosition(row.underlyingQuantity, row.underlyingAverageCost),
    shortOptions: shortOptionsOf(shorts),
    workingOrders: parseWorkingOrders(row.working),
  };
}

function heldPosition(quantity: string | null, averageCost: string | null): HeldPosition | undefined {
  return quantity === null || averageCost === null
    ? undefined
    : { quantity: new Decimal(quantity), averageCost: new Decimal(averageCost) };
}
