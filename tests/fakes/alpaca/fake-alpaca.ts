/**
 * A local stand-in for Alpaca's trading API, as far as linking needs it: `GET /v2/account` with
 * Alpaca's key headers enforced (both required, the pair must be registered for this host) and
 * Alpaca's error shape. The stock-broker issue grows it into orders and positions.
 */
import { createServer, type Server } from 'node:http';
import { listenOnLoopback } from '../listen.js';

export interface FakeAlpacaKey {
  readonly keyId: string;
  readonly secretKey: string;
  readonly accountNumber: string;
}

export class FakeAlpaca {
  /** Key ids seen on requests, in order (secrets are not kept). */
  readonly requests: {
    readonly path: string;
    readonly keyId: string | undefined;
    readonly status: number;
  }[] = [];
  private readonly keys = new Map<string, FakeAlpacaKey>();

  private constructor(
    private readonly server: Server,
    readonly baseUrl: string,
  ) {}

  static async start(keys: readonly FakeAlpacaKey[] = []): Promise<FakeAlpaca> {
    let fake: FakeAlpaca | undefined;
    const server = createServer((request, response) => {
      fake?.handle(request.method ?? 'GET', request.url ?? '/', request.headers, response);
    });
    const port = await listenOnLoopback(server);
    fake = new FakeAlpaca(server, `http://127.0.0.1:${port}`);
    for (const key of keys) fake.addKey(key);
    return fake;
  }

  addKey(key: FakeAlpacaKey): void {
    this.keys.set(key.keyId, key);
  }

  /** Keys deleted in the dashboard stop working at once. */
  revokeKey(keyId: string): void {
    this.keys.delete(keyId);
  }

  private handle(
    method: string,
    url: string,
    headers: Record<string, string | string[] | undefined>,
    response: import('node:http').ServerResponse,
  ): void {
    const path = new URL(url, 'http://fake').pathname;
    const keyId = typeof headers['apca-api-key-id'] === 'string' ? headers['apca-api-key-id'] : undefined;
    const secret =
      typeof headers['apca-api-secret-key'] === 'string' ? headers['apca-api-secret-key'] : undefined;
    const send = (status: number, body: unknown) => {
      this.requests.push({ path, keyId, status });
      response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    };
    const key = keyId === undefined ? undefined : this.keys.get(keyId);
    if (key === undefined || secret === undefined || key.secretKey !== secret) {
      send(401, { code: 40110000, message: 'request is not authorized' });
      return;
    }
    if (method === 'GET' && path === '/v2/account') {
      send(200, {
        id: `acct-${key.accountNumber}`,
        account_number: key.accountNumber,
        status: 'ACTIVE',
        currency: 'USD',
        cash: '100000',
        buying_power: '200000',
        equity: '100000',
        pattern_day_trader: false,
        trading_blocked: false,
      });
      return;
    }
    send(404, { code: 40410000, message: 'endpoint not found' });
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
