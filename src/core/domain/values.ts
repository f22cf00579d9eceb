/**
 * Trading value types. Money, prices and quantities are `Decimal` (decimal.js), never JS numbers:
 * 0.1 + 0.2 must be 0.3 when it is someone's cash. On the wire (JSON, tool arguments, CLI output)
 * they are decimal strings such as "10" or "189.25".
 */
import { Decimal } from 'decimal.js';
import { z } from 'zod';

export { Decimal };

/** Decimal configured for money: plenty of precision, banker-free half-up rounding. */
export const Money = Decimal.clone({ precision: 40, rounding: Decimal.ROUND_HALF_UP });

export type AssetClass = 'equity' | 'option' | 'crypto';
export type OrderSide = 'buy' | 'sell';
export type OrderType = 'market' | 'limit' | 'stop' | 'stop_limit';
export type TimeInForce = 'day' | 'gtc' | 'ioc' | 'fok';
export type OptionRight = 'call' | 'put';

export const assetClassSchema = z.enum(['equity', 'option', 'crypto']);
export const orderSideSchema = z.enum(['buy', 'sell']);
export const orderTypeSchema = z.enum(['market', 'limit', 'stop', 'stop_limit']);
export const timeInForceSchema = z.enum(['day', 'gtc', 'ioc', 'fok']);
export const optionRightSchema = z.enum(['call', 'put']);

const PLAIN_DECIMAL = /^(?:0|[1-9]\d{0,17})(?:\.\d{1,18})?$/;

/** A positive decimal as a string, e.g. "10", "0.5", "189.25". No exponents, no signs. */
export const positiveDecimalString = z
  .string()
  .regex(PLAIN_DECIMAL, 'must be a plain decimal number like 10 or 189.25')
  // zod runs refinements even after the pattern failed: only evaluate what the pattern accepts,
  // so validation never throws on input such as "abc".
  .refine(
    (value) => !PLAIN_DECIMAL.test(value) || new Decimal(value).greaterThan(0),
    'must be greater than zero',
  );

/** A fraction in (0, 1], e.g. "0.5" for half a position. */
export const fractionString = positiveDecimalString.refine(
  (value) => !PLAIN_DECIMAL.test(value) || new Decimal(value).lessThanOrEqualTo(1),
  'must be at most 1',
);

/** Formats a decimal for people: no exponent, trailing zeros trimmed. */
export function formatDecimal(value: Decimal.Value, maxDecimals = 8): string {
  return new Decimal(value).toDecimalPlaces(maxDecimals).toFixed();
}

/** Formats USD: "$1,234.50". */
export function formatUsd(value: Decimal.Value): string {
  const amount = new Decimal(value).toDecimalPlaces(2);
  const [whole = '0', cents = '00'] = amount.abs().toFixed(2).split('.');
  return `${amount.isNegative() ? '-' : ''}$${whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',')}.${cents}`;
}
