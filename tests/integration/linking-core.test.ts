/**
 * The linking core against a real database: one-time link URLs, web sessions and API-key
 * connections (tried at local fakes of Alpaca and Coinbase before anything is stored).
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alpacaLinking } from '../../src/brokers/alpaca/linking.js';
import { coinbaseLinking } from '../../src/brokers/coinbase/linking.js';
import { parseEnvironment } from '../../src/core/config/config.js';
import { BrokerConnections, ConnectionNotFoundError } from '../../src/core/linking/connections.js';
import { ExpiryWarnings } from '../../src/core/linking/expiry-warnings.js';
import { hashLinkToken, LINK_TOKEN_TTL_MS, LinkTokens } from '../../src/core/linking/link-tokens.js';
import { ProviderCatalog } from '../../src/core/linking/providers.js';
import {
  SESSION_IDLE_TIMEOUT_MS,
  SESSION_MAX_AGE_MS,
  WebSessions,
} from '../../src/core/linking/web-sessions.js';
import { ConnectionTokens } from '../../src/core/oauth/connection-tokens.js';
import { Vault } from '../../src/core/vault/index.js';
import { contractLogger } from '../contract/contract-harness.js';
import { FakeAlpaca } from '../fakes/alpaca/fake-alpaca.js';
import { FakeCoinbase } from '../fakes/coinbase/fake-coinbase.js';
import { backends, createTestDatabase, type TestDatabase } from '../support/databases.js';

const ADDRESS = { platform: 'telegram' as const, workspaceId: '', chatId: '4242' };
const ALPACA_KEY = {
  keyId: 'PKTEST1234567890ABCD',
  secretKey: 'sEcReT0123456789abcdefghijklmnopqrstuvwx',
  accountNumber: 'PA3RL1234567',
};

describe.each(backends)('linking core (%s)', (backend) => {
  let db: TestDatabase;
  let alpaca: FakeAlpaca;
  let coinbase: FakeCoinbase;
  let now = new Date('2026-11-24T15:00:00Z');
  const clock = () => now;
  const vault = new Vault([{ id: 'k1', key: randomBytes(32) }]);
  let userId: string;
  let connections: BrokerConnections;
  const ecKey = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const cdpKeyName =
    'organizations/3f1c7a52-2d2e-4c43-9a55-0d6f5b1c9e01/apiKeys/9b2f8a0e-6f5c-4d3b-8a1e-7c2d4e5f6a7b';

  beforeAll(async () => {
    db = await createTestDatabase(backend);
    alpaca = await FakeAlpaca.start([ALPACA_KEY]);
    coinbase = await FakeCoinbase.start();
    coinbase.addKey(cdpKeyName, ecKey.privateKey);
    const user = await db.database.prisma.user.create({
      data: {
        displayName: 'Alice',
        identities: { create: { platform: 'telegram', platformUserId: '4242', displayName: 'Alice' } },
      },
    });
    userId = user.id;
    const parsed = parseEnvironment(
      { ALPACA_PAPER_API_BASE: alpaca.baseUrl, COINBASE_API_BASE: coinbase.baseUrl },
      { cwd: '/tmp' },
    );
    if (!parsed.ok) throw new Error(parsed.problems.join('\n'));
    const config = parsed.config;
    const catalog = new ProviderCatalog([alpacaLinking(config), coinbaseLinking(config)]);
    connections = new BrokerConnections({
      prisma: db.database.prisma,
      vault,
      catalog,
      oauth: {
        oauth2: () => undefined,
        oauth1: () => undefined,
        tokens: new ConnectionTokens({ prisma: db.database.prisma, vault, flows: {}, now: clock }),
      },
      logger: contractLogger(),
      clock,
    });
  });

  afterAll(async () => {
    await alpaca?.close();
    await coinbase?.close();
    await db?.destroy();
  });

  describe('link tokens', () => {
    const tokens = () =>
      new LinkTokens({ prisma: db.database.prisma, baseUrl: () => 'https://arbion.test', clock });

    it('issues a 256-bit URL, stores only its hash, and redeems it exactly once', async () => {
      const { url } = await tokens().issue(userId, ADDRESS);
      const token = url.replace('https://arbion.test/link/', '');
      expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(Buffer.from(token, 'base64url')).toHaveLength(32);
      const rows = await db.database.prisma.linkToken.findMany({ where: { userId, purpose: 'broker_link' } });
      expect(rows.some((row) => row.tokenHash === hashLinkToken(token))).toBe(true);
      expect(JSON.stringify(rows)).not.toContain(token);

      const inspected = await tokens().inspect(token);
      expect(inspected).toMatchObject({ kind: 'valid', userId, displayName: 'Alice', platform: 'telegram' });
      // Looking does not use it up (chat apps fetch links for previews).
      expect((await tokens().inspect(token)).kind).toBe('valid');

      const results = await Promise.all([
        tokens().redeem(token),
        tokens().redeem(token),
        tokens().redeem(token),
      ]);
      expect(results.filter((result) => result.kind === 'redeemed')).toHaveLength(1);
      expect(results.filter((result) => result.kind === 'used')).toHaveLength(2);
      const redeemed = results.find((result) => result.kind === 'redeemed');
      expect(redeemed).toMatchObject({ userId, origin: { platform: 'telegram', chatId: '4242' } });
      expect((await tokens().inspect(token)).kind).toBe('used');
    });

    it('refuses an expired link, a superseded one and anything that is not a token', async () => {
      const first = (await tokens().issue(userId, ADDRESS)).url.split('/').pop() ?? '';
      const second = (await tokens().issue(userId, ADDRESS)).url.split('/').pop() ?? '';
      expect((await tokens().redeem(first)).kind).toBe('used');
      now = new Date(now.getTime() + LINK_TOKEN_TTL_MS + 1000);
      expect((await tokens().inspect(second)).kind).toBe('expired');
      expect((await tokens().redeem(second)).kind).toBe('expired');
      expect((await tokens().redeem('not-a-token')).kind).toBe('unknown');
      expect((await tokens().redeem(randomBytes(32).toString('base64url'))).kind).toBe('unknown');
    });
  });

  describe('web sessions', () => {
    it('ends after 30 idle minutes and after 8 hours in all', async () => {
      const sessions = new WebSessions({ prisma: db.database.prisma, clock });
      const linkTokenId = (await db.database.prisma.linkToken.findFirstOrThrow({ where: { userId } })).id;
      const idle = await sessions.open(userId, linkTokenId);
      expect(await sessions.authenticate(idle.token)).toMatchObject({
        userId,
        displayName: 'Alice',
        origin: { chatId: '4242' },
      });
      now = new Date(now.getTime() + SESSION_IDLE_TIMEOUT_MS + 1000);
      expect(await sessions.authenticate(idle.token)).toBeUndefined();

      const busy = await sessions.open(userId, linkTokenId);
      for (let elapsed = 0; elapsed < SESSION_MAX_AGE_MS; elapsed += SESSION_IDLE_TIMEOUT_MS / 2) {
        expect(await sessions.authenticate(busy.token)).toBeDefined();
        now = new Date(now.getTime() + SESSION_IDLE_TIMEOUT_MS / 2);
      }
      expect(await sessions.authenticate(busy.token)).toBeUndefined();

      const closed = await sessions.open(userId, linkTokenId);
      await sessions.close(closed.token);
      expect(await sessions.authenticate(closed.token)).toBeUndefined();
      expect(await sessions.authenticate(undefined)).toBeUndefined();
    });
  });

  describe('API-key connections', () => {
    it('refuses malformed keys field by field and stores nothing', async () => {
      const outcome = await connections.saveKeys({
        userId,
        provider: 'alpaca',
        values: { environment: 'paper', keyId: 'x', secretKey: '' },
      });
      expect(outcome.kind).toBe('invalid');
      if (outcome.kind === 'invalid')
        expect(Object.keys(outcome.fieldErrors).sort()).toEqual(['keyId', 'secretKey']);
      expect(await db.database.prisma.brokerConnection.count({ where: { userId } })).toBe(0);
      expect(alpaca.requests).toHaveLength(0);
    });

    it('refuses keys the broker rejects, and stores nothing', async () => {
      const outcome = await connections.saveKeys({
        userId,
        provider: 'alpaca',
        values: { environment: 'paper', keyId: 'PKWRONG1234567890ABC', secretKey: ALPACA_KEY.secretKey },
      });
      expect(outcome).toMatchObject({ kind: 'refused' });
      expect(alpaca.requests.at(-1)).toMatchObject({ path: '/v2/account', status: 401 });
      expect(await db.database.prisma.brokerConnection.count({ where: { userId } })).toBe(0);
    });

    it('stores accepted keys only as vault ciphertext bound to the connection', async () => {
      const outcome = await connections.saveKeys({
        userId,
        provider: 'alpaca',
        values: { environment: 'paper', keyId: ALPACA_KEY.keyId, secretKey: ALPACA_KEY.secretKey },
      });
      expect(outcome).toMatchObject({
        kind: 'saved',
        rotated: false,
        connection: { provider: 'alpaca', status: 'active', mode: 'paper', health: 'healthy' },
      });
      const row = await db.database.prisma.brokerConnection.findFirstOrThrow({
        where: { userId, provider: 'alpaca' },
      });
      expect(row.credentialKeyId).toBe('k1');
      const stored = Buffer.from(row.credentialCiphertext ?? new Uint8Array()).toString('latin1');
      expect(stored).not.toContain(ALPACA_KEY.secretKey);
      expect(stored).not.toContain(ALPACA_KEY.keyId);
      expect(row.label).toBe('PK••••ABCD · paper');
      expect(
        JSON.parse(
          vault.open(row.credentialCiphertext ?? new Uint8Array(), {
            userId,
            recordId: row.id,
            field: 'credentials',
          }),
        ),
      ).toEqual({
        kind: 'keys',
        values: { environment: 'paper', keyId: ALPACA_KEY.keyId, secretKey: ALPACA_KEY.secretKey },
      });
      // Bound to its row: the same bytes do not open as another connection's.
      expect(() =>
        vault.open(row.credentialCiphertext ?? new Uint8Array(), {
          userId,
          recordId: crypto.randomUUID(),
          field: 'credentials',
        }),
      ).toThrow();
      const audit = await db.database.prisma.auditEvent.findMany({ where: { userId, connectionId: row.id } });
      expect(audit.map((event) => event.type)).toContain('linking.connected');
      expect(
        JSON.stringify(audit, (_key, value) => (typeof value === 'bigint' ? String(value) : value)),
      ).not.toContain(ALPACA_KEY.secretKey);
    });

    it('tests, rotates (same connection, new keys) and unlinks (credentials erased)', async () => {
      const [connection] = await connections.list(userId);
      if (connection === undefined) throw new Error('no connection');
      expect(await connections.test(userId, connection.id)).toMatchObject({ health: 'healthy' });

      const rotatedKey = {
        keyId: 'PKROTATED1234567890X',
        secretKey: 'aNewSecret0123456789abcdefghijklmnopqrstu',
        accountNumber: ALPACA_KEY.accountNumber,
      };
      alpaca.addKey(rotatedKey);
      const rotated = await connections.saveKeys({
        userId,
        provider: 'alpaca',
        values: { environment: 'paper', ...rotatedKey },
        rotateConnectionId: connection.id,
      });
      expect(rotated).toMatchObject({ kind: 'saved', rotated: true, connection: { id: connection.id } });
      alpaca.revokeKey(ALPACA_KEY.keyId);
      expect(await connections.test(userId, connection.id)).toMatchObject({ health: 'healthy' });
      alpaca.revokeKey(rotatedKey.keyId);
      expect(await connections.test(userId, connection.id)).toMatchObject({ health: 'down' });

      await connections.unlink(userId, connection.id);
      const row = await db.database.prisma.brokerConnection.findUniqueOrThrow({
        where: { id: connection.id },
      });
      expect(row).toMatchObject({ status: 'revoked', credentialCiphertext: null, credentialKeyId: null });
      expect(await connections.list(userId)).toHaveLength(0);
      await expect(connections.unlink(userId, connection.id)).rejects.toBeInstanceOf(ConnectionNotFoundError);
      await expect(connections.test(userId, connection.id)).rejects.toBeInstanceOf(ConnectionNotFoundError);
    });

    it('never lists, tests or unlinks the built-in paper account', async () => {
      const paper = await db.database.prisma.brokerConnection.create({
        data: { userId, provider: 'paper', status: 'active' },
      });
      expect((await connections.list(userId)).map((connection) => connection.provider)).not.toContain(
        'paper',
      );
      await expect(connections.unlink(userId, paper.id)).rejects.toBeInstanceOf(ConnectionNotFoundError);
      await expect(connections.test(userId, paper.id)).rejects.toBeInstanceOf(ConnectionNotFoundError);
      expect(
        await db.database.prisma.brokerConnection.findUniqueOrThrow({ where: { id: paper.id } }),
      ).toMatchObject({ status: 'active' });
    });

    it('another user cannot test, rotate or unlink my connection', async () => {
      const saved = await connections.saveKeys({
        userId,
        provider: 'coinbase',
        values: {
          keyName: cdpKeyName,
          privateKey: ecKey.privateKey.export({ format: 'pem', type: 'sec1' }).toString(),
        },
      });
      expect(saved).toMatchObject({ kind: 'saved' });
      if (saved.kind !== 'saved') return;
      const mallory = await db.database.prisma.user.create({ data: { displayName: 'Mallory' } });
      await expect(connections.test(mallory.id, saved.connection.id)).rejects.toBeInstanceOf(
        ConnectionNotFoundError,
      );
      await expect(connections.unlink(mallory.id, saved.connection.id)).rejects.toBeInstanceOf(
        ConnectionNotFoundError,
      );
      const rotate = await connections.saveKeys({
        userId: mallory.id,
        provider: 'coinbase',
        values: {
          keyName: cdpKeyName,
          privateKey: ecKey.privateKey.export({ format: 'pem', type: 'sec1' }).toString(),
        },
        rotateConnectionId: saved.connection.id,
      });
      expect(rotate.kind).toBe('refused');
    });

    it('Coinbase: a key that signs correctly is accepted; a key Coinbase does not know is refused', async () => {
      expect(coinbase.requests.at(-1)).toMatchObject({ status: 200, kid: cdpKeyName });
      const stranger = generateKeyPairSync('ed25519');
      const jwk = stranger.privateKey.export({ format: 'jwk' });
      const raw = Buffer.concat([
        Buffer.from(jwk.d ?? '', 'base64url'),
        Buffer.from(jwk.x ?? '', 'base64url'),
      ]).toString('base64');
      const outcome = await connections.saveKeys({
        userId,
        provider: 'coinbase',
        values: { keyName: '9b2f8a0e-6f5c-4d3b-8a1e-7c2d4e5f6a70', privateKey: raw },
      });
      expect(outcome).toMatchObject({ kind: 'refused' });
      expect(coinbase.requests.at(-1)).toMatchObject({ status: 401, problem: 'unknown kid' });
      const malformed = await connections.saveKeys({
        userId,
        provider: 'coinbase',
        values: {
          keyName: cdpKeyName,
          privateKey: '-----BEGIN EC PRIVATE KEY-----\nnope\n-----END EC PRIVATE KEY-----',
        },
      });
      expect(malformed).toMatchObject({
        kind: 'invalid',
        fieldErrors: { privateKey: expect.stringContaining('cannot be read') },
      });
    });
  });

  describe('expiry warnings', () => {
    it('warns once, two days ahead, in the chat that last asked for the page; again after a new sign-in', async () => {
      const warnings = new ExpiryWarnings({
        prisma: db.database.prisma,
        catalog: new ProviderCatalog([
          { id: 'schwab', name: 'Charles Schwab', description: '', linking: undefined },
        ]),
      });
      const connection = await db.database.prisma.brokerConnection.create({
        data: {
          userId,
          provider: 'schwab',
          status: 'active',
          refreshTokenExpiresAt: new Date(now.getTime() + 3 * 86_400_000),
        },
      });
      expect(await warnings.due(now)).toHaveLength(0);
      now = new Date(now.getTime() + 1.5 * 86_400_000);
      const due = await warnings.due(now);
      expect(due).toHaveLength(1);
      expect(due[0]).toMatchObject({
        connectionId: connection.id,
        origin: { platform: 'telegram', chatId: '4242' },
      });
      expect(due[0]?.text).toContain('Your Charles Schwab link ends');
      expect(await warnings.due(now)).toHaveLength(0);
      await db.database.prisma.brokerConnection.update({
        where: { id: connection.id },
        data: { refreshTokenExpiresAt: new Date(now.getTime() + 1 * 86_400_000) },
      });
      expect(await warnings.due(now)).toHaveLength(1);
    });
  });
});
