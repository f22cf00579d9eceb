/**
 * Applies, inspects and creates migrations with Prisma's schema engine, offline.
 *
 * - apply: the engine's `applyMigrations`, which records each one in `_prisma_migrations` exactly as
 *   `prisma migrate deploy` does (checksums included).
 * - status: the engine's `diagnoseMigrationHistory`: pending, failed, edited, unknown migrations.
 * - drift: `diff` from the live database to schema.prisma; empty when the database matches it.
 * - create: replays the committed history into a scratch in-memory PGlite and diffs it against
 *   schema.prisma (what `prisma migrate diff --from-migrations` does, without a shadow server).
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import type { SqlMigrationAwareDriverAdapterFactory } from '@prisma/driver-adapter-utils';
import type { MigrationList, SchemaFilter } from '@prisma/schema-engine-wasm';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import { MigrationError } from '../../errors.js';
import { migrationsDirectory, prismaSchemaPath } from '../../paths.js';
import { readMigrationList, writeMigration } from './migration-files.js';
import { type SchemaEngine, type SchemaFile, startSchemaEngine } from './schema-engine.js';

const NO_FILTER: SchemaFilter = { externalTables: [], externalEnums: [] };
const EMPTY_MIGRATION = /^\s*(--[^\n]*\n?\s*)*$/;

/** Where the schema and the migrations are; the project's own by default. */
export interface MigrationSources {
  readonly schemaPath?: string;
  readonly migrationsDirectory?: string;
}

export interface MigrationStatus {
  /** Committed migrations the database has not run. */
  readonly pending: readonly string[];
  /** Migrations that started and did not finish: the database needs a person. */
  readonly failed: readonly string[];
  /** Applied migrations whose file changed since. */
  readonly edited: readonly string[];
  /** Migrations the database ran that are not in the folder (a newer version ran here?). */
  readonly unknown: readonly string[];
  /** Committed migrations, in order. */
  readonly committed: readonly string[];
}

async function loadSchema(schemaPath: string): Promise<SchemaFile> {
  return { path: path.basename(schemaPath), content: await readFile(schemaPath, 'utf8') };
}

function describeFailure(action: string, error: unknown): MigrationError {
  const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
  return new MigrationError(`${action}: ${message}`, { cause: error });
}

/** Migrations of one database. Dispose it when done; it holds an engine. */
export class Migrator {
  private constructor(
    private readonly engine: SchemaEngine,
    private readonly schema: SchemaFile,
    private readonly migrations: MigrationList,
    private readonly schemaDirectory: string,
  ) {}

  /** Starts an engine on the database behind `adapterFactory`. */
  static async open(
    adapterFactory: SqlMigrationAwareDriverAdapterFactory,
    sources: MigrationSources = {},
  ): Promise<Migrator> {
    const schemaPath = sources.schemaPath ?? prismaSchemaPath;
    const schema = await loadSchema(schemaPath);
    const migrations = await readMigrationList(sources.migrationsDirectory ?? migrationsDirectory);
    try {
      const engine = await startSchemaEngine(schema, adapterFactory);
      return new Migrator(engine, schema, migrations, path.dirname(schemaPath));
    } catch (error) {
      throw describeFailure('Cannot start the schema engine', error);
    }
  }

  async status(): Promise<MigrationStatus> {
    const committed = this.migrations.migrationDirectories.map((directory) => directory.path);
    try {
      const diagnosis = await this.engine.diagnoseMigrationHistory({
        migrationsList: this.migrations,
        optInToShadowDatabase: false,
        filters: NO_FILTER,
      });
      const history = diagnosis.history;
      let pending: string[] = [];
      let unknown: string[] = [];
      if (history?.diagnostic === 'databaseIsBehind') pending = history.unappliedMigrationNames;
      if (history?.diagnostic === 'migrationsDirectoryIsBehind') unknown = history.unpersistedMigrationNames;
      if (history?.diagnostic === 'historiesDiverge') {
        pending = history.unappliedMigrationNames;
        unknown = history.unpersistedMigrationNames;
      }
      if (!diagnosis.hasMigrationsTable) pending = committed;
      return {
        pending,
        failed: diagnosis.failedMigrationNames,
        edited: diagnosis.editedMigrationNames,
        unknown,
        committed,
      };
    } catch (error) {
      throw describeFailure('Cannot read the migration history', error);
    }
  }

  /** Applies every pending migration; returns their names (empty when up to date). */
  async apply(): Promise<string[]> {
    const status = await this.status();
    if (status.failed.length > 0) {
      throw new MigrationError(
        `Migration ${status.failed.join(', ')} failed earlier and left the database half-changed; fix it by hand, then mark it rolled back`,
      );
    }
    if (status.unknown.length > 0) {
      throw new MigrationError(
        `The database has migrations this version does not know (${status.unknown.join(', ')}); a newer Arbion ran against it`,
      );
    }
    try {
      const output = await this.engine.applyMigrations({
        migrationsList: this.migrations,
        filters: NO_FILTER,
      });
      return output.appliedMigrationNames;
    } catch (error) {
      throw describeFailure('Cannot apply migrations', error);
    }
  }

  /** SQL that would turn the live database into schema.prisma; undefined when they match. */
  async drift(): Promise<string | undefined> {
    try {
      const result = await this.engine.diff({
        from: { tag: 'schemaDatasource', files: [this.schema], configDir: this.schemaDirectory },
        to: { tag: 'schemaDatamodel', files: [this.schema] },
        script: true,
        exitCode: true,
        filters: NO_FILTER,
      });
      const sql = result.stdout ?? '';
      return result.exitCode === 0 || EMPTY_MIGRATION.test(sql) ? undefined : sql;
    } catch (error) {
      throw describeFailure('Cannot compare the database with the schema', error);
    }
  }

  dispose(): void {
    this.engine.free();
  }
}

/**
 * Writes a migration that brings the committed history up to schema.prisma.
 * @returns the new directory and its SQL, or undefined when the history already matches
 */
export async function createMigration(
  name: string,
  sources: MigrationSources = {},
): Promise<{ directory: string; sql: string } | undefined> {
  const scratch = new PGlite('memory://');
  const migrator = await Migrator.open(new PrismaPGlite(scratch), sources);
  try {
    await migrator.apply();
    const sql = await migrator.drift();
    if (sql === undefined) return undefined;
    const directory = await writeMigration(sources.migrationsDirectory ?? migrationsDirectory, name, sql);
    return { directory, sql };
  } finally {
    migrator.dispose();
    await scratch.close();
  }
}
