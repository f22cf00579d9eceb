/**
 * `arbion start`: the whole product in one process.
 * Embedded database: pending migrations are applied here. Server database: start refuses to run
 * on an outdated schema and says to run `arbion migrate` (several processes may share a server).
 */

import { linkingSitePlugin } from '../../../web-linking/linking-site.js';
import { createWebServer } from '../../../web-linking/server.js';
import type { ChannelAdapter } from '../../channels/channel.js';
import { ConsoleChannel } from '../../channels/console/console-channel.js';
import { InboundQueue } from '../../channels/inbound-queue.js';
import { Migrator } from '../../core/db/migrations/migrator.js';
import { ArbionError } from '../../core/errors.js';
import { checkDatabase, summarizeBrokerConnections } from '../../core/health/checks.js';
import { readiness } from '../../core/health/readiness.js';
import { productVersion } from '../../core/paths.js';
import { loadKeyRing, Vault } from '../../core/vault/index.js';
import { createArbion } from '../../runtime/arbion.js';
import { createChannelAdapters } from '../../runtime/channels.js';
import { configuredBaseUrl } from '../../runtime/linking.js';
import { CommandExit, EXIT_UNHEALTHY, type GlobalOptions, loadContext } from '../context.js';
import { openDatabaseOrExit } from '../database.js';

/** How often expiries and resting paper orders are checked. */
const BACKGROUND_INTERVAL_MS = 2000;
/** How long shutdown waits for inbound messages already being handled. */
const DRAIN_TIMEOUT_MS = 10_000;

/**
 * `all`: everything (`arbion start`). `web`: the web server with the linking site only (`arbion
 * web`): no console, no background work, and channels only to announce linking outcomes in chat
 * (their webhooks, polling and gateways stay with `arbion start`).
 */
export type ServeMode = 'all' | 'web';

export async function startCommand(options: GlobalOptions, mode: ServeMode = 'all'): Promise<void> {
  const consoleWanted = (configValue: 'auto' | 'on' | 'off') =>
    mode === 'all' && (configValue === 'on' || (configValue === 'auto' && Boolean(process.stdin.isTTY)));
  const { config, logger } = loadContext(options, { logTo: 'stdout', consoleLogFile: true, consoleWanted });
  const useConsole = consoleWanted(config.console);
  const startedAt = Date.now();

  const database = await openDatabaseOrExit(config.database, (sentence, details) =>
    logger.fatal(details, sentence),
  );

  let initialHealth: Awaited<ReturnType<typeof checkDatabase>>;
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
      // What /healthz reports about the schema, read with the engine already open.
      initialHealth = await checkDatabase(database, migrator);
    } finally {
      migrator.dispose();
    }
  } catch (error) {
    await database.close();
    if (!(error instanceof CommandExit))
      logger.fatal({ err: error }, 'cannot bring the database schema up to date');
    throw error instanceof CommandExit ? error : new CommandExit(EXIT_UNHEALTHY);
  }

  let vault: Vault;
  try {
    vault = new Vault(loadKeyRing(config.vault, logger));
  } catch (error) {
    logger.fatal(
      { err: error },
      error instanceof ArbionError ? error.userMessage : 'cannot load the vault keys',
    );
    await database.close();
    throw new CommandExit(EXIT_UNHEALTHY);
  }
  // Without PUBLIC_URL, links point at the address the server ends up listening on.
  let listenUrl = configuredBaseUrl(config);
  const arbion = createArbion({
    config,
    database,
    logger,
    linking: { vault, publicBaseUrl: () => config.web.publicUrl ?? listenUrl },
  });
  // Every channel hands its messages to one queue: per-chat order, off the platforms' request paths.
  const inbound = new InboundQueue({
    handle: (message) => arbion.conversation.handle(message),
    logger: logger.child({ component: 'inbound' }),
  });
  const adapters = createChannelAdapters(config, { sink: inbound, logger, symbols: arbion.symbols });
  for (const adapter of adapters) arbion.channels.register(adapter.platform, adapter);

  // The schema was checked above; /healthz re-checks only reachability.
  const web = await createWebServer({
    logger,
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
  const serving = mode === 'all' ? adapters : [];
  for (const adapter of serving) await adapter.mount?.(web);
  if (arbion.linking !== undefined) {
    await web.register(linkingSitePlugin, {
      services: arbion.linking.services,
      secure: config.web.publicUrl?.startsWith('https://') ?? false,
    });
  }
  let url: string;
  try {
    url = await web.listen({ host: config.web.host, port: config.web.port });
    listenUrl = url;
  } catch (error) {
    logger.fatal(
      { err: error, host: config.web.host, port: config.web.port },
      'cannot listen; is another program using this port? Set PORT to change it',
    );
    await database.close();
    throw new CommandExit(EXIT_UNHEALTHY);
  }
  database.lock?.advertise(url);

  // A channel that cannot start (a revoked token, the platform down) is reported; the others run.
  const started: ChannelAdapter[] = [];
  const failed: string[] = [];
  for (const adapter of serving) {
    try {
      await adapter.start();
      started.push(adapter);
    } catch (error) {
      failed.push(adapter.platform);
      logger.error(
        { err: error, channel: adapter.platform },
        `the ${adapter.platform} channel did not start: ${(error as Error).message}`,
      );
    }
  }

  // Strategies and alerts: this process has the chats, so it also delivers their messages.
  if (mode === 'all') await arbion.automation.start('all');

  let backgroundBusy = false;
  const background = setInterval(() => {
    if (backgroundBusy || mode !== 'all') return;
    backgroundBusy = true;
    arbion
      .runBackgroundPass()
      .catch((error: unknown) => logger.error({ err: error }, 'background pass failed'))
      .finally(() => {
        backgroundBusy = false;
      });
  }, BACKGROUND_INTERVAL_MS);

  let consoleChannel: ConsoleChannel | undefined;
  let consoleDone: Promise<void> | undefined;
  if (useConsole) {
    consoleChannel = new ConsoleChannel({
      input: process.stdin,
      output: process.stdout,
      prompt: process.stdin.isTTY ? '> ' : '',
      onMessage: (message) => inbound.deliver(message),
    });
    arbion.channels.register('console', consoleChannel);
  }

  const notConfigured = readiness(config)
    .filter((item) => item.kind === 'channel' && !item.configured)
    .map((item) => item.name);
  logger.info(
    {
      version: productVersion,
      url,
      database: database.description,
      jobs: config.redis ? 'redis' : 'in-process',
      channelsStarted: started.map((adapter) => adapter.description),
      channelsFailed: failed,
      channelsNotConfigured: notConfigured,
      console: useConsole,
      llm: config.llm ? config.llm.model : 'off (fast-path parser only)',
      startupMs: Date.now() - startedAt,
    },
    `Arbion is running at ${url}; channels: ${[...started.map((adapter) => adapter.description), ...(useConsole ? ['console'] : [])].join(', ') || 'none'}`,
  );
  if (consoleChannel) {
    process.stdout.write(
      `Arbion ${productVersion} - console chat on your PAPER account (web: ${url}).\nType "help" for examples; Ctrl-D or Ctrl-C to stop.\n`,
    );
    consoleDone = consoleChannel.run();
  }

  await new Promise<void>((resolve) => {
    let stopping = false;
    const stop = (signal: NodeJS.Signals) => {
      if (stopping) {
        logger.warn({ signal }, 'second signal: exiting now');
        process.exit(130);
      }
      stopping = true;
      logger.info({ signal }, 'shutting down');
      void (async () => {
        try {
          clearInterval(background);
          consoleChannel?.stop();
          for (const adapter of started) await adapter.stop().catch(() => undefined);
          // Let messages already being handled finish (bounded): a confirmed order is not cut off.
          let drainDeadline: NodeJS.Timeout | undefined;
          await Promise.race([
            inbound.idle(),
            new Promise((resolve) => {
              drainDeadline = setTimeout(resolve, DRAIN_TIMEOUT_MS);
            }),
          ]);
          // A pending deadline would keep the process alive for its full length after stopping.
          clearTimeout(drainDeadline);
          // Running evaluations finish (bounded); with BullMQ an unfinished one runs elsewhere.
          await arbion.automation.stop(DRAIN_TIMEOUT_MS);
          await web.close();
          await database.close();
        } catch (error) {
          logger.error({ err: error }, 'error while shutting down');
        }
        logger.info('stopped');
        resolve();
      })();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    // Ctrl-D in the console stops Arbion like Ctrl-C.
    void consoleDone?.then(() => stop('SIGTERM'));
  });
}
