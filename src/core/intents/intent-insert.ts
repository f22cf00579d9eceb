/**
 * The INSERT of a new trade intent, its card number and its `intent.proposed` audit row, as one
 * statement. Every order message writes it, so it is plain SQL (see db/sql.ts) rather than Prisma
 * creates.
 * Column names come from the row object we built, never from input; every value is a parameter
 * whose type PostgreSQL takes from the column it goes into.
 */
import { Prisma } from '../db/database.js';

type IntentRow = Prisma.TradeIntentGetPayload<object>;

/** The Json columns of trade_intents: bound as their JSON text (sql.ts renders Dates and decimals). */
const JSON_COLUMNS = new Set(['riskChecks', 'swap']);

export function insertIntentWithAudit(
  intent: IntentRow,
  audit: { readonly actorId: string; readonly data: Record<string, unknown> },
): Prisma.Sql {
  // Every column comes from the row, createdAt too: it is the injected clock's time (strategies
  // count today's orders by it), never the database's now(). The card number is the database's:
  // the requester's counter, bumped by this very statement (the row lock on the user orders
  // concurrent proposals, and a failed insert takes its bump back with it).
  const entries = Object.entries(intent).filter(([column]) => column !== 'cardNumber');
  const columns = Prisma.join(entries.map(([column]) => Prisma.raw(`"${column}"`)));
  const values = Prisma.join(
    entries.map(([column, value]) =>
      JSON_COLUMNS.has(column) && value !== null ? JSON.stringify(value) : value,
    ),
  );
  return Prisma.sql`
    WITH card AS (
      UPDATE users SET "lastCardNumber" = "lastCardNumber" + 1 WHERE id = ${intent.userId}::uuid
      RETURNING "lastCardNumber" AS number
    ), intent AS (
      INSERT INTO trade_intents (${columns}, "cardNumber") VALUES (${values}, (SELECT number FROM card))
      RETURNING id, "userId", "cardNumber"
    ), audit AS (
      INSERT INTO audit_events (type, "actorKind", "actorId", "userId", "intentId", data)
      SELECT 'intent.proposed', 'user'::"ActorKind", ${audit.actorId}, intent."userId", intent.id,
        ${JSON.stringify(audit.data)}::jsonb
      FROM intent
    )
    SELECT "cardNumber" FROM intent`;
}
