/**
 * Opens our database through a Prisma 7 driver adapter:
 * - DATABASE_URL set: a PostgreSQL server (`@prisma/adapter-pg` over a `pg` pool);
 * - unset: embedded PostgreSQL (PGlite, WebAssembly) in a folder, file-backed, one process at a time.
 * Both speak the same SQL and run the same migrations.
 */
import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { PrismaPg } from '@prisma/adapter-pg';
import type { SqlMigrationAwareDriverAdapterFactory } from '@prisma/driver-adapter-utils';
import pg from 'pg';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import type { DatabaseConfig } from '../config/config.js';
import { DatabaseUnavailableError } from '../errors.js';
import { DataDirectoryLock } from './data-directory-lock.js';
import { PrismaClient } from './generated/client.js';
import { reportCatalogCharAsText } from './pg-char-compat.js';
import { poolExecutor, prismaExecutor, type SqlExecutor } from './sql.js';

export { Prisma, PrismaClient } from './generated/client.js';
export type { SqlExecutor } from './sql.js';

export interface Database {
  readonly kind: 'server' | 'embedded';
  readonly prisma: PrismaClient;
  /** Plain SQL for the statements on every message's path (see sql.ts). */
  readonly sql: SqlExecutor;
  /** The same database for the schema engine (migrations, drift checks). */
  readonly adapterFactory: SqlMigrationAwareDriverAdapterFactory;
  /** Where the data is, without credentials: "PostgreSQL server 127.0.0.1:5432/arbion". */
  readonly description: string;
  /** The embedded database's folder lock; undefined on a server. */
  readonly lock: DataDirectoryLock | undefined;
  /** One round trip; throws DatabaseUnavailableError when the database does not answer. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** "host:port/database" of a connection string, never its credentials. */
export function describeServer(url: string): string {
  const parsed = new URL(url);
  return `${parsed.hostname}:${parsed.port || '5432'}${parsed.pathname}`;
}

export async function openDatabase(config: DatabaseConfig): Promise<Database> {
  return config.kind === 'server' ? openServer(config.url, config.poolSize) : openEmbedded(config.directory);
}

async function openServer(url: string, poolSize: number): Promise<Database> {
  const description = `PostgreSQL server ${describeServer(url)}`;
  const pool = reportCatalogCharAsText(
    new pg.Pool({ connectionString: url, max: poolSize, connectionTimeoutMillis: 5000 }),
  );
  // An idle client that errors (server restart) must not crash the process; the pool replaces it.
  pool.on('error', () => {});
  // Nor one checked out (a transaction in progress when the server shuts down: 57P01): the query
  // in flight fails with the same error, and that failure is what callers handle.
  pool.on('connect', (client) => {
    client.on('error', () => {});
  });
  const adapterFactory = new PrismaPg(pool);
  const prisma = new PrismaClient({ adapter: adapterFactory });
  const database: Database = {
    kind: 'server',
    prisma,
    sql: poolExecutor(pool),
    adapterFactory,
    description,
    lock: undefined,
    async ping() {
      try {
        await pool.query('select 1');
      } catch (error) {
        throw new DatabaseUnavailableError(`${description} is not reachable: ${(error as Error).message}`, {
          cause: error,
        });
      }
    },
    async close() {
      await prisma.$disconnect();
      await pool.end();
    },
  };
  await database.ping().catch(async (error: unknown) => {
    await pool.end();
    throw error;
  });
  return database;
}

/**
 * PGlite's defaults plus a smaller buffer pool. PostgreSQL's 128 MB of shared buffers are touched
 * at start inside PGlite's WebAssembly memory, so they cost 128 MB of resident memory for a
 * one-user database whose files the operating system caches anyway; 16 MB holds the hot rows.
 */
const EMBEDDED_START_PARAMS: readonly string[] = [...PGlite.defaultStartParams, '-c', 'shared_buffers=16MB'];

async function openEmbedded(directory: string): Promise<Database> {
  const description = `embedded PostgreSQL in ${directory}`;
  mkdirSync(directory, { recursive: true });
  const lock = DataDirectoryLock.acquire(directory);
  let pglite: PGlite;
  try {
    pglite = await PGlite.create(directory, { startParams: [...EMBEDDED_START_PARAMS] });
  } catch (error) {
    lock.release();
    throw new DatabaseUnavailableError(`Cannot open ${description}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const adapterFactory = new PrismaPGlite(pglite);
  const prisma = new PrismaClient({ adapter: adapterFactory });
  let closed = false;
  return {
    kind: 'embedded',
    prisma,
    sql: prismaExecutor(prisma),
    adapterFactory,
    description,
    lock,
    async ping() {
      try {
        await pglite.query('select 1');
      } catch (error) {
        throw new DatabaseUnavailableError(`${description} does not answer: ${(error as Error).message}`, {
          cause: error,
        });
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      try {
        await prisma.$disconnect();
        await pglite.close();
      } finally {
        lock.release();
      }
    },
  };
}
