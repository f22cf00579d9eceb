/**
 * The web server: the broker linking site, chat platform webhooks and health endpoints, each a
 * fastify plugin with its own routes. `arbion start` and `arbion web` run it.
 */
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from '../src/core/logging/logger.js';
import { type HealthSource, healthRoutes } from './routes/health.js';

export interface WebServerOptions {
  readonly logger: Logger;
  readonly health: HealthSource;
}

export async function createWebServer(options: WebServerOptions): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: options.logger.child({ component: 'web' }) as FastifyBaseLogger,
    // Request ids in every log line; never trust a client-supplied one.
    genReqId: () => crypto.randomUUID(),
    bodyLimit: 1024 * 1024,
    return503OnClosing: true,
  });
  await app.register(healthRoutes, { health: options.health });
  return app;
}
