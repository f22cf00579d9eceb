/**
 * What the benchmarks share: a fresh migrated database on either backend, a silent logger,
 * percentiles, and the fixed market-open instant the flows run at.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import pg from 'pg';
import { parseEnvironment } from '../src/core/config/config.js';
import { type Database, openDatabase } from '../src/core/db/database.js';
import { Migrator } from '../src/core/db/migrations/migrator.js';
import { createLogger, type Logger } from '../src/core/logging/logger.js';
import { SimulatedMarket } from '../src/core/market-data/providers/index.js';
import { getSymbolDirectory } from '../src/core/market-data/symbols/directory.js';
import { type Arbion, createArbion } from '../src/runtime/arbion.js';

/** Tuesday 10:00 New York: markets open. */
export const MARKET_OPEN = new Date('2026-11-24T15:00:00Z');

/** The p-th percentile of ascending samples (nearest rank). */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, index)] ?? Number.NaN;
}

export function silentLogger(secretValues: readonly string[] = []): Logger {
  return createLogger({
    level: 'silent',
    format: 'json',
    secretValues: [...secretValues],
    destination: new Writable({ write: (_chunk, _encoding, callback) => callback() }),
  });
}

/** The shared server's admin URL: BENCH_DATABASE_URL, DATABASE_URL or the local default. */
export function benchServerUrl(explicit?: string): string {
  return (
    explicit ??
    process.env.BENCH_DATABASE_URL ??
    process.env.DATABASE_URL ??
    'postgresql://postgres@127.0.0.1:5432/test'
  );
}

/**
 * A fresh, empty database on the PostgreSQL server behind `adminUrl`, named after `prefix` and this
 * process; `drop` removes it (with its connections).
 */
export async function createServerDatabase(
  adminUrl: string,
  prefix: string,
): Promise<{ url: string; name: string; drop: () => Promise<void> }> {
  const name = `${prefix.replaceAll('-', '_')}_${process.pid}`;
  const run = async (sql: string) => {
    const client = new pg.Client({ connectionString: adminUrl });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  await run(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  await run(`CREATE DATABASE "${name}"`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return { url: url.toString(), name, drop: () => run(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`) };
}

/**
 * A migrated database for one bench run: a temporary PGlite directory, or a fresh database on the
 * PostgreSQL server (`benchServerUrl`), dropped by `cleanup`. `serverUrl` is the bench database's
 * own URL on a server (for clients beside Arbion's), undefined when embedded.
 */
export async function openBenchDatabase(
  kind: 'server' | 'embedded',
  options: { readonly prefix: string; readonly serverUrl?: string },
): Promise<{ database: Database; cleanup: () => Promise<void>; serverUrl: string | undefined }> {
  let database: Database;
  let cleanup: () => Promise<void>;
  let serverUrl: string | undefined;
  if (kind === 'embedded') {
    const root = mkdtempSync(path.join(tmpdir(), `${options.prefix}-`));
    database = await openDatabase({ kind: 'embedded', directory: path.join(root, 'postgres') });
    cleanup = async () => {
      await database.close();
      rmSync(root, { recursive: true, force: true });
    };
  } else {
    const created = await createServerDatabase(benchServerUrl(options.serverUrl), options.prefix);
    serverUrl = created.url;
    database = await openDatabase({ kind: 'server', url: created.url, poolSize: 10 });
    cleanup = async () => {
      await database.close();
      await created.drop();
    };
  }
  const migrator = await Migrator.open(database.adapterFactory);
  try {
    await migrator.apply();
  } finally {
    migrator.dispose();
  }
  return { database, cleanup, serverUrl };
}

/**
 * An Arbion for benchmarks on `database`: the production wiring, a simulated market and a clock
 * pinned to market open, and limits wide enough that thousands of orders all pass.
 */
export function createBenchArbion(database: Database, logger: Logger): Arbion {
  const parsed = parseEnvironment(
    {
      LOG_LEVEL: 'silent',
      CONFIRMATION_TTL_SECONDS: '3600',
      RISK_MAX_POSITION_FRACTION: '1',
      RISK_MAX_ORDER_NOTIONAL: '1000000',
      PAPER_STARTING_CASH: '100000000',
    },
    { cwd: tmpdir() },
  );
  if (!parsed.ok) throw new Error(parsed.problems.join('\n'));
  return createArbion({
    config: parsed.config,
    database,
    logger,
    market: new SimulatedMarket({ seed: 1, symbols: getSymbolDirectory(), clock: () => MARKET_OPEN }),
    fallback: null,
    clock: () => MARKET_OPEN,
  });
}
