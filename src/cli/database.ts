/**
 * Opening the configured database for a command: one sentence and exit 1 when it cannot be
 * reached, or when migrations are pending on a server the command must not migrate itself.
 */
import type { Config } from '../core/config/config.js';
import { type Database, openDatabase } from '../core/db/database.js';
import { Migrator } from '../core/db/migrations/migrator.js';
import { ArbionError } from '../core/errors.js';
import { CommandExit, EXIT_UNHEALTHY } from './context.js';

/**
 * How a command says why it stops: one-shot commands write to stderr, services log it. `error`
 * and `pending` say more, for a log.
 */
export type Complaint = (
  sentence: string,
  details: { readonly err?: unknown; readonly pending?: readonly string[] },
) => void;

/** Complaints as a line on stderr. */
export const toStderr: Complaint = (sentence) => {
  process.stderr.write(`${sentence}\n`);
};

export function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? '' : 's'}`;
}

/**
 * @throws CommandExit 1 when the database cannot be opened, after `complain`
 */
export async function openDatabaseOrExit(
  settings: Config['database'],
  complain: Complaint,
): Promise<Database> {
  try {
    return await openDatabase(settings);
  } catch (error) {
    complain(error instanceof ArbionError ? error.userMessage : (error as Error).message, { err: error });
    throw new CommandExit(EXIT_UNHEALTHY);
  }
}

/**
 * Opens the database and checks that no migration is pending; closes it again before exiting.
 * @throws CommandExit 1 when it cannot be opened or has migrations pending, after `complain`
 */
export async function openMigratedDatabaseOrExit(
  settings: Config['database'],
  complain: Complaint,
): Promise<Database> {
  const database = await openDatabaseOrExit(settings, complain);
  try {
    const migrator = await Migrator.open(database.adapterFactory);
    try {
      const { pending } = await migrator.status();
      if (pending.length > 0) {
        complain(
          `${plural(pending.length, 'migration')} pending on ${database.description}: run \`arbion migrate\` first.`,
          { pending },
        );
        throw new CommandExit(EXIT_UNHEALTHY);
      }
    } finally {
      migrator.dispose();
    }
  } catch (error) {
    await database.close();
    throw error;
  }
  return database;
}
