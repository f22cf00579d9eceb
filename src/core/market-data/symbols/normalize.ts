/**
 * Text normalization shared by the directory's indexes and its lookups: both sides must agree, so
 * "Coca-Cola", "coca cola" and "COCA‑COLA" meet on one key.
 */

/** Already normalized text: lower-case words of letters and digits separated by single spaces. */
const NORMALIZED = /^[a-z0-9]+(?: [a-z0-9]+)*$/;
const COMBINING_MARKS = /[\u0300-\u036f]/g;
const APOSTROPHES = /['’`]/g;
const NOT_ALPHANUMERIC = /[^a-z0-9]+/g;

/**
 * Lower case, accents dropped ("Estée" -> "estee"), apostrophes removed ("McDonald's" -> "mcdonalds"),
 * "&" spelled "and" ("AT&T" -> "at and t"), every other symbol a word break.
 */
export function normalizeName(text: string): string {
  const lower = text.toLowerCase();
  if (NORMALIZED.test(lower)) return lower;
  return lower
    .normalize('NFD')
    .replace(COMBINING_MARKS, '')
    .replace(APOSTROPHES, '')
    .replace(/&/g, ' and ')
    .replace(NOT_ALPHANUMERIC, ' ')
    .trim();
}

/** Separators people put between a ticker and its share class: "BRK.B", "BRK-B", "brk/b", "brk b". */
const CLASS_SEPARATORS = /[-/ ]/g;

/** Canonical ticker key: upper case, share-class separator spelled ".". */
export function normalizeTicker(text: string): string {
  return text.trim().toUpperCase().replace(CLASS_SEPARATORS, '.');
}

/** Legal-form words that people leave out when they name a company. */
const LEGAL_SUFFIXES = [
  'inc',
  'incorporated',
  'corp',
  'corporation',
  'co',
  'company',
  'companies',
  'holdings',
  'holding',
  'group',
  'plc',
  'ltd',
  'limited',
  'llc',
  'lp',
  'nv',
  'n v',
  'sa',
  's a',
  'se',
  'ag',
  // Left dangling by "Chase & Co." or "Carnival Corporation & plc".
  'and',
];

/** Fund-wrapper words, stripped from ETF names only: "Northern Trust" must keep its "trust". */
const FUND_SUFFIXES = ['etf', 'etn', 'fund', 'trust'];

/** Keys under which an instrument's name is indexed, and the short form offered as its alias. */
export interface NameKeys {
  /** Every form worth indexing: the full name, each stage of suffix stripping, without "the". */
  readonly keys: readonly string[];
  /** The most stripped form ("apple", "home depot"): the derived alias. */
  readonly short: string;
}

/**
 * Derives the names people type from an official name: "The Goldman Sachs Group, Inc." gives
 * "the goldman sachs group inc", ..., "goldman sachs". A share class in parentheses
 * ("Alphabet Inc. (Class C)") also yields class-qualified keys ("alphabet class c").
 */
export function deriveNameKeys(name: string, kind: 'stock' | 'etf' | 'crypto'): NameKeys {
  const classMatch = /\(\s*class\s+([a-z])\s*\)/i.exec(name);
  const shareClass = classMatch?.[1]?.toLowerCase();
  const base = normalizeName(name.replace(/\([^)]*\)/g, ' '));
  const suffixes = kind === 'etf' ? [...LEGAL_SUFFIXES, ...FUND_SUFFIXES] : LEGAL_SUFFIXES;

  const stages: string[] = [base];
  let current = base;
  for (let changed = true; changed; ) {
    changed = false;
    for (const suffix of suffixes) {
      if (current.endsWith(` ${suffix}`)) {
        current = current.slice(0, -(suffix.length + 1));
        stages.push(current);
        changed = true;
      }
    }
  }

  const keys = new Set<string>();
  for (const stage of stages) {
    keys.add(stage);
    if (stage.startsWith('the ') && stage.length > 4) keys.add(stage.slice(4));
  }
  if (shareClass !== undefined) {
    for (const key of [...keys]) keys.add(`${key} class ${shareClass}`);
  }
  const short = current.startsWith('the ') && current.length > 4 ? current.slice(4) : current;
  keys.delete('');
  return { keys: [...keys], short };
}
