/**
 * Price alerts and stop-loss / take-profit / trailing-stop monitors on any position, evaluated as a
 * pure function of one monitor (an `Alert` row), a quote and the position held. The caller stores
 * the returned high-water mark, sends the notice when it triggered, and passes a close order
 * through the same guard, checks and (in ask mode) confirmation card as any other order.
 *
 * Triggers compare the last price: price_above and take_profit at last >= threshold, price_below
 * and stop_loss at last <= threshold, trailing_stop at last <= highWaterMark x (1 - trailFraction),
 * where the high-water mark is the highest last price seen since the monitor was set. Wording is
 * deterministic: same inputs, same text.
 */
import { z } from 'zod';
import {
  type AssetClass,
  Decimal,
  formatDecimal,
  formatUsd,
  positiveDecimalString,
} from '../../core/domain/values.js';
import type { ProposedOrder } from '../strategy.js';

/** Matches the `AlertKind` enum of the data model. */
export type MonitorKind = 'price_above' | 'price_below' | 'stop_loss' | 'take_profit' | 'trailing_stop';
/** Matches the `AlertAction` enum: tell the user only, or also propose closing the position. */
export type MonitorAction = 'notify' | 'close_position';

const monitorActionSchema = z.enum(['notify', 'close_position']);

/** A trailing distance in (0, 1): a stop at the high itself or at zero makes no sense. */
const trailFractionString = positiveDecimalString.refine((value) => {
  try {
    return new Decimal(value).lessThan(1);
  } catch {
    // Not a number at all: the pattern check already reports it.
    return true;
  }
}, 'must be less than 1');

/**
 * A monitor's parameters as a user sets them (decimals as strings). `quantity` absent closes the
 * whole position; `highWaterMark` absent starts at the first price seen.
 */
export const monitorParamsSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.enum(['price_above', 'price_below', 'stop_loss', 'take_profit']),
    action: monitorActionSchema.default('notify'),
    threshold: positiveDecimalString,
    quantity: positiveDecimalString.optional(),
  }),
  z.strictObject({
    kind: z.literal('trailing_stop'),
    action: monitorActionSchema.default('notify'),
    trailFraction: trailFractionString,
    highWaterMark: positiveDecimalString.optional(),
    quantity: positiveDecimalString.optional(),
  }),
]);
export type MonitorParams = z.infer<typeof monitorParamsSchema>;

/** One monitor as stored (the `Alert` row's fields that matter here; null = not set). */
export interface Monitor {
  readonly id: string;
  readonly kind: MonitorKind;
  readonly action: MonitorAction;
  readonly symbol: string;
  readonly assetClass: AssetClass;
  readonly threshold: Decimal | null;
  readonly trailFraction: Decimal | null;
  readonly highWaterMark: Decimal | null;
  /** Units to close; null closes the whole position. */
  readonly quantity: Decimal | null;
}

export interface MonitorMarket {
  /** Last traded price. */
  readonly price: Decimal;
  readonly bid: Decimal;
  readonly ask: Decimal;
  /** Units of the monitored symbol held now (0 when none). */
  readonly positionQuantity: Decimal;
  /** When the price was seen; part of the notice. */
  readonly at: Date;
}

export type MonitorEvaluation =
  | {
      readonly triggered: false;
      /** Store this: for trailing stops the highest price seen so far, else unchanged. */
      readonly highWaterMark: Decimal | null;
      /** Where the monitor stands, for people ("list my alerts"); not a message to send. */
      readonly notice: string;
      /** Set when the monitor itself is unusable (a missing threshold...): the caller should cancel it. */
      readonly invalid?: string;
    }
  | {
      readonly triggered: true;
      readonly highWaterMark: Decimal | null;
      /** The last price that triggered it. */
      readonly triggerPrice: Decimal;
      /** The message for the user. */
      readonly notice: string;
      /** For `close_position` with a position held: a market sell of the monitor's quantity or all of it. */
      readonly closeOrder?: ProposedOrder;
    };

/** Prices to the cent when they are in cents, else with their own precision (small coins). */
function price(value: Decimal): string {
  return value.decimalPlaces() <= 2 ? formatUsd(value) : `$${formatDecimal(value, 8)}`;
}

function percent(value: Decimal): string {
  return `${value.mul(100).toDecimalPlaces(2).toFixed()}%`;
}

function when(at: Date): string {
  return `${at.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** The row's values in the shape of `monitorParamsSchema`, so one schema validates both. */
function asParams(monitor: Monitor): Record<string, unknown> {
  const text = (value: Decimal | null) => (value === null ? undefined : value.toFixed());
  const common = { kind: monitor.kind, action: monitor.action, quantity: text(monitor.quantity) };
  return monitor.kind === 'trailing_stop'
    ? {
        ...common,
        trailFraction: text(monitor.trailFraction),
        highWaterMark: text(monitor.highWaterMark),
      }
    : { ...common, threshold: text(monitor.threshold) };
}

function invalidReason(monitor: Monitor): string | undefined {
  const parsed = monitorParamsSchema.safeParse(asParams(monitor));
  if (parsed.success) return undefined;
  return parsed.error.issues
    .slice(0, 3)
    .map((issue) => `${issue.path.join('.') || 'monitor'}: ${issue.message}`)
    .join('; ');
}

interface Check {
  readonly hit: boolean;
  /** "AAPL is at $191.20, at or above your $190.00 alert" */
  readonly hitText: string;
  /** "AAPL $185.00, alert above $190.00" */
  readonly standing: string;
  readonly highWaterMark: Decimal | null;
}

/** The trigger rule of each kind; the inputs were validated before. */
function check(monitor: Monitor, last: Decimal): Check {
  const symbol = monitor.symbol;
  const threshold = monitor.threshold ?? new Decimal(0);
  const at = `${symbol} at ${price(last)}`;
  switch (monitor.kind) {
    case 'price_above':
      return {
        hit: last.greaterThanOrEqualTo(threshold),
        hitText: `${symbol} is at ${price(last)}, at or above your ${price(threshold)} alert`,
        standing: `${at}; alert at or above ${price(threshold)}`,
        highWaterMark: monitor.highWaterMark,
      };
    case 'price_below':
      return {
        hit: last.lessThanOrEqualTo(threshold),
        hitText: `${symbol} is at ${price(last)}, at or below your ${price(threshold)} alert`,
        standing: `${at}; alert at or below ${price(threshold)}`,
        highWaterMark: monitor.highWaterMark,
      };
    case 'stop_loss':
      return {
        hit: last.lessThanOrEqualTo(threshold),
        hitText: `Stop-loss on ${symbol} triggered: ${price(last)} is at or below your ${price(threshold)} stop`,
        standing: `${at}; stop-loss at ${price(threshold)}`,
        highWaterMark: monitor.highWaterMark,
      };
    case 'take_profit':
      return {
        hit: last.greaterThanOrEqualTo(threshold),
        hitText: `Take-profit on ${symbol} triggered: ${price(last)} is at or above your ${price(threshold)} target`,
        standing: `${at}; take-profit at ${price(threshold)}`,
        highWaterMark: monitor.highWaterMark,
      };
    case 'trailing_stop': {
      const trail = monitor.trailFraction ?? new Decimal(0);
      const high = Decimal.max(monitor.highWaterMark ?? last, last);
      const stop = high.mul(new Decimal(1).sub(trail));
      return {
        hit: last.lessThanOrEqualTo(stop),
        hitText:
          `Trailing stop on ${symbol} triggered: ${price(last)} is at or below ${price(stop)}, ` +
          `${percent(trail)} under the ${price(high)} high`,
        standing: `${at}; trailing stop ${percent(trail)} under the ${price(high)} high, at ${price(stop)}`,
        highWaterMark: high,
      };
    }
  }
}

function closeOrderFor(monitor: Monitor, held: Decimal): ProposedOrder {
  const quantity = monitor.quantity === null ? held : Decimal.min(monitor.quantity, held);
  return {
    side: 'sell',
    assetClass: monitor.assetClass,
    symbol: monitor.symbol,
    quantity,
    orderType: 'market',
    timeInForce: monitor.assetClass === 'crypto' ? 'gtc' : 'day',
    ...(monitor.assetClass === 'option' ? { positionEffect: 'close' as const } : {}),
    tag: `alert:${monitor.id}:close`,
  };
}

/** Evaluates one monitor against the latest price and the position held. */
export function evaluateMonitor(monitor: Monitor, market: MonitorMarket): MonitorEvaluation {
  const invalid = invalidReason(monitor);
  if (invalid !== undefined) {
    return {
      triggered: false,
      highWaterMark: monitor.highWaterMark,
      notice: `The ${monitor.kind.replace('_', ' ')} monitor on ${monitor.symbol} cannot be checked (${invalid}).`,
      invalid,
    };
  }
  const last = market.price;
  if (!last.isFinite() || !last.greaterThan(0)) {
    return {
      triggered: false,
      highWaterMark: monitor.highWaterMark,
      notice: `No usable price for ${monitor.symbol}; the monitor was not checked.`,
    };
  }

  const result = check(monitor, last);
  if (!result.hit) {
    return { triggered: false, highWaterMark: result.highWaterMark, notice: `${result.standing}.` };
  }

  const notice = `${result.hitText} (${when(market.at)}).`;
  if (monitor.action === 'notify') {
    return { triggered: true, highWaterMark: result.highWaterMark, triggerPrice: last, notice };
  }
  const held = market.positionQuantity;
  if (!held.greaterThan(0)) {
    return {
      triggered: true,
      highWaterMark: result.highWaterMark,
      triggerPrice: last,
      notice: `${notice} Nothing to close: you hold no ${monitor.symbol}.`,
    };
  }
  const closeOrder = closeOrderFor(monitor, held);
  const bid = market.bid.greaterThan(0) ? ` (bid ${price(market.bid)})` : '';
  return {
    triggered: true,
    highWaterMark: result.highWaterMark,
    triggerPrice: last,
    notice: `${notice} Closing order: sell ${formatDecimal(closeOrder.quantity, 18)} ${monitor.symbol} at market${bid}.`,
    closeOrder,
  };
}
