/**
 * The credential vault: AES-256-GCM envelopes over a key ring, bound to where each secret lives.
 * Import from here; the files beside it are its parts.
 */
export { VaultError, type VaultFailure } from './envelope.js';
export { formatKeyRing, loadKeyRing, newKeyId, parseKeyFile } from './key-ring.js';
export {
  isOperatorSecretName,
  OPERATOR_SECRETS,
  type OperatorSecretEntry,
  type OperatorSecretName,
  OperatorSecrets,
  UnknownOperatorSecretError,
} from './operator-secrets.js';
export { type RotationResult, rotateVault } from './rotate.js';
export type { SealedSecret, SecretVault, VaultContext } from './types.js';
export { type KeyRing, KeyRingError, Vault } from './vault.js';
