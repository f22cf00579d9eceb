/**
 * Typo-tolerant lookup: which known keys lie within a small edit distance of a word. Used only
 * for messages already found unknown ("did you mean"), never on the parser's hot path, and built
 * so that its work stays bounded however many keys it holds.
 */

/**
 * How many edits a typed word may be from a key and still count as a typo: 1 for short words
 * ("by" -> "buy", "appl" -> "aapl"), 2 for longer ones ("postions", "balanse"). A wider bound
 * would make every short ticker the neighbour of every other.
 */
export function typoBound(length: number): number {
  return length <= 4 ? 1 : 2;
}

/**
 * The optimal-string-alignment (restricted Damerau-Levenshtein) distance between `a` and `b`:
 * insertions, deletions, substitutions and swaps of two neighbouring letters ("qoute" -> "quote")
 * each cost 1. Anything above `bound` is reported as `bound + 1`, and the work stops as soon as
 * a row of the table exceeds it, so a far-off key costs little.
 */
export function typoDistance(a: string, b: string, bound: number): number {
  const n = a.length;
  const m = b.length;
  if (Math.abs(n - m) > bound) return bound + 1;
  if (a === b) return 0;
  // Three rows of the dynamic-programming table; the one two back is for swaps.
  let before = new Array<number>(m + 1).fill(0);
  let previous = Array.from({ length: m + 1 }, (_, j) => j);
  let current = new Array<number>(m + 1).fill(0);
  for (let i = 1; i <= n; i++) {
    current[0] = i;
    let rowMin = i;
    const ca = a.charCodeAt(i - 1);
    for (let j = 1; j <= m; j++) {
      const cb = b.charCodeAt(j - 1);
      let value = Math.min(
        (previous[j] ?? 0) + 1,
        (current[j - 1] ?? 0) + 1,
        (previous[j - 1] ?? 0) + (ca === cb ? 0 : 1),
      );
      if (i > 1 && j > 1 && ca === b.charCodeAt(j - 2) && a.charCodeAt(i - 2) === cb)
        value = Math.min(value, (before[j - 2] ?? 0) + 1);
      current[j] = value;
      if (value < rowMin) rowMin = value;
    }
    if (rowMin > bound) return bound + 1;
    [before, previous, current] = [previous, current, before];
  }
  return Math.min(previous[m] ?? bound + 1, bound + 1);
}

/** A key within the bound of the word looked up, and how far it is. */
export interface TypoMatch<T> {
  readonly key: string;
  readonly value: T;
  readonly distance: number;
}

/**
 * Keys bucketed by length and by their first and by their last character. A word of length L
 * is compared only with keys of length L±bound that share its first or its last character: one
 * typo never changes both ends of a word, so a single-edit typo is always found, and the keys
 * compared are a small slice of the whole however large the index grows.
 */
export class TypoIndex<T> {
  private readonly buckets = new Map<string, Array<{ key: string; value: T }>>();
  private size = 0;
  /** Keys compared by `lookup` since the index was built (to show that the work is bounded). */
  compared = 0;

  /** Adds a key (compared as given: callers lower-case both sides). Empty keys are ignored. */
  add(key: string, value: T): void {
    if (key.length === 0) return;
    const entry = { key, value };
    this.bucket(`${key.length}^${key.charAt(0)}`).push(entry);
    this.bucket(`${key.length}$${key.charAt(key.length - 1)}`).push(entry);
    this.size++;
  }

  /** How many keys the index holds. */
  get keys(): number {
    return this.size;
  }

  /** Every key within `bound` edits of `word`, nearest first (each key once). */
  lookup(word: string, bound = typoBound(word.length)): TypoMatch<T>[] {
    if (word.length === 0) return [];
    const matches: TypoMatch<T>[] = [];
    const seen = new Set<{ key: string; value: T }>();
    const first = word.charAt(0);
    const last = word.charAt(word.length - 1);
    for (let length = Math.max(1, word.length - bound); length <= word.length + bound; length++) {
      for (const name of [`${length}^${first}`, `${length}$${last}`]) {
        for (const entry of this.buckets.get(name) ?? []) {
          if (seen.has(entry)) continue;
          seen.add(entry);
          this.compared++;
          const distance = typoDistance(word, entry.key, bound);
          if (distance <= bound) matches.push({ key: entry.key, value: entry.value, distance });
        }
      }
    }
    return matches.sort((a, b) => a.distance - b.distance || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  private bucket(name: string): Array<{ key: string; value: T }> {
    let entries = this.buckets.get(name);
    if (entries === undefined) {
      entries = [];
      this.buckets.set(name, entries);
    }
    return entries;
  }
}
