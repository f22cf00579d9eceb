/**
 * The per-request JWT of Coinbase's CDP API keys: ES256 (an EC P-256 PEM key) or EdDSA (an
 * Ed25519 key given as base64 of seed + public key). Valid 120 seconds, bound to one request by
 * the `uri` claim ("METHOD host/path", no query). Signing is jose's; this file only knows the claims.
 */
import { createPrivateKey, type KeyObject, randomBytes } from 'node:crypto';
import { SignJWT } from 'jose';
import { ArbionError } from '../../core/errors.js';

export interface CdpApiKey {
  /** The key's name (legacy "organizations/…/apiKeys/…") or id: the JWT's kid and sub. */
  readonly name: string;
  readonly privateKey: string;
}

export type CdpKeyProblem = 'unsupported_key' | 'malformed_key';

/** Reads the private key in either format Coinbase hands out; throws a {@link CdpKeyError} otherwise. */
export function importCdpPrivateKey(text: string): { key: KeyObject; alg: 'ES256' | 'EdDSA' } {
  const normalized = text.trim().replaceAll('\\n', '\n');
  if (normalized.startsWith('-----BEGIN')) {
    let key: KeyObject;
    try {
      key = createPrivateKey({ key: normalized, format: 'pem' });
    } catch {
      throw new CdpKeyError('malformed_key');
    }
    if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1')
      return { key, alg: 'ES256' };
    if (key.asymmetricKeyType === 'ed25519') return { key, alg: 'EdDSA' };
    throw new CdpKeyError('unsupported_key');
  }
  const bytes = Buffer.from(normalized, 'base64');
  if (bytes.length !== 64 || bytes.toString('base64') !== normalized) throw new CdpKeyError('malformed_key');
  try {
    const key = createPrivateKey({
      key: {
        kty: 'OKP',
        crv: 'Ed25519',
        d: bytes.subarray(0, 32).toString('base64url'),
        x: bytes.subarray(32).toString('base64url'),
      },
      format: 'jwk',
    });
    return { key, alg: 'EdDSA' };
  } catch {
    throw new CdpKeyError('malformed_key');
  }
}

/** A CDP private key that cannot be used: nothing is signed, so nothing is sent. */
export class CdpKeyError extends ArbionError {
  readonly code = 'cdp_key_invalid';

  constructor(readonly problem: CdpKeyProblem) {
    super(
      problem === 'unsupported_key'
        ? 'the key is neither EC P-256 nor Ed25519'
        : 'the private key cannot be read',
      problem === 'unsupported_key'
        ? 'This Coinbase key is neither ECDSA (P-256) nor Ed25519, so it cannot be used. Say "link" to link Coinbase with a supported key.'
        : 'The Coinbase private key cannot be read. Say "link" to link Coinbase again, pasting the whole key.',
    );
  }
}

/** A bearer JWT for one request. */
export async function signCdpRequestJwt(
  apiKey: CdpApiKey,
  request: { readonly method: string; readonly url: URL },
  now: Date = new Date(),
): Promise<string> {
  const { key, alg } = importCdpPrivateKey(apiKey.privateKey);
  const seconds = Math.floor(now.getTime() / 1000);
  return new SignJWT({ uri: `${request.method.toUpperCase()} ${request.url.host}${request.url.pathname}` })
    .setProtectedHeader({ alg, kid: apiKey.name, nonce: randomBytes(16).toString('hex'), typ: 'JWT' })
    .setSubject(apiKey.name)
    .setIssuer('cdp')
    .setNotBefore(seconds)
    .setExpirationTime(seconds + 120)
    .sign(key);
}
