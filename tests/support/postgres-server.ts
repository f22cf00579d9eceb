/**
 * The PostgreSQL server the integration tests use: TEST_DATABASE_URL, else DATABASE_URL, else the
 * local server on 127.0.0.1:5432 (trust auth, database `test`). Each test file gets its own
 * database cloned from a migrated template, and drops it afterwards.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export const adminDatabaseUrl =
  process.env.TEST_DATABASE_URL ?? process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/test';

/** `url` with its database name replaced. */
export function urlForDatabase(name: string, base = adminDatabaseUrl): string {
  const url = new URL(base);
  url.pathname = `/${name}`;
  return url.toString();
}

export function uniqueDatabaseName(prefix: string): string {
  return `${prefix}_${process.pid}_${randomBytes(4).toString('hex')}`;
}

/** Runs one statement on the admin connection (CREATE/DROP DATABASE cannot run in a transaction). */
export async function adminQuery(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminDatabaseUrl, connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
  } catch (error) {
    throw new Error(
      `The integration tests need a PostgreSQL server at ${new URL(adminDatabaseUrl).host} ` +
        `(set TEST_DATABASE_URL to use another): ${(error as Error).message}`,
    );
  }
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

export async function createDatabase(name: string, template?: string): Promise<string> {
  await adminQuery(`CREATE DATABASE "${name}"${template ? ` TEMPLATE "${template}"` : ''}`);
  return urlForDatabase(name);
}

export async function dropDatabase(name: string): Promise<void> {
  await adminQuery(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
}
