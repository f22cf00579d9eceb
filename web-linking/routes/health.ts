/**
 * GET /healthz: liveness and the state of the database, as JSON. `arbion doctor` reads it when
 * another process holds the embedded database. Answers 503 when something it depends on is down.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { DatabaseHealth } from '../../src/core/health/checks.js';

export interface HealthReport {
  readonly status: 'ok' | 'degraded';
  readonly version: string;
  readonly pid: number;
  readonly uptimeSeconds: number;
  readonly database: DatabaseHealth;
}

/** Produces the current report; the server calls it on every request. */
export type HealthSource = () => Promise<HealthReport>;

export const healthRoutes: FastifyPluginAsync<{ health: HealthSource }> = async (app, { health }) => {
  app.get('/healthz', async (_request, reply) => {
    const report = await health();
    return reply.code(report.status === 'ok' ? 200 : 503).send(report);
  });
};
