/**
 * `arbion start`'s setup steps, in the order it runs them: the database schema, the vault, the
 * channels, the web server and its address. A step that cannot go on logs why, closes the database
 * and throws `CommandExit`.
 */
import type { FastifyInstance } from 'fastify';
import { linkingSitePlugin } from '../../../web-linking/linking-site.js';
import { createWebServer } from '../../../web-linking/server.js';
import type { ChannelAdapter } from '../../channels/channel.js';
import type { Config } from '../../core/config/config.js';
import type { Database } from '../../core/db/database.js';
import { Migrator } from '../../core/db/migrations/migrator.js';
import { ArbionError } from '../../core/errors.js';
import { checkDatabase, type DatabaseHealth, summarizeBrokerConnections } from '../../core/health/checks.js';
import type { Logger } from '../../core/logging/logger.js';
import { productVersion } from '../../core/paths.js';
import { loadKeyRing, Vault } from '../../core/vault/index.js';
import type { Arbion } from '../../runtime/arbion.js';
import { createChannelAdapters } from '../../runtime/channels.js';
import { CommandExit, EXIT_UNHEALTHY } from '../context.js';

/**
 * Embedded database: applies pending migrations. Server database: refuses an outdated schema.
 * Returns what /healthz reports about the schema, read with the engine already open.
 */
export async function prepareDatabaseSchema(database: Database, logger: Logger): Promise<DatabaseHealth> {
  try {
    const migrator = await Migrator.open(database.adapterFactory);
    try {
      if (database.kind === 'embedded') {
        const applied = await migrator.apply();
        logger.info(
          { applied, database: database.description },
          applied.length > 0 ? 'migrations applied' : 'database schema up to date',
        );
      } else {
        const { pending } = await migrator.status();
        if (pending.length > 0) {
          logger.fatal(
            { pending },
            `${pending.length} migration(s) pending on ${database.description}: run \`arbion migrate\` first`,
          );
          throw new CommandExit(EXIT_UNHEALTHY);
        }
      }
      return await checkDatabase(database, migrator);
    } finally {
      migrator.dispose();
    }
  } catch (error) {
    await database.close();
    if (!(error instanceof CommandExit))
      logger.fatal({ err: error }, 'cannot bring the database schema up to date');
    throw error instanceof CommandExit ? error : new CommandExit(EXIT_UNHEALTHY);
  }
}

/** The vault on the configured key ring. */
export async function openVaultOrExit(config: Config, database: Database, logger: Logger): Promise<Vault> {
  try {
    return new Vault(loadKeyRing(config.vault, logger));
  } catch (error) {
    logger.fatal(
      { err: error },
      error instanceof ArbionError ? error.userMessage : 'cannot load the vault keys',
    );
    await database.close();
    throw new CommandExit(EXIT_UNHEALTHY);
  }
}

/**
 * The configured chat channels, registered with Arbion. Every channel hands its messages to one
 * queue (Arbion's inbound): recorded in the inbox first, then handled in per-chat order, off the
 * platforms' request paths.
 */
export async function connectChannels(
  config: Config,
  arbion: Arbion,
  logger: Logger,
): Promise<{ adapters: ChannelAdapter[] }> {
  const adapters = await createChannelAdapters(config, {
    sink: arbion.inbound.queue,
    logger,
    symbols: arbion.symbols,
  });
  for (const adapter of adapters) arbion.channels.register(adapter.platform, adapter);
  return { adapters };
}

export interface WebServerParts {
  readonly config: Config;
  readonly logger: Logger;
  readonly database: Database;
  readonly arbion: Arbion;
  /** The schema's health, checked at start; /healthz re-checks only reachability. */
  readonly initialHealth: DatabaseHealth;
  readonly startedAt: number;
  /** The channels whose webhooks this server receives. */
  readonly serving: readonly ChannelAdapter[];
}

/** The web server with /healthz, the serving channels' webhooks and the linking site; not yet listening. */
export async function buildWebServer(parts: WebServerParts): Promise<FastifyInstance> {
  const { config, database, arbion, initialHealth, startedAt } = parts;
  const web = await createWebServer({
    logger: parts.logger,
    health: async ({ local }) => {
      let reachable = true;
      let detail = initialHealth.detail;
      try {
        await database.ping();
      } catch (error) {
        reachable = false;
        detail = (error as Error).message;
      }
      const ok = reachable && initialHealth.ok;
      return {
        status: ok ? 'ok' : 'degraded',
        version: productVersion,
        pid: process.pid,
        uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
        database: { ...initialHealth, ok, detail },
        ...(local && reachable && { brokers: await summarizeBrokerConnections(database.prisma) }),
      };
    },
  });
  for (const adapter of parts.serving) await adapter.mount?.(web);
  if (arbion.linking !== undefined) {
    await web.register(linkingSitePlugin, {
      services: arbion.linking.services,
      secure: config.web.publicUrl?.startsWith('https://') ?? false,
    });
  }
  return web;
}

/** Listens on the configured host and port; returns the server's URL. */
export async function listenOrExit(
  web: FastifyInstance,
  config: Config,
  database: Database,
  logger: Logger,
): Promise<string> {
  try {
    return await web.listen({ host: config.web.host, port: config.web.port });
  } catch (error) {
    logger.fatal(
      { err: error, host: config.web.host, port: config.web.port },
      'cannot listen; is another program using this port? Set PORT to change it',
    );
    await database.close();
    throw new CommandExit(EXIT_UNHEALTHY);
  }
}
