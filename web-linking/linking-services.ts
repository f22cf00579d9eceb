/**
 * What the linking site needs from the core, in one object: the routes never reach further.
 */
import type { BrokerProvider } from '../src/core/db/generated/enums.js';
import type { BrokerConnections } from '../src/core/linking/connections.js';
import type { LinkOrigin, LinkTokens } from '../src/core/linking/link-tokens.js';
import type { ProviderCatalog } from '../src/core/linking/providers.js';
import type { WebSessions } from '../src/core/linking/web-sessions.js';
import type { OAuth1Flow, OAuth2Flow } from '../src/core/oauth/index.js';

export interface LinkingServices {
  readonly linkTokens: LinkTokens;
  readonly sessions: WebSessions;
  readonly connections: BrokerConnections;
  readonly catalog: ProviderCatalog;
  oauth2(provider: BrokerProvider): OAuth2Flow | undefined;
  oauth1(provider: BrokerProvider): OAuth1Flow | undefined;
  /** Posts a line in the chat that asked for the link; failures are logged, never shown. */
  announce(origin: LinkOrigin, text: string): Promise<void>;
}
