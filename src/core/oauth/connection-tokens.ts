/**
 * Access tokens of OAuth 2.0 broker connections, refreshed when they are about to expire.
 *
 * A refresh must happen once per expiry, not once per caller: Coinbase's refresh tokens are single
 * use, and a second refresh with the spent token revokes the whole grant. So refreshing is
 * serialized twice over: inside this process, concurrent callers for one connection share one
 * in-flight promise; across processes, the refresh runs in a transaction that holds the
 * connection's row lock (SELECT ... FOR UPDATE) and re-reads the row first, so a process that
 * waited on the lock finds the new token instead of refreshing again. On embedded PostgreSQL
 * (PGlite, one connection, one process) the same transaction simply runs alone.
 *
 * A token the provider refused before its recorded expiry (revoked, or replaced by another
 * process's refresh) is renewed the same way, forced: `accessToken(id, { refused })`. Callers
 * refused the same token share one renewal; under the lock the row is read again, and when its
 * token is no longer the refused one someone else has refreshed already: theirs is returned and
 * nothing is refreshed twice.
 */
import { z } from 'zod';
import type { PrismaClient } from '../db/database.js';
import type { BrokerProvider } from '../db/generated/enums.js';
import type { Logger } from '../logging/logger.js';
import type { SecretVault, VaultContext } from '../vault/types.js';
import { OAuthError, OAuthReauthRequiredError, OAuthUnavailableError } from './errors.js';
import type { OAuth2Flow, OAuth2Tokens } from './oauth2-flow.js';

/** An access token is used only while it has more than this left; otherwise it is refreshed first. */
export const ACCESS_TOKEN_MIN_REMAINING_MS = 60_000;
/** The refresh (a provider round trip) runs under a row lock for at most this long. */
const REFRESH_TRANSACTION_TIMEOUT_MS = 30_000;

/** The credential JSON of an OAuth 2.0 connection, as sealed in broker_connections. */
export const oauth2CredentialsSchema = z.object({
  kind: z.literal('oauth2'),
  accessToken: z.string().min(1),
  refreshToken: z.string().min(1).optional(),
  tokenType: z.string().min(1),
  scope: z.string().optional(),
});
export type OAuth2Credentials = z.infer<typeof oauth2CredentialsSchema>;

/** What a connection needs from its provider's flow. */
export type OAuth2Refresher = Pick<OAuth2Flow, 'refresh'>;

type Transaction = Parameters<Parameters<PrismaClient['$transaction']>[0]>[0];
type ConnectionRow = NonNullable<Awaited<ReturnType<PrismaClient['brokerConnection']['findUnique']>>>;

/** What a caller can use: a token with enough time left that is not the one refused. */
interface Wanted {
  readonly minRemainingMs: number;
  /** The access token the provider refused (401), which must not be handed out again. */
  readonly refused: string | undefined;
}

export class ConnectionTokens {
  private readonly now: () => Date;
  /** Refreshes of tokens near expiry, by connection. */
  private readonly inFlight = new Map<string, Promise<string>>();
  /** Forced renewals of refused tokens, by connection and refused token. */
  private readonly renewals = new Map<string, Promise<string>>();

  constructor(
    private readonly deps: {
      readonly prisma: PrismaClient;
      readonly vault: SecretVault;
      /** The flow that refreshes each provider's tokens. */
      readonly flows: Partial<Record<BrokerProvider, OAuth2Refresher>>;
      readonly logger?: Logger;
      readonly now?: () => Date;
    },
  ) {
    this.now = deps.now ?? (() => new Date());
  }

  /**
   * A usable access token for the connection, refreshed first when it has a minute or less left,
   * or when the provider refused the stored one (`refused`: never handed out again).
   * @throws OAuthReauthRequiredError when the connection must be linked again (and marks it so)
   * @throws OAuthUnavailableError when the provider cannot refresh right now
   */
  async accessToken(
    connectionId: string,
    options: {
      /** Refresh when less than this is left (the background keeper refreshes well ahead). */
      readonly minRemainingMs?: number;
      /**
       * The token the provider refused with 401 before its recorded expiry: forces one refresh,
       * unless someone else has replaced that token already (then theirs is returned).
       */
      readonly refused?: string;
    } = {},
  ): Promise<string> {
    const wanted: Wanted = {
      minRemainingMs: options.minRemainingMs ?? ACCESS_TOKEN_MIN_REMAINING_MS,
      refused: options.refused,
    };
    if (wanted.refused !== undefined) return this.renewRefused(connectionId, wanted.refused, wanted);
    const pending = this.inFlight.get(connectionId);
    if (pending !== undefined) return pending;
    const row = await this.deps.prisma.brokerConnection.findUnique({ where: { id: connectionId } });
    const fresh = this.usableToken(this.checked(row, connectionId), wanted);
    if (fresh !== undefined) return fresh;
    // Another caller may have started the refresh while we read.
    const started = this.inFlight.get(connectionId);
    if (started !== undefined) return started;
    const refresh = this.refreshUnderLock(connectionId, wanted).finally(() =>
      this.inFlight.delete(connectionId),
    );
    this.inFlight.set(connectionId, refresh);
    return refresh;
  }

  /** The stored credentials, or undefined when the connection has none (never linked, unlinked). */
  async read(connectionId: string): Promise<OAuth2Credentials | undefined> {
    const row = await this.deps.prisma.brokerConnection.findUnique({ where: { id: connectionId } });
    if (row === null || row.credentialCiphertext === null) return undefined;
    return this.open(row);
  }

  /**
   * Seals and stores tokens from a finished sign-in, and marks the connection active.
   * @throws OAuthError when the connection does not exist or belongs to someone else
   */
  async store(connectionId: string, userId: string, tokens: OAuth2Tokens): Promise<void> {
    const sealed = this.deps.vault.seal(
      JSON.stringify(credentialsOf(tokens)),
      credentialsContext(userId, connectionId),
    );
    const { count } = await this.deps.prisma.brokerConnection.updateMany({
      where: { id: connectionId, userId },
      data: {
        status: 'active',
        credentialCiphertext: sealed.ciphertext,
        credentialKeyId: sealed.keyId,
        accessTokenExpiresAt: tokens.accessTokenExpiresAt,
        refreshTokenExpiresAt: tokens.refreshTokenExpiresAt ?? null,
        lastError: null,
      },
    });
    if (count !== 1) {
      throw new OAuthError(
        `connection ${connectionId} of user ${userId} not found`,
        'That connection does not exist.',
      );
    }
  }

  /**
   * One forced renewal per refused token in this process: callers refused the same token share it.
   * A refresh of a token near expiry already under way here may be all it takes.
   */
  private async renewRefused(connectionId: string, refused: string, wanted: Wanted): Promise<string> {
    const pending = this.inFlight.get(connectionId);
    if (pending !== undefined) {
      const token = await pending;
      if (token !== refused) return token;
    }
    const key = `${connectionId}\u0000${refused}`;
    const shared = this.renewals.get(key);
    if (shared !== undefined) return shared;
    const renewal = this.refreshUnderLock(connectionId, wanted).finally(() => this.renewals.delete(key));
    this.renewals.set(key, renewal);
    return renewal;
  }

  private async refreshUnderLock(connectionId: string, wanted: Wanted): Promise<string> {
    const outcome = await this.deps.prisma.$transaction(
      async (tx) => {
        await tx.$queryRaw`SELECT id FROM broker_connections WHERE id = ${connectionId}::uuid FOR UPDATE`;
        const row = this.checked(
          await tx.brokerConnection.findUnique({ where: { id: connectionId } }),
          connectionId,
        );
        // Whoever held the lock before us may have refreshed already (and replaced a refused token).
        const fresh = this.usableToken(row, wanted);
        if (fresh !== undefined) {
          if (wanted.refused !== undefined) {
            this.deps.logger?.info(
              { connectionId, provider: row.provider },
              'refused OAuth access token already replaced by another refresh',
            );
          }
          return { kind: 'token' as const, token: fresh };
        }
        return this.refreshRow(tx, row, wanted.refused === undefined ? 'expiring' : 'refused');
      },
      { maxWait: REFRESH_TRANSACTION_TIMEOUT_MS, timeout: REFRESH_TRANSACTION_TIMEOUT_MS },
    );
    // Thrown only now: thrown inside, it would have rolled back the needs_reauth mark.
    if (outcome.kind === 'reauth') throw outcome.error;
    return outcome.token;
  }

  private async refreshRow(
    tx: Transaction,
    row: ConnectionRow,
    reason: 'expiring' | 'refused',
  ): Promise<{ kind: 'token'; token: string } | { kind: 'reauth'; error: OAuthReauthRequiredError }> {
    const credentials = this.open(row);
    const flow = this.deps.flows[row.provider];
    if (flow === undefined) {
      throw new OAuthError(
        `no OAuth 2.0 flow for ${row.provider}`,
        'This broker is not set up on this server any more. Tell the administrator.',
      );
    }
    let tokens: OAuth2Tokens;
    try {
      if (credentials.refreshToken === undefined) {
        throw new OAuthReauthRequiredError(
          `${row.provider}: the access token expired and there is no refresh token`,
        );
      }
      tokens = await flow.refresh(credentials.refreshToken, {
        ...(row.refreshTokenExpiresAt === null ? {} : { refreshTokenExpiresAt: row.refreshTokenExpiresAt }),
      });
    } catch (caught) {
      const error = grantGone(caught);
      if (error === undefined) throw caught;
      await tx.brokerConnection.update({
        where: { id: row.id },
        data: {
          status: 'needs_reauth',
          lastError: 'The sign-in expired or was revoked: link the broker again.',
        },
      });
      this.deps.logger?.warn(
        { connectionId: row.id, provider: row.provider, providerError: error.providerError },
        'OAuth connection needs a new sign-in',
      );
      return { kind: 'reauth', error };
    }
    const sealed = this.deps.vault.seal(
      JSON.stringify(credentialsOf(tokens)),
      credentialsContext(row.userId, row.id),
    );
    await tx.brokerConnection.update({
      where: { id: row.id },
      data: {
        credentialCiphertext: sealed.ciphertext,
        credentialKeyId: sealed.keyId,
        accessTokenExpiresAt: tokens.accessTokenExpiresAt,
        refreshTokenExpiresAt: tokens.refreshTokenExpiresAt ?? null,
        lastError: null,
      },
    });
    this.deps.logger?.info(
      { connectionId: row.id, provider: row.provider, reason },
      'OAuth access token refreshed',
    );
    return { kind: 'token', token: tokens.accessToken };
  }

  /** The row, if it can hold usable tokens at all. */
  private checked(row: ConnectionRow | null, connectionId: string): ConnectionRow {
    if (row === null) {
      throw new OAuthError(`connection ${connectionId} not found`, 'That connection does not exist.');
    }
    if (row.status === 'needs_reauth' || row.status === 'revoked' || row.credentialCiphertext === null) {
      throw new OAuthReauthRequiredError(
        `connection ${connectionId} is ${row.status} and has no usable tokens`,
      );
    }
    return row;
  }

  /** The stored access token, unless it has too little time left or is the one refused. */
  private usableToken(row: ConnectionRow, wanted: Wanted): string | undefined {
    const expiresAt = row.accessTokenExpiresAt;
    if (expiresAt === null || expiresAt.getTime() - this.now().getTime() <= wanted.minRemainingMs) {
      return undefined;
    }
    const token = this.open(row).accessToken;
    return token === wanted.refused ? undefined : token;
  }

  private open(row: ConnectionRow): OAuth2Credentials {
    if (row.credentialCiphertext === null) {
      throw new OAuthReauthRequiredError(`connection ${row.id} has no credentials`);
    }
    const plaintext = this.deps.vault.open(row.credentialCiphertext, credentialsContext(row.userId, row.id));
    const parsed = oauth2CredentialsSchema.safeParse(parseJson(plaintext));
    if (!parsed.success) {
      throw new OAuthError(
        `connection ${row.id} does not hold OAuth 2.0 credentials`,
        'The stored credentials do not fit this broker: link it again.',
      );
    }
    return parsed.data;
  }
}

/**
 * A refresh failure that means the grant is gone (link again), or undefined for any other (the
 * provider down, our app's credentials refused). Besides RFC 6749's invalid_grant, a dead refresh
 * token is known to come back as HTTP 400 `unsupported_token_type` from at least one broker's
 * token endpoint.
 */
function grantGone(error: unknown): OAuthReauthRequiredError | undefined {
  if (error instanceof OAuthReauthRequiredError) return error;
  if (
    error instanceof OAuthError &&
    !(error instanceof OAuthUnavailableError) &&
    error.providerError === 'unsupported_token_type'
  ) {
    return new OAuthReauthRequiredError(error.message, { providerError: error.providerError, cause: error });
  }
  return undefined;
}

function credentialsOf(tokens: OAuth2Tokens): OAuth2Credentials {
  return {
    kind: 'oauth2',
    accessToken: tokens.accessToken,
    ...(tokens.refreshToken === undefined ? {} : { refreshToken: tokens.refreshToken }),
    tokenType: tokens.tokenType,
    ...(tokens.scope === undefined ? {} : { scope: tokens.scope }),
  };
}

function credentialsContext(userId: string, connectionId: string): VaultContext {
  return { userId, recordId: connectionId, field: 'credentials' };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
