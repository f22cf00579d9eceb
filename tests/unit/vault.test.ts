/**
 * The vault's envelopes: they round-trip, they are fresh every time, and every way of altering,
 * truncating, moving or mis-keying one is refused with a VaultError.
 */
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { associatedData, parseEnvelope } from '../../src/core/vault/envelope.js';
import { KeyRingError, Vault, type VaultContext, VaultError } from '../../src/core/vault/index.js';

const keyA = { id: 'kA', key: randomBytes(32) };
const keyB = { id: 'kB', key: randomBytes(32) };
const context: VaultContext = { userId: 'user-1', recordId: 'connection-1', field: 'credentials' };

function expectVaultError(action: () => unknown): VaultError {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(VaultError);
    const vaultError = error as VaultError;
    expect(vaultError.code).toBe('vault_unreadable');
    return vaultError;
  }
  throw new Error('expected a VaultError, but the envelope opened');
}

describe('vault envelopes', () => {
  const vault = new Vault([keyA]);

  it.each([
    ['a JSON credential', '{"access_token":"abc","refresh_token":"def"}'],
    ['the empty string', ''],
    ['unicode', 'pässwörd 🔐 ключ 鍵'],
  ])('round-trips %s', (_name, plaintext) => {
    const sealed = vault.seal(plaintext, context);
    expect(sealed.keyId).toBe('kA');
    expect(vault.open(sealed.ciphertext, context)).toBe(plaintext);
  });

  it('seals the same plaintext differently every time', () => {
    const first = vault.seal('same secret', context);
    const second = vault.seal('same secret', context);
    expect(Buffer.from(first.ciphertext).equals(Buffer.from(second.ciphertext))).toBe(false);
    expect(vault.open(first.ciphertext, context)).toBe(vault.open(second.ciphertext, context));
  });

  it('refuses the envelope when any single byte is flipped', () => {
    const sealed = vault.seal('tiny', context);
    for (let position = 0; position < sealed.ciphertext.length; position++) {
      const altered = new Uint8Array(sealed.ciphertext);
      altered[position] = (altered[position] as number) ^ 0x01;
      expectVaultError(() => vault.open(altered, context));
      altered[position] = (altered[position] as number) ^ 0xff;
      expectVaultError(() => vault.open(altered, context));
    }
  });

  it('refuses every truncation, an empty envelope, an appended byte and an unknown version', () => {
    const sealed = vault.seal('secret', context);
    for (let length = 0; length < sealed.ciphertext.length; length++)
      expectVaultError(() => vault.open(sealed.ciphertext.subarray(0, length), context));
    expectVaultError(() => vault.open(Buffer.concat([sealed.ciphertext, Buffer.from([0])]), context));
    const version2 = new Uint8Array(sealed.ciphertext);
    version2[0] = 2;
    expect(expectVaultError(() => vault.open(version2, context)).reason).toBe('malformed');
  });

  it.each([
    ['another user', { ...context, userId: 'user-2' }],
    ['another record', { ...context, recordId: 'connection-2' }],
    ['another field', { ...context, field: 'oauth_secret' }],
  ])('refuses to open in the context of %s', (_name, elsewhere) => {
    const sealed = vault.seal('secret', context);
    expect(expectVaultError(() => vault.open(sealed.ciphertext, elsewhere)).reason).toBe(
      'authentication_failed',
    );
  });

  it('encodes the context unambiguously: shifting a separator between parts changes the associated data', () => {
    const left = associatedData('data', 1, 'kA', { userId: 'a|b', recordId: 'c', field: 'f' });
    const right = associatedData('data', 1, 'kA', { userId: 'a', recordId: 'b|c', field: 'f' });
    expect(left.equals(right)).toBe(false);
    const sealed = vault.seal('secret', { userId: 'ab', recordId: 'c', field: 'f' });
    expectVaultError(() => vault.open(sealed.ciphertext, { userId: 'a', recordId: 'bc', field: 'f' }));
  });

  it('refuses an envelope whose key id was edited to another key of the ring', () => {
    const ring = new Vault([keyA, keyB]);
    const sealed = ring.seal('secret', context);
    const edited = new Uint8Array(sealed.ciphertext);
    expect(parseEnvelope(edited).keyId).toBe('kA');
    edited[3] = 'B'.charCodeAt(0);
    expect(parseEnvelope(edited).keyId).toBe('kB');
    expect(expectVaultError(() => ring.open(edited, context)).reason).toBe('authentication_failed');
  });

  it('refuses an envelope sealed with a key the ring does not hold', () => {
    const sealed = new Vault([keyB]).seal('secret', context);
    const error = expectVaultError(() => vault.open(sealed.ciphertext, context));
    expect(error.reason).toBe('unknown_key');
    expect(error.userMessage).not.toContain('secret');
  });

  it('refuses an envelope opened with a different key under the same id', () => {
    const sealed = vault.seal('secret', context);
    const impostor = new Vault([{ id: 'kA', key: randomBytes(32) }]);
    expect(expectVaultError(() => impostor.open(sealed.ciphertext, context)).reason).toBe(
      'authentication_failed',
    );
  });

  it('still opens a secret after its key moved to second place in the ring', () => {
    const sealed = vault.seal('old secret', context);
    const rotated = new Vault([keyB, keyA]);
    expect(rotated.currentKeyId).toBe('kB');
    expect(rotated.open(sealed.ciphertext, context)).toBe('old secret');
    expect(rotated.seal('new secret', context).keyId).toBe('kB');
  });

  it('rewrap moves a secret to the current key, after which the old key is not needed', () => {
    const sealed = vault.seal('move me', context);
    const rotated = new Vault([keyB, keyA]);
    const rewrapped = rotated.rewrap(sealed.ciphertext, context);
    expect(rewrapped.keyId).toBe('kB');
    expect(rotated.keyIdOf(rewrapped.ciphertext)).toBe('kB');
    expect(new Vault([keyB]).open(rewrapped.ciphertext, context)).toBe('move me');
    expectVaultError(() => vault.open(rewrapped.ciphertext, context));
  });

  it('rewrap refuses an envelope that does not open in the given context', () => {
    const sealed = vault.seal('secret', context);
    expectVaultError(() => new Vault([keyB, keyA]).rewrap(sealed.ciphertext, { ...context, userId: 'x' }));
  });

  it('keeps no recognisable piece of the plaintext in the envelope', () => {
    const plaintext = 'refresh_token=SUPERSECRETVALUE1234567890';
    const envelope = Buffer.from(vault.seal(plaintext, context).ciphertext);
    for (let start = 0; start + 4 <= plaintext.length; start++)
      expect(envelope.includes(Buffer.from(plaintext.slice(start, start + 4)))).toBe(false);
  });

  it('keeps the key material out of the envelope', () => {
    const envelope = Buffer.from(vault.seal('secret', context).ciphertext);
    expect(envelope.includes(keyA.key.subarray(0, 8))).toBe(false);
  });

  it('refuses an unusable key ring', () => {
    expect(() => new Vault([])).toThrow(KeyRingError);
    expect(() => new Vault([{ id: 'short', key: randomBytes(16) }])).toThrow(KeyRingError);
    expect(() => new Vault([keyA, { id: 'kA', key: randomBytes(32) }])).toThrow(KeyRingError);
    expect(() => new Vault([{ id: 'bad id!', key: randomBytes(32) }])).toThrow(KeyRingError);
  });

  it('round-trips arbitrary strings in arbitrary contexts, and only there', () => {
    const rotated = new Vault([keyB, keyA]);
    fc.assert(
      fc.property(
        fc.string({ unit: 'grapheme', maxLength: 200 }),
        fc.record({ userId: fc.string(), recordId: fc.string(), field: fc.string() }),
        fc.string({ minLength: 1 }),
        (plaintext, where, other) => {
          const sealed = vault.seal(plaintext, where);
          expect(vault.open(sealed.ciphertext, where)).toBe(plaintext);
          expect(rotated.open(sealed.ciphertext, where)).toBe(plaintext);
          const moved = { ...where, recordId: where.recordId + other };
          expectVaultError(() => vault.open(sealed.ciphertext, moved));
        },
      ),
      { numRuns: 300 },
    );
  });
});
