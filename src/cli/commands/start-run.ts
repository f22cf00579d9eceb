/**
 * `arbion start`'s running steps, once the server listens: the channels, the background passes,
 * the console, the startup line, and the orderly shutdown on a signal or Ctrl-D (signals.ts).
 */
import type { FastifyInstance } from 'fastify';
import type { ChannelAdapter } from '../../channels/channel.js';
import { ConsoleChannel } from '../../channels/console/console-channel.js';
import type { InboundQueue } from '../../channels/inbound-queue.js';
import type { Config } from '../../core/config/config.js';
import { INBOX_UNAVAILABLE_TEXT } from '../../core/conversation/inbox.js';
import type { Database } from '../../core/db/database.js';
import { readiness } from '../../core/health/readiness.js';
import type { Logger } from '../../core/logging/logger.js';
import { productVersion } from '../../core/paths.js';
import type { Arbion } from '../../runtime/arbion.js';
import { type Stopping, stopOnSignals } from './signals.js';
import type { ServeMode } from './start.js';

/** How often expiries and resting paper orders are checked. */
const BACKGROUND_INTERVAL_MS = 2000;
/** How long shutdown waits for inbound messages already being handled. */
const DRAIN_TIMEOUT_MS = 10_000;
/** How long a stopped process may take to end by itself (see exitOnceStopped). */
const EXIT_GRACE_MS = 1_000;

/** Starts every channel; one that cannot start (a revoked token, the platform down) is reported, the others run. */
export async function startChannels(
  serving: readonly ChannelAdapter[],
  logger: Logger,
): Promise<{ started: ChannelAdapter[]; failed: string[] }> {
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
  return { started, failed };
}

/** The background passes of a running Arbion. */
export interface BackgroundPasses {
  /** No pass starts from now on; resolves once the pass under way, if any, has finished. */
  stop(): Promise<void>;
}

/**
 * Runs a background pass every interval in `all` mode, never two at once; the first at once, so
 * what a crash left behind (unanswered placements, untold outcomes) is finished on start-up.
 */
export function startBackgroundPasses(arbion: Arbion, mode: ServeMode, logger: Logger): BackgroundPasses {
  let running: Promise<void> | undefined;
  const runPass = () => {
    if (running !== undefined || mode !== 'all') return;
    running = arbion
      .runBackgroundPass()
      .catch((error: unknown) => logger.error({ err: error }, 'background pass failed'))
      .finally(() => {
        running = undefined;
      });
  };
  runPass();
  const timer = setInterval(runPass, BACKGROUND_INTERVAL_MS);
  return {
    async stop() {
      clearInterval(timer);
      // A pass cut off by the database closing would fail half-way: let it finish first.
      await running;
    },
  };
}

/** The console chat on stdin and stdout, registered with Arbion (not yet reading). */
export function openConsoleChannel(arbion: Arbion, inbound: InboundQueue, logger: Logger): ConsoleChannel {
  const consoleChannel = new ConsoleChannel({
    input: process.stdin,
    output: process.stdout,
    prompt: process.stdin.isTTY ? '> ' : '',
    onMessage: async (message) => {
      let handled: Promise<void>;
      try {
        ({ handled } = await inbound.accept(message));
      } catch (error) {
        logger.error({ err: error }, 'could not record a console message');
        consoleChannel.say(INBOX_UNAVAILABLE_TEXT);
        return;
      }
      await handled;
    },
  });
  arbion.channels.register('console', consoleChannel);
  return consoleChannel;
}

export interface StartupReport {
  readonly config: Config;
  readonly logger: Logger;
  readonly database: Database;
  readonly url: string;
  readonly started: readonly ChannelAdapter[];
  readonly failed: readonly string[];
  readonly useConsole: boolean;
  readonly startedAt: number;
}

/** The "Arbion is running" line: where, on what, with which channels. */
export function logStartup(report: StartupReport): void {
  const { config, url, started, useConsole, startedAt } = report;
  const notConfigured = readiness(config)
    .filter((item) => item.kind === 'channel' && !item.configured)
    .map((item) => item.name);
  report.logger.info(
    {
      version: productVersion,
      url,
      database: report.database.description,
      jobs: config.redis ? 'redis' : 'in-process',
      channelsStarted: started.map((adapter) => adapter.description),
      channelsFailed: report.failed,
      channelsNotConfigured: notConfigured,
      console: useConsole,
      llm: config.llm ? config.llm.model : 'off (fast-path parser only)',
      startupMs: Date.now() - startedAt,
    },
    `Arbion is running at ${url}; channels: ${[...started.map((adapter) => adapter.description), ...(useConsole ? ['console'] : [])].join(', ') || 'none'}`,
  );
}

/** Greets the console user and reads their messages; resolves at Ctrl-D. */
export function runConsole(consoleChannel: ConsoleChannel, url: string): Promise<void> {
  process.stdout.write(
    `Arbion ${productVersion} - console chat on your PAPER account (web: ${url}).\nType "help" for examples; Ctrl-D or Ctrl-C to stop.\n`,
  );
  return consoleChannel.run();
}

export interface RunningArbion {
  readonly logger: Logger;
  readonly arbion: Arbion;
  readonly database: Database;
  readonly web: FastifyInstance;
  readonly inbound: InboundQueue;
  readonly started: readonly ChannelAdapter[];
  readonly background: BackgroundPasses;
  readonly consoleChannel: ConsoleChannel | undefined;
}

/**
 * Stops Arbion on SIGINT or SIGTERM, or when asked (Ctrl-D in the console): see signals.ts. A
 * second signal exits at once, releasing the data directory's lock on the way (the database is
 * left as a crash would leave it, which the next start recovers from).
 */
export function stopArbionOnSignals(running: RunningArbion): Stopping {
  const say = (text: string) => running.consoleChannel?.say(text);
  return stopOnSignals({
    logger: running.logger,
    shutDown: () => shutDown(running),
    onStop: (reason) =>
      say(
        reason === 'end of console input'
          ? 'Stopping Arbion...'
          : 'Stopping Arbion (press Ctrl-C again to exit at once)...',
      ),
    exitNow: () => {
      running.database.lock?.release();
      process.exit(130);
    },
  });
}

/**
 * Stops receiving, lets the work in hand finish (bounded), then closes the server and the
 * database (which releases the data directory's lock).
 */
async function shutDown(running: RunningArbion): Promise<void> {
  // The console input closes first: its end is not a new request to stop (stop is idempotent).
  running.consoleChannel?.stop();
  for (const adapter of running.started) await adapter.stop().catch(() => undefined);
  // Let messages already being handled finish (bounded): a confirmed order is not cut off. What
  // is still waiting stays unfinished in the inbox, for the next start.
  let drainDeadline: NodeJS.Timeout | undefined;
  await Promise.race([
    running.inbound.stop(),
    new Promise((resolve) => {
      drainDeadline = setTimeout(resolve, DRAIN_TIMEOUT_MS);
    }),
  ]);
  // A pending deadline would keep the process alive for its full length after stopping.
  clearTimeout(drainDeadline);
  await running.background.stop();
  // Running evaluations finish (bounded); with BullMQ an unfinished one runs elsewhere.
  await running.arbion.automation.stop(DRAIN_TIMEOUT_MS);
  // What is still unfinished is taken over by the other processes at once (or by the next start).
  await running.arbion.processes
    .deregister()
    .catch((error: unknown) => running.logger.warn({ err: error }, 'could not deregister this process'));
  await running.web.close();
  await running.database.close();
  running.consoleChannel?.say('Arbion stopped.');
}

/**
 * Once stopped, everything Arbion opened is closed, and the process ends when nothing is left
 * running. A library may still hold a timer (Prisma's schema engine keeps one after migrations):
 * rather than wait it out after saying it stopped, the process ends after a short grace with the
 * exit code it has.
 */
export function exitOnceStopped(logger: Logger, graceMs = EXIT_GRACE_MS): void {
  setTimeout(() => {
    logger.debug(
      { holding: process.getActiveResourcesInfo() },
      'stopped; ending what libraries left running',
    );
    process.exit();
  }, graceMs).unref();
}
