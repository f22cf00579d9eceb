/**
 * How many units of the underlying one contract stands for: 100 shares for a US equity option
 * (the standard OCC contract), 1 for everything else. The one place this number is written.
 */
import type { AssetClass } from './values.js';

/** Shares per standard US equity option contract. */
export const OPTION_CONTRACT_MULTIPLIER = 100;

/** What a quantity of `assetClass` multiplies by to count underlying units (and its price by to cost). */
export function contractMultiplier(assetClass: AssetClass): number {
  return assetClass === 'option' ? OPTION_CONTRACT_MULTIPLIER : 1;
}
