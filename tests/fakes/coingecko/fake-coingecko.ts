/**
 * A local stand-in for CoinGecko's `/api/v3/simple/price`, close enough to the real API that the
 * provider cannot tell: key headers enforced, CoinGecko-style error bodies, unknown ids left out,
 * JSON numbers for prices. Tests set prices, inject faults (429 with retry-after, 5xx, latency) and
 * read the request log.
 */
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { listenOnLoopback } from '../listen.js';

export interface FakeCoin {
  readonly usd: number;
  /** Percent, reported as `usd_24h_change`. */
  readonly change24h?: number;
  /** Unix seconds, reported as `last_updated_at`. */
  readonly lastUpdatedAt?: number;
}

export interface FakeCoinGeckoOptions {
  /** When set, requests must carry this key in the plan's header. */
  readonly apiKey?: string;
  readonly plan?: 'demo' | 'pro';
  readonly coins?: Readonly<Record<string, number | FakeCoin>>;
}

/** A canned failure for the next requests. */
export interface FakeFault {
  readonly status: number;
  /** Sent as `retry-after` (seconds). */
  readonly retryAfterSeconds?: number;
  /** Raw body; defaults to CoinGecko's error shape for the status. */
  readonly body?: string;
}

export interface FakeRequestRecord {
  readonly method: string;
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  readonly headers: IncomingHttpHeaders;
  readonly status: number;
  /** `performance.now()` when the request arrived. */
  readonly receivedAt: number;
}

const RATE_LIMIT_MESSAGE =
  "You've exceeded the Rate Limit. Please visit https://www.coingecko.com/en/api/pricing to subscribe to our API plans for higher rate limits.";

export class FakeCoinGecko {
  /** Every request in arrival order, for assertions. */
  readonly requests: FakeRequestRecord[] = [];
  /** Added before every answer. */
  latencyMs = 0;
  private readonly coins = new Map<string, FakeCoin>();
  private readonly faults: FakeFault[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();

  private constructor(
    private readonly server: Server,
    private readonly options: FakeCoinGeckoOptions,
  ) {
    for (const [id, coin] of Object.entries(options.coins ?? {})) this.setCoin(id, coin);
  }

  static async start(options: FakeCoinGeckoOptions = {}): Promise<FakeCoinGecko> {
    let fake: FakeCoinGecko | undefined;
    const server = createServer((request, response) => {
      fake?.handle(request.method ?? 'GET', request.url ?? '/', request.headers, response);
    });
    fake = new FakeCoinGecko(server, options);
    await listenOnLoopback(server);
    return fake;
  }

  /** API root as the provider expects it: `http://127.0.0.1:<port>/api/v3`. */
  get baseUrl(): string {
    const address = this.server.address() as AddressInfo;
    return `http://127.0.0.1:${address.port}/api/v3`;
  }

  /** Requests to the price endpoint only. */
  get priceRequests(): FakeRequestRecord[] {
    return this.requests.filter((request) => request.path === '/api/v3/simple/price');
  }

  setCoin(id: string, coin: number | FakeCoin): void {
    this.coins.set(id, typeof coin === 'number' ? { usd: coin } : coin);
  }

  removeCoin(id: string): void {
    this.coins.delete(id);
  }

  /** The next `count` requests fail with `fault`. */
  failNext(count: number, fault: FakeFault): void {
    for (let i = 0; i < count; i += 1) this.faults.push(fault);
  }

  clearFaults(): void {
    this.faults.length = 0;
  }

  async close(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(
    method: string,
    rawUrl: string,
    headers: IncomingHttpHeaders,
    response: ServerResponse,
  ): void {
    const url = new URL(rawUrl, 'http://127.0.0.1');
    const query = Object.fromEntries(url.searchParams.entries());
    const answer = (status: number, body: unknown, extraHeaders: Record<string, string> = {}) => {
      this.requests.push({
        method,
        path: url.pathname,
        query,
        headers,
        status,
        receivedAt: performance.now(),
      });
      const send = () => {
        if (response.destroyed) return;
        response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...extraHeaders });
        response.end(typeof body === 'string' ? body : JSON.stringify(body));
      };
      if (this.latencyMs <= 0) {
        send();
        return;
      }
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        send();
      }, this.latencyMs);
      this.timers.add(timer);
    };

    const fault = this.faults.shift();
    if (fault) {
      const headersOut: Record<string, string> =
        fault.retryAfterSeconds === undefined ? {} : { 'retry-after': String(fault.retryAfterSeconds) };
      const message = fault.status === 429 ? RATE_LIMIT_MESSAGE : 'Internal Server Error';
      answer(fault.status, fault.body ?? errorBody(fault.status, message), headersOut);
      return;
    }

    if (method !== 'GET' || url.pathname !== '/api/v3/simple/price') {
      answer(404, { error: 'Not Found' });
      return;
    }

    const denied = this.checkKey(headers);
    if (denied) {
      answer(401, denied);
      return;
    }

    const ids = url.searchParams.get('ids');
    const currencies = url.searchParams.get('vs_currencies');
    if (!ids) {
      answer(400, errorBody(400, 'Missing parameter ids'));
      return;
    }
    if (!currencies) {
      answer(400, errorBody(400, 'Missing parameter vs_currencies'));
      return;
    }
    const wantsUsd = currencies
      .split(',')
      .map((currency) => currency.trim().toLowerCase())
      .includes('usd');
    const withChange = url.searchParams.get('include_24hr_change') === 'true';
    const withUpdated = url.searchParams.get('include_last_updated_at') === 'true';
    const result: Record<string, Record<string, number>> = {};
    for (const id of ids.split(',').map((value) => value.trim().toLowerCase())) {
      const coin = this.coins.get(id);
      if (!coin) continue; // Like the real API: unknown ids are simply absent.
      const entry: Record<string, number> = {};
      if (wantsUsd) {
        entry['usd'] = coin.usd;
        if (withChange) entry['usd_24h_change'] = coin.change24h ?? 0;
      }
      if (withUpdated) entry['last_updated_at'] = coin.lastUpdatedAt ?? Math.floor(Date.now() / 1000);
      result[id] = entry;
    }
    answer(200, result);
  }

  /** CoinGecko's answers for a missing (10002) or wrong (10010/10011) key, or undefined when fine. */
  private checkKey(headers: IncomingHttpHeaders): unknown {
    const expected = this.options.apiKey;
    if (expected === undefined) return undefined;
    const plan = this.options.plan ?? 'demo';
    const own = headers[`x-cg-${plan}-api-key`];
    const other = headers[`x-cg-${plan === 'demo' ? 'pro' : 'demo'}-api-key`];
    if (own === undefined && other === undefined) {
      return errorBody(10002, `API Key Missing: the ${plan} API requires the x-cg-${plan}-api-key header`);
    }
    if (own === expected) return undefined;
    if (own === undefined) {
      return plan === 'demo'
        ? errorBody(
            10011,
            'Invalid API Key: if you are using a Demo API key, your root URL must be api.coingecko.com',
          )
        : errorBody(
            10010,
            'Invalid API Key: if you are using a Pro API key, your root URL must be pro-api.coingecko.com',
          );
    }
    return errorBody(10002, 'Invalid API Key');
  }
}

function errorBody(code: number, message: string): { status: { error_code: number; error_message: string } } {
  return { status: { error_code: code, error_message: message } };
}
