/**
 * What this process sends to the PostgreSQL server, seen at node-pg's `Client.prototype.query`
 * (every pool, Prisma's adapter and the plain-SQL executor go through it):
 *
 * - statements: what the server executes as separate statements. A query with parameters or a name
 *   travels on the extended protocol, which carries exactly one statement; a query with neither
 *   travels on the simple protocol and may carry several, separated by `;` (counted outside quotes
 *   and comments). BEGIN, COMMIT and ROLLBACK are statements like any other.
 * - commits: the moment a transaction's COMMIT has returned, for a transaction picked by the work
 *   that ran in it (`commitOfTransactionDuring`).
 *
 * Installing patches the prototype once for the whole process.
 */
import pg from 'pg';

type QueryArgument = string | { text?: string; name?: string; values?: unknown[] } | undefined;

/** Statements in a simple-protocol text: `;`-separated, ignoring `;` in quotes and comments. */
export function simpleStatementCount(text: string): number {
  let statements = 0;
  let current = false; // the statement under way has a non-blank character
  for (let i = 0; i < text.length; i++) {
    const char = text[i] ?? '';
    const skipTo = (end: string, from: number) => {
      const at = text.indexOf(end, from);
      return at === -1 ? text.length : at + end.length - 1;
    };
    if (char === "'" || char === '"') {
      i = skipTo(char, i + 1);
      current = true;
    } else if (char === '-' && text[i + 1] === '-') i = skipTo('\n', i);
    else if (char === '/' && text[i + 1] === '*') i = skipTo('*/', i + 2);
    else if (char === '$') {
      const tag = /^\$[A-Za-z_]*\$/.exec(text.slice(i))?.[0];
      if (tag !== undefined) i = skipTo(tag, i + tag.length);
      current = true;
    } else if (char === ';') {
      if (current) statements++;
      current = false;
    } else if (char.trim() !== '') current = true;
  }
  return statements + (current ? 1 : 0);
}

function statementsOf(query: QueryArgument, values: unknown): number {
  if (query === undefined) return 0;
  if (typeof query === 'string')
    return Array.isArray(values) && values.length > 0 ? 1 : simpleStatementCount(query);
  if (query.name !== undefined || (query.values?.length ?? 0) > 0) return 1;
  return simpleStatementCount(query.text ?? '');
}

const textOf = (query: QueryArgument) => (typeof query === 'string' ? query : (query?.text ?? ''));

export class PgStatementCounter {
  /** Statements sent so far (see the module comment). */
  statements = 0;
  /** When set, the text of each query sent is appended (whitespace collapsed, cut at 160 characters). */
  trace: string[] | undefined;
  /** Clients inside BEGIN ... COMMIT/ROLLBACK. */
  private readonly inTransaction = new WeakSet<pg.Client>();
  /** Clients that ran a statement in a transaction while a capture was on. */
  private capture: Set<pg.Client> | undefined;
  private readonly commitWaiters = new Map<pg.Client, (at: number) => void>();

  /** Called by the patched `query` before the query goes out; returns what to run once it answers. */
  sent(client: pg.Client, query: QueryArgument, values: unknown): (() => void) | undefined {
    this.statements += statementsOf(query, values);
    const text = textOf(query);
    this.trace?.push(text.replace(/\s+/g, ' ').trim().slice(0, 160));
    if (/^\s*(BEGIN|START\s+TRANSACTION)\b/i.test(text)) this.inTransaction.add(client);
    if (this.capture !== undefined && this.inTransaction.has(client)) this.capture.add(client);
    if (/^\s*(COMMIT|END|ROLLBACK)\s*;?\s*$/i.test(text)) {
      this.inTransaction.delete(client);
      const waiter = this.commitWaiters.get(client);
      this.commitWaiters.delete(client);
      if (waiter !== undefined && /^\s*(COMMIT|END)/i.test(text)) return () => waiter(performance.now());
    }
    return undefined;
  }

  /**
   * Runs `work`, which must run its statements in exactly one open transaction of this process
   * (other work may run meanwhile, outside transactions), and calls `committed` with the
   * `performance.now()` at which that transaction's COMMIT returned. Work seen in no transaction,
   * or in several, registers nothing: `committed` is never called, and the caller notices.
   */
  async commitOfTransactionDuring<T>(work: () => Promise<T>, committed: (at: number) => void): Promise<T> {
    const clients = new Set<pg.Client>();
    this.capture = clients;
    try {
      return await work();
    } finally {
      this.capture = undefined;
      const [client] = clients;
      if (clients.size === 1 && client !== undefined) this.commitWaiters.set(client, committed);
    }
  }
}

let installed: PgStatementCounter | undefined;

/** The process's counter, patching node-pg on first use. */
export function pgStatementCounter(): PgStatementCounter {
  if (installed !== undefined) return installed;
  const counter = new PgStatementCounter();
  const original = pg.Client.prototype.query as (...args: unknown[]) => unknown;
  pg.Client.prototype.query = function countedQuery(this: pg.Client, ...args: unknown[]) {
    const answered = counter.sent(this, args[0] as QueryArgument, args[1]);
    if (answered === undefined) return original.apply(this, args);
    const last = args.length - 1;
    const callback = args[last];
    if (typeof callback === 'function') {
      // Callback style (pg.Pool's own query): run after the answer, before the caller sees it.
      args[last] = (...result: unknown[]) => {
        answered();
        return (callback as (...inner: unknown[]) => unknown)(...result);
      };
      return original.apply(this, args);
    }
    const result = original.apply(this, args) as Promise<unknown>;
    return result.then((value) => {
      answered();
      return value;
    });
  } as typeof pg.Client.prototype.query;
  installed = counter;
  return counter;
}
