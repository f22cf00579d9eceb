/**
 * Browser sessions on the linking page. A session starts when a link is redeemed and belongs to
 * that link's user. The cookie holds 256 random bits; only their hash is stored.
 *
 * Two limits: 30 minutes without a request, and 8 hours in all. Linking brokers takes minutes, and
 * a forgotten tab on a shared computer should not stay able to unlink or rotate keys.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { PrismaClient } from '../db/database.js';
import type { Platform } from '../db/generated/enums.js';
import type { LinkOrigin } from './link-tokens.js';

export const SESSION_IDLE_TIMEOUT_MS = 30 * 60 * 1000;
export const SESSION_MAX_AGE_MS = 8 * 60 * 60 * 1000;
/** lastSeenAt is written at most this often, so page views do not each cost a write. */
const TOUCH_INTERVAL_MS = 60 * 1000;

const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

export interface WebSessionInfo {
  readonly id: string;
  readonly userId: string;
  readonly displayName: string;
  readonly platform: Platform;
  /** The chat that asked for the link: where linking outcomes are announced. */
  readonly origin: LinkOrigin | undefined;
  /** When the session ends if the user does nothing more. */
  readonly expiresAt: Date;
}

function hashSession(token: string): string {
  return createHash('sha256').update(`web-session:${token}`).digest('hex');
}

export class WebSessions {
  constructor(private readonly deps: { readonly prisma: PrismaClient; readonly clock?: () => Date }) {}

  private now(): Date {
    return this.deps.clock?.() ?? new Date();
  }

  /** Opens a session; returns the cookie value (never stored) and when it ends at the latest. */
  async open(userId: string, linkTokenId: string): Promise<{ token: string; expiresAt: Date }> {
    const token = randomBytes(32).toString('base64url');
    const now = this.now();
    const expiresAt = new Date(now.getTime() + SESSION_MAX_AGE_MS);
    await this.deps.prisma.webSession.create({
      data: {
        sessionHash: hashSession(token),
        userId,
        linkTokenId,
        expiresAt,
        createdAt: now,
        lastSeenAt: now,
      },
    });
    return { token, expiresAt };
  }

  /** The live session for a cookie value, or undefined (unknown, idle too long, or too old). */
  async authenticate(token: string | undefined): Promise<WebSessionInfo | undefined> {
    if (token === undefined || !TOKEN_PATTERN.test(token)) return undefined;
    const { prisma } = this.deps;
    const row = await prisma.webSession.findUnique({
      where: { sessionHash: hashSession(token) },
      include: { user: { include: { identities: true } }, linkToken: true },
    });
    if (row === null) return undefined;
    const now = this.now();
    const idleEnds = row.lastSeenAt.getTime() + SESSION_IDLE_TIMEOUT_MS;
    if (now.getTime() >= Math.min(idleEnds, row.expiresAt.getTime())) {
      await prisma.webSession.deleteMany({ where: { id: row.id } });
      return undefined;
    }
    if (now.getTime() - row.lastSeenAt.getTime() >= TOUCH_INTERVAL_MS) {
      await prisma.webSession.update({ where: { id: row.id }, data: { lastSeenAt: now } });
    }
    const platform = row.linkToken?.platform ?? row.user.identities[0]?.platform ?? 'web';
    const identity = row.user.identities.find((entry) => entry.platform === platform);
    const origin = row.linkToken
      ? {
          platform: row.linkToken.platform,
          workspaceId: row.linkToken.workspaceExternalId,
          chatId: row.linkToken.chatId,
        }
      : undefined;
    return {
      id: row.id,
      userId: row.userId,
      displayName: row.user.displayName ?? identity?.displayName ?? 'Trader',
      platform,
      origin,
      expiresAt: new Date(Math.min(now.getTime() + SESSION_IDLE_TIMEOUT_MS, row.expiresAt.getTime())),
    };
  }

  /** Ends a session (sign out). */
  async close(token: string | undefined): Promise<void> {
    if (token === undefined || !TOKEN_PATTERN.test(token)) return;
    await this.deps.prisma.webSession.deleteMany({ where: { sessionHash: hashSession(token) } });
  }
}
