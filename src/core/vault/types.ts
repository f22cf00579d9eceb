/**
 * What the rest of Arbion sees of the vault: seal a secret for one place, open it from that place
 * only. The implementation (AES-256-GCM envelopes over a key ring) lives beside this file.
 */

/**
 * Where a ciphertext belongs. It is bound to the ciphertext as associated data, so a ciphertext
 * copied to another user, record or field fails to open.
 */
export interface VaultContext {
  readonly userId: string;
  /** The row that holds the ciphertext: a broker connection id, an OAuth state id. */
  readonly recordId: string;
  /** Which secret of that row: 'credentials', 'oauth_secret'. */
  readonly field: string;
}

/** A sealed secret as it is stored: the envelope bytes and the id of the key that sealed it. */
export interface SealedSecret {
  readonly ciphertext: Uint8Array<ArrayBuffer>;
  readonly keyId: string;
}

export interface SecretVault {
  /** Id of the key new secrets are sealed with (the first of the ring). */
  readonly currentKeyId: string;
  seal(plaintext: string, context: VaultContext): SealedSecret;
  /** Throws VaultError when the envelope was altered, belongs elsewhere, or its key is not in the ring. */
  open(ciphertext: Uint8Array, context: VaultContext): string;
}
