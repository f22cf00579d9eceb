/**
 * Warns users in chat before a broker link dies on its own: Schwab's refresh token lasts seven
 * days from sign-in and cannot be extended, so the user has to sign in again. One warning per
 * connection and sign-in, sent to the chat that last asked for the linking page.
 */
import type { PrismaClient } from '../db/database.js';
import { type LinkOrigin, lastLinkOrigin } from './link-tokens.js';
import type { ProviderCatalog } from './providers.js';

/** How long before the end the warning goes out. */
export const EXPIRY_WARNING_LEAD_MS = 2 * 24 * 60 * 60 * 1000;

export interface ExpiryWarning {
  readonly userId: string;
  readonly connectionId: string;
  readonly origin: LinkOrigin;
  readonly text: string;
}

const WARNED = 'linking.expiry_warned';

export class ExpiryWarnings {
  constructor(private readonly deps: { readonly prisma: PrismaClient; readonly catalog: ProviderCatalog }) {}

  /** The warnings due at `now`, each recorded so it is sent once (per sign-in). */
  async due(now: Date): Promise<ExpiryWarning[]> {
    const { prisma, catalog } = this.deps;
    const expiring = await prisma.brokerConnection.findMany({
      where: {
        status: 'active',
        refreshTokenExpiresAt: { gt: now, lte: new Date(now.getTime() + EXPIRY_WARNING_LEAD_MS) },
      },
    });
    const warnings: ExpiryWarning[] = [];
    for (const connection of expiring) {
      const expiresAt = connection.refreshTokenExpiresAt;
      if (expiresAt === null) continue;
      const already = await prisma.auditEvent.findFirst({
        where: {
          connectionId: connection.id,
          type: WARNED,
          data: { path: ['expiresAt'], equals: expiresAt.toISOString() },
        },
      });
      if (already !== null) continue;
      const origin = await lastLinkOrigin(prisma, connection.userId);
      await prisma.auditEvent.create({
        data: {
          type: WARNED,
          actorKind: 'system',
          userId: connection.userId,
          connectionId: connection.id,
          data: { expiresAt: expiresAt.toISOString() },
        },
      });
      if (origin === undefined) continue;
      const name = catalog.get(connection.provider)?.name ?? connection.provider;
      warnings.push({
        userId: connection.userId,
        connectionId: connection.id,
        origin,
        text: `Your ${name} link ends ${formatUtc(expiresAt)}: ${name} asks you to sign in again every 7 days. Say "link" and press Reconnect before then to keep trading without a gap.`,
      });
    }
    return warnings;
  }
}

function formatUtc(at: Date): string {
  return `on ${at.toISOString().slice(0, 16).replace('T', ' at ')} UTC`;
}
