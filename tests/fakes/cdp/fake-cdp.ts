/**
 * A local stand-in for the Coinbase Developer Platform v2 wallet API, served under
 * `${origin}/platform` (the SDK's basePath) so the real `@coinbase/cdp-sdk` can be pointed at it:
 * EVM server accounts, smart accounts, hash and EIP-712 signing, token balances (under
 * /v2/evm/token-balances and /v2/data/evm/token-balances, which the SDK uses), swap prices and
 * quotes, and ERC-4337 user operations that really move the balances they touch.
 *
 * Authentication is enforced as CDP does it (auth.ts): a bearer JWT on every request and
 * X-Wallet-Auth on the calls the SDK signs with the wallet secret (POST/PUT/DELETE under
 * /v2/evm/accounts: create, sign, sign/typed-data). Smart-account and user-operation calls carry no
 * wallet token (the SDK sends none there); a user operation is authorised by the owner's signature
 * of its userOpHash instead. X-Idempotency-Key (a UUID v4) replays the first answer to the same
 * request and refuses (422 idempotency_error) a different request under the same key.
 *
 * Failure injection like the other fakes: `failNext` (optionally after processing, with a
 * Retry-After), `hangNext`, `dropNext` (a reset connection), `failNextUserOperation`, and a
 * settable clock `now`.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Hex } from 'viem';
import type { z } from 'zod';
import { listenOnLoopback } from '../listen.js';
import { CdpKeyAuth, requestHash, WalletAuth } from './auth.js';
import { apiKeyPublicKey, type CdpTestCredentials, walletPublicKey } from './credentials.js';
import { CdpHttpError, errorBody, errorTypeFor, invalidRequest, notFound } from './errors.js';
import { type FakeToken, Ledger, PERMIT2_ADDRESS } from './ledger.js';
import {
  accountName,
  address,
  createEvmAccountBody,
  createEvmSmartAccountBody,
  eip712MessageBody,
  prepareUserOperationBody,
  sendUserOperationBody,
  signEvmHashBody,
  swapPriceQuery,
  swapQuoteBody,
  TOKEN_BALANCE_NETWORKS,
  tokenBalancesQuery,
} from './schemas.js';
import { SwapDesk } from './swaps.js';
import { type FakeUserOperation, FakeWallet } from './wallet.js';

export { NATIVE_TOKEN, PERMIT2_ADDRESS } from './ledger.js';
export { SETTLER_ADDRESS } from './swaps.js';
export type { FakeToken, FakeUserOperation };

const BASE_PATH = '/platform';
/** Outside the platform basePath: the SDK looks up its paymaster token here (getBaseNodeRpcUrl). */
const ACTIVE_TOKEN_PATH = '/apikeys/v1/tokens/active';
const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;

export interface FakeCdpRequest {
  readonly method: string;
  /** The full path, without the query string. */
  readonly path: string;
  /** The status answered; 0 when the answer never came (hangNext). */
  readonly status: number;
  /** The API key named by the bearer JWT, when readable. */
  readonly kid: string | undefined;
  readonly auth: 'ok' | 'rejected';
  readonly walletAuth: 'ok' | 'rejected' | 'not-required';
  /** Why authentication failed, for 401s. */
  readonly problem?: string;
  readonly idempotencyKey?: string;
  /** True when the answer was the stored answer to an earlier request with the same key. */
  readonly replayed: boolean;
}

export interface FailureOptions {
  readonly method?: string;
  /** How many matching requests fail. Default 1. */
  readonly times?: number;
  /** Process the request first (its effects happen), then answer with the failure. */
  readonly afterProcessing?: boolean;
  /** Sent as the Retry-After header of the failure (seconds). */
  readonly retryAfter?: number;
}

interface Rule {
  readonly path: RegExp;
  readonly method: string | undefined;
  readonly afterProcessing: boolean;
  remaining: number;
  readonly status: number;
  readonly body: unknown;
  readonly retryAfter?: number;
}

interface StoredAnswer {
  readonly fingerprint: string;
  readonly status: number;
  readonly body: unknown;
}

export class FakeCdp {
  /** The fake's clock: JWT windows, quote deadlines, prepared-operation expiry. */
  now: () => Date = () => new Date();
  private readonly keys = new CdpKeyAuth();
  private readonly walletAuth: WalletAuth;
  private readonly ledger = new Ledger();
  private readonly desk: SwapDesk;
  private readonly wallet: FakeWallet;
  private readonly log: FakeCdpRequest[] = [];
  private readonly failures: Rule[] = [];
  private readonly hangs: Rule[] = [];
  /** Connections reset by `dropNext`, checked before anything else (even an idempotent replay). */
  private readonly drops: Rule[] = [];
  private readonly answers = new Map<string, StoredAnswer>();
  /** Elements listed as they are after a holder's balances (`listRawBalance`), by network|holder. */
  private readonly rawBalances = new Map<string, unknown[]>();

  private constructor(
    private readonly server: Server,
    readonly origin: string,
    credentials: CdpTestCredentials,
  ) {
    this.keys.addKey(credentials.apiKeyId, apiKeyPublicKey(credentials.apiKeySecret));
    this.keys.addKey(credentials.ecApiKeyId, apiKeyPublicKey(credentials.ecApiKeySecret));
    this.walletAuth = new WalletAuth(walletPublicKey(credentials.walletSecret));
    this.desk = new SwapDesk(this.ledger, () => this.wallet.blockNumber());
    this.wallet = new FakeWallet(this.ledger, this.desk, () => this.now());
  }

  /** Starts the fake with the project's credentials registered (both API keys and the wallet secret). */
  static async start(options: { readonly credentials: CdpTestCredentials }): Promise<FakeCdp> {
    let fake: FakeCdp | undefined;
    const server = createServer((request, response) => {
      fake?.handle(request, response).catch((error: unknown) => {
        if (!response.headersSent) {
          response
            .writeHead(500, { 'content-type': 'application/json' })
            .end(JSON.stringify(errorBody('internal_server_error', String(error))));
        }
      });
    });
    const port = await listenOnLoopback(server);
    fake = new FakeCdp(server, `http://127.0.0.1:${port}`, options.credentials);
    return fake;
  }

  /** What to pass as the SDK's `basePath`. */
  get basePath(): string {
    return `${this.origin}${BASE_PATH}`;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  // ------------------------------------------------------------------ credentials

  /** A deleted API key: its JWTs are refused from now on. */
  revokeKey(apiKeyId: string): void {
    this.keys.revokeKey(apiKeyId);
  }

  /** A rotated wallet secret: tokens signed with the old one are refused. */
  rotateWalletSecret(walletSecret: string): void {
    this.walletAuth.setKey(walletPublicKey(walletSecret));
  }

  /** The paymaster URL the SDK derives for `network` from the active-token lookup. */
  cdpPaymasterUrl(network: 'base' | 'base-sepolia', apiKeyId: string): string {
    return `${this.origin}/rpc/v1/${network}/${clientTokenId(apiKeyId)}`;
  }

  // ------------------------------------------------------------------ chain state

  /** Registers a token's metadata (symbol, decimals) on a network; native ETH is known already. */
  addToken(network: string, token: FakeToken): void {
    this.ledger.addToken(network, token);
  }

  /** Sets a holder's balance (atomic units, an integer string) and registers the token. */
  setBalance(network: string, holder: string, token: FakeToken, amount: string): void {
    this.ledger.addToken(network, token);
    this.ledger.setBalance(network, holder, token.contractAddress, BigInt(amount));
  }

  /**
   * Lists `element` as it is after the holder's balances on `network`, in every listing from now
   * on: how a test sends an element CDP's documentation does not allow (an amount that is null or
   * not an integer) and sees that the rest of the list is still read.
   */
  listRawBalance(network: string, holder: string, element: unknown): void {
    const key = `${network}|${holder.toLowerCase()}`;
    this.rawBalances.set(key, [...(this.rawBalances.get(key) ?? []), element]);
  }

  /** A holder's balance in atomic units. */
  balance(network: string, holder: string, token: string): string {
    return this.ledger.balance(network, holder, token).toString();
  }

  allowance(network: string, owner: string, token: string, spender: string = PERMIT2_ADDRESS): string {
    return this.ledger.allowance(network, owner, token, spender).toString();
  }

  setAllowance(
    network: string,
    owner: string,
    token: string,
    amount: string,
    spender: string = PERMIT2_ADDRESS,
  ): void {
    this.ledger.setAllowance(network, owner, token, spender, BigInt(amount));
  }

  /** 1 whole `fromToken` buys `rate` whole `toToken` (a decimal string); undefined removes the pair. */
  setRate(network: string, fromToken: string, toToken: string, rate: string | undefined): void {
    for (const token of [fromToken, toToken]) {
      // Decimals turn the rate into atomic amounts; an unknown token is a test mistake.
      if (this.ledger.token(network, token) === undefined) {
        throw new Error(`register ${token} on ${network} first (addToken or setBalance)`);
      }
    }
    this.desk.setRate(network, fromToken, toToken, rate);
  }

  /** Protocol fee on the swap output, in basis points (default 0). */
  setProtocolFeeBps(bps: number): void {
    this.desk.protocolFeeBps = bps;
  }

  /** How long a firm quote stays executable (default 120 s). */
  setQuoteLifetimeSeconds(seconds: number): void {
    this.desk.quoteLifetimeSeconds = seconds;
  }

  // ------------------------------------------------------------------ user operations

  /** Reads of a broadcast operation before it lands (default 1; 0 lands on send; Infinity waits for settle()). */
  get settleAfterPolls(): number {
    return this.wallet.settleAfterPolls;
  }

  set settleAfterPolls(polls: number) {
    this.wallet.settleAfterPolls = polls;
  }

  /** The next user operation to land fails (status `failed`, receipt revert message `reason`). */
  failNextUserOperation(reason: string): void {
    this.wallet.failNextUserOperation(reason);
  }

  /** Lands every broadcast operation now; resolves to how many landed. */
  settle(): Promise<number> {
    return this.wallet.settle();
  }

  userOperations(): FakeUserOperation[] {
    return this.wallet.userOperations();
  }

  /** Every request, in arrival order (no tokens kept). */
  requests(): FakeCdpRequest[] {
    return [...this.log];
  }

  // ------------------------------------------------------------------ failure injection

  /**
   * The next matching request(s) (path tested against the full path, e.g. `/platform/v2/evm/swaps`)
   * answer `status` with `body` (CDP's error JSON by default), after authentication.
   */
  failNext(path: RegExp, status: number, body?: unknown, options: FailureOptions = {}): void {
    this.failures.push({
      path,
      method: options.method,
      afterProcessing: options.afterProcessing ?? false,
      remaining: options.times ?? 1,
      status,
      body: body ?? errorBody(errorTypeFor(status), `injected failure (${status})`),
      ...(options.retryAfter === undefined ? {} : { retryAfter: options.retryAfter }),
    });
  }

  /**
   * The next matching request(s) have their connection reset: before anything is processed (not
   * even a replay of an idempotent request), or with `afterProcessing` once the request took
   * effect and its answer was stored under its idempotency key. Rules apply in the order given.
   */
  dropNext(path: RegExp, options: FailureOptions = {}): void {
    this.drops.push({
      path,
      method: options.method,
      afterProcessing: options.afterProcessing ?? false,
      remaining: options.times ?? 1,
      status: 0,
      body: undefined,
    });
  }

  /** The next matching request gets no answer at all (optionally after being processed). */
  hangNext(path: RegExp, options: Omit<FailureOptions, 'times'> = {}): void {
    this.hangs.push({
      path,
      method: options.method,
      afterProcessing: options.afterProcessing ?? false,
      remaining: 1,
      status: 0,
      body: undefined,
    });
  }

  // ------------------------------------------------------------------ request handling

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const method = request.method ?? 'GET';
    const url = new URL(request.url ?? '/', this.origin);
    const path = url.pathname;
    const host = request.headers.host ?? url.host;
    const raw = await readBody(request);
    const idempotencyKey = header(request, 'x-idempotency-key');
    const entry: {
      -readonly [K in keyof FakeCdpRequest]: FakeCdpRequest[K];
    } = {
      method,
      path,
      status: 0,
      kid: undefined,
      auth: 'rejected',
      walletAuth: 'not-required',
      replayed: false,
      ...(idempotencyKey === undefined ? {} : { idempotencyKey }),
    };
    const send = (status: number, body: unknown, retryAfter?: number) => {
      entry.status = status;
      this.log.push({ ...entry });
      response
        .writeHead(status, {
          'content-type': 'application/json',
          ...(retryAfter === undefined ? {} : { 'retry-after': String(retryAfter) }),
        })
        .end(JSON.stringify(body));
    };
    const hangUp = () => {
      entry.status = 0;
      this.log.push({ ...entry });
      // Never answered; close() ends the connection if the client has not given up.
    };
    const drop = take(this.drops, method, path);
    const reset = () => {
      entry.status = 0;
      this.log.push({ ...entry });
      request.socket.destroy();
    };
    if (drop !== undefined && !drop.afterProcessing) {
      reset();
      return;
    }

    // The SDK strips only "https://" from its basePath when signing the active-token lookup.
    const accepted = [`${method} ${host}${path}`];
    if (path === ACTIVE_TOKEN_PATH) accepted.push(`${method} http://${host}${path}`);
    const bearer = await this.keys.verify(request.headers.authorization, accepted, this.now());
    entry.kid = bearer.kid;
    if (!bearer.ok) {
      entry.problem = bearer.problem;
      send(401, errorBody('unauthorized', 'Unauthorized.'));
      return;
    }
    entry.auth = 'ok';

    let body: unknown;
    if (raw !== '') {
      try {
        body = JSON.parse(raw) as unknown;
      } catch {
        send(400, errorBody('invalid_request', 'request body is not JSON'));
        return;
      }
    }

    if (requiresWalletAuth(method, path)) {
      const outcome = await this.walletAuth.verify(
        header(request, 'x-wallet-auth'),
        { method, host, path },
        body ?? {},
        this.now(),
      );
      entry.walletAuth = outcome.ok ? 'ok' : 'rejected';
      if (!outcome.ok) {
        entry.problem = outcome.problem;
        send(401, errorBody('unauthorized', 'Wallet authentication error.'));
        return;
      }
    }

    // Keys are scoped to the API key, and only state-changing calls are deduplicated.
    const storeKey =
      idempotencyKey === undefined || method === 'GET' ? undefined : `${bearer.kid}|${idempotencyKey}`;
    const fingerprint = `${method} ${path} ${requestHash(body) ?? ''}`;
    if (storeKey !== undefined) {
      if (!UUID_V4.test(idempotencyKey ?? '')) {
        send(400, errorBody('invalid_request', 'X-Idempotency-Key must be a UUID v4'));
        return;
      }
      const stored = this.answers.get(storeKey);
      if (stored !== undefined) {
        if (stored.fingerprint !== fingerprint) {
          send(422, errorBody('idempotency_error', 'idempotency key was used for a different request'));
          return;
        }
        entry.replayed = true;
        send(stored.status, stored.body);
        return;
      }
    }

    const failure = take(this.failures, method, path);
    const hang = take(this.hangs, method, path);
    if (failure !== undefined && !failure.afterProcessing) {
      send(failure.status, failure.body, failure.retryAfter);
      return;
    }
    if (hang !== undefined && !hang.afterProcessing) {
      hangUp();
      return;
    }

    let status: number;
    let answer: unknown;
    try {
      ({ status, body: answer } = await this.route(method, path, url.searchParams, body, bearer.kid));
    } catch (error) {
      if (!(error instanceof CdpHttpError)) throw error;
      status = error.status;
      answer = error.body();
    }
    if (storeKey !== undefined) this.answers.set(storeKey, { fingerprint, status, body: answer });

    if (failure !== undefined) {
      send(failure.status, failure.body, failure.retryAfter);
      return;
    }
    if (hang !== undefined) {
      hangUp();
      return;
    }
    if (drop !== undefined) {
      reset();
      return;
    }
    send(status, answer);
  }

  private async route(
    method: string,
    fullPath: string,
    query: URLSearchParams,
    body: unknown,
    kid: string,
  ): Promise<Answer> {
    if (method === 'GET' && fullPath === ACTIVE_TOKEN_PATH) return ok({ id: clientTokenId(kid) });
    if (!fullPath.startsWith(`${BASE_PATH}/`)) throw notFound('API not found');
    const path = fullPath.slice(BASE_PATH.length);
    for (const [routeMethod, pattern, handler] of this.routes) {
      if (routeMethod !== method) continue;
      const match = pattern.exec(path);
      if (match !== null) return handler(match.slice(1).map(segment), body, query);
    }
    throw notFound('API not found');
  }

  /** METHOD, path under /platform, handler(path parameters, JSON body, query). */
  private readonly routes: readonly (readonly [
    string,
    RegExp,
    (params: string[], body: unknown, query: URLSearchParams) => Answer | Promise<Answer>,
  ])[] = [
    [
      'POST',
      /^\/v2\/evm\/accounts$/,
      (_, body) => created(this.wallet.createAccount(parse(createEvmAccountBody, body ?? {}))),
    ],
    [
      'GET',
      /^\/v2\/evm\/accounts\/by-name\/([^/]+)$/,
      ([name]) => ok(this.wallet.accountByName(parse(accountName, name))),
    ],
    [
      'POST',
      /^\/v2\/evm\/accounts\/([^/]+)\/sign\/typed-data$/,
      async ([account], body) =>
        ok(await this.wallet.signTypedData(parse(address, account), parse(eip712MessageBody, body))),
    ],
    [
      'POST',
      /^\/v2\/evm\/accounts\/([^/]+)\/sign$/,
      async ([account], body) =>
        ok(await this.wallet.signHash(parse(address, account), parse(signEvmHashBody, body).hash as Hex)),
    ],
    [
      'GET',
      /^\/v2\/evm\/accounts\/([^/]+)$/,
      ([account]) => ok(this.wallet.account(parse(address, account))),
    ],
    [
      'POST',
      /^\/v2\/evm\/smart-accounts$/,
      (_, body) => created(this.wallet.createSmartAccount(parse(createEvmSmartAccountBody, body))),
    ],
    [
      'GET',
      /^\/v2\/evm\/smart-accounts\/by-name\/([^/]+)$/,
      ([name]) => ok(this.wallet.smartAccountByName(parse(accountName, name))),
    ],
    [
      'POST',
      /^\/v2\/evm\/smart-accounts\/([^/]+)\/user-operations$/,
      ([account], body) =>
        created(
          this.wallet.prepareUserOperation(parse(address, account), parse(prepareUserOperationBody, body)),
        ),
    ],
    [
      'POST',
      /^\/v2\/evm\/smart-accounts\/([^/]+)\/user-operations\/(0x[0-9a-fA-F]{64})\/send$/,
      async ([account, hash = ''], body) =>
        ok(
          await this.wallet.sendUserOperation(
            parse(address, account),
            hash,
            parse(sendUserOperationBody, body),
          ),
        ),
    ],
    [
      'GET',
      /^\/v2\/evm\/smart-accounts\/([^/]+)\/user-operations\/(0x[0-9a-fA-F]{64})$/,
      async ([account, hash = '']) => ok(await this.wallet.getUserOperation(parse(address, account), hash)),
    ],
    [
      'GET',
      /^\/v2\/evm\/smart-accounts\/([^/]+)$/,
      ([account]) => ok(this.wallet.smartAccount(parse(address, account))),
    ],
    [
      'GET',
      // The SDK's listTokenBalances reads the onchain-data path; the wallet API path has the same shape.
      /^\/v2\/(?:data\/)?evm\/token-balances\/([^/]+)\/([^/]+)$/,
      ([network = '', holder], _, query) => ok(this.tokenBalances(network, parse(address, holder), query)),
    ],
    [
      'GET',
      /^\/v2\/evm\/swaps\/quote$/,
      (_, __, query) => ok(this.desk.price(parse(swapPriceQuery, Object.fromEntries(query)))),
    ],
    [
      'POST',
      /^\/v2\/evm\/swaps$/,
      (_, body) => created(this.desk.quote(parse(swapQuoteBody, body), this.now())),
    ],
  ];

  private tokenBalances(network: string, holder: string, query: URLSearchParams): Record<string, unknown> {
    if (!(TOKEN_BALANCE_NETWORKS as readonly string[]).includes(network)) {
      throw invalidRequest(`token balances are not available on ${network}`);
    }
    const { pageSize = 20, pageToken } = parse(tokenBalancesQuery, Object.fromEntries(query));
    const start = pageToken === undefined ? 0 : Number(Buffer.from(pageToken, 'base64url').toString());
    if (!Number.isInteger(start) || start < 0) throw invalidRequest('bad pageToken');
    const listed: unknown[] = [
      ...this.ledger.holdings(network, holder).map(({ token, amount }) => ({
        amount: { amount: amount.toString(), decimals: token.decimals },
        token: {
          network,
          ...(token.symbol === '' ? {} : { symbol: token.symbol }),
          ...(token.name === undefined ? {} : { name: token.name }),
          contractAddress: token.contractAddress,
        },
      })),
      ...(this.rawBalances.get(`${network}|${holder.toLowerCase()}`) ?? []),
    ];
    const page = listed.slice(start, start + pageSize);
    const next = start + pageSize;
    return {
      balances: page,
      ...(next < listed.length ? { nextPageToken: Buffer.from(String(next)).toString('base64url') } : {}),
    };
  }
}

// ------------------------------------------------------------------ helpers

interface Answer {
  readonly status: number;
  readonly body: unknown;
}

const ok = (body: unknown): Answer => ({ status: 200, body });
const created = (body: unknown): Answer => ({ status: 201, body });

/** The SDK's own rule (auth/utils/http.ts) for the endpoints this fake serves. */
function requiresWalletAuth(method: string, path: string): boolean {
  const walletEndpoint =
    /\/v2\/(evm|solana)\/accounts(\/|$)/.test(path) ||
    path.includes('/spend-permissions') ||
    path.includes('/user-operations/prepare-and-send');
  return walletEndpoint && (method === 'POST' || method === 'PUT' || method === 'DELETE');
}

/** The id the active-token lookup answers, stable per API key. */
function clientTokenId(apiKeyId: string): string {
  return createHash('sha256').update(`client-token|${apiKeyId}`).digest('hex').slice(0, 32);
}

function parse<S extends z.ZodType>(schema: S, value: unknown): z.infer<S> {
  const result = schema.safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw invalidRequest(`${issue?.path.join('.') || 'request'}: ${issue?.message ?? 'invalid'}`);
  }
  return result.data;
}

function segment(value: string | undefined): string {
  return decodeURIComponent(value ?? '');
}

function header(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function take(rules: Rule[], method: string, path: string): Rule | undefined {
  const rule = rules.find(
    (candidate) =>
      candidate.path.test(path) && (candidate.method === undefined || candidate.method === method),
  );
  if (rule === undefined) return undefined;
  rule.remaining -= 1;
  if (rule.remaining <= 0) rules.splice(rules.indexOf(rule), 1);
  return rule;
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
