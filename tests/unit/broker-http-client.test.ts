/**
 * The broker HTTP client's rules with plain values: when a request may be repeated, how long to
 * wait, and how each kind of answer becomes an error. The client is driven by a scripted `fetch`
 * (one answer per call) and an injected `sleep` that records the delays.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  BrokerHttpClient,
  type BrokerHttpOptions,
  type HttpMethod,
} from '../../src/brokers/http/broker-http-client.js';
import {
  BrokerAuthError,
  BrokerRateLimitedError,
  BrokerRequestRejectedError,
  BrokerUnexpectedAnswerError,
} from '../../src/brokers/http/errors.js';
import { retryAfterMs } from '../../src/brokers/http/retry-after.js';
import { isBreakerFailure, retryDelayMs, retryReason } from '../../src/brokers/http/retry-policy.js';
import { BrokerRejectedError, BrokerUnreachableError } from '../../src/core/brokers/broker.js';

type Script = (() => Response | Promise<Response>)[];

interface Sent {
  readonly method: string;
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly body: string | undefined;
}

const NOW = new Date('2026-03-02T15:00:00Z');

function client(script: Script, options: Partial<BrokerHttpOptions> = {}) {
  const sent: Sent[] = [];
  const sleeps: number[] = [];
  const authorized: string[] = [];
  let call = 0;
  const fetchImpl: typeof fetch = async (input, init) => {
    sent.push({
      method: init?.method ?? 'GET',
      url: String(input),
      headers: { ...(init?.headers as Record<string, string>) },
      body: typeof init?.body === 'string' ? init.body : undefined,
    });
    const next = script[call++];
    if (next === undefined) throw new Error('the script has no more answers');
    return next();
  };
  const http = new BrokerHttpClient({
    provider: 'schwab',
    baseUrl: 'https://broker.test/trader/v1/',
    rateLimits: { default: { limit: 1_000, intervalMs: 1_000 } },
    authorize: ({ method, url }) => {
      authorized.push(`${method} ${url.href}`);
      return { authorization: `Bearer token-${authorized.length}` };
    },
    describeError: (status, body) =>
      typeof body === 'object' && body !== null && 'message' in body
        ? String(body.message)
        : `HTTP ${status}`,
    errorCode: (_status, body) =>
      typeof body === 'object' && body !== null && 'code' in body ? String(body.code) : undefined,
    fetch: fetchImpl,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    now: () => NOW,
    ...options,
  });
  return { http, sent, sleeps, authorized };
}

const json =
  (status: number, body: unknown, headers: Record<string, string> = {}) =>
  () =>
    new Response(JSON.stringify(body), {
      status,
      headers: { 'content-type': 'application/json', ...headers },
    });
const empty = (status: number) => () => new Response(null, { status });
const reset = () => {
  throw new TypeError('fetch failed', {
    cause: Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }),
  });
};

const okSchema = z.object({ ok: z.literal(true) });

function call(http: BrokerHttpClient, method: HttpMethod, extra: { idempotent?: boolean } = {}) {
  return http.request({ method, path: '/orders', schema: okSchema, ...extra });
}

describe('retry policy (pure)', () => {
  it.each([
    [{ kind: 'response', status: 429, retryAfterMs: undefined }, false, 'rate_limited'],
    [{ kind: 'response', status: 429, retryAfterMs: 1000 }, true, 'rate_limited'],
    [{ kind: 'response', status: 503, retryAfterMs: undefined }, true, 'transient'],
    [{ kind: 'response', status: 503, retryAfterMs: undefined }, false, false],
    [{ kind: 'response', status: 500, retryAfterMs: undefined }, false, false],
    [{ kind: 'network', timedOut: true }, true, 'transient'],
    [{ kind: 'network', timedOut: true }, false, false],
    [{ kind: 'network', timedOut: false }, false, false],
    [{ kind: 'response', status: 400, retryAfterMs: undefined }, true, false],
    [{ kind: 'response', status: 401, retryAfterMs: undefined }, true, false],
  ] as const)('%o idempotent=%s -> %s', (outcome, idempotent, expected) => {
    expect(retryReason(outcome, idempotent)).toBe(expected);
  });

  it('waits what Retry-After says on 429 and 503, else the backoff', () => {
    expect(retryDelayMs({ kind: 'response', status: 429, retryAfterMs: 3000 }, 100)).toBe(3000);
    expect(retryDelayMs({ kind: 'response', status: 503, retryAfterMs: 0 }, 100)).toBe(0);
    expect(retryDelayMs({ kind: 'response', status: 500, retryAfterMs: 3000 }, 100)).toBe(100);
    expect(retryDelayMs({ kind: 'network', timedOut: false }, 100)).toBe(100);
  });

  it('counts network errors and 5xx toward the breaker, not refusals', () => {
    expect(isBreakerFailure({ kind: 'network', timedOut: false })).toBe(true);
    expect(isBreakerFailure({ kind: 'response', status: 502, retryAfterMs: undefined })).toBe(true);
    expect(isBreakerFailure({ kind: 'response', status: 429, retryAfterMs: undefined })).toBe(false);
    expect(isBreakerFailure({ kind: 'response', status: 404, retryAfterMs: undefined })).toBe(false);
  });

  it('reads Retry-After as seconds or an HTTP date', () => {
    expect(retryAfterMs(null, NOW)).toBeUndefined();
    expect(retryAfterMs('7', NOW)).toBe(7000);
    expect(retryAfterMs('Mon, 02 Mar 2026 15:00:12 GMT', NOW)).toBe(12_000);
    expect(retryAfterMs('Mon, 02 Mar 2026 14:00:00 GMT', NOW)).toBe(0);
    expect(retryAfterMs('soon', NOW)).toBeUndefined();
  });
});

describe('BrokerHttpClient', () => {
  it('builds the URL under the base path, repeats array parameters and signs every attempt', async () => {
    const { http, sent, authorized } = client([json(503, {}), json(200, { ok: true })]);
    await http.request({
      method: 'GET',
      path: '/orders/historical/batch',
      query: { product_ids: ['BTC-USD', 'ETH-USD'], order_status: 'OPEN', cursor: undefined },
      schema: okSchema,
    });
    const url =
      'https://broker.test/trader/v1/orders/historical/batch?product_ids=BTC-USD&product_ids=ETH-USD&order_status=OPEN';
    expect(sent.map((request) => request.url)).toEqual([url, url]);
    expect(authorized).toEqual([`GET ${url}`, `GET ${url}`]);
    expect(sent.map((request) => request.headers.authorization)).toEqual([
      'Bearer token-1',
      'Bearer token-2',
    ]);
  });

  it('sends bodies as JSON and returns status, headers and the parsed body', async () => {
    const { http, sent } = client([
      () => new Response(null, { status: 201, headers: { location: 'https://broker.test/orders/42' } }),
    ]);
    const response = await http.request({
      method: 'POST',
      path: '/orders',
      body: { qty: '1' },
      schema: z.undefined(),
    });
    expect(response.status).toBe(201);
    expect(response.headers.get('location')).toBe('https://broker.test/orders/42');
    expect(sent[0]?.body).toBe('{"qty":"1"}');
    expect(sent[0]?.headers['content-type']).toBe('application/json');
  });

  it.each(['POST', 'DELETE', 'PATCH'] as const)(
    'never repeats a %s after a reset, a timeout or a 5xx',
    async (method) => {
      for (const failure of [
        reset,
        json(502, { message: 'bad gateway' }),
        json(503, {}, { 'retry-after': '1' }),
      ]) {
        const { http, sent, sleeps } = client([failure, json(200, { ok: true })]);
        await expect(call(http, method)).rejects.toBeInstanceOf(BrokerUnreachableError);
        expect(sent).toHaveLength(1);
        expect(sleeps).toEqual([]);
      }
    },
  );

  it('repeats a write the broker documents as idempotent', async () => {
    const { http, sent } = client([reset, json(500, {}), json(200, { ok: true })]);
    await call(http, 'PUT', { idempotent: true });
    expect(sent).toHaveLength(3);
  });

  it('gives a GET up after maxAttempts with an unknown-outcome error', async () => {
    const { http, sent, sleeps } = client([reset, reset, reset, json(200, { ok: true })], {
      retry: { maxAttempts: 3, baseDelayMs: 200, maxDelayMs: 800 },
    });
    const error = await call(http, 'GET').catch((caught) => caught);
    expect(error).toBeInstanceOf(BrokerUnreachableError);
    expect(error.message).toBe('Schwab could not be reached for GET /orders');
    expect(sent).toHaveLength(3);
    expect(sleeps).toHaveLength(2);
    for (const delay of sleeps) {
      expect(delay).toBeGreaterThanOrEqual(0);
      expect(delay).toBeLessThanOrEqual(800);
    }
  });

  it('honours an HTTP-date Retry-After on 503 for a GET', async () => {
    const { http, sleeps } = client([
      json(503, {}, { 'retry-after': 'Mon, 02 Mar 2026 15:00:04 GMT' }),
      json(200, { ok: true }),
    ]);
    await call(http, 'GET');
    expect(sleeps).toEqual([4000]);
  });

  it('repeats a POST after 429 (not processed), within its own budget', async () => {
    const tooMany = json(429, { message: 'slow down' }, { 'retry-after': '2' });
    const { http, sent, sleeps } = client(Array(6).fill(tooMany), {
      retry: { maxAttempts: 1, baseDelayMs: 10, maxDelayMs: 10, maxRateLimitedAttempts: 4 },
    });
    const error = await call(http, 'POST').catch((caught) => caught);
    expect(error).toBeInstanceOf(BrokerRateLimitedError);
    expect(error).toBeInstanceOf(BrokerRejectedError);
    expect(sent).toHaveLength(4);
    expect(sleeps).toEqual([2000, 2000, 2000]);
  });

  it('gives up at once when Retry-After asks for longer than maxRetryAfterMs', async () => {
    const { http, sent, sleeps } = client([
      json(429, {}, { 'retry-after': '3600' }),
      json(200, { ok: true }),
    ]);
    await expect(call(http, 'POST')).rejects.toBeInstanceOf(BrokerRateLimitedError);
    expect(sent).toHaveLength(1);
    expect(sleeps).toEqual([]);
  });

  it('turns 401 into BrokerAuthError and other 4xx into rejections with the broker text and code', async () => {
    const { http } = client([
      json(401, { message: 'token expired' }),
      json(400, { code: 'E12', message: 'bad qty' }),
    ]);
    const auth = await call(http, 'GET').catch((caught) => caught);
    expect(auth).toBeInstanceOf(BrokerAuthError);
    expect(auth).toMatchObject({ reason: 'token expired', status: 401 });
    const rejected = await call(http, 'POST').catch((caught) => caught);
    expect(rejected).toBeInstanceOf(BrokerRequestRejectedError);
    expect(rejected).not.toBeInstanceOf(BrokerAuthError);
    expect(rejected).toMatchObject({ reason: 'bad qty', code: 'E12', status: 400 });
  });

  it('treats a body that fails its schema as "unexpected" for a GET and "unknown outcome" for a write', async () => {
    const { http, sent } = client([
      json(200, { ok: 'yes' }),
      json(200, { ok: 'yes' }),
      () => new Response('<html>'),
    ]);
    await expect(call(http, 'GET')).rejects.toBeInstanceOf(BrokerUnexpectedAnswerError);
    const write = await call(http, 'POST').catch((caught) => caught);
    expect(write).toBeInstanceOf(BrokerUnreachableError);
    await expect(call(http, 'GET')).rejects.toBeInstanceOf(BrokerUnexpectedAnswerError);
    expect(sent).toHaveLength(3);
  });

  it('treats an unexpected redirect like an answer it does not understand', async () => {
    const { http } = client([empty(302), empty(302)]);
    await expect(call(http, 'GET')).rejects.toBeInstanceOf(BrokerUnexpectedAnswerError);
    await expect(call(http, 'POST')).rejects.toBeInstanceOf(BrokerUnreachableError);
  });

  it('reports health from consecutive failures and the circuit', async () => {
    const { http } = client([reset, json(500, {}), json(200, { ok: true })], {
      retry: { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1 },
      breaker: { consecutiveFailures: 3, halfOpenAfterMs: 30_000 },
    });
    expect(http.health()).toEqual({ status: 'healthy', circuit: 'closed', consecutiveFailures: 0 });
    await expect(call(http, 'GET')).rejects.toBeInstanceOf(BrokerUnreachableError);
    await expect(call(http, 'GET')).rejects.toBeInstanceOf(BrokerUnreachableError);
    expect(http.health()).toEqual({
      status: 'degraded',
      circuit: 'closed',
      consecutiveFailures: 2,
      lastFailureAt: NOW,
      lastError: 'HTTP 500',
    });
    await call(http, 'GET');
    expect(http.health()).toMatchObject({ status: 'healthy', consecutiveFailures: 0, lastSuccessAt: NOW });
  });
});
