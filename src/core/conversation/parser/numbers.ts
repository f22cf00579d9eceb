/**
 * Numbers in messages: English number words ("one hundred and fifty", "a dozen"), spoken fractions
 * ("a third", "two thirds") and exact comparisons of decimal strings without float arithmetic.
 */
import { Decimal } from '../../domain/values.js';
import type { Token } from './tokens.js';

/** Fractions of a position are rounded down to this many decimals: never sell more than asked. */
export const FRACTION_DECIMALS = 10;

const FractionMath = Decimal.clone({ precision: 40, rounding: Decimal.ROUND_DOWN });

const UNITS: ReadonlyMap<string, number> = new Map([
  ['one', 1],
  ['two', 2],
  ['three', 3],
  ['four', 4],
  ['five', 5],
  ['six', 6],
  ['seven', 7],
  ['eight', 8],
  ['nine', 9],
]);
const TEENS: ReadonlyMap<string, number> = new Map([
  ['ten', 10],
  ['eleven', 11],
  ['twelve', 12],
  ['thirteen', 13],
  ['fourteen', 14],
  ['fifteen', 15],
  ['sixteen', 16],
  ['seventeen', 17],
  ['eighteen', 18],
  ['nineteen', 19],
]);
const TENS: ReadonlyMap<string, number> = new Map([
  ['twenty', 20],
  ['thirty', 30],
  ['forty', 40],
  ['fifty', 50],
  ['sixty', 60],
  ['seventy', 70],
  ['eighty', 80],
  ['ninety', 90],
]);
const SCALES: ReadonlyMap<string, number> = new Map([
  ['thousand', 1_000],
  ['million', 1_000_000],
]);

/** Denominators of spoken fractions, singular and plural. */
const DENOMINATORS: ReadonlyMap<string, number> = new Map([
  ['half', 2],
  ['halves', 2],
  ['third', 3],
  ['thirds', 3],
  ['quarter', 4],
  ['quarters', 4],
  ['fourth', 4],
  ['fourths', 4],
  ['fifth', 5],
  ['fifths', 5],
  ['sixth', 6],
  ['sixths', 6],
  ['seventh', 7],
  ['sevenths', 7],
  ['eighth', 8],
  ['eighths', 8],
  ['ninth', 9],
  ['ninths', 9],
  ['tenth', 10],
  ['tenths', 10],
]);

/** True for words that can start or continue a spelled-out number. */
export function isNumberWord(word: string): boolean {
  return (
    UNITS.has(word) ||
    TEENS.has(word) ||
    TENS.has(word) ||
    word === 'zero' ||
    word === 'hundred' ||
    word === 'dozen' ||
    SCALES.has(word) ||
    (word.indexOf('-') > 0 && splitHyphenated(word) !== undefined)
  );
}

/** "twenty-five" -> 25; undefined for anything else. */
function splitHyphenated(word: string): number | undefined {
  const dash = word.indexOf('-');
  if (dash < 0 || word.indexOf('-', dash + 1) >= 0) return undefined;
  const tens = TENS.get(word.slice(0, dash));
  const unit = UNITS.get(word.slice(dash + 1));
  return tens !== undefined && unit !== undefined ? tens + unit : undefined;
}

export interface Parsed<T> {
  readonly value: T;
  /** Index of the first token after the parsed text. */
  readonly next: number;
}

type Last = 'none' | 'a' | 'unit' | 'teen' | 'tens' | 'hundred' | 'scale';

/**
 * Spelled-out whole numbers from tokens[from]: "ten", "ninety-nine", "a hundred", "one hundred and
 * fifty", "two thousand five hundred", "a dozen", "three dozen", "zero". Undefined when there is none.
 * Small integers only, so plain JS integer arithmetic is exact here.
 */
export function parseNumberWords(tokens: readonly Token[], from: number): Parsed<string> | undefined {
  let total = 0;
  let group = 0;
  let last: Last = 'none';
  let lastScale = Number.POSITIVE_INFINITY;
  let i = from;
  for (; i < tokens.length; i++) {
    const token = tokens[i];
    if (token === undefined || token.kind !== 'word') break;
    const word = token.low;
    const after = tokens[i + 1]?.low ?? '';
    if ((word === 'a' || word === 'an') && last === 'none') {
      if (after !== 'hundred' && after !== 'dozen' && !SCALES.has(after)) break;
      group = 1;
      last = 'a';
      continue;
    }
    if (word === 'zero') {
      if (last !== 'none') break;
      return { value: '0', next: i + 1 };
    }
    const hyphenated = splitHyphenated(word);
    const unit = UNITS.get(word);
    const teen = TEENS.get(word);
    const tens = TENS.get(word);
    if (hyphenated !== undefined) {
      if (last !== 'none' && last !== 'hundred' && last !== 'scale') break;
      group += hyphenated;
      last = 'unit';
    } else if (unit !== undefined) {
      if (last !== 'none' && last !== 'tens' && last !== 'hundred' && last !== 'scale') break;
      group += unit;
      last = 'unit';
    } else if (teen !== undefined || tens !== undefined) {
      if (last !== 'none' && last !== 'hundred' && last !== 'scale') break;
      group += teen ?? tens ?? 0;
      last = teen !== undefined ? 'teen' : 'tens';
    } else if (word === 'hundred') {
      if (last === 'none' || last === 'hundred' || last === 'scale' || group === 0 || group >= 100) break;
      group *= 100;
      last = 'hundred';
    } else if (SCALES.has(word)) {
      const scale = SCALES.get(word) ?? 1;
      if (last === 'none' || last === 'scale' || group === 0 || scale >= lastScale) break;
      total += group * scale;
      group = 0;
      lastScale = scale;
      last = 'scale';
    } else if (word === 'dozen') {
      if (last === 'none' || last === 'hundred' || last === 'scale' || total !== 0) break;
      return { value: String(group * 12), next: i + 1 };
    } else if (word === 'and') {
      if (last !== 'hundred' && last !== 'scale') break;
      if (
        !UNITS.has(after) &&
        !TEENS.has(after) &&
        !TENS.has(after) &&
        splitHyphenated(after) === undefined
      ) {
        break;
      }
    } else {
      break;
    }
  }
  if (last === 'none' || last === 'a') return undefined;
  return { value: String(total + group), next: i };
}

/**
 * Spoken fractions: "half", "a half", "a third", "one quarter", "two thirds", "three quarters".
 * The value is rounded down to FRACTION_DECIMALS and formatted as a plain decimal.
 */
export function parseSpokenFraction(tokens: readonly Token[], from: number): Parsed<string> | undefined {
  const first = tokens[from];
  if (first === undefined || first.kind !== 'word') return undefined;
  if (first.low === 'half') return { value: '0.5', next: from + 1 };
  let numerator: number | undefined;
  if (first.low === 'a' || first.low === 'an' || first.low === 'one') numerator = 1;
  else numerator = UNITS.get(first.low);
  const second = tokens[from + 1];
  if (numerator === undefined || second === undefined || second.kind !== 'word') return undefined;
  const denominator = DENOMINATORS.get(second.low);
  if (denominator === undefined) return undefined;
  const plural = second.low.endsWith('s');
  if ((numerator === 1) === plural || numerator > denominator) return undefined;
  return { value: divide(String(numerator), String(denominator)), next: from + 2 };
}

/** numerator / denominator, rounded down to FRACTION_DECIMALS, as a plain decimal string. */
export function divide(numerator: string, denominator: string): string {
  return new FractionMath(numerator)
    .dividedBy(denominator)
    .toDecimalPlaces(FRACTION_DECIMALS, Decimal.ROUND_DOWN)
    .toFixed();
}

/** Compares two plain non-negative decimal strings as produced by `normalizeDecimal`. */
export function compareDecimal(a: string, b: string): number {
  const dotA = a.indexOf('.');
  const dotB = b.indexOf('.');
  const wholeA = dotA < 0 ? a : a.slice(0, dotA);
  const wholeB = dotB < 0 ? b : b.slice(0, dotB);
  if (wholeA.length !== wholeB.length) return wholeA.length < wholeB.length ? -1 : 1;
  if (wholeA !== wholeB) return wholeA < wholeB ? -1 : 1;
  const fracA = dotA < 0 ? '' : a.slice(dotA + 1);
  const fracB = dotB < 0 ? '' : b.slice(dotB + 1);
  const width = Math.max(fracA.length, fracB.length);
  const paddedA = fracA.padEnd(width, '0');
  const paddedB = fracB.padEnd(width, '0');
  if (paddedA === paddedB) return 0;
  return paddedA < paddedB ? -1 : 1;
}

/** True for a normalized decimal with a fractional part. */
export function hasFraction(value: string): boolean {
  return value.indexOf('.') >= 0;
}
