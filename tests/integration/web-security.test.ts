import { Writable } from 'node:stream';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type LightMyRequestResponse } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { ArbionError } from '../../src/core/errors.js';
import { createLogger } from '../../src/core/logging/logger.js';
import {
  csrfTokenFor,
  type SecurityOptions,
  securityPlugin,
  strictRateLimit,
} from '../../web-linking/plugins/security.js';
import { renderPage, viewsPlugin } from '../../web-linking/plugins/views.js';

const SCHWAB_AUTHORIZE = 'https://api.schwabapi.com/v1/oauth/authorize?client_id=abc';
const EXPECTED_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "form-action 'self' https://api.schwabapi.com https://us.etrade.com",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "object-src 'none'",
].join(';');

class AlreadyUnlinkedError extends ArbionError {
  readonly code = 'already_unlinked';
  readonly statusCode = 409;
  constructor() {
    super('connection c-1 gone; vault key SECRET123', 'That connection was already unlinked.');
  }
}

class InternalArbionError extends ArbionError {
  readonly code = 'internal';
  constructor() {
    super('vault failed with SECRET123', 'Vault said SECRET123');
  }
}

interface Site {
  app: FastifyInstance;
  /** How many times a state-changing handler ran. */
  changes: () => number;
  logs: () => string;
}

let current: FastifyInstance | undefined;

afterEach(async () => {
  await current?.close();
  current = undefined;
});

async function startSite(options: Partial<SecurityOptions> = {}): Promise<Site> {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, callback) {
      lines.push(String(chunk));
      callback();
    },
  });
  const logger = createLogger({ level: 'info', format: 'json', secretValues: [], destination });
  const app = Fastify({ loggerInstance: logger as FastifyBaseLogger, genReqId: () => crypto.randomUUID() });
  current = app;
  let changes = 0;
  await app.register(viewsPlugin);
  await app.register(securityPlugin, {
    secure: false,
    formActionOrigins: [
      SCHWAB_AUTHORIZE,
      'https://us.etrade.com/e/t/etws/authorize',
      'https://us.etrade.com',
    ],
    ...options,
  });
  app.get('/form', async (_request, reply) =>
    renderPage(reply, 'notice', {
      viewer: {
        displayName: 'Alice',
        platform: 'web',
        sessionExpiresAt: new Date(Date.now() + 3_600_000).toISOString(),
      },
      title: 'Form',
      message: 'A page with the sign-out form',
      tone: 'info',
      csrfToken: csrfTokenFor(reply),
    }),
  );
  app.post('/change', async () => {
    changes += 1;
    return { changed: true };
  });
  app.post('/webhook', { config: { csrf: false } }, async () => ({ accepted: true }));
  app.get('/session', async (_request, reply) => reply.setCookie('arbion_session', 'opaque').send('ok'));
  app.get('/boom', async () => {
    throw new Error('database password SECRET123 leaked into a message');
  });
  app.get('/gone', async () => {
    throw new AlreadyUnlinkedError();
  });
  app.get('/internal', async () => {
    throw new InternalArbionError();
  });
  app.get('/link/:token', { config: { rateLimit: strictRateLimit } }, async () => 'ok');
  await app.ready();
  return { app, changes: () => changes, logs: () => lines.join('') };
}

/** The CSRF cookie and a matching token, as a browser would hold them after GET /form. */
async function formSession(app: FastifyInstance): Promise<{ cookie: string; token: string }> {
  const page = await app.inject({ method: 'GET', url: '/form' });
  expect(page.statusCode).toBe(200);
  const csrfCookie = page.cookies.find((cookie) => cookie.name.endsWith('arbion_csrf'));
  expect(csrfCookie).toBeDefined();
  const token = /name="_csrf" value="([^"]+)"/.exec(page.body)?.[1];
  expect(token).toBeDefined();
  return { cookie: `${csrfCookie?.name}=${csrfCookie?.value}`, token: token ?? '' };
}

function expectFriendlyPage(response: LightMyRequestResponse, status: number): void {
  expect(response.statusCode).toBe(status);
  expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
  expect(response.headers['cache-control']).toBe('no-store');
  expect(response.body).toContain('<!doctype html>');
  expect(response.body).toMatch(/Reference <code[^>]*>[0-9a-f-]{36}<\/code>/);
  expect(response.body).not.toMatch(/\n\s+at .+:\d+:\d+/); // no stack frames
}

describe('linking site security headers', () => {
  it('sends a strict CSP, no referrer and no framing on pages, 404s and errors', async () => {
    const { app } = await startSite();
    for (const url of ['/form', '/nowhere', '/boom', '/static/nothing.css']) {
      const response = await app.inject({ method: 'GET', url });
      expect(response.headers['content-security-policy'], url).toBe(EXPECTED_CSP);
      expect(response.headers['referrer-policy'], url).toBe('no-referrer');
      expect(response.headers['x-frame-options'], url).toBe('DENY');
      expect(response.headers['x-content-type-options'], url).toBe('nosniff');
      expect(response.headers['strict-transport-security'], url).toBeUndefined();
    }
  });

  it('adds HSTS only when the site is served over https', async () => {
    const { app } = await startSite({ secure: true });
    const response = await app.inject({ method: 'GET', url: '/form' });
    expect(response.headers['strict-transport-security']).toBe('max-age=31536000; includeSubDomains');
  });

  it('refuses form-action origins that are not https', async () => {
    await expect(startSite({ formActionOrigins: ['http://evil.example'] })).rejects.toThrow(/https/);
    await expect(startSite({ formActionOrigins: ['javascript:alert(1)'] })).rejects.toThrow();
  });
});

describe('linking site CSRF protection', () => {
  it('accepts a POST with the page token and its cookie', async () => {
    const { app, changes } = await startSite();
    const { cookie, token } = await formSession(app);
    const response = await app.inject({
      method: 'POST',
      url: '/change',
      headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
      payload: `_csrf=${encodeURIComponent(token)}`,
    });
    expect(response.statusCode).toBe(200);
    expect(changes()).toBe(1);
  });

  it.each([
    ['no token', (_token: string) => ''],
    ['a wrong token', (_token: string) => '_csrf=forged-token'],
    [
      'a token twice',
      (token: string) => `_csrf=${encodeURIComponent(token)}&_csrf=${encodeURIComponent(token)}`,
    ],
  ])('refuses a POST with %s with the expired-form page and changes nothing', async (_name, body) => {
    const { app, changes } = await startSite();
    const { cookie, token } = await formSession(app);
    const response = await app.inject({
      method: 'POST',
      url: '/change',
      headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
      payload: body(token),
    });
    expectFriendlyPage(response, 403);
    expect(response.body).toContain('This form has expired. Reload the page and try again.');
    expect(changes()).toBe(0);
  });

  it('refuses a valid token without its cookie (a cross-site form) and a token from another browser', async () => {
    const { app, changes } = await startSite();
    const mine = await formSession(app);
    const theirs = await formSession(app);
    for (const cookie of [undefined, theirs.cookie]) {
      const response = await app.inject({
        method: 'POST',
        url: '/change',
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...(cookie ? { cookie } : {}) },
        payload: `_csrf=${encodeURIComponent(mine.token)}`,
      });
      expectFriendlyPage(response, 403);
    }
    expect(changes()).toBe(0);
  });

  it('lets a route that proves itself another way opt out', async () => {
    const { app } = await startSite();
    const response = await app.inject({ method: 'POST', url: '/webhook', payload: { hello: 'world' } });
    expect(response.statusCode).toBe(200);
  });

  it('never logs the token or the secret cookie', async () => {
    const { app, logs } = await startSite();
    const { cookie, token } = await formSession(app);
    await app.inject({
      method: 'POST',
      url: '/change',
      headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
      payload: `_csrf=${encodeURIComponent(token)}x`,
    });
    expect(logs()).toContain('request refused');
    expect(logs()).not.toContain(token);
    expect(logs()).not.toContain(cookie.split('=')[1]);
  });
});

describe('linking site cookies', () => {
  it('sets httpOnly, SameSite=Lax, path=/ and no Secure over http', async () => {
    const { app } = await startSite({ secure: false });
    const page = await app.inject({ method: 'GET', url: '/form' });
    const session = await app.inject({ method: 'GET', url: '/session' });
    const cookies = [...page.cookies, ...session.cookies];
    expect(cookies.map((cookie) => cookie.name).sort()).toEqual(['arbion_csrf', 'arbion_session']);
    for (const cookie of cookies) {
      expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Lax', path: '/' });
      expect(cookie.secure).toBeUndefined();
    }
  });

  it('adds Secure and the __Host- prefix under https', async () => {
    const { app } = await startSite({ secure: true });
    const page = await app.inject({ method: 'GET', url: '/form' });
    const session = await app.inject({ method: 'GET', url: '/session' });
    expect(page.cookies).toEqual([
      expect.objectContaining({
        name: '__Host-arbion_csrf',
        httpOnly: true,
        sameSite: 'Lax',
        path: '/',
        secure: true,
      }),
    ]);
    expect(page.cookies[0]?.domain).toBeUndefined();
    expect(session.cookies).toEqual([
      expect.objectContaining({
        name: 'arbion_session',
        httpOnly: true,
        sameSite: 'Lax',
        path: '/',
        secure: true,
      }),
    ]);
  });
});

describe('linking site error pages', () => {
  it('answers an unknown page with a friendly 404', async () => {
    const { app } = await startSite();
    const response = await app.inject({ method: 'GET', url: '/connections/<script>alert(1)</script>' });
    expectFriendlyPage(response, 404);
    expect(response.body).toContain('Page not found');
    expect(response.body).not.toContain('<script>alert(1)');
  });

  it('shows nothing of an unexpected error, but logs it under the reference', async () => {
    const { app, logs } = await startSite();
    const response = await app.inject({ method: 'GET', url: '/boom' });
    expectFriendlyPage(response, 500);
    expect(response.body).not.toContain('SECRET123');
    expect(response.body).not.toContain('database password');
    expect(response.body).toContain('Something went wrong on our side. Nothing was changed.');
    const reference = /Reference <code[^>]*>([0-9a-f-]{36})<\/code>/.exec(response.body)?.[1] ?? 'missing';
    const logged = logs()
      .split('\n')
      .filter((line) => line.includes('"request failed"'))
      .map((line) => JSON.parse(line) as { reqId?: string });
    expect(logged.map((entry) => entry.reqId)).toEqual([reference]);
  });

  it("shows an ArbionError's user message for a 4xx, never its internal message", async () => {
    const { app } = await startSite();
    const response = await app.inject({ method: 'GET', url: '/gone' });
    expectFriendlyPage(response, 409);
    expect(response.body).toContain('That connection was already unlinked.');
    expect(response.body).not.toContain('SECRET123');
  });

  it('shows only the generic message for an ArbionError without a 4xx status', async () => {
    const { app } = await startSite();
    const response = await app.inject({ method: 'GET', url: '/internal' });
    expectFriendlyPage(response, 500);
    expect(response.body).not.toContain('SECRET123');
  });

  it('refuses an oversized form with a friendly 413', async () => {
    const { app, changes } = await startSite();
    const { cookie, token } = await formSession(app);
    const response = await app.inject({
      method: 'POST',
      url: '/change',
      headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
      payload: `_csrf=${encodeURIComponent(token)}&pad=${'x'.repeat(70 * 1024)}`,
    });
    expectFriendlyPage(response, 413);
    expect(changes()).toBe(0);
  });
});

describe('linking site rate limits', () => {
  it('answers the request after the limit with a friendly 429 page', async () => {
    const { app } = await startSite();
    const max = Number(strictRateLimit.max);
    for (let attempt = 0; attempt < max; attempt += 1) {
      const response = await app.inject({ method: 'GET', url: `/link/token-${attempt}` });
      expect(response.statusCode, `attempt ${attempt + 1}`).toBe(200);
    }
    const limited = await app.inject({ method: 'GET', url: '/link/token-last' });
    expectFriendlyPage(limited, 429);
    expect(limited.body).toContain('Wait a minute, then try again.');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    // Routes without the config are not limited.
    const page = await app.inject({ method: 'GET', url: '/form' });
    expect(page.statusCode).toBe(200);
  });
});
