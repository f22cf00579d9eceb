/**
 * The strategy-level rules every order a strategy proposes passes, on top of the pre-trade checks of
 * risk-checks.ts (which still run on every order, whatever this says). Pure: plain values in, a
 * verdict and the sentences the user is told out.
 *
 * Verdicts, strongest first:
 * - `halt`: the strategy's drawdown or the user's daily loss reached its limit. The caller halts
 *   the strategy with the reasons and places nothing; it resumes only when the user says so.
 * - `refuse`: this order would take the strategy or the user over an exposure cap. Nothing is placed.
 * - `ask`: the order becomes a confirmation card. Always in ask mode; in auto mode when the order is
 *   beyond a limit the user confirmed for automatic orders, so it is never silently placed.
 * - `auto`: auto mode and within every confirmed limit: placed without a card.
 *
 * An order that reduces a position (selling shares held, buying back options sold) is never
 * halted or refused: closing risk must always be possible. It can still need a card in auto mode.
 * A strategy already halted emits nothing at all; keeping it quiet is the caller's job, not this one.
 *
 * Fails closed: an input that cannot be evaluated (a negative notional, a non-finite number, a
 * non-positive peak equity) refuses the order.
 */
import { Decimal, formatDecimal, formatUsd } from '../domain/values.js';

export type ExecutionMode = 'ask' | 'auto';

export type GuardVerdict = 'auto' | 'ask' | 'halt' | 'refuse';

/** The limits the user confirmed for the strategy (the `Strategy` row's columns; null = not set). */
export interface StrategyLimits {
  /** Largest order value, USD, placed without a card. */
  readonly maxNotionalPerOrder: Decimal | null;
  /** Largest total value of this strategy's orders per day, USD, placed without a card. */
  readonly maxNotionalPerDay: Decimal | null;
  /**
   * Largest position in the strategy's instrument, in units (shares, coins or contracts; the size
   * of a short counts like a long), placed without a card. Units rather than USD so the limit the
   * user confirmed does not move with the price.
   */
  readonly maxPosition: Decimal | null;
  /** Fall from peak equity, 0..1, at which the strategy halts. */
  readonly maxDrawdown: Decimal | null;
}

export interface StrategyGuardInput {
  readonly executionMode: ExecutionMode;
  /** Order value, USD (quantity x price x multiplier); zero or positive. */
  readonly orderNotional: Decimal;
  /** Signed units held before the order (negative: options sold to open). */
  readonly positionBefore: Decimal;
  /** Signed units held if the order fills. */
  readonly positionAfter: Decimal;
  readonly limits: StrategyLimits;
  /** Value of this strategy's orders placed today, before this one, USD. */
  readonly notionalUsedToday: Decimal;
  /** The strategy's equity now, and the highest it has been (its starting equity until then). */
  readonly equity: Decimal;
  readonly peakEquity: Decimal;
  /** The user's realized P&L today, signed (a loss is negative). */
  readonly realizedPnlToday: Decimal;
  /** Realized loss today (positive USD) at which the user's strategies halt. */
  readonly dailyLossLimit: Decimal;
  readonly exposure: {
    /** Value of this strategy's positions now, USD. */
    readonly strategy: Decimal;
    /** Most this strategy's positions may be worth; null: no cap. */
    readonly strategyCap: Decimal | null;
    /** Value of all the user's strategies' positions now, USD. */
    readonly user: Decimal;
    /** Most all the user's strategies' positions together may be worth; null: no cap. */
    readonly userCap: Decimal | null;
  };
}

export interface GuardResult {
  readonly verdict: GuardVerdict;
  /** For people, in the order they matter; the first one explains the verdict. */
  readonly reasons: readonly string[];
}

function percent(value: Decimal): string {
  return `${value.mul(100).toDecimalPlaces(1).toFixed()}%`;
}

/** An order that moves the position towards zero without crossing it. */
export function reducesPosition(before: Decimal, after: Decimal): boolean {
  if (after.abs().greaterThanOrEqualTo(before.abs())) return false;
  return after.isZero() || after.isNegative() === before.isNegative();
}

function unusable(input: StrategyGuardInput): string | undefined {
  const named: [string, Decimal | null][] = [
    ['order value', input.orderNotional],
    ['position before the order', input.positionBefore],
    ['position after the order', input.positionAfter],
    ['value ordered today', input.notionalUsedToday],
    ['equity', input.equity],
    ['peak equity', input.peakEquity],
    ["today's realized P&L", input.realizedPnlToday],
    ['daily loss limit', input.dailyLossLimit],
    ['strategy exposure', input.exposure.strategy],
    ['strategy exposure cap', input.exposure.strategyCap],
    ['total exposure', input.exposure.user],
    ['total exposure cap', input.exposure.userCap],
    ['per-order limit', input.limits.maxNotionalPerOrder],
    ['daily limit', input.limits.maxNotionalPerDay],
    ['position limit', input.limits.maxPosition],
    ['maximum drawdown', input.limits.maxDrawdown],
  ];
  for (const [name, value] of named) {
    if (value !== null && !value.isFinite()) return `the ${name} is not a number`;
  }
  const mustNotBeNegative: [string, Decimal | null][] = [
    ['order value', input.orderNotional],
    ['value ordered today', input.notionalUsedToday],
    ['daily loss limit', input.dailyLossLimit],
    ['strategy exposure', input.exposure.strategy],
    ['total exposure', input.exposure.user],
    ['strategy exposure cap', input.exposure.strategyCap],
    ['total exposure cap', input.exposure.userCap],
  ];
  for (const [name, value] of mustNotBeNegative) {
    if (value?.isNegative()) return `the ${name} is negative`;
  }
  if (!input.peakEquity.greaterThan(0))
    return 'the strategy has no positive peak equity to measure drawdown from';
  return undefined;
}

/** What reached a halting limit (drawdown, daily loss), as facts without a consequence. */
function haltFacts(input: StrategyGuardInput): string[] {
  const facts: string[] = [];
  const maxDrawdown = input.limits.maxDrawdown;
  if (maxDrawdown !== null) {
    const drawdown = Decimal.max(input.peakEquity.sub(input.equity), 0).div(input.peakEquity);
    if (drawdown.greaterThanOrEqualTo(maxDrawdown)) {
      facts.push(
        `The strategy is ${percent(drawdown)} below its ${formatUsd(input.peakEquity)} peak ` +
          `(equity ${formatUsd(input.equity)}), reaching your ${percent(maxDrawdown)} maximum drawdown.`,
      );
    }
  }
  const loss = input.realizedPnlToday.negated();
  if (loss.greaterThanOrEqualTo(input.dailyLossLimit)) {
    facts.push(
      `Today's realized loss of ${formatUsd(loss)} reached your ${formatUsd(input.dailyLossLimit)} daily loss limit.`,
    );
  }
  return facts;
}

/** Refusals: the order would take this strategy or the user over an exposure cap. */
function exposureReasons(input: StrategyGuardInput): string[] {
  const reasons: string[] = [];
  const { strategy, strategyCap, user, userCap } = input.exposure;
  const strategyAfter = strategy.add(input.orderNotional);
  if (strategyCap !== null && strategyAfter.greaterThan(strategyCap)) {
    reasons.push(
      `This order would bring the strategy's positions to ${formatUsd(strategyAfter)}, ` +
        `above its ${formatUsd(strategyCap)} exposure cap; it was not placed.`,
    );
  }
  const userAfter = user.add(input.orderNotional);
  if (userCap !== null && userAfter.greaterThan(userCap)) {
    reasons.push(
      `This order would bring all your strategies' positions to ${formatUsd(userAfter)}, ` +
        `above your ${formatUsd(userCap)} total exposure cap; it was not placed.`,
    );
  }
  return reasons;
}

/**
 * Auto mode: each limit the order exceeds (or that is not set: automatic orders need every limit
 * confirmed) is a reason to ask instead. Returns the sentences for both outcomes.
 */
function autoLimits(input: StrategyGuardInput): { beyond: string[]; within: string[] } {
  const beyond: string[] = [];
  const within: string[] = [];
  const notSet = (what: string) =>
    beyond.push(`No ${what} is confirmed for automatic orders, so this one needs your confirmation.`);
  const { maxNotionalPerOrder, maxNotionalPerDay, maxPosition, maxDrawdown } = input.limits;

  if (maxNotionalPerOrder === null) notSet('per-order limit');
  else if (input.orderNotional.greaterThan(maxNotionalPerOrder))
    beyond.push(
      `${formatUsd(input.orderNotional)} is above the ${formatUsd(maxNotionalPerOrder)} per-order limit for automatic orders, so it needs your confirmation.`,
    );
  else within.push(`${formatUsd(input.orderNotional)} of ${formatUsd(maxNotionalPerOrder)} per order`);

  const today = input.notionalUsedToday.add(input.orderNotional);
  if (maxNotionalPerDay === null) notSet('daily limit');
  else if (today.greaterThan(maxNotionalPerDay))
    beyond.push(
      `${formatUsd(today)} ordered today would be above the ${formatUsd(maxNotionalPerDay)} daily limit for automatic orders, so it needs your confirmation.`,
    );
  else within.push(`${formatUsd(today)} of ${formatUsd(maxNotionalPerDay)} today`);

  const size = input.positionAfter.abs();
  if (maxPosition === null) notSet('position limit');
  else if (size.greaterThan(maxPosition))
    beyond.push(
      `A position of ${formatDecimal(size, 18)} would be above the ${formatDecimal(maxPosition, 18)} position limit for automatic orders, so it needs your confirmation.`,
    );
  else within.push(`position ${formatDecimal(size, 18)} of ${formatDecimal(maxPosition, 18)}`);

  if (maxDrawdown === null) notSet('maximum drawdown');
  return { beyond, within };
}

/** The verdict on one order a strategy proposes. */
export function guardStrategyOrder(input: StrategyGuardInput): GuardResult {
  const problem = unusable(input);
  if (problem !== undefined) {
    return {
      verdict: 'refuse',
      reasons: [`The order could not be checked (${problem}); refused to be safe.`],
    };
  }

  const reducing = reducesPosition(input.positionBefore, input.positionAfter);
  const facts = haltFacts(input);
  if (!reducing) {
    if (facts.length > 0) {
      return {
        verdict: 'halt',
        reasons: facts.map((fact) => `${fact} The strategy is halted until you resume it.`),
      };
    }
    const refusals = exposureReasons(input);
    if (refusals.length > 0) return { verdict: 'refuse', reasons: refusals };
  }
  // Closing risk is always possible: a reducing order goes on to the usual mode and limit rules,
  // and says which limit was reached; the next order that adds risk halts the strategy.
  const notes = reducing
    ? facts.map((fact) => `${fact} This order reduces the position, so it is not held back.`)
    : [];

  if (input.executionMode === 'ask') {
    return { verdict: 'ask', reasons: ['Ask mode: every order is shown to you to confirm.', ...notes] };
  }
  const { beyond, within } = autoLimits(input);
  if (beyond.length > 0) return { verdict: 'ask', reasons: [...beyond, ...notes] };
  return {
    verdict: 'auto',
    reasons: [`Within your limits for automatic orders: ${within.join(', ')}.`, ...notes],
  };
}
