/**
 * `arbion worker`: a process that evaluates strategies and checks alerts from the shared BullMQ
 * queue, beside `arbion start` (which keeps the chats and delivers the messages workers produce).
 * Run as many as the load needs; each takes jobs as it has room, and a worker that dies has its
 * jobs taken over by another once their locks expire.
 */
import { createArbion } from '../../runtime/arbion.js';
import { CommandExit, EXIT_CONFIG, type GlobalOptions, loadContext } from '../context.js';
import { openMigratedDatabaseOrExit } from '../database.js';
import { stopOnSignals } from './signals.js';

/** How long shutdown lets running evaluations finish. */
const DRAIN_TIMEOUT_MS = 20_000;

export async function workerCommand(options: GlobalOptions): Promise<void> {
  const { config, logger } = loadContext(options, { logTo: 'stdout' });
  if (config.redis === undefined) {
    process.stderr.write(
      'arbion worker needs REDIS_URL: workers share their jobs through Redis. Without it, `arbion start` runs the jobs itself.\n',
    );
    throw new CommandExit(EXIT_CONFIG);
  }
  if (config.database.kind === 'embedded') {
    process.stderr.write(
      'arbion worker needs DATABASE_URL: the embedded database belongs to the one `arbion start` process.\n',
    );
    throw new CommandExit(EXIT_CONFIG);
  }
  const database = await openMigratedDatabaseOrExit(config.database, (sentence, details) =>
    logger.fatal(details, sentence),
  );

  // No chats and no linking site here: brokers are reached through the stored links only.
  const arbion = createArbion({ config, database, logger });
  // Strategies' intents are held by this process while it tells them (core/processes).
  await arbion.processes.register();
  await arbion.automation.start('worker');
  // The handlers are in place before the line saying it runs (a supervisor may stop it at once).
  const stopping = stopOnSignals({
    logger,
    async shutDown() {
      await arbion.automation.stop(DRAIN_TIMEOUT_MS);
      await arbion.processes.deregister().catch(() => undefined);
      await database.close();
    },
    exitNow: () => process.exit(130),
  });
  logger.info(
    {
      pid: process.pid,
      concurrency: config.automation.concurrency,
      tickSeconds: config.automation.tickSeconds,
    },
    'Arbion worker is running',
  );
  await stopping.stopped;
}
