/**
 * What open short options tie up in a paper account, and the sales they therefore refuse.
 *
 * A short put sets aside the cash to buy its shares (strike x 100 per contract); a short call holds
 * the 100 shares per contract it may have to deliver. Both stay committed until the option is bought
 * back, expires or is assigned. The commitments are computed from the positions on every decision,
 * never stored, so they cannot drift from what the account holds.
 *
 * The rules are the pre-trade risk check's (src/core/risk/risk-checks.ts, coveredOptionSale), asked
 * again here because the ledger is the last line: a card confirmed minutes ago, or two orders
 * confirmed at once, must not leave a naked option behind.
 */
import { OPTION_CONTRACT_MULTIPLIER } from '../../core/domain/contract-multiplier.js';
import { Decimal, formatUsd } from '../../core/domain/values.js';
import type { OptionContract } from '../../core/market-data/market-data.js';
import { parseOccSymbol } from '../../core/market-data/providers/options.js';

/** An open short option position. */
export interface ShortOption {
  /** The position's OCC symbol. */
  readonly symbol: string;
  readonly contract: OptionContract;
  /** Contracts sold, as a positive count. */
  readonly contracts: Decimal;
}

/**
 * The ticker as an OCC root spells it ("BRK.B" -> "BRKB"): contracts parsed back from their symbols
 * carry the root, so tickers are compared in this form.
 */
export function optionRoot(ticker: string): string {
  return ticker.toUpperCase().replace(/[^A-Z0-9]/g, '');
}

/**
 * The short options among `positions` (quantity below zero, asset class option).
 * @throws Error when a short option's symbol is not an OCC symbol: its commitment would be unknown
 */
export function shortOptionsOf(
  positions: readonly { readonly symbol: string; readonly assetClass: string; readonly quantity: Decimal }[],
): ShortOption[] {
  return positions
    .filter((position) => position.assetClass === 'option' && position.quantity.isNegative())
    .map((position) => {
      const contract = parseOccSymbol(position.symbol);
      if (contract === undefined) {
        throw new Error(`paper option position ${position.symbol} is not an OCC symbol`);
      }
      return { symbol: position.symbol, contract, contracts: position.quantity.abs() };
    });
}

/** Cash set aside for short puts: strike x 100 x contracts, summed. Not available to spend. */
export function reservedCash(shorts: readonly ShortOption[]): Decimal {
  return shorts
    .filter((short) => short.contract.right === 'put')
    .reduce(
      (sum, short) => sum.add(short.contract.strike.mul(OPTION_CONTRACT_MULTIPLIER).mul(short.contracts)),
      new Decimal(0),
    );
}

/** Shares of `ticker` that short calls hold for delivery: 100 per contract. Not available to sell. */
export function lockedShares(shorts: readonly ShortOption[], ticker: string): Decimal {
  const root = optionRoot(ticker);
  return shorts
    .filter((short) => short.contract.right === 'call' && optionRoot(short.contract.underlying) === root)
    .reduce((sum, short) => sum.add(short.contracts.mul(OPTION_CONTRACT_MULTIPLIER)), new Decimal(0));
}

/** What an option sale needs to know of the account. */
export interface OptionSaleCover {
  /** Contracts of this option held before the sale (negative when already short). */
  readonly held: Decimal;
  /** Cash minus the cash short puts already set aside. */
  readonly buyingPower: Decimal;
  /** Shares of the underlying held. */
  readonly underlyingShares: Decimal;
  readonly shorts: readonly ShortOption[];
}

/**
 * Why selling `contracts` of `contract` is refused, or undefined when it is allowed. Contracts held
 * long are sold first; only the rest opens a short, and that part must be covered: a put by buying
 * power for its strike, a call by shares no other call already holds.
 */
export function optionSaleRefusal(
  symbol: string,
  contract: OptionContract | undefined,
  contracts: Decimal,
  cover: OptionSaleCover,
): string | undefined {
  const opening = contracts.sub(Decimal.max(cover.held, 0));
  if (opening.lessThanOrEqualTo(0)) return undefined;
  if (contract === undefined) {
    return `not enough ${symbol} to sell: holding ${cover.held.toFixed()}, selling ${contracts.toFixed()} (the order names no contract, so it cannot open a short)`;
  }
  if (contract.right === 'put') {
    const collateral = contract.strike.mul(OPTION_CONTRACT_MULTIPLIER).mul(opening);
    if (collateral.lessThanOrEqualTo(cover.buyingPower)) return undefined;
    return `a cash-secured put needs ${formatUsd(collateral)} of buying power, you have ${formatUsd(cover.buyingPower)}`;
  }
  const needed = opening.mul(OPTION_CONTRACT_MULTIPLIER);
  const locked = lockedShares(cover.shorts, contract.underlying);
  const free = cover.underlyingShares.sub(locked);
  if (needed.lessThanOrEqualTo(free)) return undefined;
  const holding = locked.isZero()
    ? `you hold ${cover.underlyingShares.toFixed()}`
    : `you hold ${cover.underlyingShares.toFixed()} and ${locked.toFixed()} of them already cover open calls`;
  return `a covered call needs ${needed.toFixed()} ${contract.underlying} shares, ${holding}; naked calls are not allowed`;
}

/**
 * Why selling `quantity` of a stock or coin is refused, or undefined when it is allowed: never more
 * than is held (no short sales), and never the shares an open call holds for delivery.
 */
export function shareSaleRefusal(
  symbol: string,
  quantity: Decimal,
  held: Decimal,
  locked: Decimal,
): string | undefined {
  if (quantity.greaterThan(held)) {
    return `not enough ${symbol} to sell: holding ${held.toFixed()}, selling ${quantity.toFixed()} (paper accounts cannot sell short)`;
  }
  const free = held.sub(locked);
  if (quantity.lessThanOrEqualTo(free)) return undefined;
  return `${locked.toFixed()} of your ${held.toFixed()} ${symbol} shares cover open calls and cannot be sold until the calls are closed; you can sell ${Decimal.max(free, 0).toFixed()}`;
}
