/**
 * Schwab refusing an access token before its recorded expiry, end to end: the registry-built
 * client, the token store on the test database, the Schwab fake and its OAuth provider (strict: a
 * refresh kills the access tokens issued before it; a refused refresh token is answered as Schwab
 * answers it). A refused token costs exactly one refresh however many requests and processes it
 * refused, the request is repeated once (an order is placed once), and only a refusal that
 * survives the refresh, or a refresh Schwab refuses, marks the link `needs_reauth`.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BrokerAuthError } from '../../src/brokers/http/errors.js';
import { BrokerConnectionUnavailableError, BrokerRegistry } from '../../src/brokers/registry.js';
import { BrokerRejectedError, type PlaceOrderRequest } from '../../src/core/brokers/broker.js';
import { parseEnvironment } from '../../src/core/config/config.js';
import { openDatabase } from '../../src/core/db/database.js';
import { Decimal } from '../../src/core/domain/values.js';
import { linkMethod } from '../../src/core/linking/providers.js';
import { Vault } from '../../src/core/vault/index.js';
import { createLinking } from '../../src/runtime/linking.js';
import { contractLogger } from '../contract/contract-harness.js';
import { FakeOAuth2Provider } from '../fakes/oauth2-provider/fake-oauth2-provider.js';
import { FakeSchwab } from '../fakes/schwab/fake-schwab.js';
import { ADDRESS, createHarness, type Harness, MARKET_OPEN } from '../support/arbion-harness.js';

const SITE = 'http://127.0.0.1:8791';
const CLIENT = { id: 'schwab-refusal-app', secret: 'schwab-refusal-secret' };
const ACCOUNT_NUMBER = '12345678';
const vault = new Vault([{ id: 'k1', key: randomBytes(32) }]);

let oauth: FakeOAuth2Provider;
let schwab: FakeSchwab;
let h: Harness;
let env: Record<string, string>;
let hash: string;

/** Arbion's test clock, shared with both fakes: token lifetimes and order times agree. */
const now = () => h?.clock.now ?? MARKET_OPEN;

const clientOptions = {
  now,
  sleep: async () => undefined,
  http: {
    timeoutMs: 2_000,
    retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 1 },
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
        redirectUris: [`${SITE}/oauth/schwab/callback`],
        auth: 'basic',
        requirePkce: false,
      },
    ],
    issueIdToken: true,
    refreshRevokesAccessTokens: true,
    refreshRefusal: 'schwab',
  });
  schwab = await FakeSchwab.start({
    oauth,
    accounts: [{ accountNumber: ACCOUNT_NUMBER, cash: '250000' }],
    now,
  });
  schwab.setPrice('AAPL', '190.00');
  hash = schwab.hashOf(ACCOUNT_NUMBER);
  env = {
    PUBLIC_URL: SITE,
    SCHWAB_CLIENT_ID: CLIENT.id,
    SCHWAB_CLIENT_SECRET: CLIENT.secret,
    SCHWAB_AUTH_BASE: oauth.baseUrl,
    SCHWAB_API_BASE: schwab.baseUrl,
  };
  h = await createHarness('server', {
    env,
    linking: { vault, publicBaseUrl: () => SITE },
    brokers: { brokerClientOptions: clientOptions },
  });
});

afterAll(async () => {
  await h?.destroy();
  await Promise.all([schwab?.close(), oauth?.close()]);
});

// ------------------------------------------------------------------ helpers

function linking() {
  const wired = h.arbion.linking;
  if (wired === undefined) throw new Error('linking is not wired');
  return wired;
}

/** A user signs in at Schwab through Arbion's linking flow; returns the new connection's id. */
async function linkSchwab(user: string): Promise<string> {
  const { services } = linking();
  await h.say(user, 'balance');
  const { userId } = await h.test.database.prisma.channelIdentity.findFirstOrThrow({
    where: { platformUserId: user },
  });
  const { url } = await services.linkTokens.issue(userId, ADDRESS);
  const redeemed = await services.linkTokens.redeem(url.split('/').pop() ?? '');
  if (redeemed.kind !== 'redeemed') throw new Error(`link not redeemed: ${redeemed.kind}`);
  const { token } = await services.sessions.open(userId, redeemed.linkTokenId);
  const session = await services.sessions.authenticate(token);
  const provider = services.catalog.get('schwab');
  const flow = services.oauth2('schwab');
  const redirectUri = linkMethod(provider, 'oauth2')?.spec.redirectUris[0];
  if (session === undefined || provider === undefined || flow === undefined || redirectUri === undefined)
    throw new Error('Schwab sign-in is not configured');
  const authorize = await flow.start({ userId, webSessionId: session.id, redirectUri });
  const { tokens } = await flow.complete({
    callbackUrl: await oauth.approve(authorize),
    webSessionId: session.id,
  });
  return (await services.connections.storeOAuth2(userId, provider, tokens)).id;
}

const route = (connectionId: string) => ({ provider: 'schwab' as const, connectionId });

function buyAapl(): PlaceOrderRequest {
  return {
    accountId: hash,
    clientOrderId: randomUUID(),
    side: 'buy',
    assetClass: 'equity',
    symbol: 'AAPL',
    quantity: new Decimal(1),
    orderType: 'market',
    timeInForce: 'day',
  };
}

async function storedAccessToken(connectionId: string): Promise<string> {
  const stored = await linking().tokens.read(connectionId);
  if (stored === undefined) throw new Error('no stored tokens');
  return stored.accessToken;
}

async function statusOf(connectionId: string): Promise<string> {
  return (await h.test.database.prisma.brokerConnection.findUniqueOrThrow({ where: { id: connectionId } }))
    .status;
}

/** Token endpoint calls and Schwab requests from now on. */
function watch(): {
  refreshes: () => number[];
  tokenEndpoint: () => number[];
  orderPosts: () => (number | undefined)[];
  tokenErrors: () => string[];
} {
  const refreshesBefore = oauth.tokenCalls('refresh_token').length;
  const callsBefore = oauth.calls.length;
  const requestsBefore = schwab.requests.length;
  return {
    refreshes: () =>
      oauth
        .tokenCalls('refresh_token')
        .slice(refreshesBefore)
        .map((call) => call.status),
    tokenEndpoint: () =>
      oauth.calls
        .slice(callsBefore)
        .filter((call) => call.path === '/token')
        .map((call) => call.status),
    orderPosts: () =>
      schwab.requests
        .slice(requestsBefore)
        .filter((request) => request.method === 'POST' && request.path.endsWith('/orders'))
        .map((request) => request.status),
    tokenErrors: () =>
      oauth.calls.slice(callsBefore).flatMap((call) => (call.error === undefined ? [] : [call.error])),
  };
}

// ------------------------------------------------------------------ tests

describe('Schwab refuses an access token before its expiry', () => {
  it('costs one refresh_token grant; the order is placed once and the link stays active', async () => {
    const connectionId = await linkSchwab('ada');
    const broker = await h.arbion.brokers.brokerFor(route(connectionId));
    await broker.getBalances(hash);
    const refused = await storedAccessToken(connectionId);
    expect(oauth.revokeAccessTokens(refused)).toBe(1);
    const seen = watch();
    const ordersBefore = schwab.orders(hash).length;

    const placed = await broker.placeOrder(buyAapl());

    expect(placed.status).toBe('filled');
    expect(seen.refreshes()).toEqual([200]);
    expect(seen.orderPosts()).toEqual([401, 201]);
    expect(schwab.orders(hash)).toHaveLength(ordersBefore + 1);
    expect(await statusOf(connectionId)).toBe('active');
    const renewed = await storedAccessToken(connectionId);
    expect(renewed).not.toBe(refused);
    expect(oauth.introspect(renewed).status).toBe('valid');
    // Still usable: the next order needs no refresh.
    await broker.placeOrder(buyAapl());
    expect(seen.refreshes()).toEqual([200]);
  });

  it('marks the link needs_reauth when the renewed token is refused too, having placed nothing', async () => {
    const connectionId = await linkSchwab('bea');
    const broker = await h.arbion.brokers.brokerFor(route(connectionId));
    const seen = watch();
    const ordersBefore = schwab.orders(hash).length;
    schwab.refuseEveryToken();
    try {
      const error = await broker.placeOrder(buyAapl()).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(BrokerAuthError);
    } finally {
      schwab.refuseEveryToken(false);
    }
    expect(seen.refreshes()).toEqual([200]);
    expect(seen.orderPosts()).toEqual([401, 401]);
    expect(schwab.orders(hash)).toHaveLength(ordersBefore);
    expect(await statusOf(connectionId)).toBe('needs_reauth');
    await expect(h.arbion.brokers.brokerFor(route(connectionId))).rejects.toBeInstanceOf(
      BrokerConnectionUnavailableError,
    );
  });

  it('marks the link needs_reauth when Schwab refuses the refresh token too (its own error wording)', async () => {
    const connectionId = await linkSchwab('cyd');
    const broker = await h.arbion.brokers.brokerFor(route(connectionId));
    // The user removed the app at Schwab: access and refresh tokens die together.
    expect(oauth.revokeGrantOf(await storedAccessToken(connectionId))).toBe(true);
    const seen = watch();
    const error = await broker.placeOrder(buyAapl()).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(BrokerAuthError);
    expect(error).toMatchObject({ kind: 'auth' });
    expect(seen.refreshes()).toEqual([400]);
    expect(seen.tokenErrors()).toEqual(['unsupported_token_type']);
    expect(seen.orderPosts()).toEqual([401]);
    expect(await statusOf(connectionId)).toBe('needs_reauth');
  });

  it('leaves the link active and places nothing when the token endpoint is down during the renewal', async () => {
    const connectionId = await linkSchwab('dee');
    const broker = await h.arbion.brokers.brokerFor(route(connectionId));
    oauth.revokeAccessTokens(await storedAccessToken(connectionId));
    oauth.failNext('/token', 503);
    const seen = watch();
    const ordersBefore = schwab.orders(hash).length;
    const error = await broker.placeOrder(buyAapl()).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(BrokerRejectedError);
    expect(error).toMatchObject({ code: 'sign_in_unavailable' });
    expect(seen.orderPosts()).toEqual([401]);
    expect(schwab.orders(hash)).toHaveLength(ordersBefore);
    expect(await statusOf(connectionId)).toBe('active');
    // Once it is back, the same refused token is renewed and the order goes through, once.
    expect((await broker.placeOrder(buyAapl())).status).toBe('filled');
    expect(seen.tokenEndpoint()).toEqual([503, 200]);
    expect(seen.refreshes()).toEqual([200]);
    expect(schwab.orders(hash)).toHaveLength(ordersBefore + 1);
  });

  it('refreshes once for concurrent requests refused at once in two processes', async () => {
    const connectionId = await linkSchwab('eli');
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
        await h.arbion.brokers.brokerFor(route(connectionId)),
        await otherRegistry.brokerFor(route(connectionId)),
      ];
      oauth.revokeAccessTokens(await storedAccessToken(connectionId));
      const seen = watch();
      const requestsBefore = schwab.requests.length;
      const refusals = () =>
        schwab.requests.slice(requestsBefore).filter((request) => request.status === 401).length;
      // The first refresh waits at the token endpoint until every request has been refused.
      const tokenEndpoint = oauth.holdNext('/token');

      const balances = Promise.all([0, 1, 0, 1, 0, 1].map((process) => brokers[process]?.getBalances(hash)));
      await Promise.all([tokenEndpoint.reached, schwab.until(() => refusals() === 6)]);
      tokenEndpoint.release();

      expect(new Set((await balances).map((balance) => balance?.cash.toFixed())).size).toBe(1);
      expect(seen.refreshes()).toEqual([200]);
      expect(seen.tokenErrors()).toEqual([]);
      const answered = schwab.requests.slice(requestsBefore).map((request) => request.status);
      // Each request refused once, then answered with the one renewed token.
      expect(answered.filter((status) => status === 401)).toHaveLength(6);
      expect(answered.filter((status) => status === 200)).toHaveLength(6);
      expect(await statusOf(connectionId)).toBe('active');
      expect(
        oauth.introspect(await other.tokens.read(connectionId).then((t) => t?.accessToken ?? '')).status,
      ).toBe('valid');
    } finally {
      await second.close();
    }
  });
});
