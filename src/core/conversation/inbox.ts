/**
 * The inbox: every inbound delivery is written here before its platform is answered, and handled
 * from here. The write is the de-duplication (a redelivery meets the unique platform + delivery
 * id and changes nothing); a row without `handledAt` is unfinished and is handled again after a
 * restart. One statement per message on the way in, and the handled marks of many messages share
 * one statement on the way out.
 */
import { z } from 'zod';
import { Prisma, type SqlExecutor } from '../db/database.js';
import type { InboundMessage } from '../messages.js';

/** What a sender is told when their message could not even be recorded: nothing was done. */
export const INBOX_UNAVAILABLE_TEXT = 'Arbion is having trouble; nothing was done, try again in a minute.';

/**
 * The inbox could not record a delivery (the database is unreachable). Nothing was done with it:
 * the adapter makes the platform redeliver (a non-2xx answer, an offset not advanced) or tells
 * the sender `INBOX_UNAVAILABLE_TEXT`.
 */
export class InboxUnavailableError extends Error {
  override readonly name = 'InboxUnavailableError';
  constructor(cause: unknown) {
    super(
      `the inbox could not record the delivery: ${cause instanceof Error ? cause.message : String(cause)}`,
      { cause },
    );
  }
}

/**
 * The inbox row of the message being handled. The statement that completes the handling (the
 * card's id, the told mark of a press) may finish the row in passing (`finishInboxCte`) and set
 * `finished`; the queue then skips its own handled mark: one statement fewer per message.
 */
export interface InboxTicket {
  readonly id: string;
  finished: boolean;
  /**
   * An earlier attempt at this message may have done part of its work (a crash, an outage
   * mid-handling): handling looks for what it left before doing it again.
   */
  replayed: boolean;
}

/**
 * A CTE that marks the ticket's row handled, for the completing statement to put in front of
 * itself; undefined when there is no ticket or it is finished already.
 */
export function finishInboxCte(ticket: InboxTicket | undefined, at: Date): Prisma.Sql | undefined {
  if (ticket === undefined || ticket.finished) return undefined;
  return Prisma.sql`finished AS (
    UPDATE inbound_events SET "handledAt" = ${at}::timestamp(3)
    WHERE id = ${ticket.id}::bigint AND "handledAt" IS NULL
  )`;
}

/** An unfinished delivery read back for handling after a restart. */
export interface InboxEntry {
  readonly id: string;
  readonly message: InboundMessage;
  /** Handling attempts started before this one. */
  readonly attempts: number;
}

/** One key per chat: a chat's deliveries are handled in order, one at a time. */
export function chatKeyOf(message: InboundMessage): string {
  const { platform, workspaceId, chatId } = message.address;
  // Unit separators: PostgreSQL text cannot hold NUL.
  return `${platform}\u001f${workspaceId}\u001f${chatId}`;
}

const addressSchema = z.object({
  platform: z.enum(['telegram', 'slack', 'discord', 'console']),
  workspaceId: z.string(),
  chatId: z.string(),
  threadId: z.string().optional(),
  // The reply handle is adapter memory (an interaction token): a replay goes without it.
});
const baseSchema = z.object({
  deliveryId: z.string(),
  address: addressSchema,
  sender: z.object({
    platformUserId: z.string(),
    displayName: z.string().optional(),
    platformRole: z.enum(['admin', 'trader', 'viewer']).optional(),
  }),
  receivedAt: z.coerce.date(),
  chatType: z.enum(['direct', 'group']),
  messageId: z.string(),
});
/** A stored message, read back (rows are ours, but an older version may have written them). */
const storedMessageSchema = z.discriminatedUnion('kind', [
  baseSchema.extend({ kind: z.literal('text'), text: z.string() }),
  baseSchema.extend({ kind: z.literal('action'), actionId: z.string() }),
]);

/** The message as stored: without the adapter's short-lived reply handle. */
function storedForm(message: InboundMessage): Record<string, unknown> {
  const { replyHandle: _dropped, ...address } = message.address;
  return { ...message, address, receivedAt: message.receivedAt.toISOString() };
}

export interface InboxOptions {
  readonly sql: SqlExecutor;
  readonly clock: () => Date;
  /** This process (core/processes): the rows it records and takes over are marked as its own. */
  readonly processId: string;
}

export class Inbox {
  private pendingMarks: { id: string; done: () => void; failed: (error: unknown) => void }[] = [];
  private flushScheduled = false;

  constructor(private readonly options: InboxOptions) {}

  /**
   * Records a delivery: its row id when it is new, undefined for a redelivery (nothing written).
   * Throws InboxUnavailableError when it could not be recorded.
   */
  async record(message: InboundMessage): Promise<string | undefined> {
    try {
      const rows = await this.options.sql.query<{ id: string }>(Prisma.sql`
        INSERT INTO inbound_events (platform, "deliveryId", "chatKey", message, "receivedAt", attempts, "handlerId")
        VALUES (${message.address.platform}::"Platform", ${message.deliveryId}, ${chatKeyOf(message)},
          ${JSON.stringify(storedForm(message))}::jsonb, ${message.receivedAt}::timestamp(3), 1,
          ${this.options.processId}::uuid)
        ON CONFLICT DO NOTHING
        RETURNING id::text AS id`);
      return rows[0]?.id;
    } catch (error) {
      throw new InboxUnavailableError(error);
    }
  }

  /**
   * Marks a delivery handled. Marks requested together share one statement: under load one
   * UPDATE finishes many messages.
   */
  markHandled(id: string): Promise<void> {
    return new Promise((done, failed) => {
      this.pendingMarks.push({ id, done, failed });
      if (this.flushScheduled) return;
      this.flushScheduled = true;
      setImmediate(() => void this.flushMarks());
    });
  }

  private async flushMarks(): Promise<void> {
    const batch = this.pendingMarks;
    this.pendingMarks = [];
    this.flushScheduled = false;
    try {
      await this.options.sql.execute(Prisma.sql`
        UPDATE inbound_events SET "handledAt" = ${this.options.clock()}::timestamp(3)
        WHERE id = ANY(${batch.map((mark) => mark.id)}::bigint[]) AND "handledAt" IS NULL`);
      for (const mark of batch) mark.done();
    } catch (error) {
      for (const mark of batch) mark.failed(error);
    }
  }

  /**
   * The unfinished deliveries nobody handles any more (recorded by a process not among `live`:
   * it died or stopped), oldest first, taken over by this process and each counted as one more
   * attempt.
   */
  async claimUnfinished(live: readonly string[], limit = 500): Promise<InboxEntry[]> {
    const rows = await this.options.sql.query<{ id: string; message: unknown; attempts: number }>(Prisma.sql`
      UPDATE inbound_events SET attempts = attempts + 1, "handlerId" = ${this.options.processId}::uuid
      WHERE id IN (
        SELECT id FROM inbound_events
        WHERE "handledAt" IS NULL
          AND ("handlerId" IS NULL OR NOT ("handlerId" = ANY(${[...live]}::uuid[])))
        ORDER BY id LIMIT ${limit}
        FOR UPDATE SKIP LOCKED
      )
      RETURNING id::text AS id, message, attempts - 1 AS attempts`);
    const entries: InboxEntry[] = [];
    for (const row of rows.sort((a, b) => Number(BigInt(a.id) - BigInt(b.id)))) {
      const parsed = storedMessageSchema.safeParse(row.message);
      if (parsed.success) entries.push({ id: row.id, message: parsed.data, attempts: row.attempts });
      // A row we cannot read back cannot be handled: finish it rather than meet it on every start.
      else await this.markHandled(row.id);
    }
    return entries;
  }
}
