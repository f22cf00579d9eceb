/**
 * One person, several chat apps: a short one-time code issued in one chat attaches another
 * platform account to the same Arbion user (same accounts, limits and history).
 *
 * Only a hash of the code is stored. A code works once, for ten minutes; redeeming it is one
 * conditional update, so two redemptions cannot both succeed.
 */
import { createHash, randomInt } from 'node:crypto';
import type { PrismaClient } from '../db/database.js';
import type { ChannelAddress, Sender } from '../messages.js';

/** How long a code stays valid. */
export const LINK_CODE_TTL_MS = 10 * 60 * 1000;

// No 0/O, 1/I/L: codes are read off one screen and typed into another.
const ALPHABET = 'ABCDEFGHJKMNPQRSTUVWXYZ23456789';
const CODE_PATTERN = /^[A-Z2-9]{4}-?[A-Z2-9]{4}$/;

export type RedeemOutcome =
  | { readonly kind: 'linked'; readonly userId: string; readonly previousUserId: string | undefined }
  | { readonly kind: 'already-linked' }
  | { readonly kind: 'invalid' }
  /** Too many wrong codes from this account lately: it must wait before trying again. */
  | { readonly kind: 'throttled' };

/** Wrong codes one platform account may try per LINK_CODE_TTL_MS before it has to wait. */
export const MAX_FAILED_REDEMPTIONS = 5;

function hashCode(code: string): string {
  const normalized = code.toUpperCase().replace('-', '');
  return createHash('sha256').update(`identity-link:${normalized}`).digest('hex');
}

export function isLinkCode(text: string): boolean {
  return CODE_PATTERN.test(text.toUpperCase());
}

export class IdentityLinks {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  /** Issues a code for `userId`; earlier unused codes of theirs stop working. */
  async issue(userId: string, address: ChannelAddress): Promise<{ code: string; expiresAt: Date }> {
    let raw = '';
    for (let index = 0; index < 8; index++) raw += ALPHABET[randomInt(ALPHABET.length)];
    const code = `${raw.slice(0, 4)}-${raw.slice(4)}`;
    const now = this.clock();
    const expiresAt = new Date(now.getTime() + LINK_CODE_TTL_MS);
    await this.prisma.$transaction([
      this.prisma.linkToken.updateMany({
        where: { userId, purpose: 'identity_link', usedAt: null },
        data: { usedAt: now },
      }),
      this.prisma.linkToken.create({
        data: {
          tokenHash: hashCode(code),
          purpose: 'identity_link',
          userId,
          platform: address.platform,
          workspaceExternalId: address.workspaceId,
          chatId: address.chatId,
          expiresAt,
        },
      }),
      this.prisma.auditEvent.create({
        data: { type: 'identity.link_code_issued', actorKind: 'user', actorId: userId, userId },
      }),
    ]);
    return { code, expiresAt };
  }

  /**
   * Attaches the sender's platform account to the user who issued `code`. An account that already
   * belonged to another user moves over (that user keeps their history, reachable no more from
   * this platform account).
   */
  async redeem(code: string, address: ChannelAddress, sender: Sender): Promise<RedeemOutcome> {
    const now = this.clock();
    const key = {
      platform: address.platform,
      platformWorkspaceId: address.workspaceId,
      platformUserId: sender.platformUserId,
    };
    // Guessing codes: each platform account gets a few wrong tries per code lifetime.
    const failures = await this.prisma.auditEvent.count({
      where: {
        type: 'identity.link_failed',
        at: { gt: new Date(now.getTime() - LINK_CODE_TTL_MS) },
        AND: [
          { data: { path: ['platform'], equals: key.platform } },
          { data: { path: ['workspaceId'], equals: key.platformWorkspaceId } },
          { data: { path: ['platformUserId'], equals: key.platformUserId } },
        ],
      },
    });
    if (failures >= MAX_FAILED_REDEMPTIONS) return { kind: 'throttled' };
    const outcome = isLinkCode(code)
      ? await this.attach(code, key, address, sender, now)
      : ({ kind: 'invalid' } as const);
    if (outcome.kind === 'invalid') {
      await this.prisma.auditEvent.create({
        data: {
          type: 'identity.link_failed',
          actorKind: 'user',
          at: now,
          data: {
            platform: key.platform,
            workspaceId: key.platformWorkspaceId,
            platformUserId: key.platformUserId,
          },
        },
      });
    }
    return outcome;
  }

  private attach(
    code: string,
    key: { platform: ChannelAddress['platform']; platformWorkspaceId: string; platformUserId: string },
    address: ChannelAddress,
    sender: Sender,
    now: Date,
  ): Promise<RedeemOutcome> {
    return this.prisma.$transaction(async (tx) => {
      const token = await tx.linkToken.findUnique({ where: { tokenHash: hashCode(code) } });
      if (token === null || token.purpose !== 'identity_link') return { kind: 'invalid' } as const;
      const existing = await tx.channelIdentity.findUnique({
        where: { platform_platformWorkspaceId_platformUserId: key },
      });
      if (existing?.userId === token.userId) return { kind: 'already-linked' } as const;
      // The decision: exactly one redemption of a live code wins.
      const used = await tx.linkToken.updateMany({
        where: { id: token.id, usedAt: null, expiresAt: { gt: now } },
        data: { usedAt: now },
      });
      if (used.count !== 1) return { kind: 'invalid' } as const;
      await tx.channelIdentity.upsert({
        where: { platform_platformWorkspaceId_platformUserId: key },
        create: { ...key, userId: token.userId, displayName: sender.displayName },
        update: { userId: token.userId },
      });
      // The person keeps their role in this account's workspace (an admin stays an admin).
      if (existing !== null && address.workspaceId !== '') {
        await tx.$executeRaw`
          INSERT INTO workspace_members ("workspaceId", "userId", role, "createdAt", "updatedAt")
          SELECT m."workspaceId", ${token.userId}::uuid, m.role, now(), now()
          FROM workspace_members m
          JOIN workspaces w ON w.id = m."workspaceId"
          WHERE m."userId" = ${existing.userId}::uuid AND w.platform = ${address.platform}::"Platform"
            AND w."externalId" = ${address.workspaceId}
          ON CONFLICT ("workspaceId", "userId") DO UPDATE SET role = EXCLUDED.role, "updatedAt" = now()`;
      }
      await tx.auditEvent.create({
        data: {
          type: 'identity.linked',
          actorKind: 'user',
          actorId: token.userId,
          userId: token.userId,
          data: {
            platform: address.platform,
            workspaceId: address.workspaceId,
            platformUserId: sender.platformUserId,
            previousUserId: existing?.userId ?? null,
          },
        },
      });
      return { kind: 'linked', userId: token.userId, previousUserId: existing?.userId } as const;
    });
  }
}
