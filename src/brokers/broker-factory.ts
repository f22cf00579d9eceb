/**
 * How a linked broker's client is built from its connection: one `BrokerFactory` per broker
 * (`src/brokers/<name>/factory.ts`), looked up by provider in `brokerFactories`
 * (`src/brokers/factories.ts`). The registry calls a factory when a connection's client is first
 * needed and again whenever its stored secrets change.
 */

import type { Broker } from '../core/brokers/broker.js';
import type { Config } from '../core/config/config.js';
import type { PrismaClient } from '../core/db/database.js';
import type { ConnectionCredentials, StoredCredentials } from '../core/linking/connections.js';
import type { Logger } from '../core/logging/logger.js';
import type { ConnectionTokens } from '../core/oauth/connection-tokens.js';
import type { CdpWallets } from './cdp-wallet/cdp-wallets.js';
import type { BrokerClientOptions } from './http/broker-client-options.js';
import type { BrokerHttpHealth } from './http/broker-http-client.js';

/** An account a broker login opens, as `broker_accounts` stores it. */
export interface LinkedAccount {
  /** The id the broker's API takes (Schwab's hash value, E*TRADE's accountIdKey, Alpaca's number). */
  readonly externalId: string;
  /** The last four characters of the account number, for display. */
  readonly displayNumber: string;
  readonly accountType: string | undefined;
}

/** A client of a linked broker: the `Broker` interface plus what linking and health need. */
export interface ConnectedBroker {
  readonly broker: Broker;
  /** Its HTTP health (circuit, recent failures), for the connection row and `arbion doctor`. */
  readonly http: { health(): BrokerHttpHealth };
  /** The accounts these credentials open. */
  listAccounts(): Promise<LinkedAccount[]>;
  /** Whether orders here move real money (Alpaca paper keys do not). */
  readonly realMoney: boolean;
}

/** Everything a factory may build a client from. */
export interface BrokerFactoryContext {
  /** The connection: its id, owner and provider. */
  readonly connection: ConnectionCredentials;
  /** Its secrets, opened once for this build (undefined when nothing usable is stored). */
  readonly credentials: StoredCredentials | undefined;
  /** The server's broker settings (API bases, app keys). */
  readonly brokers: Config['brokers'];
  /** OAuth 2.0 access tokens, refreshed under the connection's lock; absent without a vault. */
  readonly tokens: ConnectionTokens | undefined;
  readonly prisma: PrismaClient;
  /** The client options: a per-provider child logger, then the registry's test hooks and overrides. */
  readonly options: BrokerClientOptions;
  /** The registry's logger. */
  readonly logger: Logger;
  /** Arbion's CDP project, when it is set up (built by the registry before a wallet's factory runs). */
  readonly wallets: CdpWallets | undefined;
  /** The error to throw when this server or this connection lacks what the broker needs. */
  notSetUp(): Error;
}

/**
 * Builds the client of one linked connection; throws `context.notSetUp()` when it cannot. May be
 * async, so a broker with a heavy SDK imports it only when a connection first needs it.
 */
export type BrokerFactory = (context: BrokerFactoryContext) => ConnectedBroker | Promise<ConnectedBroker>;
