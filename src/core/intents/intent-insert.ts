/**
 * The INSERT of a new trade intent and its `intent.proposed` audit row, as one statement. Every
 * order message writes it, so it is plain SQL (see db/sql.ts) rather than two Prisma creates.
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
  // count today's orders by it), never the database's now().
  const entries = Object.entries(intent);
  const columns = Prisma.join(entries.map(([column]) => Prisma.raw(`"${column}"`)));
  const values = Prisma.join(
    entries.map(([column, value]) =>
      JSON_COLUMNS.has(column) && value !== null ? JSON.stringify(value) : value,
    ),
  );
  return Prisma.sql`
    WITH intent AS (
      INSERT INTO trade_intents (${columns}) VALUES (${values})
      RETURNING id, "userId"
    )
    INSERT INTO audit_events (type, "actorKind", "actorId", "userId", "intentId", data)
    SELECT 'intent.proposed', 'user'::"ActorKind", ${audit.actorId}, intent."userId", intent.id,
      ${JSON.stringify(audit.data)}::jsonb
    FROM intent`;
}
