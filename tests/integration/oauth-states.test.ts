/**
 * Sign-ins in flight on both databases: only the state's hash and sealed secrets are stored, and
 * a state is spent once, before expiry, by the browser session and provider that began it.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashOAuthState, OAuthStateError, OAuthStates } from '../../src/core/oauth/index.js';
import { Vault, VaultError } from '../../src/core/vault/index.js';
import { type Backend, backends, createTestDatabase, type TestDatabase } from '../support/databases.js';

describe.each(backends)('OAuth states on %s PostgreSQL', (backend: Backend) => {
  let test: TestDatabase;
  let states: OAuthStates;
  let userId: string;
  let sessionId: string;
  let otherSessionId: string;
  let now = new Date('2025-06-02T14:00:00Z');
  const vault = new Vault([{ id: 'ktest', key: randomBytes(32) }]);

  beforeAll(async () => {
    test = await createTestDatabase(backend);
    const prisma = test.database.prisma;
    userId = (await prisma.user.create({ data: {} })).id;
    const session = (hash: string) =>
      prisma.webSession.create({ data: { sessionHash: hash, userId, expiresAt: new Date('2030-01-01') } });
    sessionId = (await session('session-a')).id;
    otherSessionId = (await session('session-b')).id;
    states = new OAuthStates({ prisma, vault, now: () => now });
  });
  afterAll(async () => {
    await test?.destroy();
  });

  const begin = (secret?: string) =>
    states.begin({
      flow: 'oauth2',
      provider: 'coinbase',
      userId,
      webSessionId: sessionId,
      redirectUri: 'https://arbion.example.com/oauth/coinbase/callback',
      ...(secret === undefined ? {} : { secret }),
    });

  const reasonOf = async (attempt: Promise<unknown>) => {
    const error = await attempt.then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(OAuthStateError);
    return (error as OAuthStateError).reason;
  };

  it('stores the SHA-256 of the state and the secret sealed, never either in clear', async () => {
    const secret = `verifier-${randomBytes(16).toString('hex')}`;
    const { state, id, expiresAt } = await begin(secret);
    expect(state).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(expiresAt.getTime() - now.getTime()).toBe(10 * 60 * 1000);
    const row = await test.database.prisma.oAuthState.findUniqueOrThrow({ where: { id } });
    expect(row.stateHash).toBe(hashOAuthState(state));
    expect(row.flow).toBe('oauth2');
    expect(row.secretKeyId).toBe('ktest');
    const stored = JSON.stringify(row, (_key, value: unknown) =>
      value instanceof Uint8Array ? Buffer.from(value).toString('latin1') : value,
    );
    expect(stored).not.toContain(state);
    expect(stored).not.toContain(secret);
    expect(Buffer.from(row.secretCiphertext ?? []).includes(Buffer.from(secret))).toBe(false);

    const consumed = await states.consume({ state, webSessionId: sessionId, provider: 'coinbase' });
    expect(consumed).toEqual({
      id,
      userId,
      redirectUri: 'https://arbion.example.com/oauth/coinbase/callback',
      secret,
    });
    const spent = await test.database.prisma.oAuthState.findUniqueOrThrow({ where: { id } });
    expect(spent.consumedAt).toEqual(now);
  });

  it('refuses a state used twice, a tampered one and one of another provider', async () => {
    const { state } = await begin();
    await states.consume({ state, webSessionId: sessionId, provider: 'coinbase' });
    expect(await reasonOf(states.consume({ state, webSessionId: sessionId, provider: 'coinbase' }))).toBe(
      'used',
    );

    const fresh = await begin();
    const tampered = `${fresh.state.slice(0, -1)}${fresh.state.endsWith('A') ? 'B' : 'A'}`;
    expect(
      await reasonOf(states.consume({ state: tampered, webSessionId: sessionId, provider: 'coinbase' })),
    ).toBe('unknown');
    expect(
      await reasonOf(states.consume({ state: fresh.state, webSessionId: sessionId, provider: 'schwab' })),
    ).toBe('unknown');
    // Neither refusal spent the genuine state.
    await expect(
      states.consume({ state: fresh.state, webSessionId: sessionId, provider: 'coinbase' }),
    ).resolves.toMatchObject({ userId });
  });

  it('refuses another browser session without spending the state', async () => {
    const { state } = await begin();
    expect(
      await reasonOf(states.consume({ state, webSessionId: otherSessionId, provider: 'coinbase' })),
    ).toBe('wrong_session');
    await expect(
      states.consume({ state, webSessionId: sessionId, provider: 'coinbase' }),
    ).resolves.toMatchObject({
      userId,
    });
  });

  it('honours the ten-minute lifetime by the injected clock', async () => {
    const early = await begin();
    const late = await begin();
    now = new Date(now.getTime() + 10 * 60 * 1000 - 1000);
    await expect(
      states.consume({ state: early.state, webSessionId: sessionId, provider: 'coinbase' }),
    ).resolves.toBeDefined();
    now = new Date(now.getTime() + 1000);
    expect(
      await reasonOf(states.consume({ state: late.state, webSessionId: sessionId, provider: 'coinbase' })),
    ).toBe('expired');
    expect(new OAuthStateError('expired').userMessage).toBe(
      'This sign-in took too long and has expired. Start again from the linking page.',
    );
  });

  it('lets exactly one of 20 concurrent callbacks spend a state', async () => {
    const { state } = await begin('the-secret');
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, () =>
        states.consume({ state, webSessionId: sessionId, provider: 'coinbase' }),
      ),
    );
    const won = results.filter((result) => result.status === 'fulfilled');
    expect(won).toHaveLength(1);
    for (const result of results) {
      if (result.status === 'rejected') expect(result.reason).toMatchObject({ reason: 'used' });
    }
  });

  it('binds the sealed secret to its row: a ciphertext copied to another state does not open', async () => {
    const victim = await begin('victim-secret');
    const attacker = await begin('attacker-secret');
    const prisma = test.database.prisma;
    const sealed = await prisma.oAuthState.findUniqueOrThrow({ where: { id: victim.id } });
    await prisma.oAuthState.update({
      where: { id: attacker.id },
      data: { secretCiphertext: sealed.secretCiphertext },
    });
    await expect(
      states.consume({ state: attacker.state, webSessionId: sessionId, provider: 'coinbase' }),
    ).rejects.toBeInstanceOf(VaultError);
  });
});
