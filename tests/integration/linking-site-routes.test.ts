/**
 * The linking site's routes as mounted in the product (fastify inject, real database): the link and
 * OAuth endpoints are rate-limited, and a change without a session or CSRF token does nothing.
 */
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Vault } from '../../src/core/vault/index.js';
import { linkingSitePlugin } from '../../web-linking/linking-site.js';
import { createWebServer } from '../../web-linking/server.js';
import { contractLogger } from '../contract/contract-harness.js';
import { createHarness, type Harness } from '../support/arbion-harness.js';

describe('linking site routes', () => {
  let harness: Harness;
  let web: FastifyInstance;

  beforeAll(async () => {
    harness = await createHarness('server', {
      env: {
        ETRADE_CONSUMER_KEY: 'key',
        ETRADE_CONSUMER_SECRET: 'secret',
        ETRADE_API_BASE: 'http://127.0.0.1:9',
      },
      linking: {
        vault: new Vault([{ id: 'k1', key: randomBytes(32) }]),
        publicBaseUrl: () => 'http://127.0.0.1',
      },
    });
    const services = harness.arbion.linking?.services;
    if (services === undefined) throw new Error('linking is not wired');
    web = await createWebServer({
      logger: contractLogger(),
      health: async () => ({
        status: 'ok',
        version: 'test',
        pid: process.pid,
        uptimeSeconds: 0,
        database: { ok: true, kind: 'server', description: 'test', detail: 'test', pendingMigrations: [] },
      }),
    });
    await web.register(linkingSitePlugin, { services, secure: false });
    await web.ready();
  });
  afterAll(async () => {
    await web?.close();
    await harness?.destroy();
  });

  it('limits link pages to 20 a minute per client', async () => {
    const statuses: number[] = [];
    for (let attempt = 0; attempt < 21; attempt++) {
      statuses.push((await web.inject({ method: 'GET', url: `/link/${'A'.repeat(43)}` })).statusCode);
    }
    expect(statuses.slice(0, 20).every((status) => status === 404)).toBe(true);
    expect(statuses[20]).toBe(429);
  });

  it('refuses an OAuth verification without CSRF token or session, and calls no broker', async () => {
    const response = await web.inject({
      method: 'POST',
      url: '/oauth/etrade/verify',
      payload: 'state=x&verifier=ABCDE',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(response.statusCode).toBe(403);
    expect(response.body).toContain('This form has expired');
    expect(await harness.test.database.prisma.brokerConnection.count({ where: { provider: 'etrade' } })).toBe(
      0,
    );
  });

  it('does not serve the connections page without a session', async () => {
    const response = await web.inject({ method: 'GET', url: '/connections' });
    expect(response.statusCode).toBe(401);
    expect(response.body).toContain('Your session has ended');
  });
});
