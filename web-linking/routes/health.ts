/**
 * GET /healthz: liveness and the state of the database, as JSON. `arbion doctor` reads it when
 * another process holds the embedded database. Answers 503 when something it depends on is down.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { BrokerConnectionHealth, DatabaseHealth } from '../../src/core/health/checks.js';

export interface HealthReport {
  readonly status: 'ok' | 'degraded';
  readonly version: string;
  readonly pid: number;
  readonly uptimeSeconds: number;
  readonly database: DatabaseHealth;
  /** Linked brokers' health; only for requests from this machine (`arbion doctor`). */
  readonly brokers?: readonly BrokerConnectionHealth[];
}

/**
 * Produces the current report; the server calls it on every request. `local` says whether the
 * request came from this machine: only then may the report include the brokers' health.
 */
export type HealthSource = (request: { readonly local: boolean }) => Promise<HealthReport>;

const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);

export const healthRoutes: FastifyPluginAsync<{ health: HealthSource }> = async (app, { health }) => {
  app.get('/healthz', async (request, reply) => {
    // The socket's address, not request.ip: behind a proxy a forwarded header must not unlock it.
    const report = await health({ local: LOOPBACK.has(request.socket.remoteAddress ?? '') });
    return reply.code(report.status === 'ok' ? 200 : 503).send(report);
  });
};
