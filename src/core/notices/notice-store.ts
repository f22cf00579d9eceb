/**
 * The outbox of notices: what background work tells a chat (a strategy's decision, an alert, an
 * expiry settled, a daily summary, a card to confirm) is written here first, under a key that names
 * it, and sent from here. A repeated evaluation meets the key and writes nothing; a crash or a
 * restart leaves the row undelivered, and a background pass sends it (the process that wrote it
 * died, or its own attempt failed). Delivery is at least once: a crash between the send and the
 * `deliveredAt` mark sends it again.
 */
import type { Prisma, PrismaClient } from '../db/database.js';
import type { ChannelAddress, Platform } from '../messages.js';

/** A notice as written, and as read back to deliver it. */
export interface Notice {
  readonly id: string;
  readonly key: string;
  readonly address: ChannelAddress;
  /** Sent first, when present. */
  readonly text: string | undefined;
  /** Then the card of this intent, while it is still proposed. */
  readonly intentId: string | undefined;
  /** Failed attempts so far. */
  readonly attempts: number;
}

export interface NoticeStoreOptions {
  readonly prisma: PrismaClient;
  readonly clock: () => Date;
  /** This process (core/processes): it delivers what it writes, unless it dies first. */
  readonly processId: string;
}

type NoticeRow = Awaited<ReturnType<PrismaClient['notice']['findFirstOrThrow']>>;

function noticeOf(row: NoticeRow): Notice {
  return {
    id: row.id.toString(),
    key: row.key,
    address: {
      platform: row.platform as Platform,
      workspaceId: row.workspaceId,
      chatId: row.chatId,
      ...(row.threadId === null ? {} : { threadId: row.threadId }),
    },
    text: row.text ?? undefined,
    intentId: row.intentId ?? undefined,
    attempts: row.attempts,
  };
}

export class NoticeStore {
  constructor(private readonly options: NoticeStoreOptions) {}

  /**
   * Writes a notice; undefined when its key was written before (nothing to send again). Given a
   * transaction, the notice commits (or rolls back) with the change it tells.
   */
  async record(
    key: string,
    address: ChannelAddress,
    content: { readonly text?: string; readonly intentId?: string },
    within: Prisma.TransactionClient | PrismaClient = this.options.prisma,
  ): Promise<Notice | undefined> {
    const [row] = await within.notice.createManyAndReturn({
      data: [
        {
          key,
          platform: address.platform,
          workspaceId: address.workspaceId,
          chatId: address.chatId,
          threadId: address.threadId ?? null,
          text: content.text ?? null,
          intentId: content.intentId ?? null,
          createdAt: this.options.clock(),
          heldBy: this.options.processId,
        },
      ],
      skipDuplicates: true,
    });
    return row === undefined ? undefined : noticeOf(row);
  }

  /** The notice with this id, while it is still to be delivered. */
  async undelivered(id: string): Promise<Notice | undefined> {
    const row = await this.options.prisma.notice.findFirst({
      where: { id: BigInt(id), deliveredAt: null, failure: null },
    });
    return row === null ? undefined : noticeOf(row);
  }

  /**
   * Notices still to be delivered and due now, oldest first: those of processes not among `live`
   * (they died), and those written before `before` (their own attempt failed).
   */
  async due(
    window: { readonly live: readonly string[]; readonly before: Date },
    limit = 100,
  ): Promise<Notice[]> {
    const now = this.options.clock();
    const rows = await this.options.prisma.notice.findMany({
      where: {
        deliveredAt: null,
        failure: null,
        AND: [
          {
            OR: [
              { heldBy: null },
              { heldBy: { notIn: [...window.live] } },
              { createdAt: { lt: window.before } },
            ],
          },
          { OR: [{ nextAttemptAt: null }, { nextAttemptAt: { lte: now } }] },
        ],
      },
      orderBy: { id: 'asc' },
      take: limit,
    });
    return rows.map(noticeOf);
  }

  async delivered(id: string): Promise<void> {
    await this.options.prisma.notice.updateMany({
      where: { id: BigInt(id), deliveredAt: null },
      data: { deliveredAt: this.options.clock() },
    });
  }

  /** Delivery failed: try again after `retryAt`, or never (`failure`: the chat refused for good). */
  async failed(id: string, outcome: { retryAt: Date } | { failure: string }): Promise<void> {
    await this.options.prisma.notice.update({
      where: { id: BigInt(id) },
      data:
        'retryAt' in outcome
          ? { attempts: { increment: 1 }, nextAttemptAt: outcome.retryAt }
          : { attempts: { increment: 1 }, failure: outcome.failure },
    });
  }
}
