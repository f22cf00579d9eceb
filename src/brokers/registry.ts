/**
 * The broker client for each connection, built from its stored credentials and kept for the life
 * of the process: one client per connection means one rate limiter and one circuit breaker per
 * broker login, and Schwab's memory of the orders it placed survives between calls.
 *
 * A client is rebuilt when the connection's secrets change (key rotation, a new sign-in), which
 * every lookup checks with one small read, so other processes' changes are seen too.
 */

import { type Broker, type BrokerRoute, brokerName as providerName } from '../core/brokers/broker.js';
import type { Config } from '../core/config/config.js';
import type { PrismaClient } from '../core/db/database.js';
import type { HealthStatus } from '../core/db/generated/enums.js';
import { ArbionError } from '../core/errors.js';
import type { ConnectionCredentials } from '../core/linking/connections.js';
import type { Logger } from '../core/logging/logger.js';
import type { ConnectionTokens } from '../core/oauth/connection-tokens.js';
import type { OperatorSecrets } from '../core/vault/index.js';
import type { ConnectedBroker, LinkedAccount } from './broker-factory.js';
import type { CdpWallets } from './cdp-wallet/cdp-wallets.js';
import { brokerFactoryFor } from './factories.js';
import type { BrokerClientOptions } from './http/broker-client-options.js';
import type { BrokerHttpHealth } from './http/broker-http-client.js';
import { BrokerAuthError } from './http/errors.js';
import type { PaperBroker } from './paper/paper-broker.js';

/** Shown in chat when an order or a question needs a connection that cannot be used now. */
export class BrokerConnectionUnavailableError extends ArbionError {
  readonly code = 'broker_connection_unavailable';
}

export type { LinkedAccount };

export interface BrokerRegistryDependencies {
  readonly prisma: PrismaClient;
  readonly brokers: Config['brokers'];
  readonly paper: PaperBroker;
  /** Absent without a vault (no linking): then only the paper broker exists. */
  readonly credentials?: (connectionId: string) => Promise<ConnectionCredentials | undefined>;
  readonly tokens?: ConnectionTokens;
  readonly logger: Logger;
  /** Test hooks and HTTP overrides passed to every client. */
  readonly clientOptions?: BrokerClientOptions;
  /** The time health rows are stamped with (the wall clock when absent). */
  readonly clock?: () => Date;
  /** The operator's secrets in the vault (the CDP wallet secret); absent without a vault. */
  readonly operatorSecrets?: Pick<OperatorSecrets, 'get'>;
}

export class BrokerRegistry {
  private readonly clients = new Map<
    string,
    { readonly version: string; readonly client: ConnectedBroker }
  >();
  /** The health last written per connection, so an unchanged one costs no query. */
  private readonly recorded = new Map<string, string>();
  /** Arbion's CDP project, built on first use of any wallet (the SDK allows one per process). */
  private wallets: CdpWallets | undefined;

  constructor(private readonly deps: BrokerRegistryDependencies) {}

  /** The broker for an account or order; the paper broker needs no connection. */
  readonly brokerFor = async (route: BrokerRoute): Promise<Broker> => {
    if (route.provider === 'paper') return this.deps.paper;
    if (route.connectionId === null) {
      throw new BrokerConnectionUnavailableError(
        `an order route for ${route.provider} without a connection`,
        `That ${providerName(route.provider)} order has no linked connection any more. Nothing was sent.`,
      );
    }
    return (await this.connected(route.connectionId)).broker;
  };

  /** The accounts a connection opens, read from the broker and stored; the first becomes the default. */
  async syncAccounts(connectionId: string): Promise<LinkedAccount[]> {
    const client = await this.connected(connectionId);
    const accounts = await client.listAccounts();
    const existing = await this.deps.prisma.brokerAccount.findMany({ where: { connectionId } });
    const hasDefault = existing.some((account) => account.isDefault);
    for (const [index, account] of accounts.entries()) {
      await this.deps.prisma.brokerAccount.upsert({
        where: { connectionId_externalId: { connectionId, externalId: account.externalId } },
        create: {
          connectionId,
          externalId: account.externalId,
          displayNumber: account.displayNumber,
          accountType: account.accountType ?? null,
          isDefault: !hasDefault && index === 0,
        },
        update: { displayNumber: account.displayNumber, accountType: account.accountType ?? null },
      });
    }
    this.deps.logger.info(
      { connectionId, provider: client.broker.provider, accounts: accounts.length },
      'broker accounts synced',
    );
    return accounts;
  }

  /** Whether orders through this connection move real money. */
  async realMoney(connectionId: string): Promise<boolean> {
    return (await this.connected(connectionId)).realMoney;
  }

  /** The health of every client built in this process, by connection id. */
  health(): Map<string, BrokerHttpHealth> {
    return new Map(
      [...this.clients].map(([connectionId, entry]) => [connectionId, entry.client.http.health()]),
    );
  }

  /**
   * Writes what this process's clients saw into their connections' health (the linking page and
   * `arbion doctor` show it), only when it changed since this process last wrote it.
   */
  async recordHealth(now: Date): Promise<void> {
    for (const [connectionId, health] of this.health()) {
      if (health.lastSuccessAt === undefined && health.lastFailureAt === undefined) continue;
      const { status, detail } = connectionHealth(health);
      if (this.recorded.get(connectionId) === `${status}:${detail}`) continue;
      this.recorded.set(connectionId, `${status}:${detail}`);
      await this.deps.prisma.brokerConnection.updateMany({
        where: { id: connectionId, status: 'active' },
        data: {
          healthStatus: status,
          healthDetail: detail,
          lastHealthCheckAt: now,
          lastError: status === 'healthy' ? null : (health.lastError ?? null),
        },
      });
    }
  }

  /** Drops a connection's client (after an unlink); the next lookup builds a fresh one. */
  forget(connectionId: string): void {
    this.clients.delete(connectionId);
    this.recorded.delete(connectionId);
  }

  // ------------------------------------------------------------------ internals

  private async connected(connectionId: string): Promise<ConnectedBroker> {
    const stored = await this.deps.credentials?.(connectionId);
    if (stored === undefined) {
      throw new BrokerConnectionUnavailableError(
        `connection ${connectionId} is unknown`,
        'That broker is not linked (any more). Say "link" to link it. Nothing was sent.',
      );
    }
    const name = providerName(stored.provider);
    if (stored.status === 'needs_reauth') {
      throw new BrokerConnectionUnavailableError(
        `connection ${connectionId} needs a new sign-in`,
        `Your ${name} sign-in has expired. Say "link" and sign in to ${name} again, or "paper mode" to trade on paper meanwhile. Nothing was sent.`,
      );
    }
    if (stored.status !== 'active') {
      throw new BrokerConnectionUnavailableError(
        `connection ${connectionId} is ${stored.status}`,
        `Your ${name} link is not active (${stored.status}). Say "link" to fix it, or "paper mode" to trade on paper. Nothing was sent.`,
      );
    }
    const cached = this.clients.get(connectionId);
    if (cached !== undefined && cached.version === stored.version) return cached.client;
    if (stored.provider === 'cdp_wallet') await this.loadWallets();
    const built = await this.build(stored);
    const client = { ...built, broker: this.watchAuth(built.broker, stored.connectionId) };
    this.clients.set(connectionId, { version: stored.version, client });
    this.recorded.delete(connectionId);
    return client;
  }

  /**
   * The broker with one addition on every call: a refused sign-in (401 after the client's own
   * renewal or refresh) marks the connection `needs_reauth`, so orders stop going there and the
   * linking page says "reconnect"; the caller still gets the error and tells the user.
   */
  private watchAuth(broker: Broker, connectionId: string): Broker {
    const markRefused = async (error: BrokerAuthError): Promise<void> => {
      const marked = await this.deps.prisma.brokerConnection.updateMany({
        where: { id: connectionId, status: 'active' },
        data: {
          status: 'needs_reauth',
          healthStatus: 'down',
          healthDetail: 'The broker no longer accepts the sign-in or keys: link it again.',
          lastError: error.reason.slice(0, 500),
          lastHealthCheckAt: this.deps.clock?.() ?? new Date(),
        },
      });
      if (marked.count > 0) {
        this.forget(connectionId);
        this.deps.logger.warn(
          { connectionId, provider: broker.provider },
          'broker refused the sign-in; link marked',
        );
      }
    };
    return new Proxy(broker, {
      get: (target, property, receiver) => {
        const value: unknown = Reflect.get(target, property, receiver);
        if (typeof value !== 'function') return value;
        return async (...args: unknown[]) => {
          try {
            return await (value as (...parameters: unknown[]) => Promise<unknown>).apply(target, args);
          } catch (error) {
            if (error instanceof BrokerAuthError) await markRefused(error).catch(() => undefined);
            throw error;
          }
        };
      },
    });
  }

  /**
   * Builds Arbion's CDP project once, with the wallet secret from the vault (set with `arbion
   * secrets set cdp-wallet-secret`), else from CDP_WALLET_SECRET. Without either, wallets stay
   * unbuilt and a wallet link is "not set up on this server".
   */
  private async loadWallets(): Promise<void> {
    const cdp = this.deps.brokers.cdp;
    if (this.wallets !== undefined || cdp === undefined) return;
    const stored = await this.deps.operatorSecrets?.get('cdp-wallet-secret');
    const walletSecret = stored ?? cdp.walletSecret;
    if (walletSecret === undefined) {
      this.deps.logger.warn(
        'CDP_API_KEY_ID is set but no wallet secret is: run `arbion secrets set cdp-wallet-secret`',
      );
      return;
    }
    this.deps.logger.info(
      { source: stored === undefined ? 'environment' : 'vault' },
      'CDP wallet secret loaded',
    );
    // The CDP SDK (and viem) load only on a server with wallets: they cost ~100 MB when imported.
    const { CdpWallets } = await import('./cdp-wallet/cdp-wallets.js');
    this.wallets ??= new CdpWallets({ ...cdp, walletSecret });
  }

  /** The client of a connection, from its provider's factory (`src/brokers/factories.ts`). */
  private async build(stored: ConnectionCredentials): Promise<ConnectedBroker> {
    const options: BrokerClientOptions = {
      logger: this.deps.logger.child({ component: 'broker', provider: stored.provider }),
      ...this.deps.clientOptions,
    };
    const notSetUp = () =>
      new BrokerConnectionUnavailableError(
        `${stored.provider} is not configured`,
        `${providerName(stored.provider)} is not set up on this server. Nothing was sent.`,
      );
    // The secrets are opened only here, when a client is (re)built.
    const credentials = stored.open();
    const factory = brokerFactoryFor(stored.provider);
    if (factory === undefined) {
      throw new BrokerConnectionUnavailableError(
        `no trading client for ${stored.provider}`,
        `Trading through ${providerName(stored.provider)} is not available in this version. Nothing was sent.`,
      );
    }
    return factory({
      connection: stored,
      credentials,
      brokers: this.deps.brokers,
      tokens: this.deps.tokens,
      prisma: this.deps.prisma,
      options,
      logger: this.deps.logger,
      wallets: this.wallets,
      notSetUp,
    });
  }
}

/** The health status a client's HTTP health means for the connection row. */
export function connectionHealth(health: BrokerHttpHealth): { status: HealthStatus; detail: string } {
  switch (health.status) {
    case 'down':
      return {
        status: 'down',
        detail: `Not answering: requests are paused for a moment (${health.lastError ?? 'repeated failures'}).`,
      };
    case 'degraded':
      return {
        status: 'degraded',
        detail: `Some requests failed recently (${health.lastError ?? `${health.consecutiveFailures} in a row`}).`,
      };
    default:
      return { status: 'healthy', detail: 'Answering normally.' };
  }
}
