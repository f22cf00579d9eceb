/**
 * A local stand-in for Coinbase Advanced Trade, as far as linking needs it: `GET
 * /api/v3/brokerage/accounts` behind CDP key JWTs, verified the way Coinbase documents them:
 * signature by the registered key (kid), `iss: cdp`, `sub` = the key name, `uri` = "METHOD
 * host/path" of this very request, and a lifetime of at most 120 s around the fake's clock.
 * The crypto issue grows it into orders and products.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { decodeProtectedHeader, jwtVerify } from 'jose';
import { listenOnLoopback } from '../listen.js';

export class FakeCoinbase {
  readonly requests: {
    readonly path: string;
    readonly kid: string | undefined;
    readonly status: number;
    readonly problem?: string;
  }[] = [];
  private readonly keys = new Map<string, KeyObject>();
  /** The fake's clock, for expiry tests. */
  now: () => Date = () => new Date();

  private constructor(
    private readonly server: Server,
    readonly baseUrl: string,
  ) {}

  static async start(): Promise<FakeCoinbase> {
    let fake: FakeCoinbase | undefined;
    const server = createServer((request, response) => {
      void fake?.handle(request, response);
    });
    const port = await listenOnLoopback(server);
    fake = new FakeCoinbase(server, `http://127.0.0.1:${port}`);
    return fake;
  }

  /** Registers a key by name with its public half (derived from the private key given). */
  addKey(name: string, privateKey: KeyObject): void {
    this.keys.set(name, createPublicKey(privateKey));
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', this.baseUrl);
    const send = (status: number, body: unknown, kid?: string, problem?: string) => {
      this.requests.push({ path: url.pathname, kid, status, ...(problem ? { problem } : {}) });
      response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    };
    const unauthorized = (kid: string | undefined, problem: string) =>
      send(401, { error: 'UNAUTHENTICATED', message: 'Unauthorized' }, kid, problem);
    const header = request.headers.authorization;
    if (header === undefined || !header.startsWith('Bearer '))
      return unauthorized(undefined, 'no bearer token');
    const token = header.slice('Bearer '.length);
    let kid: string | undefined;
    try {
      kid = decodeProtectedHeader(token).kid;
    } catch {
      return unauthorized(undefined, 'not a JWT');
    }
    const key = kid === undefined ? undefined : this.keys.get(kid);
    if (key === undefined) return unauthorized(kid, 'unknown kid');
    try {
      const now = Math.floor(this.now().getTime() / 1000);
      const { payload } = await jwtVerify(token, key, {
        issuer: 'cdp',
        subject: kid,
        algorithms: ['ES256', 'EdDSA'],
        currentDate: this.now(),
        requiredClaims: ['exp', 'nbf', 'uri'],
      });
      if ((payload.exp ?? 0) - (payload.nbf ?? 0) > 120 || (payload.nbf ?? 0) > now + 5) {
        return unauthorized(kid, 'lifetime');
      }
      const expected = `${request.method} ${url.host}${url.pathname}`;
      if (payload.uri !== expected) return unauthorized(kid, `uri ${String(payload.uri)} != ${expected}`);
    } catch (error) {
      return unauthorized(kid, (error as Error).message);
    }
    if (request.method === 'GET' && url.pathname === '/api/v3/brokerage/accounts') {
      return send(
        200,
        {
          accounts: [
            {
              uuid: '8bfc20d7-f7c6-4422-bf07-8243ca4169fe',
              name: 'BTC Wallet',
              currency: 'BTC',
              available_balance: { value: '0.01', currency: 'BTC' },
              hold: { value: '0', currency: 'BTC' },
            },
          ],
          has_next: false,
          cursor: '',
          size: 1,
        },
        kid,
      );
    }
    return send(404, { error: 'NOT_FOUND', message: 'Not Found' }, kid);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
