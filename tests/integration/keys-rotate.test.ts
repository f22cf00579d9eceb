/**
 * Vault key rotation on real databases: every broker credential and OAuth secret moves to the
 * current key, rows already there are left alone, an unreadable row fails alone, and a secret
 * written concurrently is never overwritten. Then `arbion keys rotate` as an operator runs it.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PrismaClient } from '../../src/core/db/database.js';
import { createLogger } from '../../src/core/logging/logger.js';
import { formatKeyRing, rotateVault, Vault } from '../../src/core/vault/index.js';
import { runArbion } from '../support/cli.js';
import { type Backend, backends, createTestDatabase, type TestDatabase } from '../support/databases.js';

const keyA = { id: 'kA', key: randomBytes(32) };
const keyB = { id: 'kB', key: randomBytes(32) };
const keyC = { id: 'kC', key: randomBytes(32) };

function memoryLogger() {
  const lines: string[] = [];
  const logger = createLogger({
    level: 'info',
    format: 'json',
    secretValues: [],
    destination: new Writable({
      write(chunk: Buffer, _encoding, callback) {
        lines.push(chunk.toString());
        callback();
      },
    }),
  });
  return { logger, lines };
}

const credentials = (id: string): string => `{"refresh_token":"RT-${id}-secret"}`;

interface Seeded {
  /** Connection id -> plaintext, for rows sealed with key A. */
  readonly underA: Map<string, string>;
  /** OAuth state id -> plaintext. */
  readonly oauth: Map<string, string>;
  readonly alreadyB: string;
  readonly corrupted: string;
  readonly corruptedBytes: Buffer;
  readonly empty: string;
  readonly userIds: Map<string, string>;
}

/** Two users; connections under A, one under B, one corrupted, one without credentials; OAuth states under A. */
async function seed(prisma: PrismaClient): Promise<Seeded> {
  const oldVault = new Vault([keyA]);
  const currentVault = new Vault([keyB, keyA]);
  const users = [await prisma.user.create({ data: {} }), await prisma.user.create({ data: {} })];
  const userIds = new Map<string, string>();
  const underA = new Map<string, string>();
  const oauth = new Map<string, string>();

  const connection = async (userId: string, vault: Vault | undefined, plaintext: string) => {
    const row = await prisma.brokerConnection.create({ data: { userId, provider: 'schwab' } });
    userIds.set(row.id, userId);
    if (vault !== undefined) {
      const sealed = vault.seal(plaintext, { userId, recordId: row.id, field: 'credentials' });
      await prisma.brokerConnection.update({
        where: { id: row.id },
        data: { credentialCiphertext: sealed.ciphertext, credentialKeyId: sealed.keyId },
      });
    }
    return row.id;
  };

  for (const user of users)
    for (let index = 0; index < 2; index++) {
      const plaintext = credentials(`${user.id}-${index}`);
      underA.set(await connection(user.id, oldVault, plaintext), plaintext);
    }
  const alreadyB = await connection(users[0]?.id ?? '', currentVault, credentials('b'));
  const corrupted = await connection(users[1]?.id ?? '', oldVault, credentials('broken'));
  const stored = await prisma.brokerConnection.findUniqueOrThrow({ where: { id: corrupted } });
  const corruptedBytes = Buffer.from(stored.credentialCiphertext ?? []);
  corruptedBytes[corruptedBytes.length - 1] = (corruptedBytes.at(-1) ?? 0) ^ 0x40;
  await prisma.brokerConnection.update({
    where: { id: corrupted },
    data: { credentialCiphertext: new Uint8Array(corruptedBytes) },
  });
  const empty = await connection(users[1]?.id ?? '', undefined, '');

  for (const user of users) {
    const row = await prisma.oAuthState.create({
      data: {
        stateHash: randomBytes(16).toString('hex'),
        flow: 'oauth1',
        provider: 'etrade',
        userId: user.id,
        expiresAt: new Date(Date.now() + 600_000),
      },
    });
    userIds.set(row.id, user.id);
    const plaintext = `{"oauth_token_secret":"TS-${row.id}"}`;
    const sealed = oldVault.seal(plaintext, { userId: user.id, recordId: row.id, field: 'oauth_secret' });
    await prisma.oAuthState.update({
      where: { id: row.id },
      data: { secretCiphertext: sealed.ciphertext, secretKeyId: sealed.keyId },
    });
    oauth.set(row.id, plaintext);
  }
  return { underA, oauth, alreadyB, corrupted, corruptedBytes, empty, userIds };
}

describe.each(backends)('vault rotation on %s PostgreSQL', (backend: Backend) => {
  let test: TestDatabase;
  let prisma: PrismaClient;
  let seeded: Seeded;

  beforeAll(async () => {
    test = await createTestDatabase(backend);
    prisma = test.database.prisma;
    seeded = await seed(prisma);
  });
  afterAll(async () => {
    await test?.destroy();
  });

  it('re-encrypts every secret under the old key, skips current ones and fails only the corrupted row', async () => {
    const { logger, lines } = memoryLogger();
    const result = await rotateVault({ prisma, vault: new Vault([keyB, keyA]), logger });
    expect(result).toEqual({ reencrypted: 6, alreadyCurrent: 1, failed: 1 });

    const onlyB = new Vault([keyB]);
    for (const [id, plaintext] of seeded.underA) {
      const row = await prisma.brokerConnection.findUniqueOrThrow({ where: { id } });
      expect(row.credentialKeyId).toBe('kB');
      const context = { userId: row.userId, recordId: id, field: 'credentials' };
      expect(onlyB.open(row.credentialCiphertext ?? new Uint8Array(), context)).toBe(plaintext);
    }
    for (const [id, plaintext] of seeded.oauth) {
      const row = await prisma.oAuthState.findUniqueOrThrow({ where: { id } });
      expect(row.secretKeyId).toBe('kB');
      const context = { userId: row.userId, recordId: id, field: 'oauth_secret' };
      expect(onlyB.open(row.secretCiphertext ?? new Uint8Array(), context)).toBe(plaintext);
    }

    const corrupted = await prisma.brokerConnection.findUniqueOrThrow({ where: { id: seeded.corrupted } });
    expect(corrupted.credentialKeyId).toBe('kA');
    expect(Buffer.from(corrupted.credentialCiphertext ?? []).equals(seeded.corruptedBytes)).toBe(true);
    const empty = await prisma.brokerConnection.findUniqueOrThrow({ where: { id: seeded.empty } });
    expect(empty.credentialCiphertext).toBeNull();
    expect(empty.credentialKeyId).toBeNull();

    const log = lines.join('');
    expect(log).toContain(seeded.corrupted);
    expect(log).not.toContain('RT-');
    expect(log).not.toContain('TS-');
  });

  it('leaves everything alone when run again', async () => {
    const before = await prisma.brokerConnection.findUniqueOrThrow({ where: { id: seeded.alreadyB } });
    const result = await rotateVault({
      prisma,
      vault: new Vault([keyB, keyA]),
      logger: memoryLogger().logger,
    });
    expect(result).toEqual({ reencrypted: 0, alreadyCurrent: 7, failed: 1 });
    const after = await prisma.brokerConnection.findUniqueOrThrow({ where: { id: seeded.alreadyB } });
    expect(
      Buffer.from(after.credentialCiphertext ?? []).equals(Buffer.from(before.credentialCiphertext ?? [])),
    ).toBe(true);
  });

  it('never overwrites a secret written while the row was being rotated', async () => {
    const [target] = seeded.underA.keys();
    if (target === undefined) throw new Error('no seeded connection');
    const userId = seeded.userIds.get(target) ?? '';
    const context = { userId, recordId: target, field: 'credentials' };
    // An older process, still sealing with kB, re-links the connection just before rotation writes.
    const fresh = new Vault([keyB]).seal('{"refresh_token":"written-concurrently"}', context);
    let interfered = false;
    const brokerConnection = new Proxy(prisma.brokerConnection, {
      get(target_, property, receiver) {
        if (property !== 'updateMany') return Reflect.get(target_, property, receiver);
        return async (args: Parameters<PrismaClient['brokerConnection']['updateMany']>[0]) => {
          if (!interfered && args.where?.id === target) {
            interfered = true;
            await prisma.brokerConnection.update({
              where: { id: target },
              data: { credentialCiphertext: fresh.ciphertext, credentialKeyId: fresh.keyId },
            });
          }
          return prisma.brokerConnection.updateMany(args);
        };
      },
    });
    const result = await rotateVault({
      prisma: { brokerConnection, oAuthState: prisma.oAuthState, operatorSecret: prisma.operatorSecret },
      vault: new Vault([keyC, keyB, keyA]),
      logger: memoryLogger().logger,
    });
    expect(interfered).toBe(true);
    // 5 connections + 2 OAuth states move to kC; the corrupted row fails.
    expect(result).toEqual({ reencrypted: 7, alreadyCurrent: 0, failed: 1 });
    const row = await prisma.brokerConnection.findUniqueOrThrow({ where: { id: target } });
    expect(row.credentialKeyId).toBe('kC');
    expect(new Vault([keyC]).open(row.credentialCiphertext ?? new Uint8Array(), context)).toBe(
      '{"refresh_token":"written-concurrently"}',
    );
  });
});

describe('arbion keys rotate', () => {
  const cwd = mkdtempSync(path.join(tmpdir(), 'arbion-keys-'));
  let test: TestDatabase;
  let seeded: Seeded;

  beforeAll(async () => {
    test = await createTestDatabase('server');
    seeded = await seed(test.database.prisma);
  });
  afterAll(async () => {
    await test?.destroy();
    rmSync(cwd, { recursive: true, force: true });
  });

  it('explains the rotation procedure in its help', async () => {
    const help = await runArbion(['keys', 'rotate', '--help'], { cwd });
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('FIRST in ARBION_ENCRYPTION_KEYS');
    expect(help.stdout).toContain('remove k1');
  });

  it('re-encrypts with the first key, exits 1 while a secret is unreadable, 0 once none is', async () => {
    const env = { DATABASE_URL: test.location, ARBION_ENCRYPTION_KEYS: formatKeyRing([keyB, keyA]) };
    const first = await runArbion(['keys', 'rotate'], { cwd, env });
    expect(first.stdout).toBe(
      'Re-encrypted 6 secrets with key kB; 1 already used it.\n' +
        '1 secret could not be opened with any key of the ring and was left unchanged (row ids are in the log). ' +
        'Keep the old keys until this is resolved.\n',
    );
    expect(first.code).toBe(1);
    expect(first.stderr).toContain(seeded.corrupted);
    expect(first.stderr).not.toContain(keyA.key.toString('base64'));
    expect(first.stderr).not.toContain('RT-');

    await test.database.prisma.brokerConnection.delete({ where: { id: seeded.corrupted } });
    const second = await runArbion(['keys', 'rotate'], { cwd, env });
    expect(second.stdout).toBe('Re-encrypted 0 secrets with key kB; 7 already used it.\n');
    expect(second.code).toBe(0);

    const onlyB = new Vault([keyB]);
    for (const [id, plaintext] of seeded.underA) {
      const row = await test.database.prisma.brokerConnection.findUniqueOrThrow({ where: { id } });
      expect(
        onlyB.open(row.credentialCiphertext ?? new Uint8Array(), {
          userId: row.userId,
          recordId: id,
          field: 'credentials',
        }),
      ).toBe(plaintext);
    }
  });

  it('refuses a malformed key ring before touching the database', async () => {
    const result = await runArbion(['keys', 'rotate'], {
      cwd,
      env: { DATABASE_URL: test.location, ARBION_ENCRYPTION_KEYS: 'kB:not-a-key' },
    });
    expect(result.code).toBe(78);
    expect(result.stderr).toContain('ARBION_ENCRYPTION_KEYS');
  });
});
