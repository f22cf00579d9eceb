/**
 * What every command needs first: a valid configuration and a logger. A broken configuration
 * prints every problem at once and exits with EX_CONFIG (78) before anything starts.
 */

import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { pino } from 'pino';
import type { Config } from '../core/config/config.js';
import { loadConfig } from '../core/config/load.js';
import { ConfigError } from '../core/errors.js';
import { createLogger, type Logger } from '../core/logging/logger.js';

/** sysexits.h: configuration error. */
export const EXIT_CONFIG = 78;
/** Something the command checked is not healthy. */
export const EXIT_UNHEALTHY = 1;

export interface GlobalOptions {
  /** Path of the .env file, from --env-file. */
  readonly envFile?: string;
}

export interface CommandContext {
  readonly config: Config;
  readonly logger: Logger;
}

/**
 * Ends a command with an exit code after it has reported why (control flow inside the CLI:
 * `main` turns it into the process's exit code; it is not a product error).
 */
export class CommandExit extends Error {
  constructor(readonly exitCode: number) {
    super(`exit ${exitCode}`);
  }
}

/**
 * @param logTo `start` logs to stdout; other commands print results there, so they log to stderr
 * @param reportWarnings log config warnings (doctor reports them itself)
 */
export function loadContext(
  options: GlobalOptions,
  {
    logTo = 'stdout',
    reportWarnings = true,
    consoleLogFile = false,
    consoleWanted,
  }: {
    logTo?: 'stdout' | 'stderr';
    reportWarnings?: boolean;
    /** With the console chat on, logs go to ARBION_DATA_DIR/arbion.log so they do not mix with the chat. */
    consoleLogFile?: boolean;
    consoleWanted?: (setting: 'auto' | 'on' | 'off') => boolean;
  } = {},
): CommandContext {
  let config: Config;
  try {
    config = loadConfig({ envFile: options.envFile });
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(
        `${error.message}\n\nSee .env.example or docs/configuration.md for every setting.\n`,
      );
      throw new CommandExit(EXIT_CONFIG);
    }
    throw error;
  }
  let destination: ReturnType<typeof pino.destination> | undefined;
  if (consoleLogFile && consoleWanted?.(config.console)) {
    mkdirSync(config.dataDir, { recursive: true });
    const file = path.join(config.dataDir, 'arbion.log');
    destination = pino.destination({ dest: file, sync: true, mkdir: true });
    process.stderr.write(`Logs: ${file}\n`);
  } else if (logTo === 'stderr') {
    destination = pino.destination({ dest: 2, sync: true });
  }
  const logger = createLogger({
    level: config.log.level,
    format: destination && consoleLogFile ? 'json' : config.log.format,
    secretValues: config.secretValues,
    ...(destination ? { destination } : {}),
  });
  if (reportWarnings) for (const warning of config.warnings) logger.warn(warning);
  return { config, logger };
}
