/**
 * What the database holds after a fault test, read directly (never through Arbion): every trade
 * intent with its order rows, fills and the paper broker's own orders and fills for its client
 * order id, and the inbox rows left unfinished. Embedded databases are opened with PGlite once
 * the process that owned them has stopped; server databases with pg.
 */
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';

/** One intent and everything placed for it. */
export interface IntentLedger {
  readonly id: string;
  readonly status: string;
  readonly statusReason: string | null;
  readonly chatId: string;
  readonly cardMessageId: string | null;
  readonly requestMessageId: string | null;
  readonly tellPending: boolean;
  readonly toldStatus: string | null;
  /** Order rows (our view of what was sent). */
  readonly orders: number;
  /** Fill rows of those orders. */
  readonly fills: number;
  /** The paper broker's own orders under the intent's client order id. */
  readonly paperOrders: number;
  /** The paper broker's fills of those orders. */
  readonly paperFills: number;
  /** Filled quantity on the paper ledger, as text. */
  readonly paperFilledQuantity: string;
}

export interface Ledger {
  readonly intents: IntentLedger[];
  /** Inbox rows never marked handled. */
  readonly unfinishedInbox: { id: string; deliveryId: string; attempts: number }[];
  /** Inbox rows by attempts (1 = handled by the process that recorded it). */
  readonly inboxAttempts: Record<string, number>;
}

const INTENTS_SQL = `
  SELECT i.id::text AS id, i.status::text AS status, i."statusReason" AS "statusReason",
    i."chatId" AS "chatId", i."cardMessageId" AS "cardMessageId",
    i."requestMessageId" AS "requestMessageId", i."tellPending" AS "tellPending",
    i."toldStatus"::text AS "toldStatus",
    (SELECT count(*) FROM orders o WHERE o."intentId" = i.id)::int AS orders,
    (SELECT count(*) FROM fills f JOIN orders o ON o.id = f."orderId" WHERE o."intentId" = i.id)::int AS fills,
    (SELECT count(*) FROM paper_orders p WHERE p."clientOrderId" = i."clientOrderId")::int AS "paperOrders",
    (SELECT count(*) FROM paper_fills pf JOIN paper_orders p ON p.id = pf."paperOrderId"
      WHERE p."clientOrderId" = i."clientOrderId")::int AS "paperFills",
    COALESCE((SELECT sum(pf.quantity) FROM paper_fills pf JOIN paper_orders p ON p.id = pf."paperOrderId"
      WHERE p."clientOrderId" = i."clientOrderId"), 0)::text AS "paperFilledQuantity"
  FROM trade_intents i ORDER BY i."createdAt", i.id`;

const UNFINISHED_SQL = `
  SELECT id::text AS id, "deliveryId" AS "deliveryId", attempts FROM inbound_events
  WHERE "handledAt" IS NULL ORDER BY id`;

const ATTEMPTS_SQL = `SELECT attempts::text AS attempts, count(*)::int AS count FROM inbound_events GROUP BY attempts`;

type Query = <T>(sql: string) => Promise<T[]>;

async function readWith(query: Query): Promise<Ledger> {
  const intents = await query<IntentLedger>(INTENTS_SQL);
  const unfinishedInbox = await query<{ id: string; deliveryId: string; attempts: number }>(UNFINISHED_SQL);
  const attempts = await query<{ attempts: string; count: number }>(ATTEMPTS_SQL);
  return {
    intents,
    unfinishedInbox,
    inboxAttempts: Object.fromEntries(attempts.map((row) => [row.attempts, row.count])),
  };
}

/** Reads an embedded database's directory (ARBION_DATA_DIR/postgres); its process must have stopped. */
export async function readEmbeddedLedger(directory: string): Promise<Ledger> {
  const db = await PGlite.create(directory);
  try {
    return await readWith(async <T>(sql: string) => (await db.query<T>(sql)).rows);
  } finally {
    await db.close();
  }
}

/** Reads a server database by its connection string. */
export async function readServerLedger(url: string): Promise<Ledger> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    return await readWith(async <T>(sql: string) => (await client.query(sql)).rows as T[]);
  } finally {
    await client.end();
  }
}

/** Reads either kind: a postgres:// URL, or an embedded directory. */
export function readLedger(location: string): Promise<Ledger> {
  return /^postgres(ql)?:\/\//.test(location) ? readServerLedger(location) : readEmbeddedLedger(location);
}
