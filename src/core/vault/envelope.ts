/**
 * The vault's envelope: how one secret is encrypted and laid out as bytes.
 *
 * Envelope encryption (AES-256-GCM twice): every seal draws a fresh 32-byte data key that encrypts
 * the plaintext, and the key-encryption key (KEK) of the key ring encrypts ("wraps") that data key.
 * Both layers carry the same associated data, a canonical encoding of (format version, key id,
 * user, record, field), so an envelope opens only in the place it was sealed for and only under
 * the key its header names. Rotation re-wraps whole envelopes; it never needs the plaintext twice.
 *
 * Layout, version 1 (all lengths in bytes):
 *
 * ```
 * version (1) | key id length (1) | key id (1..32, ASCII) |
 * wrap IV (12) | wrap tag (16) | wrapped data key (32) |
 * data IV (12) | data tag (16) | ciphertext (0..)
 * ```
 *
 * Parsing is strict: an unknown version, an impossible key id, or too few bytes is a VaultError
 * before any decryption is attempted.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { ArbionError } from '../errors.js';
import type { VaultContext } from './types.js';

export const ENVELOPE_VERSION = 1;

const ALGORITHM = 'aes-256-gcm';
const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** Same rule as ARBION_ENCRYPTION_KEYS ids (src/core/config/variables.ts). */
const KEY_ID_PATTERN = /^[A-Za-z0-9_-]{1,32}$/;
/** Separates the purposes of the associated data, so no other use of these keys can collide. */
const AAD_LABEL = 'arbion-vault';

/** Why an envelope could not be opened; ids and reasons only, never content or key material. */
export type VaultFailure = 'malformed' | 'unknown_key' | 'authentication_failed';

/**
 * A sealed secret cannot be opened here: it was altered or truncated, it belongs to another user,
 * record or field, or the key that sealed it is not in the key ring.
 */
export class VaultError extends ArbionError {
  readonly code = 'vault_unreadable';
  /** Which check failed; safe to log. */
  readonly reason: VaultFailure;

  constructor(reason: VaultFailure, message: string, options?: { cause?: unknown }) {
    super(
      `Vault: ${message}`,
      'A stored credential could not be read. Nothing was changed; please link the account again.',
      options,
    );
    this.reason = reason;
  }
}

/** One key-encryption key of the ring. */
export interface KeyEncryptionKey {
  readonly id: string;
  /** 32 bytes. */
  readonly key: Buffer;
}

/** The parts of a parsed envelope, still encrypted. */
export interface EnvelopeParts {
  readonly version: number;
  readonly keyId: string;
  readonly wrapIv: Buffer;
  readonly wrapTag: Buffer;
  readonly wrappedKey: Buffer;
  readonly dataIv: Buffer;
  readonly dataTag: Buffer;
  readonly ciphertext: Buffer;
}

export function isValidKeyId(id: string): boolean {
  return KEY_ID_PATTERN.test(id);
}

/**
 * The associated data of one layer: every part is length-prefixed (4-byte big-endian length, then
 * UTF-8 bytes), so no two different tuples encode to the same bytes ("a|b"+"c" differs from
 * "a"+"b|c"). The layer name keeps the wrap layer's AAD distinct from the data layer's.
 */
export function associatedData(
  layer: 'wrap' | 'data',
  version: number,
  keyId: string,
  context: VaultContext,
): Buffer {
  const parts = [AAD_LABEL, layer, String(version), keyId, context.userId, context.recordId, context.field];
  const chunks: Buffer[] = [];
  for (const part of parts) {
    const bytes = Buffer.from(part, 'utf8');
    const length = Buffer.alloc(4);
    length.writeUInt32BE(bytes.length);
    chunks.push(length, bytes);
  }
  return Buffer.concat(chunks);
}

function encrypt(
  key: Buffer,
  plaintext: Buffer,
  aad: Buffer,
): { iv: Buffer; tag: Buffer; ciphertext: Buffer } {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv(ALGORITHM, key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(aad);
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return { iv, tag: cipher.getAuthTag(), ciphertext };
}

function decrypt(
  key: Buffer,
  iv: Buffer,
  tag: Buffer,
  ciphertext: Buffer,
  aad: Buffer,
  what: string,
): Buffer {
  try {
    const decipher = createDecipheriv(ALGORITHM, key, iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(aad);
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(ciphertext), decipher.final()]);
  } catch {
    // The crypto error says nothing useful ("unable to authenticate data") and is not kept.
    throw new VaultError(
      'authentication_failed',
      `${what} failed authentication (altered, or sealed for another user, record or field)`,
    );
  }
}

/** Encrypts `plaintext` for `context` under `kek`; returns the envelope bytes. */
export function sealEnvelope(
  plaintext: string,
  context: VaultContext,
  kek: KeyEncryptionKey,
): Uint8Array<ArrayBuffer> {
  if (!isValidKeyId(kek.id)) throw new VaultError('unknown_key', 'key id is not a valid vault key id');
  const dataKey = randomBytes(KEY_BYTES);
  try {
    const data = encrypt(
      dataKey,
      Buffer.from(plaintext, 'utf8'),
      associatedData('data', ENVELOPE_VERSION, kek.id, context),
    );
    const wrap = encrypt(kek.key, dataKey, associatedData('wrap', ENVELOPE_VERSION, kek.id, context));
    const keyId = Buffer.from(kek.id, 'ascii');
    const pieces = [
      Buffer.from([ENVELOPE_VERSION, keyId.length]),
      keyId,
      wrap.iv,
      wrap.tag,
      wrap.ciphertext,
      data.iv,
      data.tag,
      data.ciphertext,
    ];
    const envelope = new Uint8Array(pieces.reduce((total, piece) => total + piece.length, 0));
    let offset = 0;
    for (const piece of pieces) {
      envelope.set(piece, offset);
      offset += piece.length;
    }
    return envelope;
  } finally {
    dataKey.fill(0);
  }
}

/** Splits envelope bytes into their parts; throws VaultError('malformed') on anything unexpected. */
export function parseEnvelope(envelope: Uint8Array): EnvelopeParts {
  const bytes = Buffer.from(envelope.buffer, envelope.byteOffset, envelope.byteLength);
  if (bytes.length < 2) throw new VaultError('malformed', 'envelope is truncated');
  const version = bytes[0] as number;
  if (version !== ENVELOPE_VERSION) throw new VaultError('malformed', `unknown envelope version ${version}`);
  const keyIdLength = bytes[1] as number;
  const header = 2 + keyIdLength;
  if (bytes.length < header + IV_BYTES + TAG_BYTES + KEY_BYTES + IV_BYTES + TAG_BYTES)
    throw new VaultError('malformed', 'envelope is truncated');
  const keyId = bytes.subarray(2, header).toString('latin1');
  if (!isValidKeyId(keyId)) throw new VaultError('malformed', 'envelope names an impossible key id');
  let offset = header;
  const take = (length: number): Buffer => {
    const part = bytes.subarray(offset, offset + length);
    offset += length;
    return part;
  };
  return {
    version,
    keyId,
    wrapIv: take(IV_BYTES),
    wrapTag: take(TAG_BYTES),
    wrappedKey: take(KEY_BYTES),
    dataIv: take(IV_BYTES),
    dataTag: take(TAG_BYTES),
    ciphertext: bytes.subarray(offset),
  };
}

/**
 * Opens a parsed envelope with the KEK its header names (the caller looked it up by `parts.keyId`).
 * Throws VaultError when either layer fails to authenticate.
 */
export function openEnvelope(parts: EnvelopeParts, context: VaultContext, kek: KeyEncryptionKey): string {
  if (kek.id !== parts.keyId)
    throw new VaultError('unknown_key', `envelope was sealed with key ${parts.keyId}`);
  const dataKey = decrypt(
    kek.key,
    parts.wrapIv,
    parts.wrapTag,
    parts.wrappedKey,
    associatedData('wrap', parts.version, parts.keyId, context),
    'wrapped data key',
  );
  try {
    return decrypt(
      dataKey,
      parts.dataIv,
      parts.dataTag,
      parts.ciphertext,
      associatedData('data', parts.version, parts.keyId, context),
      'secret',
    ).toString('utf8');
  } finally {
    dataKey.fill(0);
  }
}
