/**
 * Option helpers shared by providers: OCC/Schwab symbols and Black-Scholes pricing.
 * Pricing works in floats (it is a model, not money); callers round the outputs to Decimal cents.
 */
import { Decimal, type OptionRight } from '../../domain/values.js';
import type { OptionContract } from '../market-data.js';

/**
 * OCC symbol as Schwab spells it: root padded to 6 characters, YYMMDD, C or P, strike x 1000 in
 * 8 digits. `{AAPL, 2024-05-17, put, 190}` -> "AAPL  240517P00190000". Punctuation in the root is
 * dropped ("BRK.B" -> "BRKB").
 * @throws RangeError when the contract cannot be written in this format
 */
export function occSymbol(contract: OptionContract): string {
  const root = contract.underlying.toUpperCase().replace(/[^A-Z0-9]/g, '');
  if (root.length === 0 || root.length > 6) {
    throw new RangeError(`Option root "${contract.underlying}" must have 1 to 6 letters or digits`);
  }
  const date = /^\d{2}(\d{2})-(\d{2})-(\d{2})$/.exec(contract.expiry);
  if (!date) throw new RangeError(`Option expiry "${contract.expiry}" must be YYYY-MM-DD`);
  const thousandths = contract.strike.times(1000);
  if (!thousandths.isInteger() || thousandths.lte(0) || thousandths.gte(100_000_000)) {
    throw new RangeError(
      `Option strike ${contract.strike.toFixed()} must be positive, below 100000, in steps of 0.001`,
    );
  }
  const right = contract.right === 'call' ? 'C' : 'P';
  return `${root.padEnd(6, ' ')}${date[1]}${date[2]}${date[3]}${right}${thousandths.toFixed(0).padStart(8, '0')}`;
}

/**
 * Reads an OCC symbol back ("AAPL  240517P00190000" or without padding, "AAPL240517P00190000").
 * Expiry years are taken as 20YY. Undefined when the text is not an OCC symbol.
 */
export function parseOccSymbol(symbol: string): OptionContract | undefined {
  const match = /^([A-Z0-9]{1,6}) *(\d{2})(\d{2})(\d{2})([CP])(\d{8})$/.exec(symbol.trim().toUpperCase());
  if (!match) return undefined;
  const [, root = '', yy = '', mm = '', dd = '', right = '', strike = ''] = match;
  const month = Number(mm);
  const day = Number(dd);
  if (month < 1 || month > 12 || day < 1 || day > 31) return undefined;
  return {
    underlying: root,
    expiry: `20${yy}-${mm}-${dd}`,
    right: right === 'C' ? 'call' : 'put',
    strike: new Decimal(strike).dividedBy(1000),
  };
}

export interface BlackScholesInput {
  readonly spot: number;
  readonly strike: number;
  /** Time to expiry in years (> 0). */
  readonly years: number;
  /** Continuously compounded risk-free rate, e.g. 0.04. */
  readonly rate: number;
  /** Annualised implied volatility, e.g. 0.25. */
  readonly volatility: number;
  readonly right: OptionRight;
}

export interface BlackScholesOutput {
  readonly price: number;
  readonly delta: number;
}

/** European Black-Scholes price and delta, no dividends. */
export function blackScholes(input: BlackScholesInput): BlackScholesOutput {
  const { spot, strike, rate, right } = input;
  const years = Math.max(input.years, 1e-9);
  const volatility = Math.max(input.volatility, 1e-6);
  const discount = Math.exp(-rate * years);
  const deviation = volatility * Math.sqrt(years);
  const d1 = (Math.log(spot / strike) + (rate + (volatility * volatility) / 2) * years) / deviation;
  const d2 = d1 - deviation;
  if (right === 'call') {
    const price = spot * normalCdf(d1) - strike * discount * normalCdf(d2);
    return { price: Math.max(price, 0), delta: normalCdf(d1) };
  }
  const price = strike * discount * normalCdf(-d2) - spot * normalCdf(-d1);
  return { price: Math.max(price, 0), delta: normalCdf(d1) - 1 };
}

/** Standard normal CDF (Abramowitz-Stegun 26.2.17, absolute error below 1e-7). */
export function normalCdf(x: number): number {
  if (x < -10) return 0;
  if (x > 10) return 1;
  const t = 1 / (1 + 0.2316419 * Math.abs(x));
  const density = Math.exp((-x * x) / 2) / Math.sqrt(2 * Math.PI);
  const poly =
    t * (0.31938153 + t * (-0.356563782 + t * (1.781477937 + t * (-1.821255978 + t * 1.330274429))));
  const tail = density * poly;
  return x >= 0 ? 1 - tail : tail;
}
