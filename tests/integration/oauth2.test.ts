/**
 * OAuth 2.0 linking end to end against the local fake provider, on both databases: the code flow
 * with PKCE (Coinbase-like: client_secret_post, rotating single-use refresh tokens) and without
 * (Schwab-like: HTTP Basic, an unasked-for id_token, a refresh token that dies seven days after
 * login), state checks, the fake's own refusals, and access tokens refreshed once under a lock.
 */
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Database, openDatabase } from '../../src/core/db/database.js';
import {
  ConnectionTokens,
  OAuth2Flow,
  type OAuth2ProviderSpec,
  type OAuth2Tokens,
  OAuthError,
  OAuthReauthRequiredError,
  OAuthStateError,
  OAuthStates,
  OAuthUnavailableError,
} from '../../src/core/oauth/index.js';
import { Vault } from '../../src/core/vault/index.js';
import { FakeOAuth2Provider } from '../fakes/oauth2-provider/fake-oauth2-provider.js';
import { type Backend, backends, createTestDatabase, type TestDatabase } from '../support/databases.js';

const REDIRECT_URI = 'https://arbion.example.com/oauth/callback';
const SEVEN_DAYS_S = 7 * 24 * 3600;

describe.each(backends)('OAuth 2.0 on %s PostgreSQL', (backend: Backend) => {
  let test: TestDatabase;
  let now = new Date('2025-06-02T14:00:00Z');
  const clock = () => now;
  const advance = (seconds: number) => {
    now = new Date(now.getTime() + seconds * 1000);
  };
  const vault = new Vault([{ id: 'ktest', key: randomBytes(32) }]);
  let states: OAuthStates;
  let coinbase: FakeOAuth2Provider;
  let schwab: FakeOAuth2Provider;
  let userId: string;
  let sessionId: string;
  let otherSessionId: string;
  /** Form bodies our flows sent to the token endpoints, to replay or inspect. */
  const sentBodies: URLSearchParams[] = [];

  const recordingFetch: typeof fetch = async (input, init) => {
    if (init?.body instanceof URLSearchParams) sentBodies.push(new URLSearchParams(init.body));
    return fetch(input, init);
  };

  const coinbaseSpec = (): OAuth2ProviderSpec => ({
    provider: 'coinbase',
    authorizationEndpoint: coinbase.authorizationEndpoint,
    tokenEndpoint: coinbase.tokenEndpoint,
    revocationEndpoint: coinbase.revocationEndpoint,
    clientId: 'coinbase-client',
    clientSecret: 'coinbase secret+/=',
    clientAuthentication: 'client_secret_post',
    pkce: true,
    scopes: ['wallet:accounts:read', 'offline_access'],
    redirectUris: [REDIRECT_URI, 'https://arbion.example.com/unregistered-at-provider'],
    rotatesRefreshTokens: true,
  });
  const schwabSpec = (): OAuth2ProviderSpec => ({
    provider: 'schwab',
    authorizationEndpoint: schwab.authorizationEndpoint,
    tokenEndpoint: schwab.tokenEndpoint,
    clientId: 'schwab-app-key',
    clientSecret: 'schwab:secret%',
    clientAuthentication: 'client_secret_basic',
    pkce: false,
    scopes: ['api'],
    redirectUris: [REDIRECT_URI],
    refreshTokenLifetimeSeconds: SEVEN_DAYS_S,
    rotatesRefreshTokens: false,
  });
  const flowFor = (spec: OAuth2ProviderSpec) =>
    new OAuth2Flow(spec, { states, now: clock, fetch: recordingFetch, allowInsecureLoopback: true });

  beforeAll(async () => {
    test = await createTestDatabase(backend);
    const prisma = test.database.prisma;
    userId = (await prisma.user.create({ data: {} })).id;
    const session = (hash: string) =>
      prisma.webSession.create({ data: { sessionHash: hash, userId, expiresAt: new Date('2030-01-01') } });
    sessionId = (await session('oauth2-a')).id;
    otherSessionId = (await session('oauth2-b')).id;
    states = new OAuthStates({ prisma, vault, now: clock });
    coinbase = await FakeOAuth2Provider.start({
      clients: [
        {
          clientId: 'coinbase-client',
          clientSecret: 'coinbase secret+/=',
          redirectUris: [REDIRECT_URI],
          auth: 'post',
          requirePkce: true,
        },
      ],
      rotateRefreshTokens: true,
      accessTokenTtlSeconds: 3600,
      refreshTokenTtlSeconds: 3600 * 24 * 540,
      now: clock,
    });
    schwab = await FakeOAuth2Provider.start({
      clients: [
        {
          clientId: 'schwab-app-key',
          clientSecret: 'schwab:secret%',
          redirectUris: [REDIRECT_URI],
          auth: 'basic',
          requirePkce: false,
        },
      ],
      rotateRefreshTokens: false,
      accessTokenTtlSeconds: 1800,
      refreshTokenTtlSeconds: SEVEN_DAYS_S,
      issueIdToken: true,
      now: clock,
    });
  });
  afterAll(async () => {
    await coinbase?.close();
    await schwab?.close();
    await test?.destroy();
  });

  /** start -> Allow at the provider -> complete. */
  async function signIn(
    flow: OAuth2Flow,
    fake: FakeOAuth2Provider,
  ): Promise<{ userId: string; tokens: OAuth2Tokens }> {
    const authorizeUrl = await flow.start({ userId, webSessionId: sessionId, redirectUri: REDIRECT_URI });
    const callbackUrl = await fake.approve(authorizeUrl);
    return flow.complete({ callbackUrl, webSessionId: sessionId });
  }

  async function resourceStatus(fake: FakeOAuth2Provider, accessToken: string): Promise<number> {
    const response = await fetch(fake.resourceUrl, { headers: { authorization: `Bearer ${accessToken}` } });
    await response.body?.cancel();
    return response.status;
  }

  const errorOf = async (attempt: Promise<unknown>): Promise<unknown> =>
    attempt.then(
      () => {
        throw new Error('expected a failure');
      },
      (error: unknown) => error,
    );

  async function newConnection(provider: 'coinbase' | 'schwab'): Promise<string> {
    const row = await test.database.prisma.brokerConnection.create({
      data: { userId, provider, status: 'pending' },
    });
    return row.id;
  }

  describe('the code flow', () => {
    it('signs in with PKCE; the state is stored hashed and the verifier only sealed', async () => {
      const flow = flowFor(coinbaseSpec());
      const authorizeUrl = await flow.start({ userId, webSessionId: sessionId, redirectUri: REDIRECT_URI });
      const state = authorizeUrl.searchParams.get('state') ?? '';
      const challenge = authorizeUrl.searchParams.get('code_challenge');
      const row = await test.database.prisma.oAuthState.findFirstOrThrow({
        where: { stateHash: createHash('sha256').update(state).digest('hex') },
      });

      const callbackUrl = await coinbase.approve(authorizeUrl);
      expect(callbackUrl.searchParams.get('code')).toMatch(/@$/);
      sentBodies.length = 0;
      const result = await flow.complete({ callbackUrl, webSessionId: sessionId });
      expect(result.userId).toBe(userId);
      expect(result.tokens.tokenType).toBe('bearer');
      expect(result.tokens.scope).toBe('wallet:accounts:read offline_access');
      expect(result.tokens.accessTokenExpiresAt).toEqual(new Date(now.getTime() + 3600_000));
      expect(result.tokens.refreshToken).toBeDefined();
      expect(await resourceStatus(coinbase, result.tokens.accessToken)).toBe(200);

      const verifier = sentBodies[0]?.get('code_verifier') ?? '';
      expect(createHash('sha256').update(verifier).digest('base64url')).toBe(challenge);
      const stored = JSON.stringify(row, (_key, value: unknown) =>
        value instanceof Uint8Array ? Buffer.from(value).toString('latin1') : value,
      );
      expect(stored).not.toContain(state);
      expect(stored).not.toContain(verifier);
      const allStates = await test.database.prisma.oAuthState.findMany();
      expect(allStates.some((candidate) => candidate.stateHash === state)).toBe(false);
    });

    it('signs in Schwab-style: HTTP Basic, no PKCE, the id_token ignored, refresh token good for 7 days', async () => {
      const before = schwab.tokenCalls('authorization_code').length;
      const { tokens } = await signIn(flowFor(schwabSpec()), schwab);
      expect(
        schwab
          .tokenCalls('authorization_code')
          .slice(before)
          .map((call) => call.status),
      ).toEqual([200]);
      expect(tokens.refreshTokenExpiresAt).toEqual(new Date(now.getTime() + SEVEN_DAYS_S * 1000));
      expect(await resourceStatus(schwab, tokens.accessToken)).toBe(200);
    });

    it('refuses a tampered state, and exchanges no code for it', async () => {
      const flow = flowFor(coinbaseSpec());
      const authorizeUrl = await flow.start({ userId, webSessionId: sessionId, redirectUri: REDIRECT_URI });
      const callbackUrl = await coinbase.approve(authorizeUrl);
      const state = callbackUrl.searchParams.get('state') ?? '';
      callbackUrl.searchParams.set('state', `${state.slice(0, -2)}${state.endsWith('xx') ? 'yy' : 'xx'}`);
      const exchanges = coinbase.tokenCalls('authorization_code').length;
      const error = await errorOf(flow.complete({ callbackUrl, webSessionId: sessionId }));
      expect(error).toBeInstanceOf(OAuthStateError);
      expect(error).toMatchObject({ reason: 'unknown' });
      expect(coinbase.tokenCalls('authorization_code')).toHaveLength(exchanges);
    });

    it('refuses a callback replayed after success', async () => {
      const flow = flowFor(coinbaseSpec());
      const authorizeUrl = await flow.start({ userId, webSessionId: sessionId, redirectUri: REDIRECT_URI });
      const callbackUrl = await coinbase.approve(authorizeUrl);
      await flow.complete({ callbackUrl, webSessionId: sessionId });
      const exchanges = coinbase.tokenCalls('authorization_code').length;
      expect(await errorOf(flow.complete({ callbackUrl, webSessionId: sessionId }))).toMatchObject({
        reason: 'used',
      });
      expect(coinbase.tokenCalls('authorization_code')).toHaveLength(exchanges);
    });

    it('refuses a state older than ten minutes by the clock', async () => {
      const flow = flowFor(coinbaseSpec());
      const authorizeUrl = await flow.start({ userId, webSessionId: sessionId, redirectUri: REDIRECT_URI });
      advance(10 * 60 + 1);
      const callbackUrl = await coinbase.approve(authorizeUrl);
      expect(await errorOf(flow.complete({ callbackUrl, webSessionId: sessionId }))).toMatchObject({
        reason: 'expired',
      });
    });

    it('refuses a callback arriving in another browser session', async () => {
      const flow = flowFor(coinbaseSpec());
      const authorizeUrl = await flow.start({ userId, webSessionId: sessionId, redirectUri: REDIRECT_URI });
      const callbackUrl = await coinbase.approve(authorizeUrl);
      expect(await errorOf(flow.complete({ callbackUrl, webSessionId: otherSessionId }))).toMatchObject({
        reason: 'wrong_session',
      });
    });

    it('reports a denial at the provider clearly, and spends the state', async () => {
      const flow = flowFor(coinbaseSpec());
      const authorizeUrl = await flow.start({ userId, webSessionId: sessionId, redirectUri: REDIRECT_URI });
      const callbackUrl = await coinbase.deny(authorizeUrl);
      const error = await errorOf(flow.complete({ callbackUrl, webSessionId: sessionId }));
      expect(error).toBeInstanceOf(OAuthError);
      expect(error).toMatchObject({ providerError: 'access_denied' });
      expect((error as OAuthError).userMessage).toContain('did not allow');
      expect(await errorOf(flow.complete({ callbackUrl, webSessionId: sessionId }))).toMatchObject({
        reason: 'used',
      });
    });

    it('fails a code exchanged after its 30 seconds', async () => {
      const flow = flowFor(coinbaseSpec());
      const authorizeUrl = await flow.start({ userId, webSessionId: sessionId, redirectUri: REDIRECT_URI });
      const callbackUrl = await coinbase.approve(authorizeUrl);
      advance(31);
      const error = await errorOf(flow.complete({ callbackUrl, webSessionId: sessionId }));
      expect(error).toBeInstanceOf(OAuthError);
      expect(error).toMatchObject({ providerError: 'invalid_grant' });
      expect(String((error as Error).message)).not.toContain(callbackUrl.searchParams.get('code') ?? '@@');
    });
  });

  describe("the fake provider's refusals", () => {
    it('shows an error page, not a redirect, for a redirect URI it does not know', async () => {
      const flow = flowFor(coinbaseSpec());
      const authorizeUrl = await flow.start({
        userId,
        webSessionId: sessionId,
        redirectUri: 'https://arbion.example.com/unregistered-at-provider',
      });
      await expect(coinbase.approve(authorizeUrl)).rejects.toThrow(/authorize answered 400/);
    });

    it('refuses a wrong code_verifier', async () => {
      const flow = flowFor(coinbaseSpec());
      const authorizeUrl = await flow.start({ userId, webSessionId: sessionId, redirectUri: REDIRECT_URI });
      const callbackUrl = await coinbase.approve(authorizeUrl);
      const response = await fetch(coinbase.tokenEndpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'authorization_code',
          code: callbackUrl.searchParams.get('code') ?? '',
          redirect_uri: REDIRECT_URI,
          code_verifier: randomBytes(32).toString('base64url'),
          client_id: 'coinbase-client',
          client_secret: 'coinbase secret+/=',
        }),
      });
      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({ error: 'invalid_grant' });
    });

    it('refuses a wrong client secret, which the flow reports without the secret', async () => {
      const flow = flowFor({ ...schwabSpec(), clientSecret: 'not-the-secret' });
      const error = await errorOf(signIn(flow, schwab));
      expect(error).toBeInstanceOf(OAuthError);
      expect(error).toMatchObject({ providerError: 'invalid_client' });
      expect(String((error as Error).message)).not.toContain('not-the-secret');
      expect(schwab.calls.at(-1)).toMatchObject({ path: '/token', status: 401, error: 'invalid_client' });
    });

    it('refuses a reused code and revokes the tokens it was exchanged for', async () => {
      sentBodies.length = 0;
      const { tokens } = await signIn(flowFor(coinbaseSpec()), coinbase);
      const exchange = sentBodies.find((body) => body.get('grant_type') === 'authorization_code');
      expect(exchange?.get('code')).toBeTruthy();
      const replay = await fetch(coinbase.tokenEndpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: exchange,
      });
      expect(replay.status).toBe(400);
      expect(await replay.json()).toMatchObject({ error: 'invalid_grant' });
      expect(await resourceStatus(coinbase, tokens.accessToken)).toBe(401);
    });
  });

  describe('access tokens of a connection', () => {
    const tokensFor = (database: Pick<Database, 'prisma'>) =>
      new ConnectionTokens({
        prisma: database.prisma,
        vault,
        flows: { coinbase: flowFor(coinbaseSpec()), schwab: flowFor(schwabSpec()) },
        now: clock,
      });

    async function linkedConnection(
      provider: 'coinbase' | 'schwab',
    ): Promise<{ id: string; tokens: OAuth2Tokens }> {
      const fake = provider === 'coinbase' ? coinbase : schwab;
      const { tokens } = await signIn(flowFor(provider === 'coinbase' ? coinbaseSpec() : schwabSpec()), fake);
      const id = await newConnection(provider);
      await tokensFor(test.database).store(id, userId, tokens);
      return { id, tokens };
    }

    it('stores sealed credentials and serves a fresh token without calling the provider', async () => {
      const { id, tokens } = await linkedConnection('coinbase');
      const row = await test.database.prisma.brokerConnection.findUniqueOrThrow({ where: { id } });
      expect(row.status).toBe('active');
      expect(row.accessTokenExpiresAt).toEqual(tokens.accessTokenExpiresAt);
      expect(Buffer.from(row.credentialCiphertext ?? []).includes(Buffer.from(tokens.accessToken))).toBe(
        false,
      );
      const refreshes = coinbase.tokenCalls('refresh_token').length;
      expect(await tokensFor(test.database).accessToken(id)).toBe(tokens.accessToken);
      expect(coinbase.tokenCalls('refresh_token')).toHaveLength(refreshes);
      await expect(tokensFor(test.database).store(id, randomUUIDLike(), tokens)).rejects.toBeInstanceOf(
        OAuthError,
      );
    });

    it('refreshes once for 10 concurrent callers of an expiring token (rotating refresh tokens)', async () => {
      const { id, tokens } = await linkedConnection('coinbase');
      advance(3600 - 30); // less than a minute left
      let transactions = 0;
      const prisma = test.database.prisma;
      const countingPrisma = new Proxy(prisma, {
        get(target, property) {
          const value = Reflect.get(target, property);
          if (typeof value !== 'function') return value;
          if (property !== '$transaction') return value.bind(target);
          return (...args: unknown[]) => {
            transactions += 1;
            return value.apply(target, args);
          };
        },
      });
      const connectionTokens = tokensFor({ prisma: countingPrisma });
      const refreshes = coinbase.tokenCalls('refresh_token').length;
      const results = await Promise.all(Array.from({ length: 10 }, () => connectionTokens.accessToken(id)));
      expect(
        coinbase
          .tokenCalls('refresh_token')
          .slice(refreshes)
          .map((call) => call.status),
      ).toEqual([200]);
      expect(new Set(results).size).toBe(1);
      // In this process the callers shared one refresh: one transaction, not ten queued on the lock.
      expect(transactions).toBe(1);
      expect(results[0]).not.toBe(tokens.accessToken);
      expect(await resourceStatus(coinbase, results[0] ?? '')).toBe(200);
      const stored = await connectionTokens.read(id);
      expect(stored?.accessToken).toBe(results[0]);
      expect(stored?.refreshToken).not.toBe(tokens.refreshToken);
      // The next caller uses the stored token.
      expect(await tokensFor(test.database).accessToken(id)).toBe(results[0]);
      expect(coinbase.tokenCalls('refresh_token')).toHaveLength(refreshes + 1);
    });

    it('marks the connection needs_reauth on invalid_grant, and stops calling the provider', async () => {
      const { id, tokens } = await linkedConnection('coinbase');
      await flowFor(coinbaseSpec()).revoke(tokens.refreshToken ?? '', 'refresh_token');
      expect(coinbase.calls.at(-1)).toMatchObject({ path: '/revoke', status: 200 });
      advance(3600);
      const connectionTokens = tokensFor(test.database);
      const error = await errorOf(connectionTokens.accessToken(id));
      expect(error).toBeInstanceOf(OAuthReauthRequiredError);
      expect(error).toMatchObject({ providerError: 'invalid_grant' });
      const row = await test.database.prisma.brokerConnection.findUniqueOrThrow({ where: { id } });
      expect(row.status).toBe('needs_reauth');
      expect(row.lastError).toMatch(/link the broker again/);
      const calls = coinbase.calls.length;
      await expect(connectionTokens.accessToken(id)).rejects.toBeInstanceOf(OAuthReauthRequiredError);
      expect(coinbase.calls).toHaveLength(calls);
    });

    it('keeps the connection as it was when the provider is down, and refreshes once it is back', async () => {
      const { id } = await linkedConnection('coinbase');
      advance(3600);
      const before = await test.database.prisma.brokerConnection.findUniqueOrThrow({ where: { id } });
      coinbase.failNext('/token', 503);
      const connectionTokens = tokensFor(test.database);
      const error = await errorOf(connectionTokens.accessToken(id));
      expect(error).toBeInstanceOf(OAuthUnavailableError);
      expect(error).toMatchObject({ status: 503 });
      const after = await test.database.prisma.brokerConnection.findUniqueOrThrow({ where: { id } });
      expect(after.status).toBe('active');
      expect(
        Buffer.from(after.credentialCiphertext ?? []).equals(Buffer.from(before.credentialCiphertext ?? [])),
      ).toBe(true);
      expect(await resourceStatus(coinbase, await connectionTokens.accessToken(id))).toBe(200);
    });

    it('Schwab-style: refreshing keeps the 7-day limit, after which the user must link again', async () => {
      const { id, tokens } = await linkedConnection('schwab');
      const limit = tokens.refreshTokenExpiresAt;
      advance(1800);
      const connectionTokens = tokensFor(test.database);
      const refreshed = await connectionTokens.accessToken(id);
      expect(await resourceStatus(schwab, refreshed)).toBe(200);
      const row = await test.database.prisma.brokerConnection.findUniqueOrThrow({ where: { id } });
      expect(row.refreshTokenExpiresAt).toEqual(limit);
      expect((await connectionTokens.read(id))?.refreshToken).toBe(tokens.refreshToken);
      advance(SEVEN_DAYS_S);
      const calls = schwab.calls.length;
      await expect(connectionTokens.accessToken(id)).rejects.toBeInstanceOf(OAuthReauthRequiredError);
      expect(schwab.calls).toHaveLength(calls);
      expect((await test.database.prisma.brokerConnection.findUniqueOrThrow({ where: { id } })).status).toBe(
        'needs_reauth',
      );
    });

    it('renews a refused token once for concurrent callers in two instances (two processes), with time left', async () => {
      const { id, tokens } = await linkedConnection('schwab');
      // PGlite belongs to one process: there the second instance shares the single connection.
      const second =
        backend === 'server'
          ? await openDatabase({ kind: 'server', url: test.location, poolSize: 4 })
          : undefined;
      try {
        advance(60); // 29 minutes left: no refresh would be due
        const first = tokensFor(test.database);
        const other = tokensFor(second ?? test.database);
        const refreshes = schwab.tokenCalls('refresh_token').length;
        expect(await first.accessToken(id)).toBe(tokens.accessToken);
        expect(schwab.tokenCalls('refresh_token')).toHaveLength(refreshes);

        const refused = { refused: tokens.accessToken };
        const results = await Promise.all(
          Array.from({ length: 6 }, (_, i) => (i % 2 === 0 ? first : other).accessToken(id, refused)),
        );
        expect(
          schwab
            .tokenCalls('refresh_token')
            .slice(refreshes)
            .map((call) => call.status),
        ).toEqual([200]);
        expect(new Set(results).size).toBe(1);
        expect(results[0]).not.toBe(tokens.accessToken);
        expect(await resourceStatus(schwab, results[0] ?? '')).toBe(200);
        expect((await first.read(id))?.accessToken).toBe(results[0]);

        // Someone refused the old token late: the newer one is theirs, nothing is refreshed again.
        expect(await tokensFor(second ?? test.database).accessToken(id, refused)).toBe(results[0]);
        expect(schwab.tokenCalls('refresh_token')).toHaveLength(refreshes + 1);
        // Without a refusal the renewed token is served as it is.
        expect(await other.accessToken(id)).toBe(results[0]);
        const row = await test.database.prisma.brokerConnection.findUniqueOrThrow({ where: { id } });
        expect(row.status).toBe('active');
      } finally {
        await second?.close();
      }
    });

    it('a refused token is renewed once even with rotating refresh tokens: the spent one is never presented', async () => {
      const { id, tokens } = await linkedConnection('coinbase');
      const connectionTokens = tokensFor(test.database);
      const calls = coinbase.calls.length;
      const results = await Promise.all(
        Array.from({ length: 4 }, () => connectionTokens.accessToken(id, { refused: tokens.accessToken })),
      );
      expect(new Set(results).size).toBe(1);
      const tokenCalls = coinbase.calls.slice(calls);
      expect(tokenCalls.map((call) => [call.grantType, call.status, call.error])).toEqual([
        ['refresh_token', 200, undefined],
      ]);
      // The renewed one refused in turn: one more refresh, with the newest refresh token.
      const again = await connectionTokens.accessToken(id, { refused: results[0] ?? '' });
      expect(again).not.toBe(results[0]);
      expect(coinbase.calls.slice(calls).every((call) => call.status === 200)).toBe(true);
      expect(await resourceStatus(coinbase, again)).toBe(200);
    });

    it('marks the connection needs_reauth when a refused token cannot be renewed (invalid_grant)', async () => {
      const { id, tokens } = await linkedConnection('coinbase');
      await flowFor(coinbaseSpec()).revoke(tokens.refreshToken ?? '', 'refresh_token');
      const error = await errorOf(tokensFor(test.database).accessToken(id, { refused: tokens.accessToken }));
      expect(error).toBeInstanceOf(OAuthReauthRequiredError);
      expect(error).toMatchObject({ providerError: 'invalid_grant' });
      const row = await test.database.prisma.brokerConnection.findUniqueOrThrow({ where: { id } });
      expect(row.status).toBe('needs_reauth');
    });

    it('revokes an access token at the provider', async () => {
      const { tokens } = await signIn(flowFor(coinbaseSpec()), coinbase);
      await flowFor(coinbaseSpec()).revoke(tokens.accessToken, 'access_token');
      expect(coinbase.calls.at(-1)).toMatchObject({ method: 'POST', path: '/revoke', status: 200 });
      expect(await resourceStatus(coinbase, tokens.accessToken)).toBe(401);
      // Schwab has no revocation endpoint: nothing is called.
      const calls = schwab.calls.length;
      await flowFor(schwabSpec()).revoke('anything', 'access_token');
      expect(schwab.calls).toHaveLength(calls);
    });

    it('refreshes once across two instances that share the database (the server: two pools, as two processes)', async () => {
      const { id } = await linkedConnection('coinbase');
      // PGlite belongs to one process: there the second instance shares the single connection.
      const second =
        backend === 'server'
          ? await openDatabase({ kind: 'server', url: test.location, poolSize: 4 })
          : undefined;
      try {
        advance(3600);
        const first = tokensFor(test.database);
        const other = tokensFor(second ?? test.database);
        const refreshes = coinbase.tokenCalls('refresh_token').length;
        const results = await Promise.all(
          Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? first : other).accessToken(id)),
        );
        expect(
          coinbase
            .tokenCalls('refresh_token')
            .slice(refreshes)
            .map((call) => call.status),
        ).toEqual([200]);
        expect(new Set(results).size).toBe(1);
        expect(await resourceStatus(coinbase, results[0] ?? '')).toBe(200);
      } finally {
        await second?.close();
      }
    });
  });
});

/** A well-formed id that names no user. */
function randomUUIDLike(): string {
  return '00000000-0000-4000-8000-000000000000';
}
