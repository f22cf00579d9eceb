/**
 * How the Coinbase fake checks a bearer: a CDP key JWT, verified the way Coinbase documents it
 * (signature by the registered key named in `kid`, a `nonce` header, `iss: cdp`, `sub` = the key
 * name, `nbf`/`exp` at most 120 s apart around the fake's clock, `uri` = "METHOD host/path" of this
 * very request), an opaque OAuth access token the fake issued, or one issued by a trusted
 * authorization server (the fake OAuth 2.0 provider standing in for login.coinbase.com), which must
 * be live and whose grant must hold the scope Coinbase lists for the endpoint.
 */
import { createPublicKey, type KeyObject, randomBytes } from 'node:crypto';
import { decodeProtectedHeader, jwtVerify } from 'jose';

/** The longest lifetime Coinbase accepts for a request JWT. */
const MAX_LIFETIME_S = 120;
/** How far ahead of the fake's clock `nbf` may be (clocks disagree a little). */
const CLOCK_ALLOWANCE_S = 5;

export type AuthOutcome =
  | { readonly ok: true; readonly portfolio: string; readonly kid: string | undefined }
  | {
      readonly ok: false;
      readonly kid: string | undefined;
      readonly problem: string;
      /** 403 when the token is good but its grant lacks the scope; 401 otherwise. */
      readonly status?: 403;
    };

/** What the fake asks a trusted authorization server about a bearer token. */
export interface TrustedAuthorizationServer {
  introspect(token: string): {
    readonly status: 'valid' | 'expired' | 'unknown';
    readonly scope: string | undefined;
  };
}

/**
 * The OAuth scope Coinbase's "Advanced Trade Scope & Permissions" table lists per endpoint (`path`
 * below `/api/v3/brokerage`); undefined for endpoints the fake does not serve.
 */
export function requiredScope(method: string, path: string): string | undefined {
  if (method === 'GET' && /^\/accounts(\/[^/]+)?$/.test(path)) return 'wallet:accounts:read';
  if (
    method === 'POST' &&
    ['/orders', '/orders/preview', '/orders/batch_cancel', '/orders/edit'].includes(path)
  )
    return 'wallet:buys:create';
  if (method === 'GET' && path.startsWith('/orders/historical/')) return 'wallet:transactions:read';
  if (method === 'GET' && (path === '/best_bid_ask' || path.startsWith('/products')))
    return 'wallet:user:read';
  return undefined;
}

export class CdpAuth {
  private readonly keys = new Map<string, { key: KeyObject; portfolio: string }>();
  private readonly tokens = new Map<string, string>();
  private trusted: { server: TrustedAuthorizationServer; portfolio: string } | undefined;

  addKey(name: string, privateKey: KeyObject, portfolio: string): void {
    this.keys.set(name, { key: createPublicKey(privateKey), portfolio });
  }

  /** Keys deleted in the developer platform stop working at once. */
  revokeKey(name: string): void {
    this.keys.delete(name);
  }

  /** An opaque OAuth access token for a portfolio, as Coinbase's token endpoint would issue. */
  issueAccessToken(portfolio: string): string {
    const token = randomBytes(24).toString('base64url');
    this.tokens.set(token, portfolio);
    return token;
  }

  revokeAccessToken(token: string): void {
    this.tokens.delete(token);
  }

  /** Accepts the access tokens `server` issues, each opening `portfolio` (the user's default one). */
  trust(server: TrustedAuthorizationServer, portfolio: string): void {
    this.trusted = { server, portfolio };
  }

  /**
   * Checks the `Authorization` header of one request.
   * @param host the Host the request was sent to, as the JWT's `uri` must name it
   */
  async verify(
    header: string | undefined,
    request: { readonly method: string; readonly host: string; readonly path: string },
    now: Date,
  ): Promise<AuthOutcome> {
    if (header === undefined || !header.startsWith('Bearer ')) {
      return { ok: false, kid: undefined, problem: 'no bearer token' };
    }
    const token = header.slice('Bearer '.length);
    const portfolio = this.tokens.get(token);
    if (portfolio !== undefined) return { ok: true, portfolio, kid: undefined };
    const introspected = this.trusted?.server.introspect(token);
    if (this.trusted !== undefined && introspected !== undefined && introspected.status !== 'unknown') {
      if (introspected.status === 'expired') return { ok: false, kid: undefined, problem: 'expired token' };
      // Coinbase separates scopes with commas.
      const granted = new Set((introspected.scope ?? '').split(',').map((scope) => scope.trim()));
      const needed = requiredScope(request.method, request.path.replace(/^\/api\/v3\/brokerage/, ''));
      if (needed !== undefined && !granted.has(needed)) {
        return { ok: false, kid: undefined, problem: `missing scope ${needed}`, status: 403 };
      }
      return { ok: true, portfolio: this.trusted.portfolio, kid: undefined };
    }
    let kid: string | undefined;
    let nonce: unknown;
    try {
      const protectedHeader = decodeProtectedHeader(token);
      kid = protectedHeader.kid;
      nonce = protectedHeader['nonce'];
    } catch {
      return { ok: false, kid: undefined, problem: 'not a JWT' };
    }
    const registered = kid === undefined ? undefined : this.keys.get(kid);
    if (registered === undefined) return { ok: false, kid, problem: 'unknown kid' };
    if (typeof nonce !== 'string' || nonce === '') return { ok: false, kid, problem: 'no nonce' };
    try {
      const { payload } = await jwtVerify(token, registered.key, {
        issuer: 'cdp',
        subject: kid,
        algorithms: ['ES256', 'EdDSA'],
        currentDate: now,
        requiredClaims: ['exp', 'nbf', 'uri'],
      });
      const seconds = Math.floor(now.getTime() / 1000);
      const nbf = payload.nbf ?? 0;
      const exp = payload.exp ?? 0;
      if (exp - nbf > MAX_LIFETIME_S || nbf > seconds + CLOCK_ALLOWANCE_S) {
        return { ok: false, kid, problem: 'lifetime' };
      }
      const expected = `${request.method} ${request.host}${request.path}`;
      if (payload['uri'] !== expected) {
        return { ok: false, kid, problem: `uri ${String(payload['uri'])} != ${expected}` };
      }
    } catch (error) {
      return { ok: false, kid, problem: error instanceof Error ? error.message : String(error) };
    }
    return { ok: true, portfolio: registered.portfolio, kid };
  }
}
