/**
 * Keeps OAuth 2.0 links alive between uses: access tokens that run out within five minutes are
 * refreshed ahead of time (Schwab's last 30 minutes), so the first order after a quiet hour does not
 * wait for a refresh. A link whose refresh is refused is marked `needs_reauth` by the token store;
 * its user is told once, in the chat that last asked for the linking page, how to fix it.
 */
import type { PrismaClient } from '../db/database.js';
import type { BrokerProvider } from '../db/generated/enums.js';
import type { Logger } from '../logging/logger.js';
import { OAuthReauthRequiredError } from '../oauth/errors.js';
import { type LinkOrigin, lastLinkOrigin } from './link-tokens.js';
import type { ProviderCatalog } from './providers.js';

/** Access tokens with less than this left are refreshed by the keeper. */
export const REFRESH_AHEAD_MS = 5 * 60 * 1000;

export interface LinkNotice {
  readonly userId: string;
  readonly connectionId: string;
  readonly origin: LinkOrigin;
  readonly text: string;
}

export class TokenKeeper {
  constructor(
    private readonly deps: {
      readonly prisma: PrismaClient;
      /** Refreshes under the per-connection lock when the token is near its end. */
      readonly tokens: {
        accessToken(connectionId: string, options: { minRemainingMs: number }): Promise<string>;
      };
      readonly catalog: ProviderCatalog;
      readonly logger: Logger;
    },
  ) {}

  /** Refreshes what is due at `now`; returns what to tell users whose link stopped working. */
  async pass(now: Date): Promise<LinkNotice[]> {
    const { prisma, catalog } = this.deps;
    const notices = await this.endExpiredOAuth1(now);
    const oauth2Providers = catalog.offering('oauth2');
    if (oauth2Providers.length === 0) return notices;
    // A broker's key links (Coinbase's) store no token expiry, so only its sign-ins are due here.
    const due = await prisma.brokerConnection.findMany({
      where: {
        status: 'active',
        provider: { in: oauth2Providers },
        accessTokenExpiresAt: { lte: new Date(now.getTime() + REFRESH_AHEAD_MS) },
      },
      select: { id: true, userId: true, provider: true },
    });
    for (const connection of due) {
      try {
        await this.deps.tokens.accessToken(connection.id, { minRemainingMs: REFRESH_AHEAD_MS });
      } catch (error) {
        if (!(error instanceof OAuthReauthRequiredError)) {
          // The provider is down or slow: the next pass tries again; nothing to tell yet.
          this.deps.logger.warn(
            { err: error, connectionId: connection.id },
            'token refresh ahead of time failed',
          );
          continue;
        }
        const notice = await this.notice(
          connection,
          (name) =>
            `Your ${name} link stopped working: ${name} no longer accepts it (the sign-in expired or was revoked). Say "link" and press Reconnect on ${name} to trade through it again. Nothing was placed.`,
        );
        if (notice !== undefined) notices.push(notice);
      }
    }
    return notices;
  }

  /**
   * OAuth 1.0a sign-ins that ended on their own (E*TRADE's at midnight US Eastern cannot be
   * renewed): marked `needs_reauth` once, and their users told how to sign in again.
   */
  private async endExpiredOAuth1(now: Date): Promise<LinkNotice[]> {
    const { prisma, catalog } = this.deps;
    const oauth1Providers = catalog.offering('oauth1');
    if (oauth1Providers.length === 0) return [];
    const expired = await prisma.brokerConnection.updateManyAndReturn({
      where: { status: 'active', provider: { in: oauth1Providers }, accessTokenExpiresAt: { lte: now } },
      data: {
        status: 'needs_reauth',
        healthStatus: 'down',
        healthDetail: 'The sign-in ended on its own: sign in again from the linking page.',
        lastHealthCheckAt: now,
      },
      select: { id: true, userId: true, provider: true },
    });
    const notices: LinkNotice[] = [];
    for (const connection of expired) {
      this.deps.logger.info(
        { connectionId: connection.id, userId: connection.userId },
        'OAuth 1.0a sign-in ended',
      );
      const notice = await this.notice(
        connection,
        (name) =>
          `Your ${name} sign-in ended at midnight US Eastern, as ${name}'s do every day. Say "link" and press Reconnect on ${name} to trade through it again. Nothing was placed.`,
      );
      if (notice !== undefined) notices.push(notice);
    }
    return notices;
  }

  /** A notice for the chat that last asked for the linking page; none when there is no such chat. */
  private async notice(
    connection: { readonly id: string; readonly userId: string; readonly provider: BrokerProvider },
    text: (brokerName: string) => string,
  ): Promise<LinkNotice | undefined> {
    const origin = await lastLinkOrigin(this.deps.prisma, connection.userId);
    if (origin === undefined) return undefined;
    const name = this.deps.catalog.get(connection.provider)?.name ?? connection.provider;
    return { userId: connection.userId, connectionId: connection.id, origin, text: text(name) };
  }
}
