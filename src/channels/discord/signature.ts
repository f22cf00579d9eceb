/**
 * Ed25519 verification of Discord's HTTP interactions: the signature (hex, `X-Signature-Ed25519`)
 * covers `X-Signature-Timestamp` followed by the raw request body, under the application's
 * public key (hex, from the developer portal).
 */
import { createPublicKey, type KeyObject, verify } from 'node:crypto';

const HEX_KEY = /^[0-9a-fA-F]{64}$/;
const HEX_SIGNATURE = /^[0-9a-fA-F]{128}$/;

/** The application's public key as a KeyObject; throws on anything but 32 bytes of hex. */
export function parsePublicKey(hex: string): KeyObject {
  if (!HEX_KEY.test(hex)) throw new Error('the Discord public key must be 64 hex characters');
  return createPublicKey({
    key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(hex, 'hex').toString('base64url') },
    format: 'jwk',
  });
}

/** True when the signature is Discord's over `timestamp + rawBody`. */
export function verifyInteractionSignature(
  publicKey: KeyObject,
  rawBody: Buffer,
  signature: string | undefined,
  timestamp: string | undefined,
): boolean {
  if (signature === undefined || timestamp === undefined || !HEX_SIGNATURE.test(signature)) return false;
  try {
    return verify(
      null,
      Buffer.concat([Buffer.from(timestamp, 'utf8'), rawBody]),
      publicKey,
      Buffer.from(signature, 'hex'),
    );
  } catch {
    return false;
  }
}
