/**
 * Runs once per test run: migrates a template database on the PostgreSQL server, which every test
 * file clones in milliseconds instead of migrating its own.
 */
import type { TestProject } from 'vitest/node';
import { openDatabase } from '../../src/core/db/database.js';
import { Migrator } from '../../src/core/db/migrations/migrator.js';
import { createDatabase, dropDatabase, uniqueDatabaseName } from './postgres-server.js';

declare module 'vitest' {
  export interface ProvidedContext {
    templateDatabase: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const name = uniqueDatabaseName('arbion_template');
  const url = await createDatabase(name);
  const database = await openDatabase({ kind: 'server', url, poolSize: 2 });
  try {
    const migrator = await Migrator.open(database.adapterFactory);
    try {
      await migrator.apply();
    } finally {
      migrator.dispose();
    }
  } finally {
    await database.close();
  }
  project.provide('templateDatabase', name);
  return async () => {
    await dropDatabase(name);
  };
}
