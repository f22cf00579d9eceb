/**
 * "Cancel open orders" cards nobody answered in time, closed by the background pass as order cards
 * are (intents/decisions.ts, expireDueIntents): one statement claims the due requests
 * (`open -> expired`, with their audit rows), so of any number of passes and processes exactly
 * one claims each; then each card is edited to show its orders without buttons and "Expired at
 * 10:02 EST; nothing was cancelled." in its requester's time zone. The edited card is the telling,
 * as for order cards: no sentence follows. A card whose message id was never recorded (a crash
 * right after sending it) is only marked: there is no message to edit.
 */
import { Prisma, type PrismaClient } from '../db/database.js';
import type { Platform } from '../db/generated/enums.js';
import { isDatabaseOutage } from '../db/outage.js';
import type { Logger } from '../logging/logger.js';
import type { ChannelPort } from '../messages.js';
import { renderCancelCard } from './cancel-card.js';
import { listedOrders } from './order-cancels.js';

export interface CancelExpiryDependencies {
  readonly prisma: PrismaClient;
  /** The running channel of a platform (only platforms passed to `pass` are asked for). */
  readonly channelFor: (platform: Platform) => ChannelPort;
  readonly logger: Logger;
  readonly clock: () => Date;
}

/** The most requests one pass expires; the next pass takes the rest. */
const BATCH = 500;

/** A request the pass claimed, with its requester's time zone. */
interface ExpiredRequest {
  readonly id: string;
  readonly userId: string;
  readonly platform: Platform;
  readonly workspaceExternalId: string;
  readonly chatId: string;
  readonly orderIds: string[];
  readonly expiresAt: Date;
  readonly decidedAt: Date;
  readonly cardNumber: number | null;
  readonly cardMessageId: string | null;
  /** users.timezone (an IANA name). */
  readonly timezone: string;
}

export class CancelCardExpiry {
  constructor(private readonly deps: CancelExpiryDependencies) {}

  /**
   * Expires the due requests of chats on `platforms` (the ones this process can edit; the others
   * wait for a process that runs their channel) and edits their cards. Returns how many expired.
   * With none due this is one index lookup.
   */
  async pass(platforms: readonly Platform[]): Promise<number> {
    if (platforms.length === 0) return 0;
    const now = this.deps.clock();
    const expired = await this.deps.prisma.$queryRaw<ExpiredRequest[]>(claimDue(platforms, now));
    for (const request of expired) await this.showExpired(request, now);
    return expired.length;
  }

  /** Edits the card to its expired state; one chat that cannot be reached must not stop the pass. */
  private async showExpired(request: ExpiredRequest, now: Date): Promise<void> {
    if (!request.cardMessageId) return;
    try {
      const orders = await listedOrders(this.deps.prisma, request);
      const card = renderCancelCard({ ...request, status: 'expired', doneAt: null }, orders, {
        now,
        timeZone: request.timezone,
      });
      await this.deps
        .channelFor(request.platform)
        .edit(
          { platform: request.platform, workspaceId: request.workspaceExternalId, chatId: request.chatId },
          request.cardMessageId,
          { kind: 'card', card, audience: 'requester' },
        );
    } catch (error) {
      if (isDatabaseOutage(error)) throw error;
      // The request stays expired: a late press on the card still changes nothing, says it
      // expired, and edits the card then (order-cancels.ts).
      this.deps.logger.warn(
        { err: error, cancelRequestId: request.id, platform: request.platform },
        'could not edit an expired cancel card',
      );
    }
  }
}

/**
 * Claims the due open requests: SKIP LOCKED leaves a row another pass is claiming to that pass,
 * and `status = 'open'` is checked again on the locked row, so a request decided meanwhile (a
 * press, another pass) is not claimed.
 */
function claimDue(platforms: readonly Platform[], now: Date): Prisma.Sql {
  return Prisma.sql`
    WITH due AS (
      SELECT id FROM cancel_requests
      WHERE status = 'open' AND "expiresAt" <= ${now} AND platform IN (${Prisma.join([...platforms])})
      ORDER BY "expiresAt" LIMIT ${BATCH}
      FOR UPDATE SKIP LOCKED
    ), expired AS (
      UPDATE cancel_requests AS request SET status = 'expired', "decidedAt" = ${now}
      FROM due WHERE request.id = due.id AND request.status = 'open'
      RETURNING request.*
    ), audit AS (
      INSERT INTO audit_events (at, type, "actorKind", "userId", data)
      SELECT "decidedAt", 'orders.cancel_expired', 'system', "userId",
        jsonb_build_object('cancelRequestId', id, 'orders', cardinality("orderIds"))
      FROM expired
    )
    SELECT expired.id::text AS id, expired."userId"::text AS "userId", expired.platform::text AS platform,
      expired."workspaceExternalId", expired."chatId", expired."orderIds"::text[] AS "orderIds",
      expired."expiresAt", expired."decidedAt", expired."cardNumber", expired."cardMessageId", users.timezone
    FROM expired JOIN users ON users.id = expired."userId"
    ORDER BY expired."expiresAt"`;
}
