/**
 * `arbion start`'s running steps, once the server listens: the channels, the background passes,
 * the console, the startup line, and the orderly shutdown on a signal or Ctrl-D.
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
import type { ServeMode } from './start.js';

/** How often expiries and resting paper orders are checked. */
const BACKGROUND_INTERVAL_MS = 2000;
/** How long shutdown waits for inbound messages already being handled. */
const DRAIN_TIMEOUT_MS = 10_000;

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

/**
 * Runs a background pass every interval in `all` mode, never two at once; the first at once, so
 * what a crash left behind (unanswered placements, untold outcomes) is finished on start-up.
 */
export function startBackgroundPasses(arbion: Arbion, mode: ServeMode, logger: Logger): NodeJS.Timeout {
  let backgroundBusy = false;
  const runPass = () => {
    if (backgroundBusy || mode !== 'all') return;
    backgroundBusy = true;
    arbion
      .runBackgroundPass()
      .catch((error: unknown) => logger.error({ err: error }, 'background pass failed'))
      .finally(() => {
        backgroundBusy = false;
      });
  };
  runPass();
  return setInterval(runPass, BACKGROUND_INTERVAL_MS);
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
  readonly background: NodeJS.Timeout;
  readonly consoleChannel: ConsoleChannel | undefined;
}

/** Arbion's stop: by a signal, or asked for (Ctrl-D in the console). */
export interface Stopping {
  /** Stops Arbion as SIGTERM would; nothing more when it is stopping already. */
  stop(): void;
  /** Resolves once Arbion has stopped. */
  readonly stopped: Promise<void>;
}

/**
 * Handles SIGINT and SIGTERM from now on: the first stops Arbion cleanly, a second exits at once.
 * Called before Arbion says it is running, so a supervisor that stops it as soon as it reads that
 * line finds the handlers in place (a signal without them ends the process uncleanly).
 */
export function stopOnSignals(running: RunningArbion): Stopping {
  const { logger } = running;
  let stopping = false;
  let resolveStopped: () => void = () => undefined;
  const stopped = new Promise<void>((resolve) => {
    resolveStopped = resolve;
  });
  const stop = (signal: NodeJS.Signals | 'end of console input') => {
    stopping = true;
    logger.info({ signal }, 'shutting down');
    void (async () => {
      try {
        await shutDown(running);
      } catch (error) {
        logger.error({ err: error }, 'error while shutting down');
      }
      logger.info('stopped');
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      resolveStopped();
    })();
  };
  const onSignal = (signal: NodeJS.Signals) => {
    if (!stopping) return stop(signal);
    logger.warn({ signal }, 'second signal: exiting now');
    process.exit(130);
  };
  // `on`, not `once`: a second signal reaches `onSignal` (with `once` it would kill by default).
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    stop: () => {
      if (!stopping) stop('end of console input');
    },
    stopped,
  };
}

/** Stops receiving, lets the work in hand finish (bounded), then closes the server and the database. */
async function shutDown(running: RunningArbion): Promise<void> {
  clearInterval(running.background);
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
  // Running evaluations finish (bounded); with BullMQ an unfinished one runs elsewhere.
  await running.arbion.automation.stop(DRAIN_TIMEOUT_MS);
  // What is still unfinished is taken over by the other processes at once (or by the next start).
  await running.arbion.processes
    .deregister()
    .catch((error: unknown) => running.logger.warn({ err: error }, 'could not deregister this process'));
  await running.web.close();
  await running.database.close();
}
