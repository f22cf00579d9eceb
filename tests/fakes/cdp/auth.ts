/**
 * How the CDP fake authenticates a request, as the CDP v2 API does:
 *
 * - `Authorization: Bearer <JWT>` on every request, signed by a registered API key (EdDSA for
 *   Ed25519 keys, ES256 for EC keys; the algorithm must match the key, so no algorithm confusion),
 *   with `kid` = the key id and a `nonce` in the header, `iss: cdp`, `sub` = the key id, `nbf`/`exp`
 *   at most 120 s apart around the fake's clock, and `uris: ["METHOD host/path"]` naming this very
 *   request (the path without the query string, as the SDK signs it).
 * - `X-Wallet-Auth` on the state-changing wallet calls: an ES256 JWT signed by the project's wallet
 *   secret, issued within the last minute, whose `uris` names this request and whose `reqHash` is the
 *   SHA-256 (hex) of the key-sorted JSON body, exactly as the SDK's generateWalletJwt computes it.
 */
import { createHash, type KeyObject } from 'node:crypto';
import { decodeProtectedHeader, type JWTPayload, jwtVerify } from 'jose';

/** The longest lifetime CDP accepts for a request JWT. */
const MAX_LIFETIME_S = 120;
/** How far ahead of the fake's clock `nbf`/`iat` may be (clocks disagree a little). */
const CLOCK_ALLOWANCE_S = 5;
/** How old a wallet token may be: CDP documents wallet JWTs as valid for one minute. */
const WALLET_TOKEN_MAX_AGE_S = 60;

export interface SignedTarget {
  readonly method: string;
  /** The Host the request was sent to. */
  readonly host: string;
  /** The path without the query string. */
  readonly path: string;
}

export type BearerOutcome =
  | { readonly ok: true; readonly kid: string }
  | { readonly ok: false; readonly kid: string | undefined; readonly problem: string };

export type WalletAuthOutcome = { readonly ok: true } | { readonly ok: false; readonly problem: string };

export class CdpKeyAuth {
  private readonly keys = new Map<string, KeyObject>();

  addKey(id: string, publicKey: KeyObject): void {
    this.keys.set(id, publicKey);
  }

  /** Keys deleted in the CDP portal stop working at once. */
  revokeKey(id: string): void {
    this.keys.delete(id);
  }

  /**
   * Checks the `Authorization` header of one request.
   * @param acceptedUris the `uris` entries that name this request (normally exactly one)
   */
  async verify(
    header: string | undefined,
    acceptedUris: readonly string[],
    now: Date,
  ): Promise<BearerOutcome> {
    if (header === undefined || !header.startsWith('Bearer ')) {
      return { ok: false, kid: undefined, problem: 'no bearer token' };
    }
    const token = header.slice('Bearer '.length);
    let kid: string | undefined;
    let nonce: unknown;
    let alg: string | undefined;
    try {
      const protectedHeader = decodeProtectedHeader(token);
      kid = protectedHeader.kid;
      nonce = protectedHeader['nonce'];
      alg = protectedHeader.alg;
    } catch {
      return { ok: false, kid: undefined, problem: 'not a JWT' };
    }
    const key = kid === undefined ? undefined : this.keys.get(kid);
    if (kid === undefined || key === undefined) return { ok: false, kid, problem: 'unknown kid' };
    if (typeof nonce !== 'string' || nonce === '') return { ok: false, kid, problem: 'no nonce' };
    const expectedAlg = key.asymmetricKeyType === 'ed25519' ? 'EdDSA' : 'ES256';
    if (alg !== expectedAlg)
      return { ok: false, kid, problem: `alg ${String(alg)} for a ${expectedAlg} key` };
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, key, {
        issuer: 'cdp',
        subject: kid,
        algorithms: [expectedAlg],
        currentDate: now,
        clockTolerance: CLOCK_ALLOWANCE_S,
        requiredClaims: ['exp', 'nbf', 'uris'],
      }));
    } catch (error) {
      return { ok: false, kid, problem: error instanceof Error ? error.message : String(error) };
    }
    const nbf = payload.nbf ?? 0;
    const exp = payload.exp ?? 0;
    if (exp - nbf > MAX_LIFETIME_S) return { ok: false, kid, problem: 'lifetime over 120 s' };
    const problem = urisProblem(payload, acceptedUris);
    if (problem !== undefined) return { ok: false, kid, problem };
    return { ok: true, kid };
  }
}

export class WalletAuth {
  private key: KeyObject | undefined;

  constructor(publicKey: KeyObject | undefined) {
    this.key = publicKey;
  }

  /** A rotated wallet secret: tokens signed by the old one stop working. */
  setKey(publicKey: KeyObject | undefined): void {
    this.key = publicKey;
  }

  async verify(
    token: string | undefined,
    target: SignedTarget,
    body: unknown,
    now: Date,
  ): Promise<WalletAuthOutcome> {
    if (token === undefined || token === '') return { ok: false, problem: 'no X-Wallet-Auth' };
    if (this.key === undefined) return { ok: false, problem: 'no wallet secret registered' };
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.key, {
        algorithms: ['ES256'],
        currentDate: now,
        clockTolerance: CLOCK_ALLOWANCE_S,
        requiredClaims: ['iat', 'uris'],
      }));
    } catch (error) {
      return {
        ok: false,
        problem: `wallet token: ${error instanceof Error ? error.message : String(error)}`,
      };
    }
    const seconds = Math.floor(now.getTime() / 1000);
    const iat = payload.iat ?? 0;
    if (iat < seconds - WALLET_TOKEN_MAX_AGE_S || iat > seconds + CLOCK_ALLOWANCE_S) {
      return { ok: false, problem: 'wallet token iat outside the one-minute window' };
    }
    const problem = urisProblem(payload, [`${target.method} ${target.host}${target.path}`]);
    if (problem !== undefined) return { ok: false, problem: `wallet token: ${problem}` };
    const expected = requestHash(body);
    if (expected !== undefined && payload['reqHash'] !== expected) {
      return { ok: false, problem: 'wallet token reqHash does not match the body' };
    }
    return { ok: true };
  }
}

/**
 * The SDK's reqHash: SHA-256 hex of JSON.stringify of the body with keys sorted recursively,
 * present only when the body has at least one defined value.
 */
export function requestHash(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const values = Object.values(body);
  if (values.length === 0 || values.every((value) => value === undefined)) return undefined;
  return createHash('sha256')
    .update(JSON.stringify(sortKeys(body)))
    .digest('hex');
}

export function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (typeof value !== 'object' || value === null) return value;
  const record = value as Record<string, unknown>;
  return Object.fromEntries(
    Object.keys(record)
      .sort()
      .map((key) => [key, sortKeys(record[key])]),
  );
}

function urisProblem(payload: JWTPayload, accepted: readonly string[]): string | undefined {
  const uris = payload['uris'];
  if (!Array.isArray(uris) || uris.length === 0) return 'no uris claim';
  if (!uris.some((uri) => typeof uri === 'string' && accepted.includes(uri))) {
    return `uris ${JSON.stringify(uris)} do not name ${accepted[0] ?? '?'}`;
  }
  return undefined;
}
