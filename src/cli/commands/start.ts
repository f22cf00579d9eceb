/**
 * `arbion start`: the whole product in one process.
 * Embedded database: pending migrations are applied here. Server database: start refuses to run
 * on an outdated schema and says to run `arbion migrate` (several processes may share a server).
 */

import { createArbion } from '../../runtime/arbion.js';
import { configuredBaseUrl } from '../../runtime/linking.js';
import { type GlobalOptions, loadContext } from '../context.js';
import { openDatabaseOrExit } from '../database.js';
import {
  exitOnceStopped,
  logStartup,
  openConsoleChannel,
  runConsole,
  startBackgroundPasses,
  startChannels,
  stopArbionOnSignals,
} from './start-run.js';
import {
  buildWebServer,
  connectChannels,
  listenOrExit,
  openVaultOrExit,
  prepareDatabaseSchema,
} from './start-setup.js';

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
  const initialHealth = await prepareDatabaseSchema(database, logger);
  const vault = await openVaultOrExit(config, database, logger);
  // Without PUBLIC_URL, links point at the address the server ends up listening on.
  let listenUrl = configuredBaseUrl(config);
  const arbion = createArbion({
    config,
    database,
    logger,
    linking: { vault, publicBaseUrl: () => config.web.publicUrl ?? listenUrl },
  });
  const { adapters } = await connectChannels(config, arbion, logger);
  const inbound = arbion.inbound.queue;
  const serving = mode === 'all' ? adapters : [];
  const web = await buildWebServer({ config, logger, database, arbion, initialHealth, startedAt, serving });
  const url = await listenOrExit(web, config, database, logger);
  listenUrl = url;
  database.lock?.advertise(url);

  // What a crash or a stop left unfinished in the inbox goes first, new messages behind it: each
  // chat keeps its order. Handling starts once the channels can answer. (`arbion web` receives
  // nothing, so it leaves the inbox alone.)
  inbound.pause();
  // Registered before taking work: what this process records and claims is marked as its own.
  await arbion.processes.register();
  if (mode === 'all') await arbion.inbound.resume();
  const { started, failed } = await startChannels(serving, logger);
  const consoleChannel = useConsole ? openConsoleChannel(arbion, inbound, logger) : undefined;
  inbound.release();
  // Strategies and alerts: this process has the chats, so it also delivers their messages.
  if (mode === 'all') await arbion.automation.start('all');
  const background = startBackgroundPasses(arbion, mode, logger);
  const stopping = stopArbionOnSignals({
    logger,
    arbion,
    database,
    web,
    inbound,
    started,
    background,
    consoleChannel,
  });
  logStartup({ config, logger, database, url, started, failed, useConsole, startedAt });
  // Ctrl-D in the console stops Arbion like Ctrl-C. The input also ends when a stop closes it:
  // then this asks for a stop under way, which changes nothing.
  if (consoleChannel) void runConsole(consoleChannel, url).then(() => stopping.stop('end of console input'));
  await stopping.stopped;
  exitOnceStopped(logger);
}
