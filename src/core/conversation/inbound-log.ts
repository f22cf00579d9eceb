/**
 * Records an inbound delivery at most once, with its audit event, in one statement: the
 * de-duplication of redelivered webhooks and the audit trail cost a single round trip together.
 */
import { Prisma, type SqlExecutor } from '../db/database.js';
import type { Platform } from '../db/generated/enums.js';

export interface InboundRecord {
  readonly platform: Platform;
  readonly deliveryId: string;
  /** `message.received`, `action.received`. */
  readonly type: string;
  /**
   * Who sent it: the known identity and user, or the platform account to look them up by inside
   * the same statement (so the caller need not wait for its own lookup first).
   */
  readonly actor:
    | { readonly identityId: string | undefined; readonly userId: string | undefined }
    | { readonly lookup: { readonly workspaceId: string; readonly platformUserId: string } };
  readonly data: Record<string, unknown>;
  readonly at: Date;
}

/**
 * Two CTEs, `delivery` and `audit`: the delivery recorded at most once and, only if it is new, its
 * audit event. `audit` has one row (`inserted`) the first time, none for a redelivery. Other
 * statements put them in front of their own query to save a round trip.
 */
export function deliveryCtes(record: InboundRecord): Prisma.Sql {
  const data = JSON.stringify(record.data);
  const audit =
    'lookup' in record.actor
      ? Prisma.sql`
      INSERT INTO audit_events (at, type, "actorKind", "actorId", "userId", data)
      SELECT ${record.at}::timestamp(3), ${record.type}, 'user'::"ActorKind", ci.id::text, ci."userId", ${data}::jsonb
      FROM delivery
      LEFT JOIN channel_identities ci ON ci.platform = ${record.platform}::"Platform"
        AND ci."platformWorkspaceId" = ${record.actor.lookup.workspaceId} AND ci."platformUserId" = ${record.actor.lookup.platformUserId}
      RETURNING 1 AS inserted`
      : Prisma.sql`
      INSERT INTO audit_events (at, type, "actorKind", "actorId", "userId", data)
      SELECT ${record.at}::timestamp(3), ${record.type}, 'user'::"ActorKind", ${record.actor.identityId ?? null},
        ${record.actor.userId ?? null}::uuid, ${data}::jsonb
      FROM delivery
      RETURNING 1 AS inserted`;
  return Prisma.sql`
    delivery AS (
      INSERT INTO processed_deliveries (platform, "deliveryId", "receivedAt")
      VALUES (${record.platform}::"Platform", ${record.deliveryId}, ${record.at})
      ON CONFLICT DO NOTHING
      RETURNING 1
    ), audit AS (${audit})`;
}

/** True the first time a (platform, delivery id) is seen; false for a redelivery (nothing written). */
export async function recordInboundOnce(sql: SqlExecutor, record: InboundRecord): Promise<boolean> {
  const rows = await sql.query<{ inserted: number }>(
    Prisma.sql`WITH ${deliveryCtes(record)} SELECT inserted FROM audit`,
  );
  return rows.length === 1;
}
