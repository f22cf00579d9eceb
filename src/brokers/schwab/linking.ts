/**
 * How a user links Charles Schwab: OAuth 2.0 authorization code with the app key and secret sent
 * as HTTP Basic. Schwab documents no PKCE and no revocation endpoint. Its refresh token lives seven
 * days from the sign-in and refreshing does not extend it, so users re-link weekly (warned in chat).
 */
import type { Config } from '../../core/config/config.js';
import type { LinkableProvider } from '../../core/linking/providers.js';

export const SCHWAB_REFRESH_TOKEN_LIFETIME_SECONDS = 7 * 24 * 60 * 60;

export function schwabLinking(config: Config, publicBaseUrl: string): LinkableProvider {
  const schwab = config.brokers.schwab;
  const base = {
    id: 'schwab' as const,
    name: 'Charles Schwab',
    description: 'US stocks, ETFs and options. Sign in at Schwab; Arbion never sees your password.',
  };
  if (schwab === undefined) {
    return {
      ...base,
      linking: undefined,
      unavailableReason: 'Not set up on this server (SCHWAB_CLIENT_ID).',
    };
  }
  return {
    ...base,
    linking: {
      kind: 'oauth2',
      spec: {
        provider: 'schwab',
        authorizationEndpoint: `${schwab.authBase}/authorize`,
        tokenEndpoint: `${schwab.authBase}/token`,
        clientId: schwab.clientId,
        clientSecret: schwab.clientSecret,
        clientAuthentication: 'client_secret_basic',
        pkce: false,
        scopes: ['api'],
        redirectUris: [schwab.redirectUri ?? `${publicBaseUrl}/oauth/schwab/callback`],
        refreshTokenLifetimeSeconds: SCHWAB_REFRESH_TOKEN_LIFETIME_SECONDS,
        rotatesRefreshTokens: false,
      },
    },
  };
}
