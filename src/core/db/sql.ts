/**
 * Plain SQL for the few statements on every message's path, without Prisma's query engine: on the
 * server a statement goes straight to the `pg` pool (Prisma adds about 0.2 ms of CPU per round trip,
 * which on a busy webhook is most of the work; `npm run bench` shows it). Statements are written
 * with `Prisma.sql` (values are always bound parameters, never spliced into the text).
 *
 * Rows come back as PostgreSQL sends them, the same on both backends, so hot-path statements cast
 * what they select: numerics and ids `::text`, counts `::int`; timestamps arrive as UTC Dates.
 * On the embedded database the statement runs through Prisma's own connection, because PGlite is
 * one connection and Prisma's transactions hold it: a side channel could run inside someone else's
 * transaction.
 */
import pg from 'pg';
import type { Prisma, PrismaClient } from './generated/client.js';

export interface SqlExecutor {
  /** The rows a statement returns. */
  query<Row>(statement: Prisma.Sql): Promise<Row[]>;
  /** How many rows a statement changed. */
  execute(statement: Prisma.Sql): Promise<number>;
}

const TIMESTAMP = 1114;
const MAX_NAMED_STATEMENTS = 200;
const DATE = 1082;

// Prisma keeps timestamps `without time zone` in UTC; pg's default would read them as local time.
const utcTypes = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === TIMESTAMP) return (value: string) => new Date(`${value.replace(' ', 'T')}Z`);
    if (oid === DATE) return (value: string) => new Date(`${value}T00:00:00Z`);
    return pg.types.getTypeParser(oid, format);
  },
};

/** Parameters as PostgreSQL text: Dates in UTC (no local offset), decimals exactly, objects as JSON. */
function toParameter(value: unknown): unknown {
  if (value instanceof Date) return value.toISOString();
  if (value === null || value === undefined) return null;
  // Arrays stay arrays (pg binds them as PostgreSQL arrays).
  if (typeof value === 'object' && !Array.isArray(value))
    return 'toFixed' in value ? String(value) : JSON.stringify(value);
  return value;
}

/** Statements straight on the server's pool. */
export function poolExecutor(pool: pg.Pool): SqlExecutor {
  // Named statements are parsed and planned once per connection, not on every message. The text of
  // a call site never changes (values are parameters), so its text names it.
  const names = new Map<string, string>();
  const nameOf = (text: string): string | undefined => {
    let name = names.get(text);
    if (name === undefined) {
      // Each connection keeps what it prepared: name only a bounded set of statements.
      if (names.size >= MAX_NAMED_STATEMENTS) return undefined;
      name = `arbion_${names.size + 1}`;
      names.set(text, name);
    }
    return name;
  };
  const run = (statement: Prisma.Sql) =>
    pool.query({
      name: nameOf(statement.text),
      text: statement.text,
      values: statement.values.map(toParameter),
      types: utcTypes,
    });
  return {
    async query<Row>(statement: Prisma.Sql): Promise<Row[]> {
      return (await run(statement)).rows as Row[];
    },
    async execute(statement: Prisma.Sql): Promise<number> {
      return (await run(statement)).rowCount ?? 0;
    },
  };
}

/** Statements through Prisma's connection (embedded PGlite). */
export function prismaExecutor(prisma: PrismaClient | Prisma.TransactionClient): SqlExecutor {
  return {
    query<Row>(statement: Prisma.Sql): Promise<Row[]> {
      return prisma.$queryRaw<Row[]>(statement);
    },
    execute(statement: Prisma.Sql): Promise<number> {
      return prisma.$executeRaw(statement);
    },
  };
}
