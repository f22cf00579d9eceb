/**
 * A local stand-in for E*TRADE: its OAuth 1.0a endpoints and the API v1 calls a broker client
 * makes, strict the way the real service is: HMAC-SHA1 signatures over the RFC 5849 base string
 * (checked by our own implementation in rfc5849.ts), timestamps within five minutes of the fake's
 * clock, nonces never reused per consumer, request tokens valid five minutes and exchanged once,
 * access tokens that die at midnight US Eastern and go inactive after two idle hours until renewed.
 * OAuth refusals are 401 with an `oauth_problem` body (400 for a missing or rejected parameter).
 *
 * API (signed with an access token; JSON with `Accept: application/json` or a `.json` suffix):
 * accounts list, balance, portfolio, quotes (etrade-accounts.ts), option expire dates
 * (etrade-expiries.ts) and preview / place / list / cancel orders (etrade-orders.ts), routed in
 * etrade-api.ts. As E*TRADE documents, no answer ever
 * carries the `clientOrderId` (a duplicate one is refused), and listings carry null and 0 where a
 * value does not apply yet. Rate limits (off unless configured): too many requests per window
 * answer HTTP 400 with an HTML page, as E*TRADE documents. Failure injection: `latencyMs`,
 * `failNext`, `loseNextPlaceAnswer`, `dropNext`, `down`/`up`, `rateLimitNext`, `injectUnreadable`,
 * `refuseEveryToken`.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { listenOnLoopback } from '../listen.js';
import { nextEasternMidnight } from './eastern-time.js';
import type { FakeProduct } from './etrade-accounts.js';
import { FAKE_ETRADE_ACCOUNT, type FakeAnswer, FakeEtradeApi, type FakeEtradeList } from './etrade-api.js';
import type { FakeEtradeOrder } from './etrade-orders.js';
import { type FakeRateBucket, type FakeRateLimit, FakeRateLimits } from './rate-limits.js';
import {
  baseStringUri,
  hmacSha1Signature,
  type Parameter,
  parseAuthorizationHeader,
  parseFormEncoded,
  percentEncode,
  signatureBaseString,
  signaturesEqual,
} from './rfc5849.js';

export interface FakeOAuth1Options {
  readonly consumerKey: string;
  readonly consumerSecret: string;
  /** The fake's clock (timestamps, token lifetimes); defaults to the real one. */
  readonly now?: () => Date;
  /**
   * E*TRADE's quotas per bucket (`accounts`: accounts and orders, ~2/s; `market`: quotes, ~4/s),
   * counted in real time. Unset: no limit.
   */
  readonly rateLimits?: Partial<Record<FakeRateBucket, FakeRateLimit>>;
}

export { FAKE_ETRADE_ACCOUNT, type FakeEtradeList } from './etrade-api.js';
export type { FakeRateBucket, FakeRateLimit } from './rate-limits.js';

/**
 * How the answer to a place E*TRADE processed is lost: `hang` never answers (the client times
 * out), `reset` destroys the connection, a number answers that HTTP status (a 5xx) with an HTML page.
 */
export type LostAnswer = 'hang' | 'reset' | number;

export interface FakeOAuth1Call {
  readonly method: string;
  readonly path: string;
  readonly status: number;
  /** The query parameters (never an OAuth one: those travel in the header). */
  readonly query: Readonly<Record<string, string>>;
  /** The `oauth_problem` of a refusal. */
  readonly problem?: string;
}

export const TIMESTAMP_WINDOW_SECONDS = 5 * 60;
export const REQUEST_TOKEN_TTL_MS = 5 * 60 * 1000;
export const IDLE_TIMEOUT_MS = 2 * 60 * 60 * 1000;

interface RequestTokenRecord {
  readonly secret: string;
  readonly expiresAt: Date;
  verifier: string | undefined;
  exchanged: boolean;
}

interface AccessTokenRecord {
  readonly secret: string;
  readonly expiresAt: Date;
  lastUsedAt: Date;
  revoked: boolean;
}

type TokenKind = 'none' | 'request' | 'access';

/** A refusal: the status and the oauth_problem (plus extra form fields). */
class Refusal {
  constructor(
    readonly status: number,
    readonly problem: string,
    readonly extra: Readonly<Record<string, string>> = {},
  ) {}
}

export class FakeOAuth1Provider {
  readonly calls: FakeOAuth1Call[] = [];
  private readonly requestTokens = new Map<string, RequestTokenRecord>();
  private readonly accessTokens = new Map<string, AccessTokenRecord>();
  private readonly usedNonces = new Set<string>();
  private readonly failures: { path: string; status: number }[] = [];
  private readonly now: () => Date;
  /** Delay before each request is handled (real time). */
  latencyMs = 0;
  private readonly api = new FakeEtradeApi();
  private readonly drops: string[] = [];
  private readonly lostPlaceAnswers: LostAnswer[] = [];
  private isDown = false;
  private readonly rateLimits: FakeRateLimits;
  /** Set by `refuseEveryToken`: API calls refuse every access token, renewal still succeeds. */
  private refusingTokens = false;

  private constructor(
    private readonly server: Server,
    private readonly options: FakeOAuth1Options,
  ) {
    this.now = options.now ?? (() => new Date());
    this.rateLimits = new FakeRateLimits(options.rateLimits);
  }

  static async start(options: FakeOAuth1Options): Promise<FakeOAuth1Provider> {
    let fake: FakeOAuth1Provider | undefined;
    const server = createServer((request, response) => {
      fake?.handle(request, response).catch((error: unknown) => {
        if (!response.headersSent) response.writeHead(500, { 'content-type': 'text/plain' });
        response.end(String(error));
      });
    });
    fake = new FakeOAuth1Provider(server, options);
    await listenOnLoopback(server);
    return fake;
  }

  /** Every token and token secret handed out, for tests that look for them where they must not be. */
  issuedSecrets(): string[] {
    const secrets: string[] = [];
    for (const [token, record] of this.requestTokens) secrets.push(token, record.secret);
    for (const [token, record] of this.accessTokens) secrets.push(token, record.secret);
    return secrets;
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }
  get requestTokenUrl(): string {
    return `${this.baseUrl}/oauth/request_token`;
  }
  get accessTokenUrl(): string {
    return `${this.baseUrl}/oauth/access_token`;
  }
  get renewUrl(): string {
    return `${this.baseUrl}/oauth/renew_access_token`;
  }
  get revokeUrl(): string {
    return `${this.baseUrl}/oauth/revoke_access_token`;
  }
  /** The user-facing page (`?key=&token=`). */
  get authorizeUrl(): string {
    return `${this.baseUrl}/authorize`;
  }
  get accountsUrl(): string {
    return `${this.baseUrl}/v1/accounts/list`;
  }

  /** The user approves at the provider: the verifier code the page would show. */
  authorize(requestToken: string): string {
    const record = this.requestTokens.get(requestToken);
    if (record === undefined || record.exchanged || this.now() >= record.expiresAt) {
      throw new Error('fake E*TRADE: no such live request token');
    }
    record.verifier ??= randomCode(5);
    return record.verifier;
  }

  /**
   * An access token as if the user had just linked (the sign-in itself is tested in oauth1.test.ts):
   * broker tests start from here.
   */
  issueAccessToken(): { token: string; tokenSecret: string } {
    const now = this.now();
    const token = randomToken();
    const tokenSecret = randomToken();
    this.accessTokens.set(token, {
      secret: tokenSecret,
      expiresAt: nextEasternMidnight(now),
      lastUsedAt: now,
      revoked: false,
    });
    return { token, tokenSecret };
  }

  /** When an access token dies (midnight US Eastern after it was issued), for assertions. */
  accessTokenExpiry(token: string): Date | undefined {
    return this.accessTokens.get(token)?.expiresAt;
  }

  /** The next request to `path` fails with `status` (an HTML page), without being processed. */
  failNext(path: string, status: number): void {
    this.failures.push({ path, status });
  }

  /** The price market orders execute at, resting orders are checked against and quotes show. */
  setPrice(product: FakeProduct | string, price: string): void {
    this.api.market.set(product, price);
  }

  /** Executes every resting order whose price was reached; returns how many. */
  fillRestingOrders(): number {
    return this.api.desk.fillResting(this.api.accounts, this.now());
  }

  /** The orders of an account, oldest first (copies; `clientOrderId` is what the fake was sent). */
  orders(accountIdKey: string = FAKE_ETRADE_ACCOUNT.accountIdKey): FakeEtradeOrder[] {
    return this.api.desk.list(accountIdKey);
  }

  /** The account's cash, as a decimal string. */
  cash(accountIdKey: string = FAKE_ETRADE_ACCOUNT.accountIdKey): string {
    return this.api.accounts.get(accountIdKey)?.cash.toFixed() ?? '0';
  }

  /**
   * The next order place is processed (the order exists), then its answer is lost (see
   * `LostAnswer`); each call loses one more place answer.
   */
  loseNextPlaceAnswer(how: LostAnswer = 'hang'): void {
    this.lostPlaceAnswers.push(how);
  }

  /** The next order placed is left out of the next `listings` order listings (listed late). */
  listNextOrderLate(listings: number): void {
    this.api.desk.listLate(listings);
  }

  /** Every later answer of `list` also carries `element`, which a client cannot read. */
  injectUnreadable(list: FakeEtradeList, element: unknown): void {
    this.api.injectUnreadable(list, element);
  }

  /** The next request whose path ends with `suffix` (any request by default) is reset unprocessed. */
  dropNext(suffix = ''): void {
    this.drops.push(suffix);
  }

  /** Every request answers 503 until `up()`. */
  down(): void {
    this.isDown = true;
  }

  up(): void {
    this.isDown = false;
  }

  /**
   * The next `count` API requests of `bucket` (only those whose path ends with `pathSuffix`, when
   * given) get E*TRADE's "too many requests" page, unprocessed.
   */
  rateLimitNext(count: number, bucket: FakeRateBucket = 'accounts', pathSuffix = ''): void {
    this.rateLimits.forceNext(count, bucket, pathSuffix);
  }

  /** Sets (or with undefined, lifts) a bucket's quota. */
  setRateLimit(bucket: FakeRateBucket, limit: FakeRateLimit | undefined): void {
    this.rateLimits.set(bucket, limit);
  }

  /**
   * Every API call (`/v1/...`) refuses its access token (401 `token_rejected`) until called with
   * `false`, while `renew_access_token` still answers 200: a sign-in that a renewal does not bring
   * back.
   */
  refuseEveryToken(refuse = true): void {
    this.refusingTokens = refuse;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const method = request.method ?? 'GET';
    const rawUrl = request.url ?? '/';
    const queryAt = rawUrl.indexOf('?');
    const path = queryAt === -1 ? rawUrl : rawUrl.slice(0, queryAt);
    const query = parseFormEncoded(queryAt === -1 ? '' : rawUrl.slice(queryAt + 1));
    const body = await readBody(request);
    const queryOf = Object.fromEntries(query);
    const send = (status: number, contentType: string, text: string, problem?: string) => {
      this.calls.push({
        method,
        path,
        status,
        query: queryOf,
        ...(problem === undefined ? {} : { problem }),
      });
      response.writeHead(status, { 'content-type': contentType });
      response.end(text);
    };
    const refuse = (refusal: Refusal) =>
      send(
        refusal.status,
        'application/x-www-form-urlencoded',
        formEncode({ oauth_problem: refusal.problem, ...refusal.extra }),
        refusal.problem,
      );

    if (this.latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, this.latencyMs));
    if (this.isDown) {
      send(503, 'text/html', page('<h1>Service unavailable</h1>'));
      return;
    }
    const drop = this.drops.findIndex((suffix) => path.endsWith(suffix));
    if (drop !== -1) {
      this.drops.splice(drop, 1);
      this.calls.push({ method, path, status: 0, query: queryOf });
      request.socket.destroy();
      return;
    }
    const failure = this.failures.findIndex((entry) => entry.path === path);
    if (failure !== -1) {
      const [entry] = this.failures.splice(failure, 1);
      send(entry?.status ?? 500, 'text/html', '<html><body>Service unavailable (injected)</body></html>');
      return;
    }

    if (method === 'GET' && path === '/authorize') {
      this.authorizePage(query, send);
      return;
    }
    if (this.rateLimits.exceeded(path)) {
      // E*TRADE's documented answer to too many requests: HTTP 400 with an HTML page.
      send(
        400,
        'text/html',
        page('<h1>Request limit exceeded</h1><p>Too many requests. Try again later.</p>'),
      );
      return;
    }
    const kind = tokenKindOf(path, method);
    if (kind === undefined) {
      send(404, 'application/json', JSON.stringify({ Error: { code: 404, message: 'Not found' } }));
      return;
    }
    const contentType = request.headers['content-type'] ?? '';
    const form = contentType.startsWith('application/x-www-form-urlencoded') ? parseFormEncoded(body) : [];
    const host = request.headers.host ?? '';
    const verified = this.verify(method, host, path, query, form, request.headers.authorization, kind);
    if (verified instanceof Refusal) {
      refuse(verified);
      return;
    }
    const outcome = this.serve(method, path, query, verified, request.headers.accept ?? '', {
      contentType,
      text: body,
    });
    if (outcome instanceof Refusal) {
      refuse(outcome);
      return;
    }
    if (outcome.status === 200 && method === 'POST' && /\/orders\/place(?:\.json)?$/.test(path)) {
      const lost = this.lostPlaceAnswers.shift();
      if (typeof lost === 'number') {
        send(lost, 'text/html', page('<h1>Service unavailable</h1><p>Please try again later.</p>'));
        return;
      }
      if (lost !== undefined) {
        this.calls.push({ method, path, status: 0, query: queryOf });
        if (lost === 'reset') request.socket.destroy();
        // 'hang': never answer; close() ends the connection if the client has not given up.
        return;
      }
    }
    send(outcome.status, outcome.contentType, outcome.body);
  }

  /** Checks one signed request; returns its OAuth parameters (and token) or the refusal. */
  private verify(
    method: string,
    host: string,
    path: string,
    query: readonly Parameter[],
    form: readonly Parameter[],
    authorization: string | undefined,
    kind: TokenKind,
  ): { oauth: ReadonlyMap<string, string>; token: string | undefined } | Refusal {
    const header = parseAuthorizationHeader(authorization);
    if (header === undefined)
      return new Refusal(400, 'parameter_absent', { oauth_parameters_absent: 'oauth_signature' });
    const oauth = new Map<string, string>();
    for (const [name, value] of header) {
      if (oauth.has(name)) return new Refusal(400, 'parameter_rejected', { oauth_parameters_rejected: name });
      oauth.set(name, value);
    }
    const required = [
      'oauth_consumer_key',
      'oauth_signature_method',
      'oauth_signature',
      'oauth_timestamp',
      'oauth_nonce',
    ];
    if (kind !== 'none') required.push('oauth_token');
    const absent = required.filter((name) => !oauth.has(name));
    if (absent.length > 0)
      return new Refusal(400, 'parameter_absent', { oauth_parameters_absent: absent.join('&') });
    if (oauth.get('oauth_version') !== undefined && oauth.get('oauth_version') !== '1.0') {
      return new Refusal(400, 'version_rejected');
    }
    if (oauth.get('oauth_consumer_key') !== this.options.consumerKey)
      return new Refusal(401, 'consumer_key_unknown');
    if (oauth.get('oauth_signature_method') !== 'HMAC-SHA1')
      return new Refusal(400, 'signature_method_rejected');

    const timestamp = Number(oauth.get('oauth_timestamp'));
    const nowSeconds = Math.floor(this.now().getTime() / 1000);
    if (!Number.isInteger(timestamp) || Math.abs(nowSeconds - timestamp) > TIMESTAMP_WINDOW_SECONDS) {
      return new Refusal(401, 'timestamp_refused', {
        oauth_acceptable_timestamps: `${nowSeconds - TIMESTAMP_WINDOW_SECONDS}-${nowSeconds + TIMESTAMP_WINDOW_SECONDS}`,
      });
    }

    const token = oauth.get('oauth_token');
    let tokenSecret = '';
    if (kind === 'request' || kind === 'access') {
      const secret =
        kind === 'request'
          ? this.requestTokens.get(token ?? '')?.secret
          : this.accessTokens.get(token ?? '')?.secret;
      if (secret === undefined) return new Refusal(401, 'token_rejected');
      tokenSecret = secret;
    }

    const signed = [
      ...query,
      ...form,
      ...header.filter(([name]) => name !== 'oauth_signature' && name !== 'realm'),
    ];
    const base = signatureBaseString(method, baseStringUri('http', host, path), signed);
    const expected = hmacSha1Signature(base, this.options.consumerSecret, tokenSecret);
    if (!signaturesEqual(expected, oauth.get('oauth_signature') ?? ''))
      return new Refusal(401, 'signature_invalid');

    const nonceKey = `${this.options.consumerKey}\n${oauth.get('oauth_nonce')}`;
    if (this.usedNonces.has(nonceKey)) return new Refusal(401, 'nonce_used');
    this.usedNonces.add(nonceKey);
    return { oauth, token };
  }

  private serve(
    method: string,
    path: string,
    query: readonly Parameter[],
    request: { oauth: ReadonlyMap<string, string>; token: string | undefined },
    accept: string,
    payload: { contentType: string; text: string },
  ): Answer | Refusal {
    const now = this.now();
    const formAnswer = (fields: Record<string, string>) => ({
      status: 200,
      contentType: 'application/x-www-form-urlencoded',
      body: formEncode(fields),
    });
    if (path === '/oauth/request_token') {
      const callback = request.oauth.get('oauth_callback');
      if (callback === undefined)
        return new Refusal(400, 'parameter_absent', { oauth_parameters_absent: 'oauth_callback' });
      if (callback !== 'oob')
        return new Refusal(400, 'parameter_rejected', { oauth_parameters_rejected: 'oauth_callback' });
      const token = randomToken();
      const secret = randomToken();
      this.requestTokens.set(token, {
        secret,
        expiresAt: new Date(now.getTime() + REQUEST_TOKEN_TTL_MS),
        verifier: undefined,
        exchanged: false,
      });
      return formAnswer({ oauth_token: token, oauth_token_secret: secret, oauth_callback_confirmed: 'true' });
    }
    if (path === '/oauth/access_token') {
      const record = this.requestTokens.get(request.token ?? '');
      if (record === undefined || record.exchanged) return new Refusal(401, 'token_used');
      if (now >= record.expiresAt) return new Refusal(401, 'token_expired');
      const verifier = request.oauth.get('oauth_verifier');
      if (verifier === undefined)
        return new Refusal(400, 'parameter_absent', { oauth_parameters_absent: 'oauth_verifier' });
      if (record.verifier === undefined || verifier !== record.verifier)
        return new Refusal(401, 'verifier_invalid');
      record.exchanged = true;
      const token = randomToken();
      const secret = randomToken();
      this.accessTokens.set(token, {
        secret,
        expiresAt: nextEasternMidnight(now),
        lastUsedAt: now,
        revoked: false,
      });
      return formAnswer({ oauth_token: token, oauth_token_secret: secret });
    }

    // Everything else is called with an access token.
    const record = this.accessTokens.get(request.token ?? '');
    if (record === undefined || record.revoked) return new Refusal(401, 'token_rejected');
    if (now >= record.expiresAt) return new Refusal(401, 'token_expired');
    if (path === '/oauth/renew_access_token') {
      record.lastUsedAt = now;
      return { status: 200, contentType: 'text/plain', body: 'Access Token has been renewed' };
    }
    if (path === '/oauth/revoke_access_token') {
      record.revoked = true;
      return { status: 200, contentType: 'text/plain', body: 'Revoked Access Token' };
    }
    if (this.refusingTokens) return new Refusal(401, 'token_rejected');
    if (now.getTime() - record.lastUsedAt.getTime() > IDLE_TIMEOUT_MS)
      return new Refusal(401, 'token_inactive');
    record.lastUsedAt = now;
    return this.api.answer(method, path, new Map(query), payload, accept, now);
  }

  private authorizePage(
    query: readonly Parameter[],
    send: (status: number, contentType: string, text: string) => void,
  ): void {
    const fields = new Map(query);
    const token = fields.get('token') ?? '';
    let verifier: string | undefined;
    if (fields.get('key') === this.options.consumerKey) {
      try {
        verifier = this.authorize(token);
      } catch {
        verifier = undefined;
      }
    }
    if (verifier === undefined) {
      send(400, 'text/html', page('<h1>Authorization failed</h1><p>The link is invalid or has expired.</p>'));
      return;
    }
    send(
      200,
      'text/html',
      page(
        `<h1>Authorize Arbion</h1><p>Enter this code in the application:</p><p><code id="verifier">${verifier}</code></p>`,
      ),
    );
  }
}

type Answer = FakeAnswer;

function tokenKindOf(path: string, method: string): TokenKind | undefined {
  if (path.startsWith('/v1/') && (method === 'GET' || method === 'POST' || method === 'PUT')) return 'access';
  if (method !== 'GET') return undefined;
  switch (path) {
    case '/oauth/request_token':
      return 'none';
    case '/oauth/access_token':
      return 'request';
    case '/oauth/renew_access_token':
    case '/oauth/revoke_access_token':
      return 'access';
    default:
      return undefined;
  }
}

/** Base64, like E*TRADE's tokens: '+', '/' and '=' exercise every encoding step. */
function randomToken(): string {
  return randomBytes(24).toString('base64');
}

function randomCode(length: number): string {
  const alphabet = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';
  return Array.from(randomBytes(length), (byte) => alphabet[byte % alphabet.length]).join('');
}

function formEncode(fields: Readonly<Record<string, string>>): string {
  return Object.entries(fields)
    .map(([name, value]) => `${percentEncode(name)}=${percentEncode(value)}`)
    .join('&');
}

function page(content: string): string {
  return `<!doctype html><html><head><title>E*TRADE (fake)</title></head><body>${content}</body></html>`;
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
