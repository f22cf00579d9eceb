/**
 * The append-only audit trail: inbound messages, tool calls, intent transitions, order events.
 * Callers pass ids and facts, never secrets (the data column is shown to operators).
 */
import type { Prisma, PrismaClient } from '../db/database.js';
import type { ActorKind } from '../db/generated/enums.js';

export interface AuditEntry {
  /** Dotted event name: `message.received`, `intent.confirmed`, `order.filled`, `llm.tool_call`... */
  readonly type: string;
  readonly actorKind: ActorKind;
  readonly actorId?: string;
  readonly userId?: string;
  readonly intentId?: string;
  readonly orderId?: string;
  readonly strategyId?: string;
  readonly connectionId?: string;
  readonly data?: Prisma.InputJsonValue;
}

export class AuditLog {
  constructor(private readonly prisma: PrismaClient | Prisma.TransactionClient) {}

  async record(entry: AuditEntry): Promise<void> {
    await this.prisma.auditEvent.create({ data: { ...entry, data: entry.data ?? {} } });
  }

  /** The same log writing inside a transaction, so an event commits with the change it describes. */
  within(tx: Prisma.TransactionClient): AuditLog {
    return new AuditLog(tx);
  }
}
