/**
 * `createArbion`'s broker steps: the paper broker, broker linking (when a vault is given), the
 * registry of linked brokers' clients, and the switch between paper and live trading.
 */
import { PaperBroker } from '../brokers/paper/paper-broker.js';
import { BrokerRegistry } from '../brokers/registry.js';
import { TradingModes } from '../core/accounts/trading-modes.js';
import type { MarketDataProvider } from '../core/market-data/market-data.js';
import { OperatorSecrets } from '../core/vault/operator-secrets.js';
import type { ArbionSetup, ChannelRegistry } from './arbion.js';
import { createLinking, type Linking } from './linking.js';

/** The built-in paper broker, on the given market. */
export function createPaperBroker(options: ArbionSetup, market: MarketDataProvider): PaperBroker {
  const { config, database } = options;
  return new PaperBroker({
    prisma: database.prisma,
    sql: database.sql,
    market,
    slippageBps: config.trading.paperSlippageBps,
    clock: options.clock,
  });
}

/**
 * Broker linking when a vault was given (else undefined): outcomes are announced in the chat that
 * asked, and a changed link's client is rebuilt through the registry (`registry` is called only
 * after `createArbion` has built it).
 */
export function createBrokerLinking(
  options: ArbionSetup,
  channels: ChannelRegistry,
  registry: () => BrokerRegistry,
): Linking | undefined {
  if (options.linking === undefined) return undefined;
  const { config, database, logger } = options;
  return createLinking({
    config,
    prisma: database.prisma,
    vault: options.linking.vault,
    logger,
    publicBaseUrl: options.linking.publicBaseUrl,
    announce: async (origin, text) => {
      if (!channels.has(origin.platform)) return;
      await channels
        .get(origin.platform)
        .send(
          { platform: origin.platform, workspaceId: origin.workspaceId, chatId: origin.chatId },
          { kind: 'text', text },
        );
    },
    // A new link's accounts are read at once; the client of a changed link is rebuilt.
    onConnectionChange: async (change) => {
      registry().forget(change.connectionId);
      if (change.kind === 'linked') await registry().syncAccounts(change.connectionId);
    },
    clock: options.clock,
  });
}

/** The broker client of every linked connection (only the paper broker without linking). */
export function createBrokerRegistry(
  options: ArbionSetup,
  paper: PaperBroker,
  linking: Linking | undefined,
): BrokerRegistry {
  const { config, database, logger } = options;
  const prisma = database.prisma;
  return new BrokerRegistry({
    prisma,
    brokers: config.brokers,
    paper,
    credentials:
      linking?.connections === undefined ? undefined : (id) => linking.connections.credentialsFor(id),
    tokens: linking?.tokens,
    logger,
    clientOptions: options.brokerClientOptions,
    clock: options.clock,
    ...(options.linking === undefined
      ? {}
      : { operatorSecrets: new OperatorSecrets(prisma, options.linking.vault) }),
  });
}

/** "go live on X" and "paper mode"; undefined without linking (then there is nothing to go live on). */
export function createTradingModes(
  options: ArbionSetup,
  linking: Linking | undefined,
  registry: BrokerRegistry,
): TradingModes | undefined {
  if (linking === undefined) return undefined;
  return new TradingModes({
    prisma: options.database.prisma,
    syncAccounts: (connectionId) => registry.syncAccounts(connectionId),
    realMoney: (connectionId) => registry.realMoney(connectionId),
    logger: options.logger.child({ component: 'trading-modes' }),
    clock: options.clock,
  });
}
