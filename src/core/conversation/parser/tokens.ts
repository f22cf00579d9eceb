/**
 * The fast-path tokenizer: one pass over the characters, no regular expressions, so a message costs a
 * few microseconds. Numbers keep their exact text (commas dropped, normalized) and never become JS
 * floats: quantities and prices are money.
 */

export type TokenKind = 'word' | 'number' | 'date' | 'punct';

export interface Token {
  readonly kind: TokenKind;
  /** The text as typed (order ids and upper-case tickers need it). */
  readonly raw: string;
  /** Lower case, curly apostrophes straightened; for numbers the digits without commas. */
  readonly low: string;
  /** Offsets into the normalized message, for taking the rest of a message verbatim. */
  readonly start: number;
  readonly end: number;
  /** Numbers: a plain decimal ("1000", "0.5"); undefined when it has more than 18 digits either side. */
  readonly value?: string | undefined;
  /** Numbers: letters glued to the digits, lower case: "k" in "2.5k", "th" in "17th". */
  readonly suffix?: string;
  /** Words: typed as a cashtag ("$AAPL"). */
  readonly cashtag?: boolean;
}

const MAX_DIGITS = 18;

function isDigit(code: number): boolean {
  return code >= 48 && code <= 57;
}

function isLetter(code: number): boolean {
  return (code >= 65 && code <= 90) || (code >= 97 && code <= 122);
}

function isAlnum(code: number): boolean {
  return isDigit(code) || isLetter(code);
}

function isSpace(code: number): boolean {
  return code <= 32 || code === 0xa0 || code === 0x2028 || code === 0x2029 || code === 0x3000;
}

/** Characters that may join two alphanumeric runs into one word: brk.b, brk-b, s&p, don't, e*trade. */
function isJoiner(code: number): boolean {
  return code === 46 || code === 45 || code === 38 || code === 39 || code === 0x2019 || code === 42;
}

/**
 * A plain decimal from digit text: leading zeros and trailing fractional zeros dropped ("007.50" ->
 * "7.5"). Undefined when either side has more than 18 digits (the schema's limit).
 */
export function normalizeDecimal(whole: string, fraction: string): string | undefined {
  let start = 0;
  while (start < whole.length - 1 && whole.charCodeAt(start) === 48) start++;
  let end = fraction.length;
  while (end > 0 && fraction.charCodeAt(end - 1) === 48) end--;
  const intPart = whole.length === 0 ? '0' : whole.slice(start);
  if (intPart.length > MAX_DIGITS || end > MAX_DIGITS) return undefined;
  return end === 0 ? intPart : `${intPart}.${fraction.slice(0, end)}`;
}

/** Multiplies a plain decimal by 10^places by moving the point ("2.5", 3 -> "2500"). */
export function shiftDecimal(value: string, places: number): string | undefined {
  const dot = value.indexOf('.');
  const whole = dot < 0 ? value : value.slice(0, dot);
  const fraction = dot < 0 ? '' : value.slice(dot + 1);
  const moved = fraction.slice(0, places).padEnd(places, '0');
  return normalizeDecimal(whole + moved, fraction.slice(places));
}

/** Splits a message into tokens. Never throws; anything unusual becomes a one-character `punct`. */
export function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  const length = text.length;
  let i = 0;
  while (i < length) {
    const code = text.charCodeAt(i);
    if (isSpace(code)) {
      i++;
      continue;
    }
    const next = i + 1 < length ? text.charCodeAt(i + 1) : -1;
    if (isLetter(code) || (code === 36 && isLetter(next))) {
      const cashtag = code === 36;
      const start = i;
      i += cashtag ? 2 : 1;
      while (i < length) {
        const c = text.charCodeAt(i);
        if (isAlnum(c)) i++;
        else if (isJoiner(c) && i + 1 < length && isAlnum(text.charCodeAt(i + 1))) i += 2;
        else break;
      }
      const raw = text.slice(start, i);
      const word = cashtag ? raw.slice(1) : raw;
      let low = word.toLowerCase();
      if (low.indexOf('\u2019') >= 0) low = low.replaceAll('\u2019', "'");
      tokens.push(
        cashtag
          ? { kind: 'word', raw: word, low, start, end: i, cashtag: true }
          : { kind: 'word', raw, low, start, end: i },
      );
      continue;
    }
    if (isDigit(code) || (code === 46 && isDigit(next))) {
      i = readNumber(text, i, tokens);
      continue;
    }
    const raw = text.charAt(i);
    tokens.push({ kind: 'punct', raw, low: raw, start: i, end: i + 1 });
    i++;
  }
  return tokens;
}

/** Reads "1,000.50", "2.5k", "17th", or a date such as "2026-01-16" or "5/17"; returns the next index. */
function readNumber(text: string, from: number, tokens: Token[]): number {
  const length = text.length;
  let i = from;
  let whole = '';
  let grouped = false;
  while (i < length && isDigit(text.charCodeAt(i))) i++;
  whole = text.slice(from, i);
  // Dates: digits joined by - or / ("2026-01-16", "1/16/26").
  if (
    whole.length > 0 &&
    i + 1 < length &&
    (text.charCodeAt(i) === 45 || text.charCodeAt(i) === 47) &&
    isDigit(text.charCodeAt(i + 1))
  ) {
    while (
      i < length &&
      (isDigit(text.charCodeAt(i)) ||
        ((text.charCodeAt(i) === 45 || text.charCodeAt(i) === 47) &&
          i + 1 < length &&
          isDigit(text.charCodeAt(i + 1))))
    ) {
      i++;
    }
    const raw = text.slice(from, i);
    tokens.push({ kind: 'date', raw, low: raw, start: from, end: i });
    return i;
  }
  // Thousands separators: exactly three digits after each comma.
  while (
    whole.length > 0 &&
    i + 3 < length &&
    text.charCodeAt(i) === 44 &&
    isDigit(text.charCodeAt(i + 1)) &&
    isDigit(text.charCodeAt(i + 2)) &&
    isDigit(text.charCodeAt(i + 3)) &&
    (i + 4 >= length || !isDigit(text.charCodeAt(i + 4)))
  ) {
    whole += text.slice(i + 1, i + 4);
    grouped = true;
    i += 4;
  }
  let fraction = '';
  if (i + 1 < length && text.charCodeAt(i) === 46 && isDigit(text.charCodeAt(i + 1))) {
    const start = i + 1;
    i = start;
    while (i < length && isDigit(text.charCodeAt(i))) i++;
    fraction = text.slice(start, i);
  }
  const suffixStart = i;
  while (i < length && isLetter(text.charCodeAt(i))) i++;
  const suffix = text.slice(suffixStart, i).toLowerCase();
  const raw = text.slice(from, i);
  const low = grouped || suffix.length > 0 ? `${whole}${fraction ? `.${fraction}` : ''}` : raw;
  tokens.push({
    kind: 'number',
    raw,
    low,
    start: from,
    end: i,
    value: normalizeDecimal(whole, fraction),
    suffix,
  });
  return i;
}
