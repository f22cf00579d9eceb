/**
 * How an instrument reads to a trader: "AAPL", "BTC", or for an option the contract in words,
 * "AAPL 21 May 2027 $190 put", never an OCC symbol. The one place contracts, their expiries and
 * their premiums are put into words: cards, fill sentences, positions, orders, quotes and
 * strategy notices all name options through here.
 */
import { OPTION_CONTRACT_MULTIPLIER } from '../domain/contract-multiplier.js';
import { Decimal, formatDecimal, formatUsd } from '../domain/values.js';
import type { OptionContract } from '../market-data/market-data.js';
import { parseOccSymbol } from '../market-data/providers/options.js';

/** The columns an intent (or anything carrying its contract) names its instrument by. */
export interface InstrumentColumns {
  readonly assetClass: string;
  readonly symbol: string;
  readonly optionUnderlying?: string | null;
  readonly optionExpiry?: Date | null;
  readonly optionRight?: string | null;
  readonly optionStrike?: { toString(): string } | null;
}

/** A contract's parts as words need them; the expiry as YYYY-MM-DD or a date-only value. */
export interface ContractWords {
  readonly underlying: string;
  readonly expiry: string | Date;
  readonly right: string;
  readonly strike: { toString(): string };
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'] as const;
const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'] as const;

/** A YYYY-MM-DD day or a date-only value (stored at UTC midnight) as a UTC date. */
function asDate(expiry: string | Date): Date {
  return typeof expiry === 'string' ? new Date(`${expiry}T00:00:00Z`) : expiry;
}

/** "21 May 2027" from a date-only value (stored at UTC midnight) or a YYYY-MM-DD day. */
export function expiryLabel(expiry: Date | string): string {
  const date = asDate(expiry);
  return `${date.getUTCDate()} ${MONTHS[date.getUTCMonth()]} ${date.getUTCFullYear()}`;
}

/** "21 May 2027 (Fri)": where the weekday matters (an expiry refused, a list of expiries). */
export function expiryDayLabel(expiry: Date | string): string {
  return `${expiryLabel(expiry)} (${WEEKDAYS[asDate(expiry).getUTCDay()]})`;
}

/** "May 2027" from a year and a month (1-12). */
export function monthLabel(year: number, month: number): string {
  return `${MONTHS[month - 1] ?? '?'} ${year}`;
}

/** Dollars without cents when there are none: "$190", "$192.50", "$19,000". */
export function compactUsd(value: Decimal.Value): string {
  const usd = formatUsd(value);
  return usd.endsWith('.00') ? usd.slice(0, -3) : usd;
}

/** A strike without cents when it has none: "$190", "$192.50". */
export function strikeLabel(strike: { toString(): string }): string {
  return compactUsd(strike.toString());
}

/** "AAPL 21 May 2027 $190 put". */
export function contractLabel(contract: ContractWords): string {
  return `${contract.underlying} ${expiryLabel(contract.expiry)} ${strikeLabel(contract.strike)} ${contract.right}`;
}

export function instrumentLabel(row: InstrumentColumns): string {
  if (
    row.assetClass === 'option' &&
    row.optionExpiry &&
    row.optionRight &&
    row.optionStrike !== null &&
    row.optionStrike !== undefined
  ) {
    return contractLabel({
      underlying: row.optionUnderlying ?? row.symbol,
      expiry: row.optionExpiry,
      right: row.optionRight,
      strike: row.optionStrike,
    });
  }
  return row.symbol;
}

/** A broker's symbol in words: an OCC option symbol names its contract, anything else is kept. */
export function symbolLabel(symbol: string): string {
  const contract = parseOccSymbol(symbol);
  return contract === undefined ? symbol : contractLabel(contract);
}

/** The contract an OCC symbol stands for, if it is one. */
export function contractOfSymbol(symbol: string): OptionContract | undefined {
  return parseOccSymbol(symbol);
}

/**
 * An option price both ways, since quotes are per share and contracts cover 100 shares:
 * "$8.45 a share, $845 a contract", or in `brackets`, "$0.26 a share ($26 a contract)".
 */
export function premiumLabel(perShare: Decimal.Value, style: 'list' | 'brackets' = 'list'): string {
  const contract = compactUsd(new Decimal(perShare).mul(OPTION_CONTRACT_MULTIPLIER));
  return style === 'list'
    ? `${formatUsd(perShare)} a share, ${contract} a contract`
    : `${formatUsd(perShare)} a share (${contract} a contract)`;
}

/** "1 contract", "3 contracts". */
export function contractsLabel(quantity: Decimal.Value): string {
  const count = new Decimal(quantity);
  return `${formatDecimal(count)} ${count.abs().equals(1) ? 'contract' : 'contracts'}`;
}

/** What a short put sets aside: strike x 100 x contracts. */
export function securedCash(strike: Decimal.Value, contracts: Decimal.Value): Decimal {
  return new Decimal(strike).mul(OPTION_CONTRACT_MULTIPLIER).mul(new Decimal(contracts).abs());
}

/** Shares of the underlying that cover calls sold to open: 100 a contract. */
export function coveringShares(contracts: Decimal.Value): Decimal {
  return new Decimal(contracts).abs().mul(OPTION_CONTRACT_MULTIPLIER);
}
