/**
 * OAuth 1.0a linking, E*TRADE style, against the local fake on both databases: request token,
 * verifier code, access token, signed API calls; and the fake's refusals of what E*TRADE refuses
 * (tampered signatures, stale timestamps, replayed nonces, late or wrong verifiers, idle and
 * expired tokens).
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  hashOAuthState,
  OAuth1Flow,
  type OAuth1ProviderSpec,
  OAuth1Signer,
  type OAuth1Tokens,
  OAuthError,
  OAuthReauthRequiredError,
  OAuthStateError,
  OAuthStates,
  OAuthUnavailableError,
  OAuthVerifierError,
} from '../../src/core/oauth/index.js';
import { Vault } from '../../src/core/vault/index.js';
import { FakeOAuth1Provider } from '../fakes/oauth1-provider/fake-oauth1-provider.js';
import { type Backend, backends, createTestDatabase, type TestDatabase } from '../support/databases.js';

const CONSUMER = { consumerKey: 'etrade-consumer-key', consumerSecret: 'etrade consumer secret+/=' };

describe.each(backends)('OAuth 1.0a on %s PostgreSQL', (backend: Backend) => {
  let test: TestDatabase;
  let now = new Date('2025-06-02T14:00:00Z'); // 10:00 in New York (EDT)
  const clock = () => now;
  const advance = (seconds: number) => {
    now = new Date(now.getTime() + seconds * 1000);
  };
  const vault = new Vault([{ id: 'ktest', key: randomBytes(32) }]);
  let states: OAuthStates;
  let etrade: FakeOAuth1Provider;
  let userId: string;
  let sessionId: string;
  let otherSessionId: string;
  /** Authorization headers our flows sent, to replay. */
  const sentAuthorizations: { url: string; authorization: string }[] = [];

  const recordingFetch: typeof fetch = async (input, init) => {
    const authorization = new Headers(init?.headers).get('authorization');
    if (authorization !== null) sentAuthorizations.push({ url: String(input), authorization });
    return fetch(input, init);
  };

  const spec = (overrides: Partial<OAuth1ProviderSpec> = {}): OAuth1ProviderSpec => ({
    provider: 'etrade',
    requestTokenUrl: etrade.requestTokenUrl,
    accessTokenUrl: etrade.accessTokenUrl,
    renewUrl: etrade.renewUrl,
    revokeUrl: etrade.revokeUrl,
    authorizeUrl: etrade.authorizeUrl,
    ...CONSUMER,
    ...overrides,
  });
  const flowFor = (options: { specOverrides?: Partial<OAuth1ProviderSpec>; now?: () => Date } = {}) =>
    new OAuth1Flow(spec(options.specOverrides), {
      states,
      now: options.now ?? clock,
      fetch: recordingFetch,
      allowInsecureLoopback: true,
    });

  beforeAll(async () => {
    test = await createTestDatabase(backend);
    const prisma = test.database.prisma;
    userId = (await prisma.user.create({ data: {} })).id;
    const session = (hash: string) =>
      prisma.webSession.create({ data: { sessionHash: hash, userId, expiresAt: new Date('2030-01-01') } });
    sessionId = (await session('oauth1-a')).id;
    otherSessionId = (await session('oauth1-b')).id;
    states = new OAuthStates({ prisma, vault, now: clock });
    etrade = await FakeOAuth1Provider.start({ ...CONSUMER, now: clock });
  });
  afterAll(async () => {
    await etrade?.close();
    await test?.destroy();
  });

  async function linked(flow = flowFor()): Promise<OAuth1Tokens> {
    const { state, authorizeUrl } = await flow.begin({ userId, webSessionId: sessionId });
    const verifier = etrade.authorize(authorizeUrl.searchParams.get('token') ?? '');
    return (await flow.complete({ state, webSessionId: sessionId, verifier })).tokens;
  }

  const accounts = (tokens: OAuth1Tokens, flow = flowFor()) =>
    flow.signedFetch(tokens, 'GET', etrade.accountsUrl, { headers: { accept: 'application/json' } });

  const errorOf = async (attempt: Promise<unknown>): Promise<unknown> =>
    attempt.then(
      () => {
        throw new Error('expected a failure');
      },
      (error: unknown) => error,
    );

  it('links through the authorize page and calls the API with the access token', async () => {
    const flow = flowFor();
    const { state, authorizeUrl } = await flow.begin({ userId, webSessionId: sessionId });
    expect(authorizeUrl.searchParams.get('key')).toBe(CONSUMER.consumerKey);
    const requestToken = authorizeUrl.searchParams.get('token') ?? '';
    const row = await test.database.prisma.oAuthState.findUniqueOrThrow({
      where: { stateHash: hashOAuthState(state) },
    });
    expect(row.flow).toBe('oauth1');
    expect(row.redirectUri).toBeNull();
    expect(Buffer.from(row.secretCiphertext ?? []).includes(Buffer.from(requestToken))).toBe(false);

    const page = await fetch(authorizeUrl);
    expect(page.status).toBe(200);
    const verifier = /<code id="verifier">([A-Z0-9]+)<\/code>/.exec(await page.text())?.[1] ?? '';
    expect(verifier).toMatch(/^[A-Z0-9]{5}$/);

    const result = await flow.complete({
      state,
      webSessionId: sessionId,
      verifier: ` ${verifier}\n`,
    });
    expect(result.userId).toBe(userId);
    expect(etrade.accessTokenExpiry(result.tokens.token)).toEqual(new Date('2025-06-03T04:00:00Z'));
    const response = await accounts(result.tokens);
    expect(response.status).toBe(200);
    const body = (await response.json()) as {
      AccountListResponse: { Accounts: { Account: { accountIdKey: string }[] } };
    };
    expect(body.AccountListResponse.Accounts.Account[0]?.accountIdKey).toBeTruthy();
    expect(etrade.calls.map((call) => `${call.path} ${call.status}`)).toEqual(
      expect.arrayContaining([
        '/oauth/request_token 200',
        '/oauth/access_token 200',
        '/v1/accounts/list 200',
      ]),
    );
  });

  it('refuses a wrong verifier with a clear message, and the state is then spent', async () => {
    const flow = flowFor();
    const { state, authorizeUrl } = await flow.begin({ userId, webSessionId: sessionId });
    etrade.authorize(authorizeUrl.searchParams.get('token') ?? '');
    const error = await errorOf(flow.complete({ state, webSessionId: sessionId, verifier: 'WRONG1' }));
    expect(error).toBeInstanceOf(OAuthVerifierError);
    expect((error as OAuthVerifierError).userMessage).toContain('wrong or has expired');
    expect(etrade.calls.at(-1)).toMatchObject({
      path: '/oauth/access_token',
      status: 401,
      problem: 'verifier_invalid',
    });
    expect(
      await errorOf(flow.complete({ state, webSessionId: sessionId, verifier: 'WRONG1' })),
    ).toMatchObject({
      reason: 'used',
    });
  });

  it('refuses a verifier entered in another browser session', async () => {
    const flow = flowFor();
    const { state, authorizeUrl } = await flow.begin({ userId, webSessionId: sessionId });
    const verifier = etrade.authorize(authorizeUrl.searchParams.get('token') ?? '');
    const error = await errorOf(flow.complete({ state, webSessionId: otherSessionId, verifier }));
    expect(error).toBeInstanceOf(OAuthStateError);
    expect(error).toMatchObject({ reason: 'wrong_session' });
  });

  it('refuses a request token after its five minutes, and a second exchange of one', async () => {
    const flow = flowFor();
    const late = await flow.begin({ userId, webSessionId: sessionId });
    const lateVerifier = etrade.authorize(late.authorizeUrl.searchParams.get('token') ?? '');
    advance(5 * 60 + 1);
    expect(
      await errorOf(flow.complete({ state: late.state, webSessionId: sessionId, verifier: lateVerifier })),
    ).toBeInstanceOf(OAuthVerifierError);
    expect(etrade.calls.at(-1)).toMatchObject({ status: 401, problem: 'token_expired' });

    const { state, authorizeUrl } = await flow.begin({ userId, webSessionId: sessionId });
    const requestToken = authorizeUrl.searchParams.get('token') ?? '';
    const verifier = etrade.authorize(requestToken);
    // The request token's secret, as only the sealed state row holds it.
    const row = await test.database.prisma.oAuthState.findUniqueOrThrow({
      where: { stateHash: hashOAuthState(state) },
    });
    const sealed = JSON.parse(
      vault.open(row.secretCiphertext ?? new Uint8Array(), {
        userId,
        recordId: row.id,
        field: 'oauth_secret',
      }),
    ) as OAuth1Tokens;
    expect(sealed.token).toBe(requestToken);
    await flow.complete({ state, webSessionId: sessionId, verifier });
    const signer = new OAuth1Signer(CONSUMER, clock);
    const url = new URL(etrade.accessTokenUrl);
    const again = await fetch(url, {
      headers: { authorization: signer.authorization('GET', url, sealed, { oauth_verifier: verifier }) },
    });
    expect(again.status).toBe(401);
    expect(await again.text()).toContain('oauth_problem=token_used');
  });

  it('rejects a request whose signed parameters were altered in transit', async () => {
    const tokens = await linked();
    const signer = new OAuth1Signer(CONSUMER, clock);
    const signedUrl = new URL(`${etrade.accountsUrl}?count=1`);
    const authorization = signer.authorization('GET', signedUrl, tokens);
    const tampered = await fetch(`${etrade.accountsUrl}?count=2`, {
      headers: { authorization, accept: 'application/json' },
    });
    expect(tampered.status).toBe(401);
    expect(await tampered.text()).toContain('oauth_problem=signature_invalid');
    const genuine = await fetch(signedUrl, {
      headers: { authorization: signer.authorization('GET', signedUrl, tokens), accept: 'application/json' },
    });
    expect(genuine.status).toBe(200);
  });

  it('rejects a timestamp more than five minutes off the provider clock', async () => {
    const tokens = await linked();
    const slow = flowFor({ now: () => new Date(now.getTime() - 6 * 60 * 1000) });
    const stale = await accounts(tokens, slow);
    expect(stale.status).toBe(401);
    expect(await stale.text()).toContain('oauth_problem=timestamp_refused');
    const slightlySlow = flowFor({ now: () => new Date(now.getTime() - 4 * 60 * 1000) });
    expect((await accounts(tokens, slightlySlow)).status).toBe(200);
  });

  it('rejects a replayed request (same nonce)', async () => {
    const tokens = await linked();
    sentAuthorizations.length = 0;
    expect((await accounts(tokens)).status).toBe(200);
    const [original] = sentAuthorizations;
    const replay = await fetch(original?.url ?? '', {
      headers: { authorization: original?.authorization ?? '', accept: 'application/json' },
    });
    expect(replay.status).toBe(401);
    expect(await replay.text()).toContain('oauth_problem=nonce_used');
  });

  it('renews an access token that went idle for two hours', async () => {
    const tokens = await linked();
    advance(2 * 3600 + 60);
    const idle = await accounts(tokens);
    expect(idle.status).toBe(401);
    expect(await idle.text()).toContain('oauth_problem=token_inactive');
    await flowFor().renew(tokens);
    expect((await accounts(tokens)).status).toBe(200);
  });

  it('lets the access token die at midnight US Eastern; renewal then asks for a new link', async () => {
    now = new Date('2025-12-01T15:00:00Z'); // 10:00 EST
    const tokens = await linked();
    expect(etrade.accessTokenExpiry(tokens.token)).toEqual(new Date('2025-12-02T05:00:00Z'));
    now = new Date('2025-12-02T04:59:00Z'); // 23:59 EST
    await flowFor().renew(tokens);
    expect((await accounts(tokens)).status).toBe(200);
    now = new Date('2025-12-02T05:00:01Z');
    const error = await errorOf(flowFor().renew(tokens));
    expect(error).toBeInstanceOf(OAuthReauthRequiredError);
    expect(error).toMatchObject({ providerError: 'token_expired' });
    expect((await accounts(tokens)).status).toBe(401);
  });

  it('revokes an access token; revoking it again is harmless', async () => {
    const tokens = await linked();
    await flowFor().revoke(tokens);
    expect(etrade.calls.at(-1)).toMatchObject({ path: '/oauth/revoke_access_token', status: 200 });
    expect((await accounts(tokens)).status).toBe(401);
    await expect(flowFor().revoke(tokens)).resolves.toBeUndefined();
  });

  it('reports a provider outage and a wrong consumer secret without starting a sign-in', async () => {
    const count = () => test.database.prisma.oAuthState.count();
    const before = await count();
    etrade.failNext('/oauth/request_token', 503);
    const outage = await errorOf(flowFor().begin({ userId, webSessionId: sessionId }));
    expect(outage).toBeInstanceOf(OAuthUnavailableError);
    const wrongSecret = await errorOf(
      flowFor({ specOverrides: { consumerSecret: 'not-the-secret' } }).begin({
        userId,
        webSessionId: sessionId,
      }),
    );
    expect(wrongSecret).toBeInstanceOf(OAuthError);
    expect(wrongSecret).toMatchObject({ providerError: 'signature_invalid' });
    expect(String((wrongSecret as Error).message)).not.toContain('not-the-secret');
    expect(await count()).toBe(before);
  });

  it('the fake insists on oauth_callback=oob for a request token', async () => {
    const signer = new OAuth1Signer(CONSUMER, clock);
    const url = new URL(etrade.requestTokenUrl);
    const missing = await fetch(url, {
      headers: { authorization: signer.authorization('GET', url, undefined) },
    });
    expect(missing.status).toBe(400);
    expect(await missing.text()).toContain('oauth_problem=parameter_absent');
    const other = await fetch(url, {
      headers: {
        authorization: signer.authorization('GET', url, undefined, {
          oauth_callback: 'https://evil.example/cb',
        }),
      },
    });
    expect(other.status).toBe(400);
    expect(await other.text()).toContain('oauth_problem=parameter_rejected');
  });
});
