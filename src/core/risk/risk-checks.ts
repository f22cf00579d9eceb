/**
 * Pre-trade risk checks: one pure function over plain values, run on every path (chat, strategy,
 * retry, and again at execution). It fails closed: a check that cannot be evaluated fails.
 *
 * "The model requests, risk disposes": nothing here trusts how an order was produced.
 */
import { type AssetClass, Decimal, formatUsd, type OrderSide } from '../domain/values.js';
import type { MarketSession } from '../market-data/market-data.js';

export interface RiskLimits {
  /** Largest order value, USD. */
  readonly maxOrderNotional: Decimal;
  /** Largest share of equity one position may reach after a buy, 0..1. */
  readonly maxPositionFraction: Decimal;
  /** Realized loss today (USD, positive number) at which buying stops. */
  readonly dailyLossLimit: Decimal;
  readonly allowedAssetClasses: readonly AssetClass[];
}

export interface RiskInput {
  readonly side: OrderSide;
  readonly assetClass: AssetClass;
  readonly symbol: string;
  readonly quantity: Decimal;
  /** Estimated price per unit (per share, coin or option premium). */
  readonly price: Decimal;
  /** 100 for equity options, else 1. */
  readonly multiplier: number;
  readonly account: {
    /** What a new order may spend: net of what working orders and short puts set aside. */
    readonly buyingPower: Decimal;
    /** What working orders and short puts set aside, where known: said when buying power is short. */
    readonly reserved?: Decimal;
    readonly equity: Decimal;
    readonly realizedPnlToday: Decimal;
    /** Quantity held of this symbol (0 when none). */
    readonly positionQuantity: Decimal;
    /** Market value held of this symbol. */
    readonly positionValue: Decimal;
  };
  /**
   * For option orders: the contract's right and strike and the shares of the underlying held.
   * Selling options beyond the contracts held opens a short position, allowed only when it is
   * covered: puts by buying power for the strike (cash-secured), calls by the shares.
   */
  readonly option?: {
    readonly right: 'call' | 'put';
    readonly strike: Decimal;
    readonly underlyingQuantity: Decimal;
  };
  readonly limits: RiskLimits;
  readonly session: MarketSession;
  /** Set when the user pressed the kill switch. */
  readonly tradingHalted: { readonly reason: string } | undefined;
}

export type RiskCheckName =
  | 'kill_switch'
  | 'asset_class'
  | 'quantity'
  | 'market_hours'
  | 'max_order_notional'
  | 'buying_power'
  | 'position_available'
  | 'max_position_share'
  | 'daily_loss_limit';

export interface RiskCheckResult {
  readonly check: RiskCheckName;
  readonly passed: boolean;
  /** For people: why it passed or failed. */
  readonly detail: string;
}

function result(check: RiskCheckName, passed: boolean, detail: string): RiskCheckResult {
  return { check, passed, detail };
}

/** Contracts sold to open: a cash-secured put or a covered call, never a naked one. */
function coveredOptionSale(input: RiskInput, contracts: Decimal): RiskCheckResult {
  const option = input.option;
  if (option === undefined) return result('position_available', false, 'not an option order');
  if (option.right === 'put') {
    const collateral = option.strike.mul(input.multiplier).mul(contracts);
    return collateral.lessThanOrEqualTo(input.account.buyingPower)
      ? result(
          'position_available',
          true,
          `cash-secured: ${formatUsd(collateral)} set aside of ${formatUsd(input.account.buyingPower)} buying power`,
        )
      : result(
          'position_available',
          false,
          `a cash-secured put needs ${formatUsd(collateral)} of buying power, you have ${formatUsd(input.account.buyingPower)}${setAside(input)}`,
        );
  }
  const shares = contracts.mul(input.multiplier);
  return shares.lessThanOrEqualTo(option.underlyingQuantity)
    ? result('position_available', true, `covered by ${option.underlyingQuantity.toFixed()} shares`)
    : result(
        'position_available',
        false,
        `a covered call needs ${shares.toFixed()} shares, you hold ${option.underlyingQuantity.toFixed()}; naked calls are not allowed`,
      );
}

function checkKillSwitch(input: RiskInput): RiskCheckResult {
  return input.tradingHalted
    ? result(
        'kill_switch',
        false,
        `trading is halted for your account (${input.tradingHalted.reason}); nothing new is placed until it is lifted`,
      )
    : result('kill_switch', true, 'trading is on');
}

function checkAssetClass(input: RiskInput): RiskCheckResult {
  return input.limits.allowedAssetClasses.includes(input.assetClass)
    ? result('asset_class', true, `${input.assetClass} is allowed`)
    : result('asset_class', false, `${input.assetClass} trading is not enabled for your account`);
}

function checkQuantity(input: RiskInput): RiskCheckResult {
  return input.quantity.greaterThan(0) && input.quantity.isFinite()
    ? result('quantity', true, 'quantity is positive')
    : result('quantity', false, 'the quantity must be greater than zero');
}

function checkMarketHours(input: RiskInput): RiskCheckResult {
  return input.session.open
    ? result('market_hours', true, 'the market is open')
    : result('market_hours', false, input.session.description);
}

function checkMaxOrderNotional(input: RiskInput): RiskCheckResult {
  const notional = notionalOf(input);
  return notional.lessThanOrEqualTo(input.limits.maxOrderNotional)
    ? result(
        'max_order_notional',
        true,
        `${formatUsd(notional)} is within the ${formatUsd(input.limits.maxOrderNotional)} per-order limit`,
      )
    : result(
        'max_order_notional',
        false,
        `${formatUsd(notional)} is above your ${formatUsd(input.limits.maxOrderNotional)} per-order limit`,
      );
}

function checkBuyingPower(input: RiskInput): RiskCheckResult {
  if (input.side === 'sell') return result('buying_power', true, 'sells do not use buying power');
  const notional = notionalOf(input);
  return notional.lessThanOrEqualTo(input.account.buyingPower)
    ? result(
        'buying_power',
        true,
        `${formatUsd(notional)} of ${formatUsd(input.account.buyingPower)} buying power`,
      )
    : result(
        'buying_power',
        false,
        `needs ${formatUsd(notional)}, buying power is ${formatUsd(input.account.buyingPower)}${setAside(input)}`,
      );
}

/** Why buying power is below cash, when the broker says: the part working orders hold. */
function setAside(input: RiskInput): string {
  const reserved = input.account.reserved;
  return reserved === undefined || !reserved.greaterThan(0)
    ? ''
    : ` (${formatUsd(reserved)} is reserved for working orders and cash-secured puts)`;
}

function checkPositionAvailable(input: RiskInput): RiskCheckResult {
  if (input.side === 'buy') return result('position_available', true, 'buys need no position');
  const opening = input.quantity.sub(Decimal.max(input.account.positionQuantity, 0));
  if (input.option !== undefined && opening.greaterThan(0)) return coveredOptionSale(input, opening);
  return input.quantity.lessThanOrEqualTo(input.account.positionQuantity)
    ? result(
        'position_available',
        true,
        `holding ${input.account.positionQuantity.toFixed()} ${input.symbol}`,
      )
    : result(
        'position_available',
        false,
        `you hold ${input.account.positionQuantity.toFixed()} ${input.symbol}; selling more would be a short sale, which is not allowed`,
      );
}

function checkMaxPositionShare(input: RiskInput): RiskCheckResult {
  if (input.side === 'sell') return result('max_position_share', true, 'sells reduce the position');
  if (input.account.equity.lessThanOrEqualTo(0))
    return result('max_position_share', false, 'account equity is not positive');
  const after = input.account.positionValue.add(notionalOf(input));
  const share = after.div(input.account.equity);
  const percent = (value: Decimal) => `${value.mul(100).toDecimalPlaces(1).toFixed()}%`;
  return share.lessThanOrEqualTo(input.limits.maxPositionFraction)
    ? result(
        'max_position_share',
        true,
        `${input.symbol} would be ${percent(share)} of equity (limit ${percent(input.limits.maxPositionFraction)})`,
      )
    : result(
        'max_position_share',
        false,
        `${input.symbol} would be ${percent(share)} of equity, above your ${percent(input.limits.maxPositionFraction)} limit`,
      );
}

function checkDailyLossLimit(input: RiskInput): RiskCheckResult {
  const loss = input.account.realizedPnlToday.negated();
  if (input.side === 'sell') return result('daily_loss_limit', true, 'sells that reduce risk stay allowed');
  return loss.lessThan(input.limits.dailyLossLimit)
    ? result(
        'daily_loss_limit',
        true,
        `today's realized P&L ${formatUsd(input.account.realizedPnlToday)} is within the limit`,
      )
    : result(
        'daily_loss_limit',
        false,
        `today's realized loss ${formatUsd(loss)} reached your ${formatUsd(input.limits.dailyLossLimit)} daily limit; new buys resume tomorrow`,
      );
}

/** Every check, in the order their results are listed. */
const CHECKS: readonly (readonly [RiskCheckName, (input: RiskInput) => RiskCheckResult])[] = [
  ['kill_switch', checkKillSwitch],
  ['asset_class', checkAssetClass],
  ['quantity', checkQuantity],
  ['market_hours', checkMarketHours],
  ['max_order_notional', checkMaxOrderNotional],
  ['buying_power', checkBuyingPower],
  ['position_available', checkPositionAvailable],
  ['max_position_share', checkMaxPositionShare],
  ['daily_loss_limit', checkDailyLossLimit],
];

/** Runs every check; an exception inside one becomes a failure of that check. */
export function runRiskChecks(input: RiskInput): RiskCheckResult[] {
  return CHECKS.map(([name, run]) => {
    try {
      return run(input);
    } catch (error) {
      return result(name, false, `could not be checked (${(error as Error).message}); refused to be safe`);
    }
  });
}

/** Order value in USD. */
export function notionalOf(input: Pick<RiskInput, 'quantity' | 'price' | 'multiplier'>): Decimal {
  return input.quantity.mul(input.price).mul(input.multiplier);
}

export function allPassed(results: readonly RiskCheckResult[]): boolean {
  return results.length > 0 && results.every((check) => check.passed);
}

/** The first failure, for a one-line answer. */
export function firstFailure(results: readonly RiskCheckResult[]): RiskCheckResult | undefined {
  return results.find((check) => !check.passed);
}
