/**
 * What the vault commands (`keys rotate`, `secrets ...`) need first: the key ring from the
 * configuration and the database, migrated. Each failure prints one sentence and exits.
 */
import { type Database, openDatabase } from '../core/db/database.js';
import { Migrator } from '../core/db/migrations/migrator.js';
import { ArbionError, ConfigError } from '../core/errors.js';
import type { Logger } from '../core/logging/logger.js';
import { type KeyRing, loadKeyRing, Vault } from '../core/vault/index.js';
import { CommandExit, EXIT_CONFIG, EXIT_UNHEALTHY, type GlobalOptions, loadContext } from './context.js';

export function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? '' : 's'}`;
}

/**
 * Runs `work` with the vault and a migrated database, and closes the database after.
 * @throws CommandExit EX_CONFIG without a valid key ring, 1 when the database is unreachable or
 *   has migrations pending
 */
export async function withVaultDatabase<T>(
  options: GlobalOptions,
  work: (parts: { vault: Vault; database: Database; logger: Logger }) => Promise<T>,
): Promise<T> {
  const { config, logger } = loadContext(options, { logTo: 'stderr' });
  let ring: KeyRing;
  try {
    ring = loadKeyRing(config.vault, logger);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      throw new CommandExit(EXIT_CONFIG);
    }
    throw error;
  }
  const vault = new Vault(ring);

  let database: Database;
  try {
    database = await openDatabase(config.database);
  } catch (error) {
    process.stderr.write(`${error instanceof ArbionError ? error.userMessage : (error as Error).message}\n`);
    throw new CommandExit(EXIT_UNHEALTHY);
  }
  try {
    const migrator = await Migrator.open(database.adapterFactory);
    try {
      const { pending } = await migrator.status();
      if (pending.length > 0) {
        process.stderr.write(
          `${plural(pending.length, 'migration')} pending on ${database.description}: run \`arbion migrate\` first.\n`,
        );
        throw new CommandExit(EXIT_UNHEALTHY);
      }
    } finally {
      migrator.dispose();
    }
    return await work({ vault, database, logger });
  } finally {
    await database.close();
  }
}
