/**
 * What the vault commands (`keys rotate`, `secrets ...`) need first: the key ring from the
 * configuration and the database, migrated. Each failure prints one sentence and exits.
 */
import type { Database } from '../core/db/database.js';
import { ConfigError } from '../core/errors.js';
import type { Logger } from '../core/logging/logger.js';
import { type KeyRing, loadKeyRing, Vault } from '../core/vault/index.js';
import { CommandExit, EXIT_CONFIG, type GlobalOptions, loadContext } from './context.js';
import { openMigratedDatabaseOrExit, toStderr } from './database.js';

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

  const database = await openMigratedDatabaseOrExit(config.database, toStderr);
  try {
    return await work({ vault, database, logger });
  } finally {
    await database.close();
  }
}
