/**
 * "Sign in with Coinbase" end to end, beside the CDP key form. The fake OAuth 2.0 provider plays
 * login.coinbase.com (its paths, client_secret_post, PKCE required, comma-separated scopes, single
 * use refresh tokens whose reuse revokes the grant) and the Coinbase fake trusts it: it accepts only
 * the access tokens that provider issued, live, unrevoked and with the scope Coinbase lists for the
 * endpoint. Orders go through the registry-built client; an expired token costs one refresh however
 * many requests and processes need it; a revoked grant marks the link needs_reauth; the page offers
 * both ways when the OAuth app is configured, and only the key form without it.
 */
import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COINBASE_OAUTH_SCOPES } from '../../src/brokers/coinbase/oauth.js';
import { BrokerAuthError } from '../../src/brokers/http/errors.js';
import { BrokerConnectionUnavailableError, BrokerRegistry } from '../../src/brokers/registry.js';
import type { PlaceOrderRequest } from '../../src/core/brokers/broker.js';
import { parseEnvironment } from '../../src/core/config/config.js';
import { openDatabase } from '../../src/core/db/database.js';
import { Decimal } from '../../src/core/domain/values.js';
import type { ConnectionSummary } from '../../src/core/linking/connections.js';
import { linkMethod } from '../../src/core/linking/providers.js';
import type { OAuth2Tokens } from '../../src/core/oauth/index.js';
import { Vault } from '../../src/core/vault/index.js';
import { createLinking } from '../../src/runtime/linking.js';
import { linkingSitePlugin } from '../../web-linking/linking-site.js';
import { createWebServer } from '../../web-linking/server.js';
import { contractLogger } from '../contract/contract-harness.js';
import { FakeCoinbase } from '../fakes/coinbase/fake-coinbase.js';
import { FakeOAuth2Provider } from '../fakes/oauth2-provider/fake-oauth2-provider.js';
import { ADDRESS, createHarness, type Harness, MARKET_OPEN } from '../support/arbion-harness.js';

const SITE = 'http://127.0.0.1:8790';
const CALLBACK = `${SITE}/oauth/coinbase/callback`;
const CLIENT = { id: 'arbion-coinbase-app', secret: 'coinbase app secret+/=' };
const HOUR_MS = 3600_000;
const CDP_KEY_NAME =
  'organizations/3f1c7a52-2d2e-4c43-9a55-0d6f5b1c9e01/apiKeys/0c4b1f7e-2a9d-4e8b-9f3c-5d6e7f8a9b0c';
const cdpKey = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const vault = new Vault([{ id: 'k1', key: randomBytes(32) }]);

let oauth: FakeOAuth2Provider;
let coinbase: FakeCoinbase;
let h: Harness;
let env: Record<string, string>;

/** Arbion's test clock, shared with both fakes: token lifetimes and request JWTs agree. */
const now = () => h?.clock.now ?? MARKET_OPEN;
const advance = (ms: number) => {
  h.clock.now = new Date(h.clock.now.getTime() + ms);
};

const clientOptions = {
  now,
  sleep: async () => undefined,
  http: {
    timeoutMs: 2_000,
    retry: { maxAttempts: 2, baseDelayMs: 10, maxDelayMs: 50 },
    breaker: { consecutiveFailures: 50, halfOpenAfterMs: 300 },
  },
};

beforeAll(async () => {
  oauth = await FakeOAuth2Provider.start({
    now,
    clients: [
      {
        clientId: CLIENT.id,
        clientSecret: CLIENT.secret,
        redirectUris: [CALLBACK],
        auth: 'post',
        requirePkce: true,
      },
    ],
    rotateRefreshTokens: true,
    accessTokenTtlSeconds: 3600,
    refreshTokenTtlSeconds: 540 * 24 * 3600,
    paths: { authorize: '/oauth2/auth', token: '/oauth2/token', revoke: '/oauth2/revoke' },
  });
  coinbase = await FakeCoinbase.start();
  coinbase.now = now;
  coinbase.trustAuthorizationServer(oauth);
  coinbase.addKey(CDP_KEY_NAME, cdpKey.privateKey, 'key-portfolio');
  coinbase.setBalance('USD', '10000');
  coinbase.setBestBidAsk('BTC-USD', '64999.99', '65000.01');
  env = {
    PUBLIC_URL: SITE,
    COINBASE_API_BASE: coinbase.baseUrl,
    COINBASE_AUTH_BASE: oauth.baseUrl,
    COINBASE_OAUTH_CLIENT_ID: CLIENT.id,
    COINBASE_OAUTH_CLIENT_SECRET: CLIENT.secret,
  };
  h = await createHarness('server', {
    env,
    linking: { vault, publicBaseUrl: () => SITE },
    brokers: { brokerClientOptions: clientOptions },
  });
});

afterAll(async () => {
  await h?.destroy();
  await Promise.all([oauth?.close(), coinbase?.close()]);
});

// ------------------------------------------------------------------ helpers

function linking() {
  const wired = h.arbion.linking;
  if (wired === undefined) throw new Error('linking is not wired');
  return wired;
}

async function userIdOf(user: string): Promise<string> {
  await h.say(user, 'balance');
  const identity = await h.test.database.prisma.channelIdentity.findFirstOrThrow({
    where: { platformUserId: user },
  });
  return identity.userId;
}

/** A linking-page session for the user, as opening their chat link creates. */
async function webSession(user: string): Promise<{ id: string; userId: string }> {
  const { services } = linking();
  const userId = await userIdOf(user);
  const { url } = await services.linkTokens.issue(userId, ADDRESS);
  const redeemed = await services.linkTokens.redeem(url.split('/').pop() ?? '');
  if (redeemed.kind !== 'redeemed') throw new Error(`link not redeemed: ${redeemed.kind}`);
  const { token } = await services.sessions.open(userId, redeemed.linkTokenId);
  const session = await services.sessions.authenticate(token);
  if (session === undefined) throw new Error('no session');
  return { id: session.id, userId };
}

/** Start at Arbion, Allow at Coinbase, finish at Arbion: what the linking page's routes do. */
async function signInWithCoinbase(user: string): Promise<{
  userId: string;
  authorizeUrl: URL;
  tokens: OAuth2Tokens;
  connection: ConnectionSummary;
}> {
  const { services } = linking();
  const session = await webSession(user);
  const provider = services.catalog.get('coinbase');
  const flow = services.oauth2('coinbase');
  const redirectUri = linkMethod(provider, 'oauth2')?.spec.redirectUris[0];
  if (provider === undefined || flow === undefined || redirectUri === undefined)
    throw new Error('Coinbase sign-in is not configured');
  const authorizeUrl = await flow.start({ userId: session.userId, webSessionId: session.id, redirectUri });
  const callbackUrl = await oauth.approve(authorizeUrl);
  const { tokens } = await flow.complete({ callbackUrl, webSessionId: session.id });
  const connection = await services.connections.storeOAuth2(session.userId, provider, tokens);
  return { userId: session.userId, authorizeUrl, tokens, connection };
}

const route = (connectionId: string) => ({ provider: 'coinbase' as const, connectionId });

function buyBtc(quantity: string): PlaceOrderRequest {
  return {
    accountId: 'portfolio',
    clientOrderId: randomUUID(),
    side: 'buy',
    assetClass: 'crypto',
    symbol: 'BTC',
    quantity: new Decimal(quantity),
    orderType: 'market',
    timeInForce: 'gtc',
  };
}

async function rowOf(connectionId: string) {
  return h.test.database.prisma.brokerConnection.findUniqueOrThrow({ where: { id: connectionId } });
}

// ------------------------------------------------------------------ linking and trading

describe('Coinbase linked by signing in', () => {
  it("signs in at Coinbase's endpoints with its scopes and PKCE; the link remembers it and opens the default portfolio", async () => {
    const { authorizeUrl, tokens, connection } = await signInWithCoinbase('ada');
    expect(`${authorizeUrl.origin}${authorizeUrl.pathname}`).toBe(`${oauth.baseUrl}/oauth2/auth`);
    const query = authorizeUrl.searchParams;
    expect(query.get('response_type')).toBe('code');
    expect(query.get('client_id')).toBe(CLIENT.id);
    expect(query.get('redirect_uri')).toBe(CALLBACK);
    expect(query.get('scope')).toBe(COINBASE_OAUTH_SCOPES.join(','));
    expect(query.get('scope')?.split(',')).toEqual(
      expect.arrayContaining(['wallet:accounts:read', 'wallet:buys:create', 'offline_access']),
    );
    expect(query.get('code_challenge_method')).toBe('S256');
    expect(query.get('state')).toMatch(/^[A-Za-z0-9_-]{40,}$/);
    expect(oauth.tokenCalls('authorization_code').at(-1)?.status).toBe(200);

    expect(connection).toMatchObject({ provider: 'coinbase', status: 'active', linkedWith: 'oauth2' });
    const row = await rowOf(connection.id);
    expect(row.accessTokenExpiresAt).toEqual(new Date(now().getTime() + HOUR_MS));
    expect(Buffer.from(row.credentialCiphertext ?? []).includes(Buffer.from(tokens.accessToken))).toBe(false);
    // Accounts were synced at link time, with the access token (no JWT: no key id) on GET /accounts.
    const accounts = await h.test.database.prisma.brokerAccount.findMany({
      where: { connectionId: connection.id },
    });
    expect(accounts.map((account) => [account.externalId, account.isDefault])).toEqual([['portfolio', true]]);
    expect(coinbase.requests.filter((request) => request.path.endsWith('/accounts')).at(-1)).toMatchObject({
      status: 200,
      kid: undefined,
    });
    expect(await linking().connections.test(row.userId, connection.id)).toEqual({
      health: 'healthy',
      detail: 'Signed in; Coinbase answered.',
    });
  });

  it("places an order through the registry's client, with the sign-in's access token", async () => {
    const { connection } = await signInWithCoinbase('bea');
    const broker = await h.arbion.brokers.brokerFor(route(connection.id));
    const before = coinbase.requests.length;
    const order = buyBtc('0.001');
    const placed = await broker.placeOrder(order);
    expect(placed).toMatchObject({ clientOrderId: order.clientOrderId, status: 'filled' });
    expect(coinbase.orders('default').map((row) => row.client_order_id)).toContain(order.clientOrderId);
    expect(coinbase.orders('key-portfolio')).toHaveLength(0);
    const sent = coinbase.requests.slice(before);
    expect(
      sent.find((request) => request.method === 'POST' && request.path.endsWith('/orders')),
    ).toMatchObject({
      status: 200,
      kid: undefined,
    });
    expect(sent.every((request) => request.status === 200)).toBe(true);
    expect(await h.arbion.brokers.realMoney(connection.id)).toBe(true);
  });

  it('refreshes once when the hour is up, for 5 concurrent requests in two processes, and never presents a spent refresh token', async () => {
    const { connection } = await signInWithCoinbase('cyd');
    const parsed = parseEnvironment({ LOG_LEVEL: 'silent', ...env }, { cwd: '/tmp' });
    if (!parsed.ok) throw new Error(parsed.problems.join('\n'));
    // A second process: its own database pool, OAuth flows, token store and broker clients.
    const second = await openDatabase({ kind: 'server', url: h.test.location, poolSize: 4 });
    try {
      const other = createLinking({
        config: parsed.config,
        prisma: second.prisma,
        vault,
        logger: contractLogger(),
        publicBaseUrl: () => SITE,
        announce: async () => undefined,
        clock: now,
      });
      const otherRegistry = new BrokerRegistry({
        prisma: second.prisma,
        brokers: parsed.config.brokers,
        paper: h.arbion.paper,
        credentials: (id) => other.connections.credentialsFor(id),
        tokens: other.tokens,
        logger: contractLogger(),
        clientOptions,
      });
      const brokers = [
        await h.arbion.brokers.brokerFor(route(connection.id)),
        await otherRegistry.brokerFor(route(connection.id)),
      ];
      const spent = (await linking().tokens.read(connection.id))?.refreshToken;
      const refreshes = oauth.tokenCalls('refresh_token').length;
      const calls = oauth.calls.length;
      const requests = coinbase.requests.length;
      advance(HOUR_MS);

      const balances = await Promise.all(
        [0, 1, 0, 1, 0].map((process) => brokers[process]?.getBalances('portfolio')),
      );
      expect(
        oauth
          .tokenCalls('refresh_token')
          .slice(refreshes)
          .map((call) => call.status),
      ).toEqual([200]);
      // A spent refresh token presented again would show as a refused call (and revoke the grant).
      expect(oauth.calls.slice(calls).filter((call) => call.error !== undefined)).toEqual([]);
      expect(new Set(balances.map((balance) => balance?.cash.toFixed())).size).toBe(1);
      const sent = coinbase.requests.slice(requests);
      expect(sent.length).toBeGreaterThanOrEqual(5);
      expect(sent.every((request) => request.status === 200 && request.kid === undefined)).toBe(true);
      const stored = await other.tokens.read(connection.id);
      expect(stored?.refreshToken).toBeDefined();
      expect(stored?.refreshToken).not.toBe(spent);
      expect(oauth.introspect(stored?.accessToken ?? '').status).toBe('valid');

      // The grant is intact: an hour later the newest refresh token works, from the other process.
      advance(HOUR_MS);
      await brokers[1]?.getBalances('portfolio');
      expect(
        oauth
          .tokenCalls('refresh_token')
          .slice(refreshes)
          .map((call) => call.status),
      ).toEqual([200, 200]);
      expect((await rowOf(connection.id)).status).toBe('active');
    } finally {
      await second.close();
    }
  });

  it('marks the link needs_reauth when the grant was revoked at Coinbase, and tells its user once', async () => {
    const { connection, tokens } = await signInWithCoinbase('dee');
    expect(oauth.revokeGrantOf(tokens.accessToken)).toBe(true);
    // The keeper refreshes within five minutes of the end; Coinbase refuses the revoked grant.
    advance(HOUR_MS - 2 * 60_000);
    const refreshes = oauth.tokenCalls('refresh_token').length;
    const notices = await linking().tokenKeeper.pass(now());
    // Other users' links from the tests above are due too; only this one is refused.
    expect(
      oauth
        .tokenCalls('refresh_token')
        .slice(refreshes)
        .filter((call) => call.status !== 200),
    ).toEqual([expect.objectContaining({ status: 400, error: 'invalid_grant' })]);
    expect(notices.filter((notice) => notice.connectionId === connection.id)).toEqual([
      expect.objectContaining({ text: expect.stringMatching(/Your Coinbase link stopped working/) }),
    ]);
    expect((await rowOf(connection.id)).status).toBe('needs_reauth');
    const error = await h.arbion.brokers.brokerFor(route(connection.id)).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(BrokerConnectionUnavailableError);
    expect(error).toMatchObject({ userMessage: expect.stringMatching(/Coinbase sign-in has expired/) });
    // Marked once: the next pass neither calls Coinbase nor tells the user again.
    const calls = oauth.calls.length;
    expect(
      (await linking().tokenKeeper.pass(now())).filter((notice) => notice.connectionId === connection.id),
    ).toEqual([]);
    expect(oauth.calls).toHaveLength(calls);
  });

  it('marks the link needs_reauth when Coinbase refuses a token the grant of which was revoked before it expired', async () => {
    const { connection, tokens } = await signInWithCoinbase('eli');
    const broker = await h.arbion.brokers.brokerFor(route(connection.id));
    oauth.revokeGrantOf(tokens.accessToken);
    await expect(broker.getBalances('portfolio')).rejects.toBeInstanceOf(BrokerAuthError);
    expect((await rowOf(connection.id)).status).toBe('needs_reauth');
    await expect(h.arbion.brokers.brokerFor(route(connection.id))).rejects.toBeInstanceOf(
      BrokerConnectionUnavailableError,
    );
  });

  it('revokes the grant at Coinbase on unlink', async () => {
    const { userId, connection, tokens } = await signInWithCoinbase('fay');
    const stored = await linking().tokens.read(connection.id);
    expect(await linking().connections.unlink(userId, connection.id)).toEqual({
      provider: 'coinbase',
      revokedAtBroker: true,
    });
    expect(oauth.calls.filter((call) => call.path === '/oauth2/revoke').slice(-2)).toEqual([
      expect.objectContaining({ status: 200 }),
      expect.objectContaining({ status: 200 }),
    ]);
    expect(oauth.introspect(stored?.accessToken ?? tokens.accessToken).status).toBe('unknown');
    expect((await rowOf(connection.id)).credentialCiphertext).toBeNull();
  });
});

describe('a CDP key beside the sign-in', () => {
  it('stays a key link: signed JWTs, no token upkeep, and no keys written over a sign-in', async () => {
    const { connections } = linking();
    const userId = await userIdOf('gus');
    // The key form's probe signs its JWT by the wall clock, not by the test's.
    coinbase.now = () => new Date();
    const saved = await connections
      .saveKeys({
        userId,
        provider: 'coinbase',
        values: {
          keyName: CDP_KEY_NAME,
          privateKey: cdpKey.privateKey.export({ format: 'pem', type: 'sec1' }).toString(),
        },
      })
      .finally(() => {
        coinbase.now = now;
      });
    if (saved.kind !== 'saved') throw new Error(`keys not saved: ${JSON.stringify(saved)}`);
    expect(saved.connection.linkedWith).toBe('keys');
    const row = await rowOf(saved.connection.id);
    expect(row.accessTokenExpiresAt).toBeNull();
    const before = coinbase.requests.length;
    const broker = await h.arbion.brokers.brokerFor(route(saved.connection.id));
    await broker.getBalances('portfolio');
    expect(coinbase.requests.slice(before).every((request) => request.kid === CDP_KEY_NAME)).toBe(true);

    const refreshes = oauth.tokenCalls('refresh_token').length;
    advance(3 * HOUR_MS);
    await linking().tokenKeeper.pass(now());
    expect((await rowOf(saved.connection.id)).status).toBe('active');
    expect(
      (await connections.list(userId)).find((connection) => connection.id === saved.connection.id),
    ).toMatchObject({ linkedWith: 'keys', maskedCredential: `…${CDP_KEY_NAME.slice(-8)}` });
    // The keeper only refreshed the sign-ins still linked (from the tests above), never this key.
    expect(
      oauth
        .tokenCalls('refresh_token')
        .slice(refreshes)
        .every((call) => call.status === 200),
    ).toBe(true);

    const signedIn = await signInWithCoinbase('hal');
    const refused = await connections.saveKeys({
      userId: signedIn.userId,
      provider: 'coinbase',
      values: {
        keyName: CDP_KEY_NAME,
        privateKey: cdpKey.privateKey.export({ format: 'pem', type: 'sec1' }).toString(),
      },
    });
    expect(refused).toEqual({ kind: 'refused', message: expect.stringMatching(/Unlink it first/) });
    expect((await rowOf(signedIn.connection.id)).accessTokenExpiresAt).not.toBeNull();
    expect((await linking().tokens.read(signedIn.connection.id))?.accessToken).toBe(
      signedIn.tokens.accessToken,
    );
  });
});

// ------------------------------------------------------------------ the linking page

/** The cookies a browser keeps between requests. */
class CookieJar {
  private readonly cookies = new Map<string, string>();

  take(response: { cookies: { name: string; value: string }[] }): void {
    for (const cookie of response.cookies) this.cookies.set(cookie.name, cookie.value);
  }

  header(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }
}

function csrfOf(html: string): string {
  const token = /name="_csrf" value="([^"]+)"/.exec(html)?.[1];
  if (token === undefined) throw new Error('no CSRF token on the page');
  return token;
}

async function siteFor(harness: Harness): Promise<FastifyInstance> {
  const services = harness.arbion.linking?.services;
  if (services === undefined) throw new Error('linking is not wired');
  const web = await createWebServer({
    logger: contractLogger(),
    health: async () => ({
      status: 'ok',
      version: 'test',
      pid: process.pid,
      uptimeSeconds: 0,
      database: { ok: true, kind: 'server', description: 'test', detail: 'test', pendingMigrations: [] },
    }),
  });
  await web.register(linkingSitePlugin, { services, secure: false });
  await web.ready();
  return web;
}

/** Opens the user's chat link in a "browser": GET the page, press Continue; returns its cookies. */
async function openLinkingPage(harness: Harness, web: FastifyInstance, user: string): Promise<CookieJar> {
  const services = harness.arbion.linking?.services;
  if (services === undefined) throw new Error('linking is not wired');
  await harness.say(user, 'balance');
  const identity = await harness.test.database.prisma.channelIdentity.findFirstOrThrow({
    where: { platformUserId: user },
  });
  const { url } = await services.linkTokens.issue(identity.userId, ADDRESS);
  const token = url.split('/').pop() ?? '';
  const jar = new CookieJar();
  const page = await web.inject({ method: 'GET', url: `/link/${token}` });
  jar.take(page);
  const redeemed = await web.inject({
    method: 'POST',
    url: '/link',
    payload: `token=${encodeURIComponent(token)}&_csrf=${encodeURIComponent(csrfOf(page.body))}`,
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: jar.header() },
  });
  expect(redeemed.statusCode).toBe(303);
  jar.take(redeemed);
  return jar;
}

/** The HTML of the Coinbase card on the connections page. */
function coinbaseCard(html: string): string {
  return /<article[^>]*aria-labelledby="provider-coinbase"[\s\S]*?<\/article>/.exec(html)?.[0] ?? '';
}

describe('the linking page', () => {
  let web: FastifyInstance;
  let keysOnly: Harness;
  let keysOnlyWeb: FastifyInstance;

  beforeAll(async () => {
    web = await siteFor(h);
    const { COINBASE_OAUTH_CLIENT_ID: _id, COINBASE_OAUTH_CLIENT_SECRET: _secret, ...withoutApp } = env;
    keysOnly = await createHarness('server', {
      env: withoutApp,
      linking: { vault, publicBaseUrl: () => SITE },
    });
    keysOnlyWeb = await siteFor(keysOnly);
  });
  afterAll(async () => {
    await web?.close();
    await keysOnlyWeb?.close();
    await keysOnly?.destroy();
  });

  it('offers "Sign in with Coinbase" and the key form side by side, and links through the routes', async () => {
    const jar = await openLinkingPage(h, web, 'ivy');
    const page = await web.inject({ method: 'GET', url: '/connections', headers: { cookie: jar.header() } });
    expect(page.statusCode).toBe(200);
    jar.take(page);
    const card = coinbaseCard(page.body);
    expect(card).toContain('action="/connections/coinbase/connect"');
    expect(card).toContain('Sign in with Coinbase');
    expect(card).toContain('href="/connections/coinbase/keys"');
    expect(card).toContain('Use an API key');
    // The page may send the browser on to Coinbase's sign-in.
    expect(page.headers['content-security-policy']).toContain(oauth.baseUrl);
    const form = await web.inject({
      method: 'GET',
      url: '/connections/coinbase/keys',
      headers: { cookie: jar.header() },
    });
    expect(form.statusCode).toBe(200);
    expect(form.body).toContain('name="privateKey"');

    const connect = await web.inject({
      method: 'POST',
      url: '/connections/coinbase/connect',
      payload: `_csrf=${encodeURIComponent(csrfOf(page.body))}`,
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: jar.header() },
    });
    expect(connect.statusCode).toBe(303);
    const authorize = new URL(connect.headers.location ?? '');
    expect(`${authorize.origin}${authorize.pathname}`).toBe(`${oauth.baseUrl}/oauth2/auth`);
    const callback = await oauth.approve(authorize);
    expect(`${callback.origin}${callback.pathname}`).toBe(CALLBACK);
    const finished = await web.inject({
      method: 'GET',
      url: `${callback.pathname}${callback.search}`,
      headers: { cookie: jar.header() },
    });
    expect(finished.statusCode).toBe(303);
    expect(finished.headers.location).toBe('/connections?done=linked&p=coinbase');

    const after = await web.inject({
      method: 'GET',
      url: finished.headers.location,
      headers: { cookie: jar.header() },
    });
    const linked = coinbaseCard(after.body);
    expect(linked).toContain('Reconnect');
    expect(linked).not.toContain('Rotate keys');
    expect(linked).not.toContain('Use an API key');
  });

  it('offers only the key form without a Coinbase OAuth app', async () => {
    const jar = await openLinkingPage(keysOnly, keysOnlyWeb, 'joy');
    const page = await keysOnlyWeb.inject({
      method: 'GET',
      url: '/connections',
      headers: { cookie: jar.header() },
    });
    expect(page.statusCode).toBe(200);
    const card = coinbaseCard(page.body);
    expect(card).toContain('href="/connections/coinbase/keys"');
    expect(card).toContain('Add API keys');
    expect(card).not.toContain('/connections/coinbase/connect');
    expect(card).not.toContain('Sign in with Coinbase');
    expect(page.headers['content-security-policy']).not.toContain(oauth.baseUrl);
    expect(keysOnly.arbion.linking?.services.oauth2('coinbase')).toBeUndefined();
  });
});
