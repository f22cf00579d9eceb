/**
 * Records an inbound delivery at most once, with its audit event, in one statement: the
 * de-duplication of redelivered webhooks and the audit trail cost a single round trip together.
 */
import type { PrismaClient } from '../db/database.js';
import type { Platform } from '../db/generated/enums.js';

export interface InboundRecord {
  readonly platform: Platform;
  readonly deliveryId: string;
  /** `message.received`, `action.received`. */
  readonly type: string;
  /** The channel identity, when known. */
  readonly actorId: string | undefined;
  readonly userId: string | undefined;
  readonly data: Record<string, unknown>;
  readonly at: Date;
}

/** True the first time a (platform, delivery id) is seen; false for a redelivery (nothing written). */
export async function recordInboundOnce(prisma: PrismaClient, record: InboundRecord): Promise<boolean> {
  const rows = await prisma.$queryRaw<{ inserted: number }[]>`
    WITH delivery AS (
      INSERT INTO processed_deliveries (platform, "deliveryId", "receivedAt")
      VALUES (${record.platform}::"Platform", ${record.deliveryId}, ${record.at})
      ON CONFLICT DO NOTHING
      RETURNING 1
    )
    INSERT INTO audit_events (at, type, "actorKind", "actorId", "userId", data)
    SELECT ${record.at}, ${record.type}, 'user'::"ActorKind", ${record.actorId ?? null}, ${record.userId ?? null}::uuid,
      ${JSON.stringify(record.data)}::jsonb
    FROM delivery
    RETURNING 1 AS inserted`;
  return rows.length === 1;
}
