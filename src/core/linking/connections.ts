/**
 * A user's broker connections: linking (API keys, or tokens from an OAuth sign-in), health tests,
 * key rotation and unlinking. Credentials exist only as vault ciphertext bound to the connection.
 *
 * A user has at most one connection per broker that is not revoked: linking again replaces the
 * credentials of the existing one (its paper/live mode is kept).
 *
 * A broker may offer two ways to link (Coinbase: a sign-in or a CDP key), so each connection keeps
 * the way it was linked: its sealed credentials name it (`kind`), and its row mirrors it where no
 * secret may be opened (pages, per-request client lookups): a sign-in always stores when its access
 * token expires, API keys never do. The configuration only says what may be linked from now on.
 */
import { createHash, randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { PrismaClient } from '../db/database.js';
import type { BrokerProvider, ConnectionStatus, HealthStatus, TradingMode } from '../db/generated/enums.js';
import { ArbionError } from '../errors.js';
import type { Logger } from '../logging/logger.js';
import type { ConnectionTokens, OAuth1Flow, OAuth1Tokens, OAuth2Flow, OAuth2Tokens } from '../oauth/index.js';
import type { SecretVault, VaultContext } from '../vault/types.js';
import {
  type KeyCredentials,
  type KeyTestResult,
  type LinkableProvider,
  type LinkMethodKind,
  linkMethod,
  linkMethods,
  type ProviderCatalog,
} from './providers.js';

/** A connection as the linking page and the chat describe it. */
export interface ConnectionSummary {
  readonly id: string;
  readonly provider: BrokerProvider;
  readonly status: ConnectionStatus;
  readonly mode: TradingMode;
  readonly health: HealthStatus;
  readonly healthDetail: string | undefined;
  readonly lastHealthCheckAt: Date | undefined;
  readonly accessTokenExpiresAt: Date | undefined;
  readonly refreshTokenExpiresAt: Date | undefined;
  /** What may be shown of the credentials, e.g. "PK••••3F9A". */
  readonly maskedCredential: string | undefined;
  /** How it was linked (undefined before a sign-in finished, or when this server no longer offers that sign-in). */
  readonly linkedWith: LinkMethodKind | undefined;
  readonly createdAt: Date;
  readonly lastError: string | undefined;
}

export type SaveKeysOutcome =
  | { readonly kind: 'saved'; readonly connection: ConnectionSummary; readonly rotated: boolean }
  /** The form is wrong: one message per field, nothing stored. */
  | { readonly kind: 'invalid'; readonly fieldErrors: Readonly<Record<string, string>> }
  /** The broker refused the keys or could not be reached: nothing stored. */
  | { readonly kind: 'refused'; readonly message: string };

export interface TestOutcome {
  readonly health: HealthStatus;
  readonly detail: string;
}

/** The OAuth machinery for the providers that sign in with it. */
export interface OAuthServices {
  oauth2(provider: BrokerProvider): OAuth2Flow | undefined;
  oauth1(provider: BrokerProvider): OAuth1Flow | undefined;
  readonly tokens: ConnectionTokens;
}

/** A connection that does not exist for this user (or was unlinked). */
export class ConnectionNotFoundError extends ArbionError {
  readonly code = 'connection_not_found';

  constructor() {
    super('no such connection for this user', 'That connection does not exist or was already unlinked.');
  }
}

/**
 * A connection's sealed credentials as they are opened here: the secrets of a key or OAuth 1.0a
 * link; of an OAuth 2.0 link only its kind (its tokens are `ConnectionTokens`' to hand out).
 */
export type StoredCredentials =
  | { readonly kind: 'keys'; readonly values: KeyCredentials }
  | { readonly kind: 'oauth1'; readonly token: string; readonly tokenSecret: string }
  | { readonly kind: 'oauth2' };

const storedCredentialsSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('keys'), values: z.record(z.string(), z.string()) }),
  z.object({ kind: z.literal('oauth1'), token: z.string(), tokenSecret: z.string() }),
  // Unknown keys are dropped: the OAuth 2.0 tokens never leave the vault through here.
  z.object({ kind: z.literal('oauth2') }),
]);

const CREDENTIALS_FIELD = 'credentials';

/** What a broker client needs of a connection: owner, whether it can trade, and its secrets. */
export interface ConnectionCredentials {
  readonly connectionId: string;
  readonly userId: string;
  readonly provider: BrokerProvider;
  readonly status: ConnectionStatus;
  readonly mode: TradingMode;
  /**
   * Opens the sealed credentials: how the connection was linked, with the secrets of key and OAuth
   * 1.0a links (OAuth 2.0 tokens come from `ConnectionTokens`). Called only when a client is
   * built, not per lookup; undefined when nothing usable is stored.
   */
  open(): StoredCredentials | undefined;
  /** Changes whenever the stored secrets change (rotation, a new sign-in): clients built on the old ones are stale. */
  readonly version: string;
}

/** A connection was linked (new, rotated, signed in again) or unlinked. */
export interface ConnectionChange {
  readonly kind: 'linked' | 'unlinked';
  readonly connectionId: string;
  readonly userId: string;
  readonly provider: BrokerProvider;
}

export class BrokerConnections {
  constructor(
    private readonly deps: {
      readonly prisma: PrismaClient;
      readonly vault: SecretVault;
      readonly catalog: ProviderCatalog;
      readonly oauth: OAuthServices;
      readonly logger: Logger;
      readonly clock?: () => Date;
      /** Told after every link and unlink (account sync, broker clients to rebuild); its failures are logged. */
      readonly onChange?: (change: ConnectionChange) => Promise<void>;
    },
  ) {}

  /**
   * The connection's secrets, opened, for the broker clients. OAuth 2.0 links carry none here:
   * their access tokens are asked for per request. Undefined when there is no such connection.
   */
  async credentialsFor(connectionId: string): Promise<ConnectionCredentials | undefined> {
    const row = await this.deps.prisma.brokerConnection.findUnique({ where: { id: connectionId } });
    if (row === null) return undefined;
    // OAuth 2.0 clients ask for the token per request: a refresh must not make them stale.
    const oauth2 = linkedWith(row, this.deps.catalog.get(row.provider)) === 'oauth2';
    return {
      connectionId: row.id,
      userId: row.userId,
      provider: row.provider,
      status: row.status,
      mode: row.mode,
      open: () => this.openCredentials(row),
      version:
        oauth2 || row.credentialCiphertext === null
          ? `${row.status}`
          : `${row.status}:${createHash('sha256').update(row.credentialCiphertext).digest('hex')}`,
    };
  }

  private async changed(change: ConnectionChange): Promise<void> {
    try {
      await this.deps.onChange?.(change);
    } catch (error) {
      this.deps.logger.warn(
        { err: error, connectionId: change.connectionId, userId: change.userId, change: change.kind },
        'could not finish after a connection change',
      );
    }
  }

  private now(): Date {
    return this.deps.clock?.() ?? new Date();
  }

  private context(userId: string, connectionId: string): VaultContext {
    return { userId, recordId: connectionId, field: CREDENTIALS_FIELD };
  }

  /** The user's linked brokers (not unlinked; the built-in paper account is not one), newest first. */
  async list(userId: string): Promise<ConnectionSummary[]> {
    const rows = await this.deps.prisma.brokerConnection.findMany({
      where: { userId, status: { not: 'revoked' }, provider: { not: 'paper' } },
      orderBy: { createdAt: 'desc' },
    });
    return rows.map((row) => summarize(row, this.deps.catalog.get(row.provider)));
  }

  /** Validates API keys, tries them at the broker, and only then stores them (new or rotated). */
  async saveKeys(input: {
    readonly userId: string;
    readonly provider: string;
    readonly values: Readonly<Record<string, string>>;
    readonly rotateConnectionId?: string;
  }): Promise<SaveKeysOutcome> {
    const provider = this.deps.catalog.get(input.provider);
    const linking = linkMethod(provider, 'keys');
    if (provider === undefined || linking === undefined) {
      return { kind: 'refused', message: 'This broker is not linked with API keys on this server.' };
    }
    const parsed = linking.schema.safeParse(input.values);
    if (!parsed.success) {
      const fieldErrors: Record<string, string> = {};
      for (const issue of parsed.error.issues) {
        const field = String(issue.path[0] ?? '_form');
        fieldErrors[field] ??= issue.message;
      }
      return { kind: 'invalid', fieldErrors };
    }
    const credentials = parsed.data;
    // Ownership first: someone else's connection id never costs a call to the broker.
    const existing = await this.findLinked(input.userId, provider.id, input.rotateConnectionId);
    if (input.rotateConnectionId !== undefined && existing === undefined) {
      return { kind: 'refused', message: new ConnectionNotFoundError().userMessage };
    }
    // Keys written over a sign-in would leave its grant alive at the broker, out of our reach.
    if (existing !== undefined && this.storedKind(existing) === 'oauth2') {
      return {
        kind: 'refused',
        message: `This ${provider.name} link is signed in at ${provider.name}. Unlink it first to use an API key instead.`,
      };
    }
    let result: KeyTestResult;
    try {
      result = await linking.test(credentials);
    } catch (error) {
      this.deps.logger.warn({ err: error, provider: provider.id, userId: input.userId }, 'key test failed');
      result = {
        ok: false,
        reason: 'unreachable',
        message: `${provider.name} could not be reached. Try again in a minute.`,
      };
    }
    if (!result.ok) return { kind: 'refused', message: result.message };

    const connectionId = existing?.id ?? randomUUID();
    const sealed = this.deps.vault.seal(
      JSON.stringify({ kind: 'keys', values: credentials } satisfies StoredCredentials),
      this.context(input.userId, connectionId),
    );
    const now = this.now();
    const data = {
      status: 'active' as const,
      label: linking.mask(credentials),
      credentialCiphertext: sealed.ciphertext,
      credentialKeyId: sealed.keyId,
      // Keys do not expire; no token times also mark the row as a key link (see the top).
      accessTokenExpiresAt: null,
      refreshTokenExpiresAt: null,
      healthStatus: 'healthy' as const,
      healthDetail: result.detail ?? 'Keys accepted by the broker.',
      lastHealthCheckAt: now,
      lastError: null,
    };
    const row =
      existing === undefined
        ? await this.deps.prisma.brokerConnection.create({
            data: { id: connectionId, userId: input.userId, provider: provider.id, ...data },
          })
        : await this.deps.prisma.brokerConnection.update({ where: { id: connectionId }, data });
    await this.audit(
      input.userId,
      existing ? 'linking.keys_rotated' : 'linking.connected',
      row.id,
      provider.id,
    );
    await this.changed({ kind: 'linked', connectionId: row.id, userId: input.userId, provider: provider.id });
    return {
      kind: 'saved',
      connection: summarize(await this.reread(row), provider),
      rotated: existing !== undefined,
    };
  }

  /**
   * Stores the tokens of a finished OAuth 2.0 sign-in: a new connection, a reconnect, or a key link
   * of the same broker that now signs in instead (its keys are overwritten).
   */
  async storeOAuth2(
    userId: string,
    provider: LinkableProvider,
    tokens: OAuth2Tokens,
  ): Promise<ConnectionSummary> {
    const existing = await this.findLinked(userId, provider.id);
    const connectionId = existing?.id ?? randomUUID();
    if (existing === undefined) {
      await this.deps.prisma.brokerConnection.create({
        data: { id: connectionId, userId, provider: provider.id, status: 'pending' },
      });
    }
    await this.deps.oauth.tokens.store(connectionId, userId, tokens);
    const row = await this.deps.prisma.brokerConnection.update({
      where: { id: connectionId },
      data: {
        status: 'active',
        label: null,
        healthStatus: 'healthy',
        healthDetail: 'Signed in.',
        lastHealthCheckAt: this.now(),
        lastError: null,
      },
    });
    await this.audit(userId, existing ? 'linking.reconnected' : 'linking.connected', row.id, provider.id);
    await this.changed({ kind: 'linked', connectionId: row.id, userId, provider: provider.id });
    return summarize(await this.reread(row), provider);
  }

  /** Stores the tokens of a finished OAuth 1.0a sign-in. E*TRADE tokens die at midnight US Eastern. */
  async storeOAuth1(
    userId: string,
    provider: LinkableProvider,
    tokens: OAuth1Tokens,
    accessTokenExpiresAt: Date | undefined,
  ): Promise<ConnectionSummary> {
    const existing = await this.findLinked(userId, provider.id);
    const connectionId = existing?.id ?? randomUUID();
    const sealed = this.deps.vault.seal(
      JSON.stringify({
        kind: 'oauth1',
        token: tokens.token,
        tokenSecret: tokens.tokenSecret,
      } satisfies StoredCredentials),
      this.context(userId, connectionId),
    );
    const data = {
      status: 'active' as const,
      credentialCiphertext: sealed.ciphertext,
      credentialKeyId: sealed.keyId,
      accessTokenExpiresAt: accessTokenExpiresAt ?? null,
      healthStatus: 'healthy' as const,
      healthDetail: 'Signed in.',
      lastHealthCheckAt: this.now(),
      lastError: null,
    };
    const row =
      existing === undefined
        ? await this.deps.prisma.brokerConnection.create({
            data: { id: connectionId, userId, provider: provider.id, ...data },
          })
        : await this.deps.prisma.brokerConnection.update({ where: { id: connectionId }, data });
    await this.audit(userId, existing ? 'linking.reconnected' : 'linking.connected', row.id, provider.id);
    await this.changed({ kind: 'linked', connectionId: row.id, userId, provider: provider.id });
    return summarize(await this.reread(row), provider);
  }

  /** Tries the connection at its broker now and records the result. */
  async test(userId: string, connectionId: string): Promise<TestOutcome> {
    const row = await this.deps.prisma.brokerConnection.findFirst({
      where: { id: connectionId, userId, status: { not: 'revoked' }, provider: { not: 'paper' } },
    });
    if (row === null) throw new ConnectionNotFoundError();
    const provider = this.deps.catalog.get(row.provider);
    let outcome: TestOutcome;
    try {
      outcome = await this.probe(row, provider);
    } catch (error) {
      this.deps.logger.warn({ err: error, connectionId, userId }, 'connection test failed');
      outcome = {
        health: 'down',
        detail: safeMessage(error, `${provider?.name ?? row.provider} could not be reached.`),
      };
    }
    await this.deps.prisma.brokerConnection.update({
      where: { id: row.id },
      data: {
        healthStatus: outcome.health,
        healthDetail: outcome.detail,
        lastHealthCheckAt: this.now(),
        lastError: outcome.health === 'healthy' ? null : outcome.detail,
      },
    });
    return outcome;
  }

  /**
   * Unlinks: revokes the tokens at the broker where it can (best effort: a broker that is down does
   * not keep the credentials here), erases the ciphertext and marks the connection revoked.
   */
  async unlink(
    userId: string,
    connectionId: string,
  ): Promise<{ provider: BrokerProvider; revokedAtBroker: boolean }> {
    const row = await this.deps.prisma.brokerConnection.findFirst({
      where: { id: connectionId, userId, status: { not: 'revoked' }, provider: { not: 'paper' } },
    });
    if (row === null) throw new ConnectionNotFoundError();
    let revokedAtBroker = false;
    try {
      revokedAtBroker = await this.revokeAtBroker(row);
    } catch (error) {
      this.deps.logger.warn({ err: error, connectionId, userId }, 'revocation at the broker failed');
    }
    const now = this.now();
    // Orders must not follow an unlinked connection: the user is back on paper.
    await this.deps.prisma.user.updateMany({
      where: { id: userId, tradingAccount: { connectionId: row.id } },
      data: { tradingAccountId: null },
    });
    await this.deps.prisma.brokerConnection.update({
      where: { id: row.id },
      data: {
        status: 'revoked',
        revokedAt: now,
        credentialCiphertext: null,
        credentialKeyId: null,
        accessTokenExpiresAt: null,
        refreshTokenExpiresAt: null,
        liveEnabledAt: null,
        mode: 'paper',
      },
    });
    await this.audit(userId, 'linking.unlinked', row.id, row.provider);
    await this.changed({ kind: 'unlinked', connectionId: row.id, userId, provider: row.provider });
    return { provider: row.provider, revokedAtBroker };
  }

  // ------------------------------------------------------------------ internals

  private async findLinked(userId: string, provider: BrokerProvider, connectionId?: string) {
    const row = await this.deps.prisma.brokerConnection.findFirst({
      where: {
        userId,
        provider,
        status: { not: 'revoked' },
        ...(connectionId !== undefined ? { id: connectionId } : {}),
      },
      orderBy: { createdAt: 'desc' },
    });
    return row ?? undefined;
  }

  /** The row as it is after the change hooks (they may have synced accounts or health). */
  private async reread(row: ConnectionRow): Promise<ConnectionRow> {
    return (await this.deps.prisma.brokerConnection.findUnique({ where: { id: row.id } })) ?? row;
  }

  /** The sealed credentials, opened; undefined when none are stored or they are not ours to read. */
  private openCredentials(row: ConnectionRow): StoredCredentials | undefined {
    if (row.credentialCiphertext === null) return undefined;
    const plaintext = this.deps.vault.open(row.credentialCiphertext, this.context(row.userId, row.id));
    const parsed = storedCredentialsSchema.safeParse(parseJson(plaintext));
    return parsed.success ? parsed.data : undefined;
  }

  /** How the connection was linked, per its sealed credentials; undefined when they cannot be read. */
  private storedKind(row: ConnectionRow): LinkMethodKind | undefined {
    try {
      return this.openCredentials(row)?.kind;
    } catch {
      // A ciphertext the vault no longer opens (its key dropped) is replaced like any other.
      return undefined;
    }
  }

  /** Tries the connection the way it was linked, if this server still offers that way. */
  private async probe(row: ConnectionRow, provider: LinkableProvider | undefined): Promise<TestOutcome> {
    if (provider === undefined || provider.linking === undefined) {
      return { health: 'unknown', detail: 'This broker is not set up on this server.' };
    }
    const credentials = this.openCredentials(row);
    if (credentials === undefined)
      return { health: 'down', detail: 'No credentials are stored: link again.' };
    const notOffered = {
      health: 'unknown' as const,
      detail: `${provider.name} is no longer set up on this server for this kind of link: unlink it and link again.`,
    };
    switch (credentials.kind) {
      case 'oauth2': {
        const linking = linkMethod(provider, 'oauth2');
        if (linking === undefined) return notOffered;
        const accessToken = await this.deps.oauth.tokens.accessToken(row.id);
        if (linking.probe === undefined) return { health: 'healthy', detail: 'Signed in; tokens are valid.' };
        return fromKeyTest(await linking.probe(accessToken));
      }
      case 'oauth1': {
        const flow = this.deps.oauth.oauth1(row.provider);
        if (linkMethod(provider, 'oauth1') === undefined || flow === undefined) return notOffered;
        await flow.renew({ token: credentials.token, tokenSecret: credentials.tokenSecret });
        return { health: 'healthy', detail: 'Signed in; the session was renewed.' };
      }
      case 'keys': {
        const linking = linkMethod(provider, 'keys');
        if (linking === undefined) return notOffered;
        return fromKeyTest(await linking.test(credentials.values));
      }
    }
  }

  private async revokeAtBroker(row: ConnectionRow): Promise<boolean> {
    const credentials = this.openCredentials(row);
    if (credentials?.kind === 'oauth2') {
      const flow = this.deps.oauth.oauth2(row.provider);
      const tokens = await this.deps.oauth.tokens.read(row.id);
      if (flow === undefined || tokens === undefined) return false;
      if (tokens.refreshToken !== undefined) await flow.revoke(tokens.refreshToken, 'refresh_token');
      await flow.revoke(tokens.accessToken, 'access_token');
      return flow.spec.revocationEndpoint !== undefined;
    }
    if (credentials?.kind === 'oauth1') {
      const flow = this.deps.oauth.oauth1(row.provider);
      if (flow === undefined) return false;
      await flow.revoke({ token: credentials.token, tokenSecret: credentials.tokenSecret });
      return true;
    }
    return false;
  }

  private async audit(
    userId: string,
    type: string,
    connectionId: string,
    provider: BrokerProvider,
  ): Promise<void> {
    await this.deps.prisma.auditEvent.create({
      data: { type, actorKind: 'user', actorId: userId, userId, connectionId, data: { provider } },
    });
  }
}

type ConnectionRow = NonNullable<Awaited<ReturnType<PrismaClient['brokerConnection']['findFirst']>>>;

/**
 * How a connection was linked, from its row alone (see the top): no token times mean keys, where
 * the broker takes keys; otherwise it signed in, the broker's way (none offers both OAuth 1.0a and
 * 2.0). Undefined before anything was stored, or for a way this server no longer offers.
 */
function linkedWith(row: ConnectionRow, provider: LinkableProvider | undefined): LinkMethodKind | undefined {
  if (row.credentialCiphertext === null) return undefined;
  const kinds = linkMethods(provider).map((method) => method.kind);
  if (row.accessTokenExpiresAt === null && kinds.includes('keys')) return 'keys';
  return kinds.find((kind) => kind !== 'keys');
}

function summarize(row: ConnectionRow, provider: LinkableProvider | undefined): ConnectionSummary {
  return {
    id: row.id,
    provider: row.provider,
    status: row.status,
    mode: row.mode,
    health: row.healthStatus,
    healthDetail: row.healthDetail ?? undefined,
    lastHealthCheckAt: row.lastHealthCheckAt ?? undefined,
    accessTokenExpiresAt: row.accessTokenExpiresAt ?? undefined,
    refreshTokenExpiresAt: row.refreshTokenExpiresAt ?? undefined,
    maskedCredential: row.label ?? undefined,
    linkedWith: linkedWith(row, provider),
    createdAt: row.createdAt,
    lastError: row.lastError ?? undefined,
  };
}

function fromKeyTest(result: KeyTestResult): TestOutcome {
  if (result.ok)
    return { health: 'healthy', detail: result.detail ?? 'The broker accepted the credentials.' };
  return { health: result.reason === 'rejected' ? 'down' : 'degraded', detail: result.message };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** ArbionErrors carry a message safe to show; anything else gets the fallback. */
function safeMessage(error: unknown, fallback: string): string {
  if (error instanceof Error && 'userMessage' in error && typeof error.userMessage === 'string')
    return error.userMessage;
  return fallback;
}
