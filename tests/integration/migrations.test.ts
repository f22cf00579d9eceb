/**
 * The committed migrations produce exactly the schema in prisma/schema.prisma (no drift), on the
 * PostgreSQL server and on embedded PGlite, and the migration tooling notices when they do not.
 */
import { cpSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMigration, Migrator } from '../../src/core/db/migrations/migrator.js';
import { migrationsDirectory, prismaSchemaPath } from '../../src/core/paths.js';
import { type Backend, backends, createEmptyTestDatabase, type TestDatabase } from '../support/databases.js';

const committed = readdirSync(migrationsDirectory)
  .filter((name) => /^\d{14}_/.test(name))
  .sort();

describe.each(backends)('committed migrations on %s PostgreSQL', (backend: Backend) => {
  let test: TestDatabase;
  let migrator: Migrator;

  beforeAll(async () => {
    test = await createEmptyTestDatabase(backend);
    migrator = await Migrator.open(test.database.adapterFactory);
  });
  afterAll(async () => {
    migrator?.dispose();
    await test?.destroy();
  });

  it('reports every committed migration as pending on an empty database', async () => {
    expect(committed.length).toBeGreaterThan(0);
    const status = await migrator.status();
    expect(status.pending).toEqual(committed);
    expect(status.committed).toEqual(committed);
  });

  it('applies them all, recording them as prisma migrate deploy does', async () => {
    expect(await migrator.apply()).toEqual(committed);
    const rows = await test.database.prisma.$queryRawUnsafe<
      { migration_name: string; checksum: string; finished_at: Date | null }[]
    >('select migration_name, checksum, finished_at from _prisma_migrations order by migration_name');
    expect(rows.map((row) => row.migration_name)).toEqual(committed);
    for (const row of rows) expect(row.finished_at).not.toBeNull();
  });

  it('leaves no drift between the database and schema.prisma', async () => {
    expect(await migrator.drift()).toBeUndefined();
  });

  it('is a no-op the second time', async () => {
    expect(await migrator.apply()).toEqual([]);
    expect((await migrator.status()).pending).toEqual([]);
  });

  it('detects drift when the database differs from the schema', async () => {
    await test.database.prisma.$executeRawUnsafe('ALTER TABLE "users" ADD COLUMN "stray" integer');
    const drift = await migrator.drift();
    expect(drift).toContain('DROP COLUMN "stray"');
    await test.database.prisma.$executeRawUnsafe('ALTER TABLE "users" DROP COLUMN "stray"');
    expect(await migrator.drift()).toBeUndefined();
  });
});

describe('creating a migration from a schema change', () => {
  let workspace: string;
  let schemaPath: string;
  let directory: string;

  beforeAll(() => {
    workspace = mkdtempSync(path.join(tmpdir(), 'arbion-migration-'));
    schemaPath = path.join(workspace, 'schema.prisma');
    directory = path.join(workspace, 'migrations');
    cpSync(migrationsDirectory, directory, { recursive: true });
    writeFileSync(
      schemaPath,
      `${readFileSync(prismaSchemaPath, 'utf8')}\nmodel Note {\n  id   Int    @id @default(autoincrement())\n  body String\n}\n`,
    );
  });

  it('writes only the difference, in Prisma layout, and then there is nothing left to write', async () => {
    const created = await createMigration('Add notes!', { schemaPath, migrationsDirectory: directory });
    expect(created).toBeDefined();
    expect(path.basename(created?.directory ?? '')).toMatch(/^\d{14}_add_notes$/);
    expect(created?.sql).toContain('CREATE TABLE "Note"');
    expect(created?.sql).not.toContain('CREATE TABLE "users"');
    expect(readFileSync(path.join(created?.directory ?? '', 'migration.sql'), 'utf8')).toBe(created?.sql);
    expect(await createMigration('again', { schemaPath, migrationsDirectory: directory })).toBeUndefined();
  });

  it('refuses to apply over a database that ran migrations this version does not know', async () => {
    const test = await createEmptyTestDatabase('server');
    try {
      const newer = await Migrator.open(test.database.adapterFactory, {
        schemaPath,
        migrationsDirectory: directory,
      });
      await newer.apply();
      newer.dispose();
      const older = await Migrator.open(test.database.adapterFactory);
      try {
        expect((await older.status()).unknown).toHaveLength(1);
        await expect(older.apply()).rejects.toThrow(/does not know/);
      } finally {
        older.dispose();
      }
    } finally {
      await test.destroy();
    }
  });
});

describe('the migration history', () => {
  it('is in Prisma layout with a postgresql lockfile', () => {
    expect(readFileSync(path.join(migrationsDirectory, 'migration_lock.toml'), 'utf8')).toContain(
      'provider = "postgresql"',
    );
    for (const name of committed) {
      expect(readdirSync(path.join(migrationsDirectory, name))).toEqual(['migration.sql']);
    }
  });

  it('declares no floating-point column anywhere', () => {
    const sql = committed
      .map((name) => readFileSync(path.join(migrationsDirectory, name, 'migration.sql'), 'utf8'))
      .join('\n');
    expect(sql).not.toMatch(/\b(DOUBLE PRECISION|REAL|FLOAT\d?)\b/i);
    expect(sql).toContain('DECIMAL(38,18)');
  });

  it('is what the pg driver sees as numeric for money columns', async () => {
    const test = await createEmptyTestDatabase('server');
    try {
      const migrator = await Migrator.open(test.database.adapterFactory);
      await migrator.apply();
      migrator.dispose();
      const client = new pg.Client({ connectionString: test.location });
      await client.connect();
      const { rows } = await client.query<{ data_type: string; count: string }>(
        `select data_type, count(*) from information_schema.columns where table_schema = 'public'
         and column_name in ('cash','quantity','limitPrice','estimatedCost','price') group by data_type`,
      );
      await client.end();
      expect(rows).toEqual([{ data_type: 'numeric', count: expect.any(String) }]);
    } finally {
      await test.destroy();
    }
  });
});
