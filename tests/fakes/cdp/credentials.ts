/**
 * Test credentials for the CDP fake, in exactly the formats `@coinbase/cdp-sdk` accepts: an
 * Ed25519 API key (base64 of the 32-byte seed followed by the 32-byte public key), an EC P-256 API
 * key (PKCS#8 PEM: the SDK imports it with jose's importPKCS8, which refuses SEC1 "EC PRIVATE KEY"
 * PEM) and a wallet secret (base64 DER PKCS#8 EC P-256).
 */
import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  randomUUID,
} from 'node:crypto';

export interface CdpTestCredentials {
  /** The id of the Ed25519 API key (a bare UUID, as new CDP keys are named). */
  readonly apiKeyId: string;
  /** base64(seed ‖ public key), 64 bytes. */
  readonly apiKeySecret: string;
  /** The id of the EC API key, in the legacy `organizations/…/apiKeys/…` form. */
  readonly ecApiKeyId: string;
  /** PKCS#8 PEM of a P-256 key. */
  readonly ecApiKeySecret: string;
  /** base64 DER PKCS#8 of a P-256 key: signs X-Wallet-Auth. */
  readonly walletSecret: string;
}

/** Fresh keys; nothing is registered anywhere until a fake is started with them. */
export function cdpTestCredentials(): CdpTestCredentials {
  const ed = generateKeyPairSync('ed25519');
  const jwk = ed.privateKey.export({ format: 'jwk' });
  if (jwk.d === undefined || jwk.x === undefined) throw new Error('Ed25519 JWK without d/x');
  const apiKeySecret = Buffer.concat([
    Buffer.from(jwk.d, 'base64url'),
    Buffer.from(jwk.x, 'base64url'),
  ]).toString('base64');
  const ec = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const wallet = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  return {
    apiKeyId: randomUUID(),
    apiKeySecret,
    ecApiKeyId: `organizations/${randomUUID()}/apiKeys/${randomUUID()}`,
    ecApiKeySecret: ec.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    walletSecret: wallet.privateKey.export({ format: 'der', type: 'pkcs8' }).toString('base64'),
  };
}

/** The public half of an API key secret in either SDK format. */
export function apiKeyPublicKey(secret: string): KeyObject {
  if (secret.includes('-----BEGIN')) return createPublicKey(secret);
  const raw = Buffer.from(secret, 'base64');
  if (raw.length !== 64) throw new Error('an Ed25519 API key secret is 64 bytes');
  return createPublicKey(
    createPrivateKey({
      key: {
        kty: 'OKP',
        crv: 'Ed25519',
        d: raw.subarray(0, 32).toString('base64url'),
        x: raw.subarray(32).toString('base64url'),
      },
      format: 'jwk',
    }),
  );
}

/** The public half of a wallet secret. */
export function walletPublicKey(walletSecret: string): KeyObject {
  return createPublicKey(
    createPrivateKey({ key: Buffer.from(walletSecret, 'base64'), format: 'der', type: 'pkcs8' }),
  );
}
