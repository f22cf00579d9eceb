/**
 * Ed25519 signing of HTTP interactions, as Discord signs the requests it posts to an app's
 * interactions endpoint: signature over `timestamp + rawBody`, hex, in `X-Signature-Ed25519`.
 */
import { generateKeyPairSync, type KeyObject, sign } from 'node:crypto';

export interface InteractionKeys {
  readonly privateKey: KeyObject;
  /** The application's public key as the developer portal shows it: 64 hex characters. */
  readonly publicKeyHex: string;
}

export function generateInteractionKeys(): InteractionKeys {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const jwk = publicKey.export({ format: 'jwk' });
  if (typeof jwk.x !== 'string') throw new Error('no Ed25519 public key');
  return { privateKey, publicKeyHex: Buffer.from(jwk.x, 'base64url').toString('hex') };
}

/** The headers Discord sends with an interaction. */
export function signInteraction(
  keys: InteractionKeys,
  rawBody: string,
  timestamp = String(Math.floor(Date.now() / 1000)),
): Record<string, string> {
  const signature = sign(null, Buffer.from(timestamp + rawBody), keys.privateKey).toString('hex');
  return {
    'content-type': 'application/json',
    'x-signature-ed25519': signature,
    'x-signature-timestamp': timestamp,
  };
}
