/**
 * Position sizing: how many units an order may be for, decided by a rule the user chose and never
 * by a model's opinion ("the model requests, risk disposes"). Pure: same rule, same input, same
 * quantity.
 *
 * Every method rounds *down* to the instrument's lot step (1 for whole shares), so sizing can only
 * ever err on the small side, and it returns 0 (never a negative or a guess) when an input is
 * unusable. The pre-trade checks in risk-checks.ts still run on whatever order comes out.
 */
import { z } from 'zod';
import {
  Decimal,
  formatDecimal,
  formatUsd,
  fractionString,
  positiveDecimalString,
} from '../domain/values.js';

/**
 * A sizing rule, as stored in a strategy's parameters (decimals as strings, like everything on the
 * wire).
 */
export const sizingRuleSchema = z.discriminatedUnion('method', [
  /** Always the same number of units. */
  z.strictObject({ method: z.literal('fixed'), quantity: positiveDecimalString }),
  /** Spend this share of equity, e.g. "0.05" for 5%. */
  z.strictObject({ method: z.literal('equity_fraction'), fraction: fractionString }),
  /**
   * Volatility-scaled: `riskFraction` of equity when the asset's realized volatility is at or below
   * `targetVolatility` (annualized, default 0.20, about a broad stock index), proportionally less
   * when it is above: a coin at 80% volatility gets a quarter of what a 20% stock gets. Never more
   * than `riskFraction` of equity, however calm the asset, so no rule sizes beyond its fraction.
   */
  z.strictObject({
    method: z.literal('volatility'),
    riskFraction: fractionString,
    targetVolatility: positiveDecimalString.optional(),
  }),
]);
export type SizingRule = z.infer<typeof sizingRuleSchema>;

export interface SizingInput {
  /** Expected price per unit (the ask for a buy). */
  readonly price: Decimal;
  /** Account equity the fractions apply to. */
  readonly equity: Decimal;
  /** Smallest tradable increment: 1 for whole shares, the exchange's lot step for a coin. */
  readonly step: Decimal;
  /** Daily closes, oldest first; the volatility method needs `MIN_VOLATILITY_CLOSES` of them. */
  readonly closes?: readonly Decimal[];
  /** Trading days per year for annualizing volatility: 252 for equities (default), 365 for crypto. */
  readonly periodsPerYear?: number;
}

export interface SizingResult {
  /** Units to trade, a whole multiple of the step, never negative. */
  readonly quantity: Decimal;
  /** For people: how the number came about. */
  readonly detail: string;
}

/** Fewer closes than this say too little about volatility; the volatility rule then sizes 0. */
export const MIN_VOLATILITY_CLOSES = 10;

/** Default target of the volatility rule: 20% a year. */
export const DEFAULT_TARGET_VOLATILITY = new Decimal('0.2');

const DEFAULT_PERIODS_PER_YEAR = 252;

function percent(value: Decimal): string {
  return `${value.mul(100).toDecimalPlaces(1).toFixed()}%`;
}

function usable(value: Decimal): boolean {
  return value.isFinite() && value.greaterThan(0);
}

/** Rounds down to a whole number of steps; never below zero. */
function floorToStep(value: Decimal, step: Decimal): Decimal {
  const floored = value.div(step).floor().mul(step);
  return floored.greaterThan(0) ? floored : new Decimal(0);
}

/**
 * Annualized realized volatility from daily closes (oldest first): the sample standard deviation
 * of daily log returns times the square root of `periodsPerYear`. Undefined when there are fewer
 * than `MIN_VOLATILITY_CLOSES` closes or any close is not a positive finite number: no estimate is
 * better than a wrong one.
 */
export function realizedVolatility(
  closes: readonly Decimal[],
  periodsPerYear: number = DEFAULT_PERIODS_PER_YEAR,
): Decimal | undefined {
  if (closes.length < MIN_VOLATILITY_CLOSES || !closes.every(usable)) return undefined;
  if (!Number.isFinite(periodsPerYear) || periodsPerYear <= 0) return undefined;
  const returns: Decimal[] = [];
  for (let index = 1; index < closes.length; index += 1) {
    const previous = closes[index - 1];
    const current = closes[index];
    if (previous === undefined || current === undefined) return undefined;
    returns.push(current.div(previous).ln());
  }
  const mean = Decimal.sum(...returns).div(returns.length);
  const squares = returns.map((value) => value.sub(mean).pow(2));
  const variance = Decimal.sum(...squares).div(returns.length - 1);
  return variance.sqrt().mul(new Decimal(periodsPerYear).sqrt());
}

function units(quantity: Decimal): string {
  return formatDecimal(quantity, 18);
}

/** Spends `budget` USD at `price`, rounded down to the step. */
function budgetToQuantity(budget: Decimal, input: SizingInput, how: string): SizingResult {
  let quantity = floorToStep(budget.div(input.price), input.step);
  // The division is rounded to Decimal's precision; never let that tip the order over the budget.
  if (quantity.mul(input.price).greaterThan(budget))
    quantity = floorToStep(quantity.sub(input.step), input.step);
  return {
    quantity,
    detail: `${how} is ${formatUsd(budget)}; at ${formatUsd(input.price)} each that is ${units(quantity)}`,
  };
}

/**
 * The quantity a rule allows for one order. Returns 0 with the reason in `detail` when the price,
 * the equity, the step or (for the volatility rule) the price history cannot be used.
 */
export function positionSize(rule: SizingRule, input: SizingInput): SizingResult {
  const zero = (why: string): SizingResult => ({ quantity: new Decimal(0), detail: why });
  if (!usable(input.step)) return zero('no size: the lot step is not a positive number');

  if (rule.method === 'fixed') {
    const quantity = floorToStep(new Decimal(rule.quantity), input.step);
    return { quantity, detail: `fixed size of ${units(quantity)}` };
  }

  if (!usable(input.price)) return zero('no size: there is no usable price');
  if (!usable(input.equity)) return zero('no size: account equity is not positive');

  if (rule.method === 'equity_fraction') {
    const fraction = new Decimal(rule.fraction);
    return budgetToQuantity(
      input.equity.mul(fraction),
      input,
      `${percent(fraction)} of ${formatUsd(input.equity)} equity`,
    );
  }

  const closes = input.closes ?? [];
  const volatility = realizedVolatility(closes, input.periodsPerYear ?? DEFAULT_PERIODS_PER_YEAR);
  if (volatility === undefined) {
    return zero(
      `no size: volatility sizing needs ${MIN_VOLATILITY_CLOSES} positive daily closes, ${closes.length} available`,
    );
  }
  const riskFraction = new Decimal(rule.riskFraction);
  const target =
    rule.targetVolatility === undefined ? DEFAULT_TARGET_VOLATILITY : new Decimal(rule.targetVolatility);
  // A flat price history has zero volatility: the cap applies, never a division by zero.
  const scale = volatility.lessThanOrEqualTo(target) ? new Decimal(1) : target.div(volatility);
  const fraction = riskFraction.mul(scale);
  return budgetToQuantity(
    input.equity.mul(fraction),
    input,
    `realized volatility ${percent(volatility)} against a ${percent(target)} target: ${percent(fraction)} ` +
      `(at most ${percent(riskFraction)}) of ${formatUsd(input.equity)} equity`,
  );
}
