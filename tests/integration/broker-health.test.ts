/**
 * Linked brokers' health outside chat: the summary `arbion doctor` prints (by broker, status and
 * health, no user named), and /healthz that includes it only for requests from this machine.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { summarizeBrokerConnections } from '../../src/core/health/checks.js';
import type { HealthReport } from '../../web-linking/routes/health.js';
import { createWebServer } from '../../web-linking/server.js';
import { contractLogger } from '../contract/contract-harness.js';
import { createHarness, type Harness } from '../support/arbion-harness.js';

describe('broker connection health', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await createHarness('server');
    await h.say('hana', 'balance');
    const { userId } = await h.test.database.prisma.channelIdentity.findFirstOrThrow({
      where: { platformUserId: 'hana' },
    });
    const checked = new Date('2026-11-24T14:59:00Z');
    await h.test.database.prisma.brokerConnection.createMany({
      data: [
        { userId, provider: 'schwab', status: 'active', healthStatus: 'healthy', lastHealthCheckAt: checked },
        { userId, provider: 'etrade', status: 'active', healthStatus: 'down', lastHealthCheckAt: checked },
        { userId, provider: 'alpaca', status: 'needs_reauth', healthStatus: 'degraded' },
        { userId, provider: 'alpaca', status: 'revoked', healthStatus: 'down' },
      ],
    });
  });
  afterAll(async () => {
    await h?.destroy();
  });

  it('groups linked connections by broker, status and health; paper and unlinked ones are left out', async () => {
    const summary = await summarizeBrokerConnections(h.test.database.prisma);
    expect(summary).toEqual([
      {
        provider: 'schwab',
        status: 'active',
        health: 'healthy',
        connections: 1,
        lastCheckedAt: '2026-11-24T14:59:00.000Z',
      },
      {
        provider: 'etrade',
        status: 'active',
        health: 'down',
        connections: 1,
        lastCheckedAt: '2026-11-24T14:59:00.000Z',
      },
      {
        provider: 'alpaca',
        status: 'needs_reauth',
        health: 'degraded',
        connections: 1,
        lastCheckedAt: undefined,
      },
    ]);
  });

  it('/healthz shows the brokers to this machine only', async () => {
    const web = await createWebServer({
      logger: contractLogger(),
      health: async ({ local }): Promise<HealthReport> => ({
        status: 'ok',
        version: 'test',
        pid: process.pid,
        uptimeSeconds: 0,
        database: { ok: true, kind: 'server', description: 'test', detail: 'test', pendingMigrations: [] },
        ...(local && { brokers: await summarizeBrokerConnections(h.test.database.prisma) }),
      }),
    });
    try {
      const local = await web.inject({ method: 'GET', url: '/healthz', remoteAddress: '127.0.0.1' });
      expect((local.json() as HealthReport).brokers).toHaveLength(3);
      const remote = await web.inject({
        method: 'GET',
        url: '/healthz',
        remoteAddress: '203.0.113.9',
        headers: { 'x-forwarded-for': '127.0.0.1' },
      });
      expect(remote.statusCode).toBe(200);
      expect((remote.json() as HealthReport).brokers).toBeUndefined();
    } finally {
      await web.close();
    }
  });
});
