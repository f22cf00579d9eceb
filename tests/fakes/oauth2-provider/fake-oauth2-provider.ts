/**
 * A local OAuth 2.0 authorization server (RFC 6749 authorization code + refresh, RFC 7636 PKCE,
 * RFC 7009 revocation) that refuses what Schwab and Coinbase refuse: unregistered redirect URIs
 * (an error page, never a redirect), client authentication other than the registered method,
 * codes used twice, late, or with another redirect URI or a wrong PKCE verifier, and, when refresh
 * tokens rotate, a reused refresh token, which also revokes the whole grant. A consent page with
 * Allow/Deny buttons for browser tests, `approve()` for the rest; an injectable clock; a call log.
 * Endpoint paths are Schwab-like by default (`/authorize`, `/token`, `/revoke`) or set per provider
 * (Coinbase: `/oauth2/auth`, `/oauth2/token`, `/oauth2/revoke`). Resource servers (the fake Schwab
 * and Coinbase APIs) ask `introspect()` what a bearer token is worth.
 *
 * Stricter than the documentation where it is silent, for Schwab: `refreshRevokesAccessTokens`
 * kills the grant's earlier access tokens when a refresh issues a new one; `revokeAccessTokens()`
 * makes unexpired access tokens refused while the refresh token stays good (what a client sees
 * when the service drops its sessions); `refreshRefusal: 'schwab'` words a refused refresh token
 * as Schwab does (HTTP 400 `unsupported_token_type` wrapping `refresh_token_authentication_error`)
 * instead of RFC 6749's `invalid_grant`.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { listenOnLoopback } from '../listen.js';

export interface FakeOAuth2Client {
  readonly clientId: string;
  readonly clientSecret: string;
  readonly redirectUris: readonly string[];
  /** HTTP Basic (client_secret_basic) or form fields (client_secret_post). */
  readonly auth: 'basic' | 'post';
  readonly requirePkce: boolean;
}

export interface FakeOAuth2Options {
  readonly clients: readonly FakeOAuth2Client[];
  /** Coinbase: every refresh returns a new refresh token and the old one dies. */
  readonly rotateRefreshTokens?: boolean;
  readonly accessTokenTtlSeconds?: number;
  /** Non-rotating (Schwab): counted from the sign-in, never extended. Rotating: per token. */
  readonly refreshTokenTtlSeconds?: number;
  readonly codeTtlSeconds?: number;
  /** Also send an (unsigned, meaningless) id_token, as Schwab does without being asked. */
  readonly issueIdToken?: boolean;
  /** `sub` of the signed-in user, as /resource reports it. */
  readonly subject?: string;
  /** A refresh revokes the access tokens issued before it in the same grant (Schwab: assumed). */
  readonly refreshRevokesAccessTokens?: boolean;
  /** How a refused refresh token is answered: RFC 6749 (default) or Schwab's own wording. */
  readonly refreshRefusal?: 'rfc6749' | 'schwab';
  readonly now?: () => Date;
  /** Where the endpoints live; each defaults to the Schwab-like path. */
  readonly paths?: { readonly authorize?: string; readonly token?: string; readonly revoke?: string };
}

/** What a resource server learns about a bearer token (RFC 7662 in spirit). */
export interface TokenIntrospection {
  /** Issued here and live, past its expiry, or anything else (never issued, revoked, grant revoked). */
  readonly status: 'valid' | 'expired' | 'unknown';
  /** The scope the grant was given, as the client asked for it (unknown tokens have none). */
  readonly scope: string | undefined;
}

export interface FakeOAuth2Call {
  readonly method: string;
  readonly path: string;
  readonly status: number;
  readonly grantType?: string;
  /** The RFC 6749 error code of a refusal. */
  readonly error?: string;
}

interface PendingAuthorization {
  readonly client: FakeOAuth2Client;
  readonly redirectUri: string;
  readonly state: string;
  readonly scope: string | undefined;
  readonly codeChallenge: string | undefined;
}

interface CodeRecord extends PendingAuthorization {
  readonly expiresAt: Date;
  used: boolean;
  grantId: string | undefined;
}

interface Grant {
  readonly clientId: string;
  readonly scope: string | undefined;
  readonly refreshExpiresAt: Date;
  revoked: boolean;
}

interface TokenRecord {
  readonly grantId: string;
  readonly expiresAt: Date;
  /** Refresh tokens of a rotating provider: spent by their first use. */
  used: boolean;
  revoked: boolean;
}

class TokenError {
  constructor(
    readonly status: number,
    readonly error: string,
    readonly description: string,
    readonly basicChallenge = false,
  ) {}
}

const VERIFIER_PATTERN = /^[A-Za-z0-9\-._~]{43,128}$/;

export class FakeOAuth2Provider {
  readonly calls: FakeOAuth2Call[] = [];
  private readonly pending = new Map<string, PendingAuthorization>();
  private readonly codes = new Map<string, CodeRecord>();
  private readonly grants = new Map<string, Grant>();
  private readonly accessTokens = new Map<string, TokenRecord>();
  private readonly refreshTokens = new Map<string, TokenRecord>();
  private readonly failures: { path: string; status: number; body: string }[] = [];
  private readonly holds: { path: string; arrived: () => void; gate: Promise<void> }[] = [];
  private readonly now: () => Date;
  private readonly paths: { readonly authorize: string; readonly token: string; readonly revoke: string };

  private constructor(
    private readonly server: Server,
    private readonly options: FakeOAuth2Options,
  ) {
    this.now = options.now ?? (() => new Date());
    this.paths = {
      authorize: options.paths?.authorize ?? '/authorize',
      token: options.paths?.token ?? '/token',
      revoke: options.paths?.revoke ?? '/revoke',
    };
  }

  static async start(options: FakeOAuth2Options): Promise<FakeOAuth2Provider> {
    let fake: FakeOAuth2Provider | undefined;
    const server = createServer((request, response) => {
      fake?.handle(request, response).catch((error: unknown) => {
        if (!response.headersSent) response.writeHead(500, { 'content-type': 'text/plain' });
        response.end(String(error));
      });
    });
    fake = new FakeOAuth2Provider(server, options);
    await listenOnLoopback(server);
    return fake;
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }
  get authorizationEndpoint(): string {
    return `${this.baseUrl}${this.paths.authorize}`;
  }
  get tokenEndpoint(): string {
    return `${this.baseUrl}${this.paths.token}`;
  }
  get revocationEndpoint(): string {
    return `${this.baseUrl}${this.paths.revoke}`;
  }
  get resourceUrl(): string {
    return `${this.baseUrl}/resource`;
  }

  /** Every access and refresh token handed out, for tests that look for them where they must not be. */
  issuedTokens(): string[] {
    return [...this.accessTokens.keys(), ...this.refreshTokens.keys()];
  }

  /**
   * What a resource server (the fake Schwab API) learns about a bearer token: issued here and live,
   * past its expiry, or anything else (never issued, revoked, or its grant revoked).
   */
  accessTokenStatus(token: string): 'valid' | 'expired' | 'unknown' {
    return this.introspect(token).status;
  }

  /** The status of a bearer token and the scope of its grant. */
  introspect(token: string): TokenIntrospection {
    const record = this.accessTokens.get(token);
    const grant = record === undefined ? undefined : this.grants.get(record.grantId);
    if (record === undefined || grant === undefined || record.revoked || grant.revoked) {
      return { status: 'unknown', scope: undefined };
    }
    return { status: this.now() < record.expiresAt ? 'valid' : 'expired', scope: grant.scope };
  }

  /**
   * The user removes the app in their account settings: every token of the grant the access token
   * belongs to stops working, refresh tokens included. False for a token never issued here.
   */
  revokeGrantOf(accessToken: string): boolean {
    const record = this.accessTokens.get(accessToken);
    if (record === undefined) return false;
    this.revokeGrant(record.grantId);
    return true;
  }

  /**
   * The service drops sessions: the unexpired access tokens (of `accessToken`'s grant, or of every
   * grant) are refused from now on, while refresh tokens keep working. Returns how many died.
   */
  revokeAccessTokens(accessToken?: string): number {
    const grantId = accessToken === undefined ? undefined : this.accessTokens.get(accessToken)?.grantId;
    if (accessToken !== undefined && grantId === undefined) return 0;
    return this.revokeAccessTokensWhere((record) => grantId === undefined || record.grantId === grantId);
  }

  /** Token endpoint calls of one grant type, for counting refreshes. */
  tokenCalls(grantType: 'authorization_code' | 'refresh_token'): FakeOAuth2Call[] {
    return this.calls.filter((call) => call.path === this.paths.token && call.grantType === grantType);
  }

  /** The next request to `path` fails with `status` (a gateway-style HTML page by default). */
  failNext(
    path: string,
    status: number,
    body = '<html><body>Service unavailable (injected)</body></html>',
  ): void {
    this.failures.push({ path, status, body });
  }

  /**
   * The next request to `path` waits, unanswered, until `release()`: a slow token endpoint, for
   * tests that need everything else to happen meanwhile. `reached` resolves when it arrives.
   */
  holdNext(path: string): { readonly reached: Promise<void>; release(): void } {
    let arrived = () => {};
    const reached = new Promise<void>((resolve) => {
      arrived = resolve;
    });
    let release = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    this.holds.push({ path, arrived, gate });
    return { reached, release };
  }

  /** A user opens the authorization URL and clicks Allow: the redirect the browser would follow. */
  async approve(authorizeUrl: URL | string): Promise<URL> {
    return this.decide(authorizeUrl, 'allow');
  }

  /** A user opens the authorization URL and clicks Deny. */
  async deny(authorizeUrl: URL | string): Promise<URL> {
    return this.decide(authorizeUrl, 'deny');
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async decide(authorizeUrl: URL | string, decision: 'allow' | 'deny'): Promise<URL> {
    const consent = await fetch(authorizeUrl, { redirect: 'manual' });
    const html = await consent.text();
    if (consent.status !== 200) throw new Error(`fake OAuth2: authorize answered ${consent.status}: ${html}`);
    const requestId = /name="request_id" value="([^"]+)"/.exec(html)?.[1];
    if (requestId === undefined) throw new Error('fake OAuth2: consent page without request_id');
    const answer = await fetch(`${this.baseUrl}/authorize/decision`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ request_id: requestId, decision }),
      redirect: 'manual',
    });
    const location = answer.headers.get('location');
    if (answer.status !== 302 || location === null) {
      throw new Error(`fake OAuth2: decision answered ${answer.status}: ${await answer.text()}`);
    }
    return new URL(location);
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const method = request.method ?? 'GET';
    const url = new URL(request.url ?? '/', this.baseUrl);
    const path = url.pathname;
    const body = await readBody(request);
    const log = (status: number, extra: { grantType?: string; error?: string } = {}) =>
      this.calls.push({ method, path, status, ...extra });

    const hold = this.holds.findIndex((entry) => entry.path === path);
    if (hold !== -1) {
      const [held] = this.holds.splice(hold, 1);
      held?.arrived();
      await held?.gate;
    }

    const failure = this.failures.findIndex((entry) => entry.path === path);
    if (failure !== -1) {
      const [entry] = this.failures.splice(failure, 1);
      log(entry?.status ?? 500);
      response.writeHead(entry?.status ?? 500, { 'content-type': 'text/html' });
      response.end(entry?.body);
      return;
    }

    if (method === 'GET' && path === this.paths.authorize) {
      const outcome = this.authorize(url.searchParams);
      log(outcome.status, outcome.error === undefined ? {} : { error: outcome.error });
      sendPage(response, outcome);
      return;
    }
    if (method === 'POST' && path === '/authorize/decision') {
      const outcome = this.decision(new URLSearchParams(body));
      log(outcome.status);
      sendPage(response, outcome);
      return;
    }
    if (method === 'POST' && (path === this.paths.token || path === this.paths.revoke)) {
      const isToken = path === this.paths.token;
      const form = parseStrictForm(request.headers['content-type'], body);
      const grantType =
        isToken && !(form instanceof TokenError) ? (form.get('grant_type') ?? undefined) : undefined;
      let outcome: Record<string, unknown> | TokenError;
      if (form instanceof TokenError) outcome = form;
      else if (isToken) outcome = this.token(request.headers.authorization, form);
      else outcome = this.revoke(request.headers.authorization, form);
      if (outcome instanceof TokenError) {
        log(outcome.status, { ...(grantType === undefined ? {} : { grantType }), error: outcome.error });
        response.writeHead(outcome.status, {
          'content-type': 'application/json;charset=UTF-8',
          'cache-control': 'no-store',
          ...(outcome.basicChallenge ? { 'www-authenticate': 'Basic realm="fake-oauth2"' } : {}),
        });
        response.end(JSON.stringify({ error: outcome.error, error_description: outcome.description }));
        return;
      }
      log(200, grantType === undefined ? {} : { grantType });
      response.writeHead(200, {
        'content-type': 'application/json;charset=UTF-8',
        'cache-control': 'no-store',
        pragma: 'no-cache',
      });
      response.end(isToken ? JSON.stringify(outcome) : '');
      return;
    }
    if (method === 'GET' && path === '/resource') {
      const token = /^Bearer ([^\s]+)$/.exec(request.headers.authorization ?? '')?.[1];
      const record = token === undefined ? undefined : this.accessTokens.get(token);
      if (record === undefined || !this.live(record)) {
        log(401, { error: 'invalid_token' });
        response.writeHead(401, { 'www-authenticate': 'Bearer error="invalid_token"' });
        response.end();
        return;
      }
      log(200);
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ sub: this.options.subject ?? 'fake-user' }));
      return;
    }
    log(404);
    response.writeHead(404, { 'content-type': 'text/plain' });
    response.end('not found');
  }

  /** GET /authorize: an error page for a bad client or redirect URI, else the consent page or an error redirect. */
  private authorize(query: URLSearchParams): PageOutcome {
    const client = this.options.clients.find((candidate) => candidate.clientId === query.get('client_id'));
    if (client === undefined) return errorPage(400, 'invalid_client', 'Unknown client_id.');
    const redirectUri = query.get('redirect_uri');
    if (redirectUri === null || !client.redirectUris.includes(redirectUri)) {
      return errorPage(400, 'invalid_request', 'redirect_uri is not registered for this client.');
    }
    const state = query.get('state');
    if (state === null || state === '') return errorPage(400, 'invalid_request', 'state is required.');
    const redirectError = (error: string) => redirect(redirectUri, { error, state });
    if (query.get('response_type') !== 'code') return redirectError('unsupported_response_type');
    const codeChallenge = query.get('code_challenge') ?? undefined;
    const method = query.get('code_challenge_method');
    if (codeChallenge !== undefined && (method !== 'S256' || !/^[A-Za-z0-9_-]{43}$/.test(codeChallenge))) {
      return redirectError('invalid_request');
    }
    if (client.requirePkce && codeChallenge === undefined) return redirectError('invalid_request');
    const requestId = randomToken('req');
    this.pending.set(requestId, {
      client,
      redirectUri,
      state,
      scope: query.get('scope') ?? undefined,
      codeChallenge,
    });
    return {
      status: 200,
      html: `<h1>Allow ${escapeHtml(client.clientId)} to access your account?</h1>
<form method="post" action="/authorize/decision">
<input type="hidden" name="request_id" value="${escapeHtml(requestId)}">
<button type="submit" name="decision" value="allow">Allow</button>
<button type="submit" name="decision" value="deny">Deny</button>
</form>`,
    };
  }

  /** POST /authorize/decision: redirect with a code (Allow) or access_denied (Deny). */
  private decision(form: URLSearchParams): PageOutcome {
    const requestId = form.get('request_id') ?? '';
    const pending = this.pending.get(requestId);
    if (pending === undefined)
      return errorPage(400, 'invalid_request', 'Unknown or finished authorization request.');
    this.pending.delete(requestId);
    if (form.get('decision') !== 'allow')
      return redirect(pending.redirectUri, { error: 'access_denied', state: pending.state });
    // Schwab's codes end in '@' (%40 in the redirect): the encoding must survive the round trip.
    const code = `${randomToken('code')}@`;
    const expiresAt = new Date(this.now().getTime() + (this.options.codeTtlSeconds ?? 30) * 1000);
    this.codes.set(code, { ...pending, expiresAt, used: false, grantId: undefined });
    return redirect(pending.redirectUri, { code, state: pending.state });
  }

  private token(
    authorization: string | undefined,
    form: URLSearchParams,
  ): Record<string, unknown> | TokenError {
    const client = this.authenticate(authorization, form);
    if (client instanceof TokenError) return client;
    switch (form.get('grant_type')) {
      case 'authorization_code':
        return this.exchangeCode(client, form);
      case 'refresh_token':
        return this.refresh(client, form);
      case null:
        return new TokenError(400, 'invalid_request', 'grant_type is required.');
      default:
        return new TokenError(400, 'unsupported_grant_type', 'Unsupported grant_type.');
    }
  }

  private exchangeCode(
    client: FakeOAuth2Client,
    form: URLSearchParams,
  ): Record<string, unknown> | TokenError {
    const code = form.get('code');
    if (code === null) return new TokenError(400, 'invalid_request', 'code is required.');
    const record = this.codes.get(code);
    if (record === undefined) return new TokenError(400, 'invalid_grant', 'Unknown authorization code.');
    if (record.used) {
      // RFC 6749 4.1.2: a code used twice revokes what it was exchanged for.
      if (record.grantId !== undefined) this.revokeGrant(record.grantId);
      return new TokenError(400, 'invalid_grant', 'Authorization code already used.');
    }
    record.used = true;
    if (record.client.clientId !== client.clientId)
      return new TokenError(400, 'invalid_grant', 'Code of another client.');
    if (this.now() >= record.expiresAt)
      return new TokenError(400, 'invalid_grant', 'Authorization code expired.');
    if (form.get('redirect_uri') !== record.redirectUri)
      return new TokenError(400, 'invalid_grant', 'redirect_uri mismatch.');
    const verifier = form.get('code_verifier');
    if (record.codeChallenge !== undefined) {
      if (verifier === null || !VERIFIER_PATTERN.test(verifier)) {
        return new TokenError(400, 'invalid_grant', 'code_verifier missing or malformed.');
      }
      if (createHash('sha256').update(verifier).digest('base64url') !== record.codeChallenge) {
        return new TokenError(400, 'invalid_grant', 'code_verifier does not match the code_challenge.');
      }
    } else if (verifier !== null) {
      return new TokenError(400, 'invalid_grant', 'code_verifier without a code_challenge.');
    }
    const grantId = randomToken('grant');
    const now = this.now();
    this.grants.set(grantId, {
      clientId: client.clientId,
      scope: record.scope,
      refreshExpiresAt: new Date(now.getTime() + this.refreshTtlMs()),
      revoked: false,
    });
    record.grantId = grantId;
    return this.issue(grantId, this.issueRefreshToken(grantId, now), record.scope);
  }

  private refresh(client: FakeOAuth2Client, form: URLSearchParams): Record<string, unknown> | TokenError {
    const token = form.get('refresh_token');
    if (token === null) return new TokenError(400, 'invalid_request', 'refresh_token is required.');
    const record = this.refreshTokens.get(token);
    const grant = record === undefined ? undefined : this.grants.get(record.grantId);
    if (record === undefined || grant === undefined || grant.clientId !== client.clientId) {
      return this.refreshRefused('Unknown refresh token.');
    }
    if (grant.revoked || record.revoked) return this.refreshRefused('Refresh token revoked.');
    if (record.used) {
      this.revokeGrant(record.grantId);
      return this.refreshRefused('Refresh token reused: the grant is revoked.');
    }
    const now = this.now();
    if (now >= record.expiresAt) return this.refreshRefused('Refresh token expired.');
    let refreshToken = token;
    if (this.options.rotateRefreshTokens === true) {
      record.used = true;
      refreshToken = this.issueRefreshToken(record.grantId, now);
    }
    if (this.options.refreshRevokesAccessTokens === true) {
      this.revokeAccessTokensWhere((access) => access.grantId === record.grantId);
    }
    return this.issue(record.grantId, refreshToken, grant.scope);
  }

  /** A refused refresh token, worded the RFC 6749 way or Schwab's. */
  private refreshRefused(description: string): TokenError {
    if (this.options.refreshRefusal !== 'schwab') return new TokenError(400, 'invalid_grant', description);
    // Schwab wraps its internal error (with a digest of the token, never the token) in this one.
    const inner = JSON.stringify({
      error_description: `Exception while authenticating refresh token [${description}]`,
      error: 'refresh_token_authentication_error',
    });
    return new TokenError(400, 'unsupported_token_type', `400 Bad Request: ${JSON.stringify(inner)}`);
  }

  /** Revokes the live access tokens `which` selects; returns how many. */
  private revokeAccessTokensWhere(which: (record: TokenRecord) => boolean): number {
    let revoked = 0;
    for (const record of this.accessTokens.values()) {
      if (record.revoked || !which(record)) continue;
      record.revoked = true;
      revoked += 1;
    }
    return revoked;
  }

  private revoke(
    authorization: string | undefined,
    form: URLSearchParams,
  ): Record<string, unknown> | TokenError {
    const client = this.authenticate(authorization, form);
    if (client instanceof TokenError) return client;
    const token = form.get('token');
    if (token === null) return new TokenError(400, 'invalid_request', 'token is required.');
    const hint = form.get('token_type_hint');
    if (hint !== null && hint !== 'access_token' && hint !== 'refresh_token') {
      return new TokenError(400, 'unsupported_token_type', 'Unknown token_type_hint.');
    }
    const access = this.accessTokens.get(token);
    const refresh = this.refreshTokens.get(token);
    const record = access ?? refresh;
    // RFC 7009 2.2: an unknown token is not an error.
    if (record === undefined) return {};
    if (this.grants.get(record.grantId)?.clientId !== client.clientId) {
      return new TokenError(400, 'invalid_request', 'Token of another client.');
    }
    if (refresh !== undefined) this.revokeGrant(refresh.grantId);
    else record.revoked = true;
    return {};
  }

  /** RFC 6749 2.3.1: exactly one method, the registered one, with the right secret. */
  private authenticate(
    authorization: string | undefined,
    form: URLSearchParams,
  ): FakeOAuth2Client | TokenError {
    const basic = /^Basic ([A-Za-z0-9+/=]+)$/.exec(authorization ?? '')?.[1];
    if (basic !== undefined) {
      if (form.has('client_secret')) {
        return new TokenError(400, 'invalid_request', 'More than one client authentication method.');
      }
      const decoded = Buffer.from(basic, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      const id = formDecode(decoded.slice(0, colon));
      const secret = formDecode(decoded.slice(colon + 1));
      const client = this.options.clients.find((candidate) => candidate.clientId === id);
      if (colon === -1 || client === undefined || client.auth !== 'basic' || client.clientSecret !== secret) {
        return new TokenError(401, 'invalid_client', 'Client authentication failed.', true);
      }
      if (form.has('client_id') && form.get('client_id') !== id) {
        return new TokenError(400, 'invalid_request', 'client_id does not match the credentials.');
      }
      return client;
    }
    if (authorization !== undefined)
      return new TokenError(401, 'invalid_client', 'Unsupported authorization scheme.');
    const client = this.options.clients.find((candidate) => candidate.clientId === form.get('client_id'));
    if (client === undefined || client.auth !== 'post' || client.clientSecret !== form.get('client_secret')) {
      return new TokenError(401, 'invalid_client', 'Client authentication failed.');
    }
    return client;
  }

  private issue(grantId: string, refreshToken: string, scope: string | undefined): Record<string, unknown> {
    const now = this.now();
    const ttl = this.options.accessTokenTtlSeconds ?? 1800;
    const accessToken = randomToken('at');
    this.accessTokens.set(accessToken, {
      grantId,
      expiresAt: new Date(now.getTime() + ttl * 1000),
      used: false,
      revoked: false,
    });
    return {
      access_token: accessToken,
      refresh_token: refreshToken,
      token_type: 'Bearer',
      expires_in: ttl,
      ...(scope === undefined ? {} : { scope }),
      ...(this.options.issueIdToken === true ? { id_token: fakeIdToken() } : {}),
    };
  }

  private issueRefreshToken(grantId: string, now: Date): string {
    const token = randomToken('rt');
    const grant = this.grants.get(grantId);
    const expiresAt =
      this.options.rotateRefreshTokens === true || grant === undefined
        ? new Date(now.getTime() + this.refreshTtlMs())
        : grant.refreshExpiresAt;
    this.refreshTokens.set(token, { grantId, expiresAt, used: false, revoked: false });
    return token;
  }

  private refreshTtlMs(): number {
    return (this.options.refreshTokenTtlSeconds ?? 7 * 24 * 3600) * 1000;
  }

  private revokeGrant(grantId: string): void {
    const grant = this.grants.get(grantId);
    if (grant !== undefined) grant.revoked = true;
  }

  private live(record: TokenRecord): boolean {
    const grant = this.grants.get(record.grantId);
    return !record.revoked && grant !== undefined && !grant.revoked && this.now() < record.expiresAt;
  }
}

type PageOutcome = { status: number; html?: string; location?: string; error?: string };

function errorPage(status: number, error: string, description: string): PageOutcome {
  return {
    status,
    error,
    html: `<h1>Authorization error</h1><p>${escapeHtml(error)}: ${escapeHtml(description)}</p>`,
  };
}

function redirect(redirectUri: string, parameters: Record<string, string>): PageOutcome {
  const target = new URL(redirectUri);
  for (const [name, value] of Object.entries(parameters)) target.searchParams.set(name, value);
  return {
    status: 302,
    location: target.href,
    ...(parameters['error'] === undefined ? {} : { error: parameters['error'] }),
  };
}

function sendPage(response: ServerResponse, outcome: PageOutcome): void {
  if (outcome.location !== undefined) {
    response.writeHead(302, { location: outcome.location });
    response.end();
    return;
  }
  response.writeHead(outcome.status, { 'content-type': 'text/html; charset=utf-8' });
  response.end(
    `<!doctype html><html><head><title>Fake provider</title></head><body>${outcome.html ?? ''}</body></html>`,
  );
}

/** A form body as the token and revocation endpoints require it: the right type, no repeated parameter. */
function parseStrictForm(contentType: string | undefined, body: string): URLSearchParams | TokenError {
  if (!(contentType ?? '').toLowerCase().startsWith('application/x-www-form-urlencoded')) {
    return new TokenError(400, 'invalid_request', 'Content-Type must be application/x-www-form-urlencoded.');
  }
  const form = new URLSearchParams(body);
  const names = [...form.keys()];
  if (new Set(names).size !== names.length) {
    return new TokenError(400, 'invalid_request', 'A parameter is repeated.');
  }
  return form;
}

/** RFC 6749 2.3.1: Basic credentials are form-encoded before base64; malformed ones match nothing. */
function formDecode(value: string): string {
  try {
    return decodeURIComponent(value.replaceAll('+', ' '));
  } catch {
    return '\u0000malformed';
  }
}

function randomToken(prefix: string): string {
  return `${prefix}-${randomBytes(24).toString('base64url')}`;
}

/** An unsigned JWT-shaped string with claims no validator would accept: it must be ignored. */
function fakeIdToken(): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'RS256', kid: 'unknown' })}.${part({ iss: 'https://elsewhere.example', aud: 'someone-else', exp: 1 })}.c2ln`;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
