/**
 * What an option does at expiry, decided from plain values (settlement.ts reads the account under
 * its lock and writes what this decides).
 *
 * A contract expires at 16:00 New York on its expiry date. In the money by at least a cent at the
 * underlying's price, a short put is assigned (the account buys the shares at the strike, with the
 * cash the put set aside), a short call is called away (the shares it held are sold at the strike),
 * and a long contract is exercised (shares bought or sold at the strike). Out of the money it
 * expires worthless: a seller keeps the premium, a buyer loses it.
 *
 * A long contract the account cannot exercise (a call without the cash, a put without free shares)
 * closes at its intrinsic value instead, as brokers sell such contracts before the close rather than
 * exercise into a debt or a short sale; a short call without its shares (which the ledger never
 * allows) is settled the same way, in cash.
 *
 * The premium is realized when the option closes; shares received carry the strike as their cost.
 */
import { OPTION_CONTRACT_MULTIPLIER } from '../../core/domain/contract-multiplier.js';
import { Decimal, type OrderSide } from '../../core/domain/values.js';
import type { OptionContract } from '../../core/market-data/market-data.js';
import { newYorkInstant } from '../../core/market-data/providers/us-market-calendar.js';
import { applyTrade, type HeldPosition, type TradeResult } from './ledger.js';

export type SettlementOutcome = 'assigned' | 'called_away' | 'exercised' | 'expired' | 'cash_settled';

/** The least intrinsic value, per share, that counts as in the money. */
const IN_THE_MONEY = new Decimal('0.01');

/** When a contract stops trading and settles: 16:00 New York on its expiry date. */
export function expiresAt(contract: Pick<OptionContract, 'expiry'>): Date {
  return newYorkInstant(contract.expiry, 16, 0);
}

/** What exercising is worth per share at this underlying price (never negative). */
export function intrinsicValue(contract: OptionContract, underlyingPrice: Decimal): Decimal {
  const value =
    contract.right === 'put' ? contract.strike.sub(underlyingPrice) : underlyingPrice.sub(contract.strike);
  return Decimal.max(value, 0);
}

export interface SettlementInput {
  readonly contract: OptionContract;
  /** The option position: signed contracts (negative when short) and the average premium. */
  readonly option: HeldPosition;
  /** The underlying's price the contract settles at. */
  readonly underlyingPrice: Decimal;
  /** The position in the underlying's shares, if any. */
  readonly shares: HeldPosition | undefined;
  /** Cash minus what other short puts set aside (this contract's own reserve is released). */
  readonly buyingPower: Decimal;
  /** Shares of the underlying that other short calls hold for delivery. */
  readonly sharesLockedByOthers: Decimal;
}

/** One leg of a settlement, as the ledger records it. */
export interface SettlementLeg {
  readonly side: OrderSide;
  /** Contracts for the option leg, shares for the shares leg; positive. */
  readonly quantity: Decimal;
  readonly price: Decimal;
  /** The position after the leg. */
  readonly result: TradeResult;
}

export interface SettlementPlan {
  readonly outcome: SettlementOutcome;
  /** Closes the option: at 0 when it expired or shares moved, at intrinsic value when cash-settled. */
  readonly option: SettlementLeg;
  /** The shares bought or sold at the strike, when shares move. */
  readonly shares: SettlementLeg | undefined;
  /** Signed: what the account's cash gains (positive) or pays (negative). */
  readonly cashChange: Decimal;
  /** P&L realized by both legs. */
  readonly realized: Decimal;
}

/** Decides how an option position settles at expiry. */
export function planSettlement(input: SettlementInput): SettlementPlan {
  const { contract, option } = input;
  const short = option.quantity.isNegative();
  const contracts = option.quantity.abs();
  const shareCount = contracts.mul(OPTION_CONTRACT_MULTIPLIER);
  const closeOption = (price: Decimal): SettlementLeg => ({
    side: short ? 'buy' : 'sell',
    quantity: contracts,
    price,
    result: applyTrade(
      option.quantity,
      option.averageCost,
      option.quantity.negated(),
      price,
      OPTION_CONTRACT_MULTIPLIER,
    ),
  });
  const settled = (
    outcome: SettlementOutcome,
    optionLeg: SettlementLeg,
    shares: SettlementLeg | undefined,
    cashChange: Decimal,
  ): SettlementPlan => ({
    outcome,
    option: optionLeg,
    shares,
    cashChange,
    realized: optionLeg.result.realized.add(shares?.result.realized ?? 0),
  });

  const intrinsic = intrinsicValue(contract, input.underlyingPrice);
  if (intrinsic.lessThan(IN_THE_MONEY))
    return settled('expired', closeOption(new Decimal(0)), undefined, new Decimal(0));

  const inCash = (): SettlementPlan => {
    const value = intrinsic.mul(shareCount);
    return settled('cash_settled', closeOption(intrinsic), undefined, short ? value.negated() : value);
  };
  const held = input.shares?.quantity ?? new Decimal(0);
  const sharesLeg = (side: OrderSide): SettlementLeg => ({
    side,
    quantity: shareCount,
    price: contract.strike,
    result: applyTrade(
      held,
      input.shares?.averageCost ?? new Decimal(0),
      side === 'buy' ? shareCount : shareCount.negated(),
      contract.strike,
      1,
    ),
  });
  const strikeValue = contract.strike.mul(shareCount);
  // A short put or a long call takes the shares in; a short call or a long put gives them up.
  const receivesShares = (contract.right === 'put') === short;
  if (receivesShares) {
    // An assigned put pays with the cash it set aside; an exercised call needs the cash free.
    if (!short && strikeValue.greaterThan(input.buyingPower)) return inCash();
    return settled(
      short ? 'assigned' : 'exercised',
      closeOption(new Decimal(0)),
      sharesLeg('buy'),
      strikeValue.negated(),
    );
  }
  if (shareCount.greaterThan(held.sub(input.sharesLockedByOthers))) return inCash();
  return settled(
    short ? 'called_away' : 'exercised',
    closeOption(new Decimal(0)),
    sharesLeg('sell'),
    strikeValue,
  );
}
