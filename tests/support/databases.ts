/**
 * A fresh, migrated database for one test file, on either backend, through the product's own
 * openDatabase() and Migrator.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { inject } from 'vitest';
import { type Database, openDatabase } from '../../src/core/db/database.js';
import { Migrator } from '../../src/core/db/migrations/migrator.js';
import { createDatabase, dropDatabase, uniqueDatabaseName } from './postgres-server.js';

export type Backend = 'server' | 'embedded';
export const backends: Backend[] = ['server', 'embedded'];

export interface TestDatabase {
  readonly database: Database;
  /** Server: the connection string. Embedded: the data directory. */
  readonly location: string;
  /** Closes the database and removes every trace of it. */
  destroy(): Promise<void>;
}

/** A database with no tables at all (not even the migrations table). */
export async function createEmptyTestDatabase(backend: Backend): Promise<TestDatabase> {
  if (backend === 'server') {
    const name = uniqueDatabaseName('arbion_test');
    const url = await createDatabase(name);
    const database = await openDatabase({ kind: 'server', url, poolSize: 4 });
    return {
      database,
      location: url,
      async destroy() {
        await database.close();
        await dropDatabase(name);
      },
    };
  }
  const root = mkdtempSync(path.join(tmpdir(), 'arbion-test-'));
  const directory = path.join(root, 'postgres');
  const database = await openDatabase({ kind: 'embedded', directory });
  return {
    database,
    location: directory,
    async destroy() {
      await database.close();
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/** A database with every committed migration applied. */
export async function createTestDatabase(backend: Backend): Promise<TestDatabase> {
  if (backend === 'server') {
    const name = uniqueDatabaseName('arbion_test');
    const url = await createDatabase(name, inject('templateDatabase'));
    const database = await openDatabase({ kind: 'server', url, poolSize: 4 });
    return {
      database,
      location: url,
      async destroy() {
        await database.close();
        await dropDatabase(name);
      },
    };
  }
  const testDatabase = await createEmptyTestDatabase('embedded');
  const migrator = await Migrator.open(testDatabase.database.adapterFactory);
  try {
    await migrator.apply();
  } finally {
    migrator.dispose();
  }
  return testDatabase;
}
