/**
 * How a user links E*TRADE: OAuth 1.0a (HMAC-SHA1) with an out-of-band verifier. The user
 * authorizes on E*TRADE's page, which shows a code; they type it into ours. Access tokens die at
 * midnight US Eastern and go idle after two hours (renewed before use).
 */
import type { Config } from '../../core/config/config.js';
import type { LinkableProvider } from '../../core/linking/providers.js';

export function etradeLinking(config: Config): LinkableProvider {
  const etrade = config.brokers.etrade;
  const base = {
    id: 'etrade' as const,
    name: 'E*TRADE',
    description: 'US stocks, ETFs and options. Authorize at E*TRADE, then enter the code it shows.',
  };
  if (etrade === undefined) {
    return {
      ...base,
      linking: undefined,
      unavailableReason: 'Not set up on this server (ETRADE_CONSUMER_KEY).',
    };
  }
  return {
    ...base,
    linking: {
      kind: 'oauth1',
      spec: {
        provider: 'etrade',
        requestTokenUrl: `${etrade.apiBase}/oauth/request_token`,
        accessTokenUrl: `${etrade.apiBase}/oauth/access_token`,
        renewUrl: `${etrade.apiBase}/oauth/renew_access_token`,
        revokeUrl: `${etrade.apiBase}/oauth/revoke_access_token`,
        authorizeUrl: etrade.authorizeUrl,
        consumerKey: etrade.consumerKey,
        consumerSecret: etrade.consumerSecret,
      },
    },
  };
}
