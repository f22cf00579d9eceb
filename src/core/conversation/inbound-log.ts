/**
 * The audit event of an inbound message, as a CTE other statements put in front of their own
 * query (the trader lookup): the audit trail costs no round trip of its own. De-duplication of
 * redeliveries happened before, when the inbox recorded the delivery (inbox.ts).
 */
import { Prisma, type SqlExecutor } from '../db/database.js';
import type { Platform } from '../db/generated/enums.js';

export interface InboundRecord {
  readonly platform: Platform;
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
 * One CTE, `audit`: the message's audit event, with one row (`inserted`). Built on the sender's
 * identity when it is known, or looked up by platform account inside the same statement.
 */
export function receivedAuditCte(record: InboundRecord): Prisma.Sql {
  const data = JSON.stringify(record.data);
  const audit =
    'lookup' in record.actor
      ? Prisma.sql`
      INSERT INTO audit_events (at, type, "actorKind", "actorId", "userId", data)
      SELECT ${record.at}::timestamp(3), ${record.type}, 'user'::"ActorKind", ci.id::text, ci."userId", ${data}::jsonb
      FROM (SELECT 1) AS one
      LEFT JOIN channel_identities ci ON ci.platform = ${record.platform}::"Platform"
        AND ci."platformWorkspaceId" = ${record.actor.lookup.workspaceId} AND ci."platformUserId" = ${record.actor.lookup.platformUserId}
      RETURNING 1 AS inserted`
      : Prisma.sql`
      INSERT INTO audit_events (at, type, "actorKind", "actorId", "userId", data)
      VALUES (${record.at}::timestamp(3), ${record.type}, 'user'::"ActorKind", ${record.actor.identityId ?? null},
        ${record.actor.userId ?? null}::uuid, ${data}::jsonb)
      RETURNING 1 AS inserted`;
  return Prisma.sql`audit AS (${audit})`;
}

/** Writes the audit event of an inbound message on its own (button presses). */
export async function recordReceived(sql: SqlExecutor, record: InboundRecord): Promise<void> {
  await sql.query(Prisma.sql`WITH ${receivedAuditCte(record)} SELECT inserted FROM audit`);
}
