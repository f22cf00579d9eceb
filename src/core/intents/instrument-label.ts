/**
 * How an instrument reads to a trader: "AAPL", "BTC", or for an option the contract in words,
 * "AAPL 21 May 2027 $190 put", never an OCC symbol.
 */
import { formatUsd } from '../domain/values.js';

/** The columns an intent (or anything carrying its contract) names its instrument by. */
export interface InstrumentColumns {
  readonly assetClass: string;
  readonly symbol: string;
  readonly optionUnderlying?: string | null;
  readonly optionExpiry?: Date | null;
  readonly optionRight?: string | null;
  readonly optionStrike?: { toString(): string } | null;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'] as const;

/** "21 May 2027" from a date-only value (stored at UTC midnight). */
export function expiryLabel(expiry: Date): string {
  return `${expiry.getUTCDate()} ${MONTHS[expiry.getUTCMonth()]} ${expiry.getUTCFullYear()}`;
}

/** A strike without cents when it has none: "$190", "$192.50". */
export function strikeLabel(strike: { toString(): string }): string {
  const usd = formatUsd(strike.toString());
  return usd.endsWith('.00') ? usd.slice(0, -3) : usd;
}

export function instrumentLabel(row: InstrumentColumns): string {
  if (
    row.assetClass === 'option' &&
    row.optionExpiry &&
    row.optionRight &&
    row.optionStrike !== null &&
    row.optionStrike !== undefined
  ) {
    return `${row.optionUnderlying ?? row.symbol} ${expiryLabel(row.optionExpiry)} ${strikeLabel(row.optionStrike)} ${row.optionRight}`;
  }
  return row.symbol;
}
