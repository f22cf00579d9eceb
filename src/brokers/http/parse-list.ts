/**
 * A broker's list answer read one element at a time. Listings hold elements of shapes we did not
 * plan for (an order kind placed elsewhere, a field gone null, a new enum value); one of them must
 * not hide every other order, position or balance, least of all from the search that keeps an
 * order from being placed twice. So each element is parsed on its own: the ones that match are
 * kept, the others are skipped and logged with where they were, their id and which fields did not
 * match (zod's issue codes), never their values.
 *
 * The list itself must still be a list: a body that is not one is an unexpected answer, refused
 * by the envelope's schema (`rawList`) as before.
 */
import { z } from 'zod';
import type { Logger } from '../../core/logging/logger.js';

/** Any JSON array, its elements left for `parseList`. */
export const rawList = z.array(z.unknown());

/** An element we could not read. */
export interface SkippedElement {
  /** Where it was: its index, or its key in a map answer. */
  readonly at: string;
  /** Its own id when it has a readable one (an order id, a symbol), for the log. */
  readonly id: string | undefined;
  /** What did not match, as `path: code` (never the values). */
  readonly issues: readonly string[];
}

/** The readable elements of a list, and the ones skipped. */
export interface ParsedList<T> {
  readonly items: T[];
  readonly skipped: SkippedElement[];
}

/** An element's id for the log, read from its raw JSON (see `idField`); undefined when none. */
export type ElementId = (raw: unknown) => string | undefined;

/** What `parseList` logs a skipped element with. */
export interface ListContext {
  /** The broker that answered ("alpaca"). */
  readonly provider: string;
  /** What the list holds, for the log ("open orders"). */
  readonly list: string;
  readonly idOf: ElementId;
  readonly logger: Logger | undefined;
  /** More ids for the log (an account key, a network); never secrets. */
  readonly context?: Readonly<Record<string, string>>;
}

/** Elements given as (where, raw JSON) pairs, parsed one by one. Pure: the caller logs `skipped`. */
export function parseEntries<T>(
  entries: Iterable<readonly [string, unknown]>,
  schema: z.ZodType<T>,
  idOf: ElementId,
): ParsedList<T> {
  const listed: ParsedList<T> = { items: [], skipped: [] };
  for (const [at, raw] of entries) {
    const parsed = schema.safeParse(raw);
    if (parsed.success) {
      listed.items.push(parsed.data);
      continue;
    }
    const issues = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.code}`);
    listed.skipped.push({ at, id: idOf(raw), issues });
  }
  return listed;
}

/**
 * The elements of `raw` that match `schema`, in order; each one that does not is skipped and
 * logged at warn.
 */
export function parseList<T>(raw: readonly unknown[], schema: z.ZodType<T>, context: ListContext): T[] {
  const { items, skipped } = parseEntries(
    raw.map((element, index) => [String(index), element] as const),
    schema,
    context.idOf,
  );
  for (const element of skipped) {
    context.logger?.warn(
      { provider: context.provider, list: context.list, ...context.context, ...element },
      `skipped an element of a ${context.provider} ${context.list} list that we could not read`,
    );
  }
  return items;
}

/** A field of a raw element as a short id for the log: numbers and short id-like strings only. */
export function idField(raw: unknown, ...path: readonly string[]): string | undefined {
  let value: unknown = raw;
  for (const key of path) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value === 'string' && /^[A-Za-z0-9 ._:/-]{1,80}$/.test(value)) return value;
  return undefined;
}

/** The first of several fields that gives an id (`idField` on each path in turn). */
export function firstIdField(...paths: readonly (readonly string[])[]): ElementId {
  return (raw) => {
    for (const path of paths) {
      const id = idField(raw, ...path);
      if (id !== undefined) return id;
    }
    return undefined;
  };
}
