/**
 * "Sign in with Coinbase": OAuth 2.0 authorization code at `COINBASE_AUTH_BASE` (oauth2/auth,
 * oauth2/token), the client secret in the form body, PKCE S256, scopes comma separated as Coinbase
 * documents them. Access tokens live an hour. Refresh tokens are single use: every refresh returns
 * a new one and a spent one presented again revokes the whole grant, which is why refreshing is
 * serialized per connection (core/oauth/connection-tokens.ts).
 *
 * The grant opens the user's default portfolio, the way a CDP key opens its own: the broker client
 * is the same, only the bearer differs (coinbase-broker.ts).
 */
import { z } from 'zod';
import type { Config } from '../../core/config/config.js';
import type { KeyTestResult, OAuth2Linking } from '../../core/linking/providers.js';
import type { OAuth2ProviderSpec } from '../../core/oauth/index.js';
import { probeKeys } from '../key-probe.js';

/**
 * What Arbion asks for, per Coinbase's "Advanced Trade Scope & Permissions" table: reading the
 * portfolio's accounts, products and prices, orders and fills; creating, previewing and cancelling
 * orders (one scope, `wallet:buys:create`, covers both sides); and a refresh token. No transfers.
 */
export const COINBASE_OAUTH_SCOPES = [
  'wallet:accounts:read',
  'wallet:user:read',
  'wallet:transactions:read',
  'wallet:buys:create',
  'offline_access',
] as const;

/** Where Coinbase sends the browser back: registered with the OAuth app as is. */
export function coinbaseRedirectUri(publicBaseUrl: string): string {
  return `${publicBaseUrl.replace(/\/+$/, '')}/oauth/coinbase/callback`;
}

const accountsResponse = z.object({
  accounts: z.array(z.object({ uuid: z.string(), currency: z.string() })),
});

export function coinbaseOAuthSpec(
  coinbase: Config['brokers']['coinbase'],
  client: { readonly clientId: string; readonly clientSecret: string },
  publicBaseUrl: string,
): OAuth2ProviderSpec {
  const authBase = coinbase.authBase.replace(/\/+$/, '');
  return {
    provider: 'coinbase',
    authorizationEndpoint: `${authBase}/oauth2/auth`,
    tokenEndpoint: `${authBase}/oauth2/token`,
    revocationEndpoint: `${authBase}/oauth2/revoke`,
    clientId: client.clientId,
    clientSecret: client.clientSecret,
    clientAuthentication: 'client_secret_post',
    pkce: true,
    scopes: COINBASE_OAUTH_SCOPES,
    scopeSeparator: ',',
    redirectUris: [coinbaseRedirectUri(publicBaseUrl)],
    // Each refresh token lives on its own (about 1.5 years) and a fresh one comes every hour, so
    // no end is set: the page would show a date that keeps moving, and warnings would never be due.
    rotatesRefreshTokens: true,
  };
}

/** The sign-in, with `GET /accounts` as the proof that a token still opens the portfolio. */
export function coinbaseOAuthLinking(
  config: Config,
  client: { readonly clientId: string; readonly clientSecret: string },
  publicBaseUrl: string,
  fetchImpl: typeof fetch = fetch,
): OAuth2Linking {
  const apiBase = config.brokers.coinbase.apiBase.replace(/\/+$/, '');
  return {
    kind: 'oauth2',
    spec: coinbaseOAuthSpec(config.brokers.coinbase, client, publicBaseUrl),
    probe(accessToken: string): Promise<KeyTestResult> {
      const url = new URL(`${apiBase}/api/v3/brokerage/accounts`);
      url.searchParams.set('limit', '1');
      return probeKeys({
        broker: 'Coinbase',
        url,
        headers: { authorization: `Bearer ${accessToken}` },
        response: accountsResponse,
        rejectedMessage:
          'Coinbase no longer accepts this sign-in (it may have been removed in your Coinbase settings). Reconnect to sign in again.',
        describe: () => 'Signed in; Coinbase answered.',
        fetch: fetchImpl,
      });
    },
  };
}
