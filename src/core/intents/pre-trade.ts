/**
 * Pre-trade assessment: one order against one account, as the risk checks see it. Chat proposals,
 * swaps, the re-check at execution and backtests all assess through `assessOrder`, so the checks
 * always get the same picture of the account: what is held of the symbol (by the broker's symbol:
 * an option's OCC symbol), what it is worth, and for an option sold to open what covers it.
 */
import { contractMultiplier } from '../domain/contract-multiplier.js';
import { type AssetClass, Decimal, type OrderSide } from '../domain/values.js';
import type { MarketSession, OptionContract } from '../market-data/market-data.js';
import { type RiskCheckResult, type RiskInput, type RiskLimits, runRiskChecks } from '../risk/risk-checks.js';

/** The order, as it would be placed. */
export interface OrderToAssess {
  readonly side: OrderSide;
  readonly assetClass: AssetClass;
  readonly symbol: string;
  /** The symbol positions carry at the broker (an option's OCC symbol). */
  readonly brokerSymbol: string;
  readonly quantity: Decimal;
  /** Expected price per unit (per share, coin, or option premium per share). */
  readonly price: Decimal;
  readonly contract?: OptionContract;
}

/** The account the order would go to, as its broker reported it. */
export interface AccountToAssess {
  readonly balances: {
    /** Net of working orders and short puts where the broker nets them (see docs/brokers.md). */
    readonly buyingPower: Decimal;
    /** What working orders and short puts set aside, where the broker reports it. */
    readonly reserved?: Decimal;
    readonly equity: Decimal;
    readonly realizedPnlToday: Decimal;
  };
  readonly positions: readonly {
    readonly symbol: string;
    readonly quantity: Decimal;
    readonly marketValue?: Decimal;
  }[];
  /** The broker takes short option sales (covered calls, cash-secured puts). */
  readonly sellsOptionsToOpen: boolean;
}

/** The trader's rules at the time of the order. */
export interface RulesToAssess {
  readonly limits: RiskLimits;
  readonly session: MarketSession;
  readonly halted: { readonly reason: string } | undefined;
}

/** The risk checks' input for `order` on `account`: a pure function, so it is tested on plain values. */
export function riskInputFor(
  order: OrderToAssess,
  account: AccountToAssess,
  rules: RulesToAssess,
): RiskInput {
  const multiplier = contractMultiplier(order.assetClass);
  const position = account.positions.find((held) => held.symbol === order.brokerSymbol);
  const heldQuantity = position?.quantity ?? new Decimal(0);
  return {
    side: order.side,
    assetClass: order.assetClass,
    symbol: order.symbol,
    quantity: order.quantity,
    price: order.price,
    multiplier,
    option: optionCover(order.contract, account),
    account: {
      buyingPower: account.balances.buyingPower,
      ...(account.balances.reserved === undefined ? {} : { reserved: account.balances.reserved }),
      equity: account.balances.equity,
      realizedPnlToday: account.balances.realizedPnlToday,
      positionQuantity: heldQuantity,
      // A broker that reports no market value: the position priced like the order.
      positionValue: position?.marketValue ?? heldQuantity.mul(order.price).mul(multiplier),
    },
    limits: rules.limits,
    session: rules.session,
    tradingHalted: rules.halted,
  };
}

/** Runs every risk check on `order` for `account`; fails closed like the checks themselves. */
export function assessOrder(
  order: OrderToAssess,
  account: AccountToAssess,
  rules: RulesToAssess,
): RiskCheckResult[] {
  return runRiskChecks(riskInputFor(order, account, rules));
}

/** What covers an option sold to open: the contract and the shares of its underlying held. */
function optionCover(contract: OptionContract | undefined, account: AccountToAssess): RiskInput['option'] {
  if (contract === undefined || !account.sellsOptionsToOpen) return undefined;
  const held = account.positions.find((position) => position.symbol === contract.underlying)?.quantity;
  return { right: contract.right, strike: contract.strike, underlyingQuantity: held ?? new Decimal(0) };
}
