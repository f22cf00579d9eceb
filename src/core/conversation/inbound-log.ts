/**
 * Records an inbound delivery at most once, with its audit event, in one statement: the
 * de-duplication of redelivered webhooks and the audit trail cost a single round trip together.
 */
import { Prisma, type PrismaClient } from '../db/database.js';
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

/** True the first time a (platform, delivery id) is seen; false for a redelivery (nothing written). */
export async function recordInboundOnce(prisma: PrismaClient, record: InboundRecord): Promise<boolean> {
  const delivery = Prisma.sql`
    WITH delivery AS (
      INSERT INTO processed_deliveries (platform, "deliveryId", "receivedAt")
      VALUES (${record.platform}::"Platform", ${record.deliveryId}, ${record.at})
      ON CONFLICT DO NOTHING
      RETURNING 1
    )`;
  const data = JSON.stringify(record.data);
  const insert =
    'lookup' in record.actor
      ? Prisma.sql`
    INSERT INTO audit_events (at, type, "actorKind", "actorId", "userId", data)
    SELECT ${record.at}, ${record.type}, 'user'::"ActorKind", ci.id::text, ci."userId", ${data}::jsonb
    FROM delivery
    LEFT JOIN channel_identities ci ON ci.platform = ${record.platform}::"Platform"
      AND ci."platformWorkspaceId" = ${record.actor.lookup.workspaceId} AND ci."platformUserId" = ${record.actor.lookup.platformUserId}
    RETURNING 1 AS inserted`
      : Prisma.sql`
    INSERT INTO audit_events (at, type, "actorKind", "actorId", "userId", data)
    SELECT ${record.at}, ${record.type}, 'user'::"ActorKind", ${record.actor.identityId ?? null}, ${record.actor.userId ?? null}::uuid,
      ${data}::jsonb
    FROM delivery
    RETURNING 1 AS inserted`;
  const rows = await prisma.$queryRaw<{ inserted: number }[]>(Prisma.sql`${delivery} ${insert}`);
  return rows.length === 1;
}
