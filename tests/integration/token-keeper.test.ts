/**
 * Link upkeep in the background: Schwab-like access tokens are refreshed before their 30 minutes
 * run out, and a link whose refresh the provider refuses is marked and its user told once how to
 * fix it. Real OAuth 2.0 flow and token store against the fake provider, on both databases.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { etradeLinking } from '../../src/brokers/etrade/linking.js';
import { parseEnvironment } from '../../src/core/config/config.js';
import { ProviderCatalog } from '../../src/core/linking/providers.js';
import { TokenKeeper } from '../../src/core/linking/token-keeper.js';
import {
  ConnectionTokens,
  OAuth2Flow,
  type OAuth2ProviderSpec,
  OAuthStates,
} from '../../src/core/oauth/index.js';
import { Vault } from '../../src/core/vault/index.js';
import { contractLogger } from '../contract/contract-harness.js';
import { FakeOAuth2Provider } from '../fakes/oauth2-provider/fake-oauth2-provider.js';
import { backends, createTestDatabase, type TestDatabase } from '../support/databases.js';

const REDIRECT_URI = 'https://arbion.example.com/oauth/schwab/callback';

describe.each(backends)('token keeper (%s)', (backend) => {
  let test: TestDatabase;
  let schwab: FakeOAuth2Provider;
  let now = new Date('2026-11-24T15:00:00Z');
  const clock = () => now;
  const vault = new Vault([{ id: 'k1', key: randomBytes(32) }]);
  let keeper: TokenKeeper;
  let tokens: ConnectionTokens;
  let flow: OAuth2Flow;
  let states: OAuthStates;
  let userId: string;
  let sessionId: string;

  beforeAll(async () => {
    test = await createTestDatabase(backend);
    const prisma = test.database.prisma;
    userId = (await prisma.user.create({ data: { displayName: 'Ada' } })).id;
    await prisma.linkToken.create({
      data: {
        tokenHash: `keeper-${backend}`,
        purpose: 'broker_link',
        userId,
        platform: 'telegram',
        chatId: '777',
        expiresAt: now,
        usedAt: now,
      },
    });
    sessionId = (
      await prisma.webSession.create({
        data: { sessionHash: `keeper-${backend}`, userId, expiresAt: new Date('2030-01-01') },
      })
    ).id;
    schwab = await FakeOAuth2Provider.start({
      clients: [
        {
          clientId: 'app',
          clientSecret: 'secret',
          redirectUris: [REDIRECT_URI],
          auth: 'basic',
          requirePkce: false,
        },
      ],
      accessTokenTtlSeconds: 1800,
      refreshTokenTtlSeconds: 7 * 24 * 3600,
      now: clock,
    });
    const spec: OAuth2ProviderSpec = {
      provider: 'schwab',
      authorizationEndpoint: schwab.authorizationEndpoint,
      tokenEndpoint: schwab.tokenEndpoint,
      clientId: 'app',
      clientSecret: 'secret',
      clientAuthentication: 'client_secret_basic',
      pkce: false,
      scopes: ['api'],
      redirectUris: [REDIRECT_URI],
      refreshTokenLifetimeSeconds: 7 * 24 * 3600,
      rotatesRefreshTokens: false,
    };
    states = new OAuthStates({ prisma, vault, now: clock });
    flow = new OAuth2Flow(spec, { states, now: clock, allowInsecureLoopback: true });
    tokens = new ConnectionTokens({ prisma, vault, flows: { schwab: flow }, now: clock });
    keeper = new TokenKeeper({
      prisma,
      tokens,
      catalog: new ProviderCatalog([
        { id: 'schwab', name: 'Charles Schwab', description: '', linking: { kind: 'oauth2', spec } },
      ]),
      logger: contractLogger(),
    });
  });
  afterAll(async () => {
    await schwab?.close();
    await test?.destroy();
  });

  async function linkSchwab(): Promise<string> {
    const started = await flow.start({ userId, webSessionId: sessionId, redirectUri: REDIRECT_URI });
    const { tokens: issued } = await flow.complete({
      callbackUrl: await schwab.approve(started),
      webSessionId: sessionId,
    });
    const connection = await test.database.prisma.brokerConnection.create({
      data: { userId, provider: 'schwab', status: 'pending' },
    });
    await tokens.store(connection.id, userId, issued);
    return connection.id;
  }

  it('refreshes an access token within five minutes of its end, and leaves fresh ones alone', async () => {
    const connectionId = await linkSchwab();
    expect(await keeper.pass(now)).toEqual([]);
    expect(schwab.tokenCalls('refresh_token')).toHaveLength(0);

    now = new Date(now.getTime() + 26 * 60 * 1000);
    expect(await keeper.pass(now)).toEqual([]);
    expect(schwab.tokenCalls('refresh_token')).toHaveLength(1);
    const row = await test.database.prisma.brokerConnection.findUniqueOrThrow({
      where: { id: connectionId },
    });
    expect(row.accessTokenExpiresAt?.getTime()).toBe(now.getTime() + 1800 * 1000);
    expect(await keeper.pass(now)).toEqual([]);
    expect(schwab.tokenCalls('refresh_token')).toHaveLength(1);
  });

  it('marks a link whose refresh is refused and tells its user once, in the chat that asked', async () => {
    // Seven days after sign-in Schwab refuses the refresh token.
    now = new Date(now.getTime() + 7 * 24 * 3600 * 1000);
    const notices = await keeper.pass(now);
    expect(notices).toHaveLength(1);
    expect(notices[0]).toMatchObject({ userId, origin: { platform: 'telegram', chatId: '777' } });
    expect(notices[0]?.text).toContain('Your Charles Schwab link stopped working');
    const row = await test.database.prisma.brokerConnection.findFirstOrThrow({
      where: { userId, provider: 'schwab' },
    });
    expect(row.status).toBe('needs_reauth');
    expect(await keeper.pass(now)).toEqual([]);
  });

  it('ends an E*TRADE sign-in at its midnight expiry: marked once, its user told how to reconnect', async () => {
    const parsed = parseEnvironment(
      {
        ETRADE_CONSUMER_KEY: 'key',
        ETRADE_CONSUMER_SECRET: 'secret',
        ETRADE_API_BASE: 'http://127.0.0.1:9',
      },
      { cwd: '/tmp' },
    );
    if (!parsed.ok) throw new Error(parsed.problems.join('\n'));
    const withEtrade = new TokenKeeper({
      prisma: test.database.prisma,
      tokens,
      catalog: new ProviderCatalog([etradeLinking(parsed.config)]),
      logger: contractLogger(),
    });
    const midnight = new Date(now.getTime() + 3600_000);
    const connection = await test.database.prisma.brokerConnection.create({
      data: { userId, provider: 'etrade', status: 'active', accessTokenExpiresAt: midnight },
    });
    expect(await withEtrade.pass(new Date(midnight.getTime() - 1))).toEqual([]);
    const notices = await withEtrade.pass(midnight);
    expect(notices).toHaveLength(1);
    expect(notices[0]).toMatchObject({ connectionId: connection.id, origin: { chatId: '777' } });
    expect(notices[0]?.text).toContain('Your E*TRADE sign-in ended at midnight US Eastern');
    const row = await test.database.prisma.brokerConnection.findUniqueOrThrow({
      where: { id: connection.id },
    });
    expect(row).toMatchObject({ status: 'needs_reauth', healthStatus: 'down' });
    expect(await withEtrade.pass(new Date(midnight.getTime() + 60_000))).toEqual([]);
  });
});
