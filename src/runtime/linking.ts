/**
 * Assembles broker linking from the configuration: the linkable brokers, their OAuth flows, the
 * token store, the connections service, one-time links and web sessions. `createArbion` builds it
 * when a vault is given; `arbion start` and `arbion web` mount the site on it.
 */

import type { LinkingServices } from '../../web-linking/linking-services.js';
import { alpacaLinking } from '../brokers/alpaca/linking.js';
import { cdpWalletLinking } from '../brokers/cdp-wallet/linking.js';
import { coinbaseLinking } from '../brokers/coinbase/linking.js';
import { etradeLinking } from '../brokers/etrade/linking.js';
import { schwabLinking } from '../brokers/schwab/linking.js';
import type { Config } from '../core/config/config.js';
import type { PrismaClient } from '../core/db/database.js';
import type { BrokerProvider } from '../core/db/generated/enums.js';
import { BrokerConnections, type ConnectionChange } from '../core/linking/connections.js';
import { ExpiryWarnings } from '../core/linking/expiry-warnings.js';
import { type LinkOrigin, LinkTokens } from '../core/linking/link-tokens.js';
import { type LinkableProvider, linkMethods, ProviderCatalog } from '../core/linking/providers.js';
import { TokenKeeper } from '../core/linking/token-keeper.js';
import { WebSessions } from '../core/linking/web-sessions.js';
import type { Logger } from '../core/logging/logger.js';
import { ConnectionTokens } from '../core/oauth/connection-tokens.js';
import { OAuthStates } from '../core/oauth/oauth-states.js';
import { OAuth1Flow } from '../core/oauth/oauth1-flow.js';
import { OAuth2Flow } from '../core/oauth/oauth2-flow.js';
import type { SecretVault } from '../core/vault/types.js';

export interface LinkingOptions {
  readonly config: Config;
  readonly prisma: PrismaClient;
  readonly vault: SecretVault;
  readonly logger: Logger;
  /** The site's base URL as users reach it; a function because without PUBLIC_URL it is known after listen. */
  readonly publicBaseUrl: () => string;
  /** Posts a line in a chat (the chat that asked for the link). */
  readonly announce: (origin: LinkOrigin, text: string) => Promise<void>;
  /** Told after every link and unlink (accounts to sync, broker clients to rebuild). */
  readonly onConnectionChange?: (change: ConnectionChange) => Promise<void>;
  readonly clock?: () => Date;
}

export interface Linking {
  readonly services: LinkingServices;
  /** Links about to die on their own, to warn about in chat. */
  readonly expiryWarnings: ExpiryWarnings;
  /** Refreshes OAuth 2.0 tokens ahead of time and reports links that stopped working. */
  readonly tokenKeeper: TokenKeeper;
  readonly connections: BrokerConnections;
  readonly linkTokens: LinkTokens;
  readonly catalog: ProviderCatalog;
  /** OAuth 2.0 access tokens per connection, refreshed when near expiry. */
  readonly tokens: ConnectionTokens;
}

/** The base URL before the server listens: PUBLIC_URL, or the configured host and port. */
export function configuredBaseUrl(config: Config): string {
  return config.web.publicUrl ?? `http://${config.web.host}:${config.web.port}`;
}

export function createLinking(options: LinkingOptions): Linking {
  const { config, prisma, vault, logger, clock } = options;
  const providers: LinkableProvider[] = [
    schwabLinking(config, configuredBaseUrl(config)),
    etradeLinking(config),
    alpacaLinking(config),
    coinbaseLinking(config, { publicBaseUrl: configuredBaseUrl(config) }),
    cdpWalletLinking(config),
  ];
  const catalog = new ProviderCatalog(providers);
  // Plain http is allowed only to loopback endpoints, and never in production.
  const allowInsecureLoopback = config.env !== 'production';
  const states = new OAuthStates({ prisma, vault, now: clock });
  const oauth2 = new Map<BrokerProvider, OAuth2Flow>();
  const oauth1 = new Map<BrokerProvider, OAuth1Flow>();
  // Every way a broker offers, not only its preferred one (Coinbase: a sign-in beside its keys).
  for (const provider of providers) {
    for (const linking of linkMethods(provider)) {
      if (linking.kind === 'oauth2')
        oauth2.set(provider.id, new OAuth2Flow(linking.spec, { states, now: clock, allowInsecureLoopback }));
      if (linking.kind === 'oauth1')
        oauth1.set(provider.id, new OAuth1Flow(linking.spec, { states, now: clock, allowInsecureLoopback }));
    }
  }
  const tokens = new ConnectionTokens({
    prisma,
    vault,
    flows: Object.fromEntries(oauth2),
    logger: logger.child({ component: 'oauth' }),
    now: clock,
  });
  const connections = new BrokerConnections({
    prisma,
    vault,
    catalog,
    oauth: { oauth2: (id) => oauth2.get(id), oauth1: (id) => oauth1.get(id), tokens },
    logger: logger.child({ component: 'linking' }),
    clock,
    onChange: options.onConnectionChange,
  });
  const linkTokens = new LinkTokens({ prisma, baseUrl: options.publicBaseUrl, clock });
  const services: LinkingServices = {
    linkTokens,
    sessions: new WebSessions({ prisma, clock }),
    connections,
    catalog,
    oauth2: (id) => oauth2.get(id),
    oauth1: (id) => oauth1.get(id),
    announce: async (origin, text) => {
      try {
        await options.announce(origin, text);
      } catch (error) {
        logger.warn(
          { err: error, platform: origin.platform },
          'could not announce a linking outcome in chat',
        );
      }
    },
  };
  return {
    services,
    connections,
    linkTokens,
    catalog,
    tokens,
    expiryWarnings: new ExpiryWarnings({ prisma, catalog }),
    tokenKeeper: new TokenKeeper({ prisma, tokens, catalog, logger: logger.child({ component: 'oauth' }) }),
  };
}
