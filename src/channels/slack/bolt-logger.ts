/**
 * Bolt and its Web API client log through `@slack/logger`'s interface; this forwards to our pino
 * logger (which redacts and scrubs secrets). Bolt's debug output (request bodies) goes to trace.
 */
import { type Logger as BoltLogger, LogLevel } from '@slack/bolt';
import type { Logger } from '../../core/logging/logger.js';

function join(parts: unknown[]): string {
  return parts.map((part) => (part instanceof Error ? part.message : String(part))).join(' ');
}

export function boltLoggerFrom(logger: Logger): BoltLogger {
  let level: LogLevel = LogLevel.INFO;
  return {
    debug: (...parts: unknown[]) => logger.trace(join(parts)),
    info: (...parts: unknown[]) => logger.debug(join(parts)),
    warn: (...parts: unknown[]) => logger.warn(join(parts)),
    error: (...parts: unknown[]) => logger.error(join(parts)),
    // Levels are pino's business; bolt only asks and sets.
    setLevel: (next: LogLevel) => {
      level = next;
    },
    getLevel: () => level,
    setName: () => undefined,
  };
}
