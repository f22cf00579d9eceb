/**
 * Where the vault's keys come from: ARBION_ENCRYPTION_KEYS (already parsed by src/core/config), or,
 * in development and tests only, a key file in the data directory that is generated on first use.
 *
 * The key file has the same `id:base64` format as ARBION_ENCRYPTION_KEYS (entries separated by
 * commas or lines), so its content can be copied into the variable as is. It must be readable by
 * its owner only. Production never gets here: the configuration refuses NODE_ENV=production
 * without ARBION_ENCRYPTION_KEYS.
 */
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  fstatSync,
  linkSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import type { Config } from '../config/config.js';
import { variables } from '../config/variables.js';
import { ConfigError } from '../errors.js';
import type { Logger } from '../logging/logger.js';
import type { KeyRing } from './vault.js';

/** A new key id: `k` + the UTC date + a random suffix, e.g. `k20250301a1b2c3`. */
export function newKeyId(now: Date = new Date()): string {
  const date = now.toISOString().slice(0, 10).replaceAll('-', '');
  return `k${date}${randomBytes(3).toString('hex')}`;
}

/** One `id:base64` line: the format of ARBION_ENCRYPTION_KEYS. */
export function formatKeyRing(ring: KeyRing): string {
  return ring.map((entry) => `${entry.id}:${entry.key.toString('base64')}`).join(',');
}

/**
 * Parses key file content with the very schema of ARBION_ENCRYPTION_KEYS, so the two formats cannot
 * drift apart. Problems name the file, never key material.
 */
export function parseKeyFile(content: string, file: string): KeyRing {
  const entries = content
    .split(/[\r\n]+/)
    .map((line) => line.trim())
    .filter((line) => line !== '');
  const result = variables.ARBION_ENCRYPTION_KEYS.schema.safeParse(entries.join(','));
  if (!result.success || result.data === undefined || entries.length === 0) {
    const detail = result.success
      ? 'it is empty'
      : result.error.issues.map((issue) => issue.message).join('; ');
    throw new ConfigError([
      `${file}: is not a valid vault key file (${detail}). Expected keyId:base64key entries, as in ARBION_ENCRYPTION_KEYS.`,
    ]);
  }
  return result.data;
}

/**
 * Reads the key file, refusing one that group or others can read: a vault key anyone on the
 * machine can copy protects nothing. Undefined when the file does not exist.
 */
function readKeyFile(file: string): KeyRing | undefined {
  let descriptor: number;
  try {
    descriptor = openSync(file, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new ConfigError([`${file}: the vault key file cannot be read (${(error as Error).message})`]);
  }
  try {
    const stats = fstatSync(descriptor);
    if (!stats.isFile()) throw new ConfigError([`${file}: the vault key file is not a regular file`]);
    // Windows has no POSIX permission bits to check.
    if (process.platform !== 'win32' && (stats.mode & 0o077) !== 0) {
      const mode = (stats.mode & 0o777).toString(8).padStart(4, '0');
      throw new ConfigError([
        `${file}: the vault key file is readable by other users (mode ${mode}); run \`chmod 600 ${file}\``,
      ]);
    }
    return parseKeyFile(readFileSync(descriptor, 'utf8'), file);
  } finally {
    closeSync(descriptor);
  }
}

/**
 * Writes a new one-key file unless one exists. The content is written completely to a private
 * temporary file (created exclusively, mode 0600) and then hard-linked into place: the link fails
 * with EEXIST when another process won the race, and a reader never sees a half-written file.
 * @returns true when this call created the file
 */
function createKeyFile(file: string): boolean {
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const temporary = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const ring: KeyRing = [{ id: newKeyId(), key: randomBytes(32) }];
  try {
    writeFileSync(temporary, `${formatKeyRing(ring)}\n`, { flag: 'wx', mode: 0o600, flush: true });
    try {
      linkSync(temporary, file);
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw error;
    }
  } catch (error) {
    throw new ConfigError([`${file}: cannot create the vault key file (${(error as Error).message})`]);
  } finally {
    rmSync(temporary, { force: true });
    for (const entry of ring) entry.key.fill(0);
  }
}

/**
 * The key ring for this process.
 * @throws ConfigError when the key file is malformed, unreadable or readable by other users
 */
export function loadKeyRing(vault: Config['vault'], logger: Logger): KeyRing {
  if (vault.source === 'environment') return vault.keys;
  const existing = readKeyFile(vault.path);
  if (existing !== undefined) return existing;
  if (createKeyFile(vault.path)) {
    logger.warn(
      { path: vault.path },
      `generated a vault key file at ${vault.path}; back it up — losing it makes linked broker credentials unreadable; set ARBION_ENCRYPTION_KEYS in production`,
    );
  }
  const created = readKeyFile(vault.path);
  if (created === undefined)
    throw new ConfigError([`${vault.path}: the vault key file vanished after it was created`]);
  return created;
}
