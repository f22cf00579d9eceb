/**
 * The ledger of a backtest: cash, shares and option positions (signed: negative is short), with
 * average costs and realized P&L. It applies fills and settles option expiries the way a broker
 * does at 16:00 New York on the expiry date:
 *
 * - an in-the-money short put is assigned: the holder buys 100 shares a contract at the strike;
 * - an in-the-money short call is called away: 100 shares a contract sold at the strike;
 * - an in-the-money long put or call is exercised (shares sold or bought at the strike);
 * - anything at or out of the money expires worthless.
 *
 * The option leaves the books at zero, so its whole premium is realized then; the shares carry the
 * strike as their cost. No margin: buying power is cash less the strikes securing short puts.
 */
import { contractMultiplier, OPTION_CONTRACT_MULTIPLIER } from '../../core/domain/contract-multiplier.js';
import { type AssetClass, Decimal, formatUsd, type OrderSide } from '../../core/domain/values.js';
import { contractLabel } from '../../core/intents/instrument-label.js';
import type { OptionContract } from '../../core/market-data/market-data.js';
import { occSymbol } from '../../core/market-data/providers/options.js';
import { newYorkTime } from '../../core/market-data/providers/us-market-calendar.js';

/** A holding in the ledger. */
export interface LedgerPosition {
  /** Ticker, or the OCC symbol of an option. */
  readonly symbol: string;
  readonly assetClass: AssetClass;
  /** Signed: negative is short. Options count contracts. */
  readonly quantity: Decimal;
  /** Per share, coin, or option share (premium); always positive. */
  readonly averageCost: Decimal;
  readonly option?: OptionContract;
}

/** What moved the ledger: a strategy order, or a delivery at expiry. */
export type TradeKind = 'order' | 'assignment' | 'called_away' | 'exercise' | 'expiry';

export interface LedgerTrade {
  readonly at: Date;
  readonly kind: TradeKind;
  readonly side: OrderSide;
  readonly assetClass: AssetClass;
  readonly symbol: string;
  readonly option?: OptionContract;
  /** Positive: shares, coins or contracts. */
  readonly quantity: Decimal;
  readonly price: Decimal;
  /** Why it happened, for people. */
  readonly reason: string;
  /** Realized P&L this trade booked (closing part only). */
  readonly realized: Decimal;
}

/** What happened to an option at expiry. */
export interface ExpiryEvent {
  readonly at: Date;
  readonly kind: 'assigned' | 'called_away' | 'exercised' | 'expired_worthless';
  /** OCC symbol. */
  readonly symbol: string;
  /** Signed contracts that were held. */
  readonly contracts: Decimal;
  readonly underlyingPrice: Decimal;
  readonly text: string;
}

interface MutablePosition {
  symbol: string;
  assetClass: AssetClass;
  quantity: Decimal;
  averageCost: Decimal;
  option?: OptionContract;
}

export class SimulatedAccount {
  private cashBalance: Decimal;
  private realizedTotal = new Decimal(0);
  private readonly realizedByDate = new Map<string, Decimal>();
  private readonly holdings = new Map<string, MutablePosition>();

  constructor(startingCash: Decimal.Value) {
    this.cashBalance = new Decimal(startingCash);
    if (!this.cashBalance.isFinite() || this.cashBalance.isNegative())
      throw new RangeError('Starting cash must be a non-negative amount');
  }

  get cash(): Decimal {
    return this.cashBalance;
  }

  /** Realized P&L since the start. */
  get realizedPnl(): Decimal {
    return this.realizedTotal;
  }

  /** Realized P&L booked on a New York date (YYYY-MM-DD). */
  realizedOn(date: string): Decimal {
    return this.realizedByDate.get(date) ?? new Decimal(0);
  }

  /** Open positions, in the order they were opened. */
  positions(): LedgerPosition[] {
    return [...this.holdings.values()].map((position) => ({ ...position }));
  }

  position(symbol: string): LedgerPosition | undefined {
    const held = this.holdings.get(symbol);
    return held === undefined ? undefined : { ...held };
  }

  /** Cash less the collateral of short puts (strike x 100 a contract); never below zero. */
  buyingPower(): Decimal {
    let reserved = new Decimal(0);
    for (const position of this.holdings.values()) {
      if (position.option?.right === 'put' && position.quantity.isNegative())
        reserved = reserved.plus(
          position.option.strike.times(OPTION_CONTRACT_MULTIPLIER).times(position.quantity.abs()),
        );
    }
    return Decimal.max(0, this.cashBalance.minus(reserved));
  }

  /** Cash plus every position at `mark` (a price per share, coin or option share). */
  equity(mark: (position: LedgerPosition) => Decimal): Decimal {
    let value = this.cashBalance;
    for (const position of this.holdings.values())
      value = value.plus(
        position.quantity.times(mark(position)).times(contractMultiplier(position.assetClass)),
      );
    return value;
  }

  /** Applies one fill: cash moves by quantity x price (x 100 for options), the position updates. */
  fill(input: Omit<LedgerTrade, 'realized'>): LedgerTrade {
    if (!input.quantity.isFinite() || input.quantity.lte(0))
      throw new RangeError(`A fill needs a positive quantity, got ${input.quantity.toFixed()}`);
    if (!input.price.isFinite() || input.price.isNegative())
      throw new RangeError(`A fill needs a non-negative price, got ${input.price.toFixed()}`);
    const signed = input.side === 'buy' ? input.quantity : input.quantity.negated();
    const multiplier = contractMultiplier(input.assetClass);
    this.cashBalance = this.cashBalance.minus(signed.times(input.price).times(multiplier));
    const realized = this.move(input, signed, multiplier);
    if (!realized.isZero()) {
      const date = newYorkTime(input.at).date;
      this.realizedTotal = this.realizedTotal.plus(realized);
      this.realizedByDate.set(date, this.realizedOn(date).plus(realized));
    }
    return { ...input, realized };
  }

  /** Option positions whose expiry is on or before `date`, for settlement. */
  expiringBy(date: string): LedgerPosition[] {
    return this.positions().filter(
      (position) => position.option !== undefined && position.option.expiry <= date,
    );
  }

  /**
   * Settles one option position at expiry against the underlying's price then: removes it at zero
   * and, in the money, delivers the shares at the strike.
   */
  expire(
    symbol: string,
    underlyingPrice: Decimal,
    at: Date,
  ): { readonly trades: LedgerTrade[]; readonly event: ExpiryEvent } {
    const position = this.holdings.get(symbol);
    const contract = position?.option;
    if (position === undefined || contract === undefined)
      throw new RangeError(`No option position ${symbol} to expire`);
    const contracts = position.quantity;
    const short = contracts.isNegative();
    const moneyness = underlyingPrice.minus(contract.strike);
    const inTheMoney = contract.right === 'call' ? moneyness.gt(0) : moneyness.lt(0);
    const label = `${contracts.abs().toFixed()} ${contractLabel(contract)}${contracts.abs().eq(1) ? '' : 's'}`;
    const at16 = `${contract.underlying} at ${formatUsd(underlyingPrice)}`;

    const trades: LedgerTrade[] = [];
    if (!inTheMoney) {
      trades.push(
        this.fill({
          at,
          kind: 'expiry',
          side: short ? 'buy' : 'sell',
          assetClass: 'option',
          symbol,
          option: contract,
          quantity: contracts.abs(),
          price: new Decimal(0),
          reason: `expired worthless (${at16})`,
        }),
      );
      const text = `${short ? 'Short' : 'Long'} ${label} expired worthless (${at16}).`;
      return { trades, event: { at, kind: 'expired_worthless', symbol, contracts, underlyingPrice, text } };
    }

    const kind: ExpiryEvent['kind'] = !short
      ? 'exercised'
      : contract.right === 'put'
        ? 'assigned'
        : 'called_away';
    const tradeKind: TradeKind =
      kind === 'assigned' ? 'assignment' : kind === 'called_away' ? 'called_away' : 'exercise';
    // Shares change hands: a put holder sells them, a call holder buys them.
    const holderBuysShares = contract.right === 'call';
    const sharesSide: OrderSide = short === holderBuysShares ? 'sell' : 'buy';
    const shares = contracts.abs().times(OPTION_CONTRACT_MULTIPLIER);
    const what =
      kind === 'assigned'
        ? `assigned: bought ${shares.toFixed()} shares at ${formatUsd(contract.strike)}`
        : kind === 'called_away'
          ? `called away: sold ${shares.toFixed()} shares at ${formatUsd(contract.strike)}`
          : `exercised: ${sharesSide === 'buy' ? 'bought' : 'sold'} ${shares.toFixed()} shares at ${formatUsd(contract.strike)}`;
    trades.push(
      this.fill({
        at,
        kind: tradeKind,
        side: short ? 'buy' : 'sell',
        assetClass: 'option',
        symbol,
        option: contract,
        quantity: contracts.abs(),
        price: new Decimal(0),
        reason: `${what} (${at16})`,
      }),
      this.fill({
        at,
        kind: tradeKind,
        side: sharesSide,
        assetClass: 'equity',
        symbol: contract.underlying,
        quantity: shares,
        price: contract.strike,
        reason: `${what} (${label})`,
      }),
    );
    const text = `${label}: ${what} (${at16}).`;
    return { trades, event: { at, kind, symbol, contracts, underlyingPrice, text } };
  }

  /** Updates the position for a signed quantity change; returns the realized P&L of the closing part. */
  private move(input: Omit<LedgerTrade, 'realized'>, signed: Decimal, multiplier: number): Decimal {
    const key = input.assetClass === 'option' && input.option ? occSymbol(input.option) : input.symbol;
    const held = this.holdings.get(key);
    if (held === undefined) {
      this.holdings.set(key, {
        symbol: key,
        assetClass: input.assetClass,
        quantity: signed,
        averageCost: input.price,
        ...(input.option ? { option: input.option } : {}),
      });
      return new Decimal(0);
    }
    const sameDirection = held.quantity.isZero() || held.quantity.isNegative() === signed.isNegative();
    if (sameDirection) {
      const size = held.quantity.abs().plus(signed.abs());
      held.averageCost = held.quantity
        .abs()
        .times(held.averageCost)
        .plus(signed.abs().times(input.price))
        .dividedBy(size);
      held.quantity = held.quantity.plus(signed);
      return new Decimal(0);
    }
    const closing = Decimal.min(held.quantity.abs(), signed.abs());
    const direction = held.quantity.isNegative() ? -1 : 1;
    const realized = input.price.minus(held.averageCost).times(closing).times(direction).times(multiplier);
    const remaining = held.quantity.plus(signed);
    if (remaining.isZero()) this.holdings.delete(key);
    else if (remaining.isNegative() !== held.quantity.isNegative()) {
      // Flipped through zero: the rest opens the other side at this price.
      held.quantity = remaining;
      held.averageCost = input.price;
    } else held.quantity = remaining;
    return realized;
  }
}
