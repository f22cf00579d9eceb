/**
 * The development key file: generated once with owner-only permissions, loaded back as the same
 * key, and refused when others can read it or it is not a key ring.
 */
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { variables } from '../../src/core/config/variables.js';
import { ConfigError } from '../../src/core/errors.js';
import { createLogger } from '../../src/core/logging/logger.js';
import { loadKeyRing, Vault } from '../../src/core/vault/index.js';

function memoryLogger() {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({
    level: 'info',
    format: 'json',
    secretValues: [],
    destination: new Writable({
      write(chunk: Buffer, _encoding, callback) {
        lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
        callback();
      },
    }),
  });
  return { logger, lines };
}

function loadError(file: string): ConfigError {
  try {
    loadKeyRing({ source: 'keyFile', path: file }, memoryLogger().logger);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected the key file to be refused');
}

describe('vault key file', () => {
  let directory: string;
  let file: string;

  beforeEach(() => {
    directory = mkdtempSync(path.join(tmpdir(), 'arbion-vault-'));
    file = path.join(directory, 'data', 'vault.key');
  });
  afterEach(() => {
    rmSync(directory, { recursive: true, force: true });
  });

  it('is generated with mode 0600, warns once, and loads back the same key', () => {
    const first = memoryLogger();
    const ring = loadKeyRing({ source: 'keyFile', path: file }, first.logger);
    expect(ring).toHaveLength(1);
    expect(ring[0]?.id).toMatch(/^k\d{8}[0-9a-f]{6}$/);
    expect(ring[0]?.key).toHaveLength(32);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const warnings = first.lines.filter((line) => line.level === 40);
    expect(warnings).toHaveLength(1);
    expect(String(warnings[0]?.msg)).toContain(`generated a vault key file at ${file}; back it up`);
    expect(String(warnings[0]?.msg)).toContain('ARBION_ENCRYPTION_KEYS');
    expect(JSON.stringify(first.lines)).not.toContain(ring[0]?.key.toString('base64'));

    const second = memoryLogger();
    const again = loadKeyRing({ source: 'keyFile', path: file }, second.logger);
    expect(again[0]?.id).toBe(ring[0]?.id);
    expect(again[0]?.key.equals(ring[0]?.key ?? Buffer.alloc(0))).toBe(true);
    expect(second.lines.filter((line) => line.level === 40)).toHaveLength(0);

    const sealed = new Vault(ring).seal('secret', { userId: 'u', recordId: 'r', field: 'f' });
    expect(new Vault(again).open(sealed.ciphertext, { userId: 'u', recordId: 'r', field: 'f' })).toBe(
      'secret',
    );
  });

  it('holds exactly what ARBION_ENCRYPTION_KEYS accepts, so it can be copied there', () => {
    const ring = loadKeyRing({ source: 'keyFile', path: file }, memoryLogger().logger);
    const parsed = variables.ARBION_ENCRYPTION_KEYS.schema.parse(readFileSync(file, 'utf8').trim());
    expect(parsed?.[0]?.id).toBe(ring[0]?.id);
    expect(parsed?.[0]?.key.equals(ring[0]?.key ?? Buffer.alloc(0))).toBe(true);
  });

  it('accepts a ring written one key per line, in order', () => {
    const a = Buffer.alloc(32, 1).toString('base64');
    const b = Buffer.alloc(32, 2).toString('base64');
    writeFileSync(path.join(directory, 'ring.key'), `k2:${b}\n\nk1:${a}\n`, { mode: 0o600 });
    const ring = loadKeyRing(
      { source: 'keyFile', path: path.join(directory, 'ring.key') },
      memoryLogger().logger,
    );
    expect(ring.map((entry) => entry.id)).toEqual(['k2', 'k1']);
  });

  it('refuses a file readable by group or others, and does not replace it', () => {
    loadKeyRing({ source: 'keyFile', path: file }, memoryLogger().logger);
    const before = readFileSync(file, 'utf8');
    chmodSync(file, 0o644);
    const error = loadError(file);
    expect(error.message).toContain(file);
    expect(error.message).toContain('readable by other users (mode 0644)');
    expect(error.message).toContain(`chmod 600 ${file}`);
    expect(error.message).not.toContain(before.trim().split(':')[1]);
    expect(readFileSync(file, 'utf8')).toBe(before);

    chmodSync(file, 0o640);
    expect(loadError(file).message).toContain('mode 0640');
  });

  it.each([
    ['empty', ''],
    ['without an id', `${Buffer.alloc(32, 7).toString('base64')}\n`],
    ['with a short key', `k1:${Buffer.alloc(16, 7).toString('base64')}\n`],
    [
      'with a duplicate id',
      `k1:${Buffer.alloc(32, 7).toString('base64')}\nk1:${Buffer.alloc(32, 8).toString('base64')}\n`,
    ],
    ['not base64', 'k1:this is not a key\n'],
  ])('refuses a malformed file (%s) without printing its content', (_name, content) => {
    writeFileSync(file.replace('data/', ''), content, { mode: 0o600 });
    const error = loadError(file.replace('data/', ''));
    expect(error.message).toContain('is not a valid vault key file');
    expect(error.message).toContain('keyId:base64key');
    const material = content.split(/[:\n]/).find((part) => part.length > 20);
    if (material !== undefined) expect(error.message).not.toContain(material);
  });

  it('uses ARBION_ENCRYPTION_KEYS as is and never touches a key file then', () => {
    const keys = [{ id: 'env1', key: Buffer.alloc(32, 3) }];
    expect(loadKeyRing({ source: 'environment', keys }, memoryLogger().logger)).toBe(keys);
    expect(() => statSync(file)).toThrow();
  });
});
