/**
 * One-time URLs to the linking page. "link" in a chat issues one; opening it in a browser starts a
 * web session for that user.
 *
 * The token is 256 random bits; only its hash is stored. It works once, for ten minutes, and only
 * the newest one of a user works. Opening the URL (GET) does not use it up, because chat apps fetch
 * links to draw previews; the page's Continue button (POST) redeems it, in one conditional update,
 * so two redemptions cannot both succeed.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { PrismaClient } from '../db/database.js';
import type { Platform } from '../db/generated/enums.js';
import type { ChannelAddress } from '../messages.js';

/** How long a link stays valid. */
export const LINK_TOKEN_TTL_MS = 10 * 60 * 1000;

/** Where a link was asked for: the chat that hears about the outcome. */
export interface LinkOrigin {
  readonly platform: Platform;
  readonly workspaceId: string;
  readonly chatId: string;
}

/** A valid, unused link, as its page shows it. */
export interface LinkTokenInfo {
  readonly kind: 'valid';
  readonly userId: string;
  readonly displayName: string;
  readonly platform: Platform;
  readonly expiresAt: Date;
}

export type LinkTokenProblem =
  | { readonly kind: 'unknown' }
  | { readonly kind: 'expired' }
  | { readonly kind: 'used' };

export interface RedeemedLink {
  readonly kind: 'redeemed';
  readonly userId: string;
  readonly linkTokenId: string;
  readonly origin: LinkOrigin;
}

/** base64url of 32 bytes. Anything else is not a token of ours and never reaches the database. */
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

export function hashLinkToken(token: string): string {
  return createHash('sha256').update(`broker-link:${token}`).digest('hex');
}

export class LinkTokens {
  constructor(
    private readonly deps: {
      readonly prisma: PrismaClient;
      /**
       * The site's public base URL, e.g. https://arbion.example.com (no trailing slash). A function:
       * without PUBLIC_URL it is the address the server ends up listening on.
       */
      readonly baseUrl: () => string;
      readonly clock?: () => Date;
    },
  ) {}

  private now(): Date {
    return this.deps.clock?.() ?? new Date();
  }

  /** Issues a link for `userId`, announced later in `address`; the user's earlier links stop working. */
  async issue(userId: string, address: ChannelAddress): Promise<{ url: string; expiresAt: Date }> {
    const token = randomBytes(32).toString('base64url');
    const now = this.now();
    const expiresAt = new Date(now.getTime() + LINK_TOKEN_TTL_MS);
    const { prisma } = this.deps;
    await prisma.$transaction([
      prisma.linkToken.updateMany({
        where: { userId, purpose: 'broker_link', usedAt: null },
        data: { usedAt: now },
      }),
      prisma.linkToken.create({
        data: {
          tokenHash: hashLinkToken(token),
          purpose: 'broker_link',
          userId,
          platform: address.platform,
          workspaceExternalId: address.workspaceId,
          chatId: address.chatId,
          expiresAt,
        },
      }),
      prisma.auditEvent.create({
        data: { type: 'linking.link_issued', actorKind: 'user', actorId: userId, userId },
      }),
    ]);
    return { url: `${this.deps.baseUrl()}/link/${token}`, expiresAt };
  }

  /** What the link's page shows, without using the link up. */
  async inspect(token: string): Promise<LinkTokenInfo | LinkTokenProblem> {
    if (!TOKEN_PATTERN.test(token)) return { kind: 'unknown' };
    const row = await this.deps.prisma.linkToken.findUnique({
      where: { tokenHash: hashLinkToken(token) },
      include: { user: { include: { identities: true } } },
    });
    if (row === null || row.purpose !== 'broker_link') return { kind: 'unknown' };
    if (row.usedAt !== null) return { kind: 'used' };
    if (row.expiresAt.getTime() <= this.now().getTime()) return { kind: 'expired' };
    const identity = row.user.identities.find((entry) => entry.platform === row.platform);
    return {
      kind: 'valid',
      userId: row.userId,
      displayName: row.user.displayName ?? identity?.displayName ?? 'you',
      platform: row.platform,
      expiresAt: row.expiresAt,
    };
  }

  /** Uses the link up; exactly one of concurrent calls gets `redeemed`. */
  async redeem(token: string): Promise<RedeemedLink | LinkTokenProblem> {
    if (!TOKEN_PATTERN.test(token)) return { kind: 'unknown' };
    const { prisma } = this.deps;
    const tokenHash = hashLinkToken(token);
    const now = this.now();
    const claimed = await prisma.linkToken.updateMany({
      where: { tokenHash, purpose: 'broker_link', usedAt: null, expiresAt: { gt: now } },
      data: { usedAt: now },
    });
    const row = await prisma.linkToken.findUnique({ where: { tokenHash } });
    if (row === null || row.purpose !== 'broker_link') return { kind: 'unknown' };
    if (claimed.count !== 1) return row.usedAt !== null ? { kind: 'used' } : { kind: 'expired' };
    await prisma.auditEvent.create({
      data: { type: 'linking.link_opened', actorKind: 'user', actorId: row.userId, userId: row.userId },
    });
    return {
      kind: 'redeemed',
      userId: row.userId,
      linkTokenId: row.id,
      origin: { platform: row.platform, workspaceId: row.workspaceExternalId, chatId: row.chatId },
    };
  }
}

/** The chat that last asked for the linking page: where news about the user's links goes. */
export async function lastLinkOrigin(prisma: PrismaClient, userId: string): Promise<LinkOrigin | undefined> {
  const last = await prisma.linkToken.findFirst({
    where: { userId, purpose: 'broker_link' },
    orderBy: { createdAt: 'desc' },
  });
  return last === null
    ? undefined
    : { platform: last.platform, workspaceId: last.workspaceExternalId, chatId: last.chatId };
}
