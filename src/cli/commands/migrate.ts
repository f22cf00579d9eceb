/**
 * `arbion migrate`, `arbion migrate status`, `arbion migrate create <name>`.
 */
import { createMigration, Migrator } from '../../core/db/migrations/migrator.js';
import { CommandExit, EXIT_UNHEALTHY, type GlobalOptions, loadContext } from '../context.js';
import { openDatabaseOrExit, toStderr } from '../database.js';

async function withMigrator<T>(
  options: GlobalOptions,
  work: (migrator: Migrator, where: string) => Promise<T>,
): Promise<T> {
  const { config } = loadContext(options, { logTo: 'stderr' });
  const database = await openDatabaseOrExit(config.database, toStderr);
  try {
    const migrator = await Migrator.open(database.adapterFactory);
    try {
      return await work(migrator, database.description);
    } finally {
      migrator.dispose();
    }
  } catch (error) {
    if (error instanceof CommandExit) throw error;
    process.stderr.write(`${(error as Error).message}\n`);
    throw new CommandExit(EXIT_UNHEALTHY);
  } finally {
    await database.close();
  }
}

export async function migrateApplyCommand(options: GlobalOptions): Promise<void> {
  await withMigrator(options, async (migrator, where) => {
    const applied = await migrator.apply();
    process.stdout.write(
      applied.length > 0
        ? `Applied ${applied.length} migration(s) to ${where}:\n${applied.map((name) => `  ${name}\n`).join('')}`
        : `${where} is up to date.\n`,
    );
  });
}

export async function migrateStatusCommand(options: GlobalOptions): Promise<void> {
  await withMigrator(options, async (migrator, where) => {
    const status = await migrator.status();
    const lines = [`Database: ${where}`, `Committed migrations: ${status.committed.length}`];
    lines.push(status.pending.length > 0 ? `Pending: ${status.pending.join(', ')}` : 'Pending: none');
    if (status.failed.length > 0) lines.push(`Failed: ${status.failed.join(', ')}`);
    if (status.edited.length > 0) lines.push(`Edited after being applied: ${status.edited.join(', ')}`);
    if (status.unknown.length > 0)
      lines.push(`In the database but not in prisma/migrations: ${status.unknown.join(', ')}`);
    const drift = status.pending.length === 0 ? await migrator.drift() : undefined;
    if (status.pending.length === 0)
      lines.push(drift === undefined ? 'Schema: matches prisma/schema.prisma' : `Schema drift:\n${drift}`);
    process.stdout.write(`${lines.join('\n')}\n`);
    const healthy =
      status.pending.length === 0 &&
      status.failed.length === 0 &&
      status.unknown.length === 0 &&
      drift === undefined;
    if (!healthy) throw new CommandExit(EXIT_UNHEALTHY);
  });
}

export async function migrateCreateCommand(name: string): Promise<void> {
  const created = await createMigration(name);
  process.stdout.write(
    created === undefined
      ? 'prisma/schema.prisma matches the committed migrations: nothing to write.\n'
      : `Wrote ${created.directory}/migration.sql:\n\n${created.sql}\n`,
  );
}
