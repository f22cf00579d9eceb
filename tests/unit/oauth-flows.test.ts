/**
 * The checks the OAuth flows make before anything leaves the process: redirect URIs against the
 * allow-list, endpoint schemes, the shape of an OAuth 1.0a verifier. Stubs record every state and
 * network call, so "refused before any call" is observable.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/core/errors.js';
import {
  OAuth1Flow,
  type OAuth1ProviderSpec,
  OAuth2Flow,
  type OAuth2ProviderSpec,
  OAuthError,
  OAuthReauthRequiredError,
  OAuthStateError,
  type OAuthStates,
  OAuthUnavailableError,
  OAuthVerifierError,
} from '../../src/core/oauth/index.js';

type StateStore = Pick<OAuthStates, 'begin' | 'consume'>;

function recordingStates(): { states: StateStore; calls: string[] } {
  const calls: string[] = [];
  const states: StateStore = {
    async begin() {
      calls.push('begin');
      return { state: 'state-1', id: 'id-1', expiresAt: new Date() };
    },
    async consume() {
      calls.push('consume');
      throw new OAuthStateError('unknown');
    },
  };
  return { states, calls };
}

function recordingFetch(): { fetch: typeof fetch; urls: string[] } {
  const urls: string[] = [];
  const fetchStub: typeof fetch = async (input) => {
    urls.push(String(input));
    throw new Error('no network in unit tests');
  };
  return { fetch: fetchStub, urls };
}

const oauth2Spec: OAuth2ProviderSpec = {
  provider: 'coinbase',
  authorizationEndpoint: 'https://login.example.com/oauth2/auth',
  tokenEndpoint: 'https://login.example.com/oauth2/token',
  clientId: 'client',
  clientSecret: 'secret',
  clientAuthentication: 'client_secret_post',
  pkce: true,
  scopes: ['wallet:accounts:read', 'offline_access'],
  redirectUris: ['https://arbion.example.com/oauth/coinbase/callback'],
  rotatesRefreshTokens: true,
};

describe('OAuth2Flow before the network', () => {
  it.each([
    ['another host', 'https://evil.example.com/oauth/coinbase/callback'],
    ['a trailing slash', 'https://arbion.example.com/oauth/coinbase/callback/'],
    ['plain http', 'http://arbion.example.com/oauth/coinbase/callback'],
    ['an extra query', 'https://arbion.example.com/oauth/coinbase/callback?next=/x'],
  ])(
    'refuses a redirect URI with %s without recording a state or calling anyone',
    async (_label, redirectUri) => {
      const { states, calls } = recordingStates();
      const network = recordingFetch();
      const flow = new OAuth2Flow(oauth2Spec, { states, fetch: network.fetch });
      await expect(flow.start({ userId: 'u', webSessionId: 's', redirectUri })).rejects.toBeInstanceOf(
        OAuthError,
      );
      expect(calls).toEqual([]);
      expect(network.urls).toEqual([]);
    },
  );

  it('builds the authorization URL with state, scopes and an S256 challenge for an allowed redirect URI', async () => {
    const { states, calls } = recordingStates();
    const flow = new OAuth2Flow(oauth2Spec, { states });
    const url = await flow.start({
      userId: 'u',
      webSessionId: 's',
      redirectUri: oauth2Spec.redirectUris[0] ?? '',
    });
    expect(calls).toEqual(['begin']);
    expect(url.origin + url.pathname).toBe(oauth2Spec.authorizationEndpoint);
    expect(url.searchParams.get('response_type')).toBe('code');
    expect(url.searchParams.get('state')).toBe('state-1');
    expect(url.searchParams.get('scope')).toBe('wallet:accounts:read offline_access');
    expect(url.searchParams.get('code_challenge_method')).toBe('S256');
    expect(url.searchParams.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('refuses a callback without state before touching the state store', async () => {
    const { states, calls } = recordingStates();
    const flow = new OAuth2Flow(oauth2Spec, { states });
    const callbackUrl = new URL('https://arbion.example.com/oauth/coinbase/callback?code=abc');
    await expect(flow.complete({ callbackUrl, webSessionId: 's' })).rejects.toMatchObject({
      reason: 'unknown',
    });
    expect(calls).toEqual([]);
  });

  it('accepts plain http only for loopback endpoints, and only when allowed explicitly', () => {
    const { states } = recordingStates();
    const loopback = { ...oauth2Spec, tokenEndpoint: 'http://127.0.0.1:9/token' };
    expect(() => new OAuth2Flow(loopback, { states })).toThrow(ConfigError);
    expect(() => new OAuth2Flow(loopback, { states, allowInsecureLoopback: true })).not.toThrow();
    const remote = { ...oauth2Spec, tokenEndpoint: 'http://login.example.com/token' };
    expect(() => new OAuth2Flow(remote, { states, allowInsecureLoopback: true })).toThrow(ConfigError);
  });
});

const oauth1Spec: OAuth1ProviderSpec = {
  provider: 'etrade',
  requestTokenUrl: 'https://api.example.com/oauth/request_token',
  accessTokenUrl: 'https://api.example.com/oauth/access_token',
  renewUrl: 'https://api.example.com/oauth/renew_access_token',
  revokeUrl: 'https://api.example.com/oauth/revoke_access_token',
  authorizeUrl: 'https://us.example.com/e/t/etws/authorize',
  consumerKey: 'key',
  consumerSecret: 'secret',
};

describe('OAuth1Flow verifier check', () => {
  it.each(['', '   ', 'AB 12', 'AB-12', 'ÄB12', 'A'.repeat(33)])(
    'refuses the malformed verifier %j without spending the state',
    async (verifier) => {
      const { states, calls } = recordingStates();
      const network = recordingFetch();
      const flow = new OAuth1Flow(oauth1Spec, { states, fetch: network.fetch });
      const attempt = flow.complete({ state: 'x', webSessionId: 's', verifier });
      await expect(attempt).rejects.toBeInstanceOf(OAuthVerifierError);
      expect(calls).toEqual([]);
      expect(network.urls).toEqual([]);
    },
  );

  it('trims a well-formed verifier and goes on to spend the state', async () => {
    const { states, calls } = recordingStates();
    const flow = new OAuth1Flow(oauth1Spec, { states });
    await expect(
      flow.complete({ state: 'x', webSessionId: 's', verifier: '  AB12C \n' }),
    ).rejects.toBeInstanceOf(OAuthStateError);
    expect(calls).toEqual(['consume']);
  });
});

describe('OAuth2Flow error translation', () => {
  const answering =
    (status: number, body: string, headers: Record<string, string> = {}): typeof fetch =>
    async () =>
      new Response(body, { status, headers: { 'content-type': 'application/json', ...headers } });

  const refreshWith = async (fetchStub: typeof fetch): Promise<unknown> => {
    const { states } = recordingStates();
    const flow = new OAuth2Flow(oauth2Spec, { states, fetch: fetchStub });
    return flow.refresh('refresh-token-value', {}).then(
      () => undefined,
      (error: unknown) => error,
    );
  };

  it('a network failure is OAuthUnavailableError without a status', async () => {
    const error = await refreshWith(async () => {
      throw new TypeError('fetch failed');
    });
    expect(error).toBeInstanceOf(OAuthUnavailableError);
    expect(error).toMatchObject({ status: undefined });
  });

  it('a 5xx page or a 429 is OAuthUnavailableError with its status', async () => {
    expect(
      await refreshWith(answering(502, '<html>Bad gateway</html>', { 'content-type': 'text/html' })),
    ).toMatchObject({
      code: 'oauth_unavailable',
      status: 502,
    });
    expect(await refreshWith(answering(429, '{"error":"rate_limited"}'))).toMatchObject({ status: 429 });
  });

  it('invalid_grant on refresh means the user must link again', async () => {
    const error = await refreshWith(
      answering(400, '{"error":"invalid_grant","error_description":"token rt-123 revoked"}'),
    );
    expect(error).toBeInstanceOf(OAuthReauthRequiredError);
    expect((error as Error).message).not.toContain('rt-123');
    expect((error as Error).message).not.toContain('refresh-token-value');
  });

  it('invalid_client behind a Basic challenge is an app credentials problem, not a re-link', async () => {
    const error = await refreshWith(
      answering(401, '{"error":"invalid_client"}', { 'www-authenticate': 'Basic realm="x"' }),
    );
    expect(error).toBeInstanceOf(OAuthError);
    expect(error).not.toBeInstanceOf(OAuthReauthRequiredError);
    expect(error).toMatchObject({ providerError: 'invalid_client' });
  });

  it('a refresh token past its known lifetime needs a new link without calling anyone', async () => {
    const network = recordingFetch();
    const { states } = recordingStates();
    const flow = new OAuth2Flow(oauth2Spec, {
      states,
      fetch: network.fetch,
      now: () => new Date('2025-01-02'),
    });
    await expect(
      flow.refresh('rt', { refreshTokenExpiresAt: new Date('2025-01-01') }),
    ).rejects.toBeInstanceOf(OAuthReauthRequiredError);
    expect(network.urls).toEqual([]);
  });
});
