/**
 * The vault: seals secrets under the current key of the ring and opens them with whichever key of
 * the ring sealed them, so keys can be rotated without a flag day (new key first, old keys after,
 * `arbion keys rotate`, then drop the old ones).
 */
import { ArbionError } from '../errors.js';
import {
  isValidKeyId,
  type KeyEncryptionKey,
  openEnvelope,
  parseEnvelope,
  sealEnvelope,
  VaultError,
} from './envelope.js';
import type { SealedSecret, SecretVault, VaultContext } from './types.js';

/** Key-encryption keys in order: the first seals, every one opens. */
export type KeyRing = readonly KeyEncryptionKey[];

/** The key ring itself is unusable (empty, a key of the wrong size, a duplicate id). */
export class KeyRingError extends ArbionError {
  readonly code = 'vault_key_ring_invalid';

  constructor(problem: string) {
    super(`Vault key ring: ${problem}`, 'The credential vault is not configured correctly.');
  }
}

export class Vault implements SecretVault {
  readonly currentKeyId: string;
  readonly #current: KeyEncryptionKey;
  readonly #byId: ReadonlyMap<string, KeyEncryptionKey>;

  /** @throws KeyRingError when the ring is empty or holds an invalid or duplicate key */
  constructor(ring: KeyRing) {
    const [current] = ring;
    if (current === undefined) throw new KeyRingError('holds no key');
    const byId = new Map<string, KeyEncryptionKey>();
    for (const entry of ring) {
      if (!isValidKeyId(entry.id)) throw new KeyRingError(`key id "${entry.id}" is not valid`);
      if (entry.key.length !== 32) throw new KeyRingError(`key "${entry.id}" is not 32 bytes`);
      if (byId.has(entry.id)) throw new KeyRingError(`key id "${entry.id}" appears twice`);
      // A private copy: a caller zeroing or reusing its buffer cannot change the ring.
      byId.set(entry.id, { id: entry.id, key: Buffer.from(entry.key) });
    }
    this.#byId = byId;
    this.#current = byId.get(current.id) as KeyEncryptionKey;
    this.currentKeyId = current.id;
  }

  /** Ids of every key in the ring, current first. */
  get keyIds(): readonly string[] {
    return [...this.#byId.keys()];
  }

  seal(plaintext: string, context: VaultContext): SealedSecret {
    return { ciphertext: sealEnvelope(plaintext, context, this.#current), keyId: this.#current.id };
  }

  open(ciphertext: Uint8Array, context: VaultContext): string {
    const parts = parseEnvelope(ciphertext);
    const kek = this.#byId.get(parts.keyId);
    if (kek === undefined)
      throw new VaultError(
        'unknown_key',
        `envelope was sealed with key ${parts.keyId}, which is not in the ring`,
      );
    return openEnvelope(parts, context, kek);
  }

  /** The id of the key an envelope names, read from its header without decrypting anything. */
  keyIdOf(ciphertext: Uint8Array): string {
    return parseEnvelope(ciphertext).keyId;
  }

  /**
   * The same secret sealed anew under the current key (used by rotation). Opens first, so an
   * envelope that does not authenticate for `context` is never re-sealed.
   */
  rewrap(ciphertext: Uint8Array, context: VaultContext): SealedSecret {
    return this.seal(this.open(ciphertext, context), context);
  }
}
