/**
 * `@prisma/adapter-pg` 7.10 maps PostgreSQL's internal `"char"` type (OID 18) only as an array, so
 * any result with a scalar `"char"` column fails with "Column type 'char' could not be
 * deserialized". The schema engine's catalog queries (pg_class.relkind, pg_constraint.contype...)
 * return such columns, which breaks drift checks on a server. The PGlite adapter maps it fine.
 *
 * A `"char"` value is a one-character string, so reporting the column as `text` (OID 25) is exact.
 * Our own tables never use `"char"` (Prisma's `@db.Char(n)` is `bpchar`, OID 1042).
 * Remove this shim once the adapter maps OID 18 itself.
 */
import type pg from 'pg';

const CHAR_OID = 18;
const TEXT_OID = 25;

interface WithFields {
  fields?: { dataTypeID: number }[];
}

function reportCharAsText<T>(result: T): T {
  for (const field of (result as WithFields | undefined)?.fields ?? []) {
    if (field.dataTypeID === CHAR_OID) field.dataTypeID = TEXT_OID;
  }
  return result;
}

type PromiseQuery = (...args: unknown[]) => Promise<unknown>;

function patchQuery(target: { query: unknown }): void {
  const original = (target.query as PromiseQuery).bind(target);
  target.query = ((...args: unknown[]) => {
    // Callback-style calls are not used by the adapter; leave them untouched.
    if (typeof args[args.length - 1] === 'function') return original(...args);
    return original(...args).then(reportCharAsText);
  }) as typeof target.query;
}

/** Patches `pool` (and every client it hands out) in place; returns it. */
export function reportCatalogCharAsText(pool: pg.Pool): pg.Pool {
  patchQuery(pool);
  const patchedClients = new WeakSet<object>();
  const patchOnce = (client: unknown) => {
    if (client && typeof client === 'object' && !patchedClients.has(client)) {
      patchedClients.add(client);
      patchQuery(client as { query: unknown });
    }
  };
  const connect = pool.connect.bind(pool) as (
    callback?: (...args: unknown[]) => void,
  ) => Promise<unknown> | undefined;
  pool.connect = ((callback?: (error: unknown, client: unknown, release: unknown) => void) => {
    // pg-pool's own query() uses the callback form: keep it working.
    if (typeof callback === 'function') {
      return connect((error: unknown, client: unknown, release: unknown) => {
        if (!error) patchOnce(client);
        callback(error, client, release);
      });
    }
    return (connect() as Promise<unknown>).then((client) => {
      patchOnce(client);
      return client;
    });
  }) as typeof pool.connect;
  return pool;
}
