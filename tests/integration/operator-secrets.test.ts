/**
 * The operator's own secrets (the CDP wallet secret) in the vault: sealed and bound to their name,
 * rotated with every other secret, and managed with `arbion secrets` without ever being printed.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseEnvironment } from '../../src/core/config/config.js';
import { createLogger } from '../../src/core/logging/logger.js';
import { formatKeyRing, OperatorSecrets, rotateVault, Vault } from '../../src/core/vault/index.js';
import { runArbion } from '../support/cli.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';

const keyA = { id: 'kA', key: randomBytes(32) };
const keyB = { id: 'kB', key: randomBytes(32) };
const WALLET_SECRET = `wallet-${randomBytes(24).toString('base64')}`;

const silent = createLogger({
  level: 'silent',
  format: 'json',
  secretValues: [],
  destination: new Writable({ write: (_chunk, _encoding, callback) => callback() }),
});

describe('operator secrets in the vault', () => {
  let test: TestDatabase;

  beforeAll(async () => {
    test = await createTestDatabase('server');
  });
  afterAll(async () => {
    await test?.destroy();
  });

  it('stores a secret sealed, opens it by name only, and lists it without its value', async () => {
    const secrets = new OperatorSecrets(test.database.prisma, new Vault([keyA]));
    expect(await secrets.get('cdp-wallet-secret')).toBeUndefined();
    await secrets.set('cdp-wallet-secret', WALLET_SECRET);
    expect(await secrets.get('cdp-wallet-secret')).toBe(WALLET_SECRET);

    const row = await test.database.prisma.operatorSecret.findUniqueOrThrow({
      where: { name: 'cdp-wallet-secret' },
    });
    expect(row.keyId).toBe('kA');
    expect(Buffer.from(row.ciphertext).toString('latin1')).not.toContain(WALLET_SECRET);
    // The ciphertext is bound to the operator context: as a user's credential it does not open.
    const vault = new Vault([keyA]);
    expect(() =>
      vault.open(row.ciphertext, { userId: 'operator', recordId: 'other-secret', field: 'operator_secret' }),
    ).toThrow(/Vault/);

    const [entry] = await secrets.list();
    expect(entry?.name).toBe('cdp-wallet-secret');
    expect(entry?.updatedAt).toBeInstanceOf(Date);
    expect(JSON.stringify(await secrets.list())).not.toContain(WALLET_SECRET);
  });

  it('is re-encrypted by key rotation like every other secret', async () => {
    const prisma = test.database.prisma;
    await new OperatorSecrets(prisma, new Vault([keyA])).set('cdp-wallet-secret', WALLET_SECRET);
    const result = await rotateVault({ prisma, vault: new Vault([keyB, keyA]), logger: silent });
    expect(result).toEqual({ reencrypted: 1, alreadyCurrent: 0, failed: 0 });
    expect(await new OperatorSecrets(prisma, new Vault([keyB])).get('cdp-wallet-secret')).toBe(WALLET_SECRET);
    await expect(new OperatorSecrets(prisma, new Vault([keyA])).get('cdp-wallet-secret')).rejects.toThrow(
      /not in the ring/,
    );
  });

  it('remove forgets it', async () => {
    const secrets = new OperatorSecrets(test.database.prisma, new Vault([keyB]));
    expect(await secrets.remove('cdp-wallet-secret')).toBe(true);
    expect(await secrets.remove('cdp-wallet-secret')).toBe(false);
    expect(await secrets.get('cdp-wallet-secret')).toBeUndefined();
  });

  it('CDP keys without a wallet secret in the environment still configure the project', () => {
    const parsed = parseEnvironment({ CDP_API_KEY_ID: 'id', CDP_API_KEY_SECRET: 'secret' }, { cwd: '/tmp' });
    expect(parsed.ok).toBe(true);
    if (parsed.ok) expect(parsed.config.brokers.cdp?.walletSecret).toBeUndefined();
  });
});

describe('arbion secrets', () => {
  const cwd = mkdtempSync(path.join(tmpdir(), 'arbion-secrets-'));
  let test: TestDatabase;
  let env: Record<string, string>;

  beforeAll(async () => {
    test = await createTestDatabase('server');
    env = { DATABASE_URL: test.location, ARBION_ENCRYPTION_KEYS: formatKeyRing([keyA]) };
  });
  afterAll(async () => {
    await test?.destroy();
    rmSync(cwd, { recursive: true, force: true });
  });

  it('sets a secret from standard input, lists it, and never prints it', async () => {
    const set = await runArbion(['secrets', 'set', 'cdp-wallet-secret'], {
      cwd,
      env,
      stdin: `${WALLET_SECRET}\n`,
    });
    expect(set.stderr).not.toContain(WALLET_SECRET);
    expect(set.stdout).toBe('Stored cdp-wallet-secret in the vault. Restart Arbion to use it.\n');
    expect(set.code).toBe(0);
    // The trailing line break of a file or `echo` is not part of the secret.
    const stored = new OperatorSecrets(test.database.prisma, new Vault([keyA]));
    expect(await stored.get('cdp-wallet-secret')).toBe(WALLET_SECRET);

    const list = await runArbion(['secrets', 'list'], { cwd, env });
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/^cdp-wallet-secret\s+set \d{4}-\d\d-\d\dT/);
    expect(list.stdout + list.stderr).not.toContain(WALLET_SECRET);
  });

  it('refuses an unknown name and an empty value, storing nothing', async () => {
    const unknown = await runArbion(['secrets', 'set', 'aws-root'], { cwd, env, stdin: 'x' });
    expect(unknown.code).toBe(64);
    expect(unknown.stderr).toContain('There is no operator secret "aws-root". Known: cdp-wallet-secret.');
    const empty = await runArbion(['secrets', 'set', 'cdp-wallet-secret'], { cwd, env, stdin: '\n' });
    expect(empty.code).toBe(64);
    expect(empty.stderr).toContain('Standard input was empty: nothing was stored.');
    const stored = new OperatorSecrets(test.database.prisma, new Vault([keyA]));
    expect(await stored.get('cdp-wallet-secret')).toBe(WALLET_SECRET);
  });

  it('removes it; removing again exits 1', async () => {
    const removed = await runArbion(['secrets', 'remove', 'cdp-wallet-secret'], { cwd, env });
    expect(removed.stdout).toBe('Removed cdp-wallet-secret from the vault.\n');
    expect(removed.code).toBe(0);
    const again = await runArbion(['secrets', 'remove', 'cdp-wallet-secret'], { cwd, env });
    expect(again.code).toBe(1);
    expect(again.stdout).toBe('cdp-wallet-secret was not stored.\n');
  });
});
