/**
 * Backtest: run any strategy over a market's past (the simulated market, or a supplied daily price
 * series) to see its trades and P&L before it goes live: "backtest the wheel on SOFI for 6 months".
 *
 * Each trading day, at each evaluation time (10:00 New York by default), the engine builds the
 * snapshot a live runner would (quote, session, account, positions, the option chain and daily
 * history when the strategy asks for them), calls `decide`, and executes the orders:
 *
 * - An order fills at once, whole, at its limit when it is marketable at that moment's quote (a
 *   buy limit at or above the ask, a sell at or below the bid; with `fills: 'midpoint'`, at or
 *   through the mid), and a market order at the ask or bid. Anything else is dropped, not left
 *   working, and listed in `dropped` with the reason; so `pendingOrders` is always empty.
 * - Every order passes the same risk checks as a chat order first (cash-secured puts, covered
 *   calls, buying power, market hours), against `limits` (permissive by default).
 * - At 16:00 on each trading day, options that expire settle (assignment, call-away, exercise or
 *   worthless; see SimulatedAccount), then the day's equity is marked at the mids. An option
 *   expiring on a day without a session settles at its expiry, before the next day's decisions:
 *   trades and events are in the order they happened.
 *
 * Deterministic: the same inputs give the same result; no clock, no randomness.
 */
import { OPTION_CONTRACT_MULTIPLIER } from '../../core/domain/contract-multiplier.js';
import { type AssetClass, Decimal, formatUsd } from '../../core/domain/values.js';
import { assessOrder } from '../../core/intents/pre-trade.js';
import { type OptionContract, UnknownInstrumentError } from '../../core/market-data/market-data.js';
import { occSymbol, parseOccSymbol } from '../../core/market-data/providers/options.js';
import {
  addDays,
  newYorkInstant,
  usTradingDay,
} from '../../core/market-data/providers/us-market-calendar.js';
import { firstFailure, type RiskLimits } from '../../core/risk/risk-checks.js';
import type { HeldPosition, ProposedOrder, StrategyDefinition, StrategySnapshot } from '../strategy.js';
import type { BacktestMarket } from './backtest-market.js';
import {
  type ExpiryEvent,
  type LedgerPosition,
  type LedgerTrade,
  SimulatedAccount,
} from './simulated-account.js';

export interface BacktestInput<Params, State> {
  readonly definition: StrategyDefinition<Params, State>;
  /** Parameters as given (a user's, a tool's): validated by the definition's schema. */
  readonly params: unknown;
  /** The underlying the strategy trades: the snapshot's quote. */
  readonly symbol: string;
  /** Equities evaluate on US trading days; crypto on every calendar day. Default equity. */
  readonly assetClass?: 'equity' | 'crypto';
  /** `simulatedBacktestMarket(...)` or `priceSeriesMarket(...)`. */
  readonly market: BacktestMarket;
  /** First and last day, YYYY-MM-DD (New York), both included. */
  readonly from: string;
  readonly to: string;
  /** New York wall-clock times ("HH:MM", before 16:00) of each day's evaluations. Default ["10:00"]. */
  readonly times?: readonly string[];
  readonly startingCash: Decimal.Value;
  /** When a limit order counts as marketable: at the touch (default) or at the mid. */
  readonly fills?: 'touch' | 'midpoint';
  /** Risk limits the orders are checked against (default: only what the account can afford). */
  readonly limits?: RiskLimits;
}

export type BacktestTrade = LedgerTrade;

export interface BacktestEvent {
  readonly at: Date;
  /** Expiry outcomes, the strategy's notices, and a halt. */
  readonly kind: ExpiryEvent['kind'] | 'notice' | 'halt';
  readonly text: string;
  /** OCC symbol, for expiry outcomes. */
  readonly symbol?: string;
}

/** An order that did not fill, and why. */
export interface DroppedOrder {
  readonly at: Date;
  readonly order: ProposedOrder;
  readonly reason: string;
}

export interface EquityPoint {
  /** YYYY-MM-DD; marked at 16:00 New York. */
  readonly date: string;
  readonly equity: Decimal;
  readonly cash: Decimal;
}

export interface BacktestSummary {
  readonly startingCash: Decimal;
  readonly endingEquity: Decimal;
  /** Ending equity less starting cash. */
  readonly totalPnl: Decimal;
  /** Total P&L as a percentage of starting cash, 2 decimals. */
  readonly returnPercent: Decimal;
  /** Largest fall from a previous daily high, USD. */
  readonly maxDrawdown: Decimal;
  /** The same as a percentage of that high, 2 decimals. */
  readonly maxDrawdownPercent: Decimal;
  readonly realizedPnl: Decimal;
  /** Net option premium: received for options sold less paid for options bought. */
  readonly premiumCollected: Decimal;
  /** Strategy orders filled (deliveries at expiry are not counted). */
  readonly tradeCount: number;
  readonly evaluations: number;
}

export interface BacktestResult<State> {
  readonly trades: readonly BacktestTrade[];
  readonly events: readonly BacktestEvent[];
  readonly dropped: readonly DroppedOrder[];
  readonly equityCurve: readonly EquityPoint[];
  readonly summary: BacktestSummary;
  readonly finalState: State;
}

/** Nothing but what the account can afford: the backtest shows the strategy, not the user's limits. */
const OPEN_LIMITS: RiskLimits = {
  maxOrderNotional: new Decimal(Number.MAX_SAFE_INTEGER),
  maxPositionFraction: new Decimal(1_000_000),
  dailyLossLimit: new Decimal(Number.MAX_SAFE_INTEGER),
  allowedAssetClasses: ['equity', 'option', 'crypto'],
};

const MAX_DAYS = 3_660;

/** @throws RangeError for malformed dates or times, a `to` before `from`, or more than ten years */
export async function backtest<Params, State>(
  input: BacktestInput<Params, State>,
): Promise<BacktestResult<State>> {
  const { definition, market } = input;
  const params = definition.paramsSchema.parse(input.params);
  const symbol = input.symbol.trim().toUpperCase();
  const assetClass = input.assetClass ?? 'equity';
  const times = parseTimes(input.times ?? ['10:00']);
  const days = evaluationDays(input.from, input.to, assetClass);
  const account = new SimulatedAccount(input.startingCash);
  const startingCash = account.cash;
  const limits = input.limits ?? OPEN_LIMITS;
  const fills = input.fills ?? 'touch';

  const trades: LedgerTrade[] = [];
  const events: BacktestEvent[] = [];
  const dropped: DroppedOrder[] = [];
  const equityCurve: EquityPoint[] = [];
  const closes = new Map<string, Decimal | null>();
  let state = definition.stateSchema.parse(definition.initialState(params));
  let halted = false;
  let evaluations = 0;

  /** Price per share, coin or option share at `at`: the mid, or intrinsic value when unquoted. */
  const markOf = async (position: LedgerPosition, at: Date): Promise<Decimal> => {
    if (position.option === undefined) {
      const quote = await market.quote(
        { assetClass: equityOrCrypto(position.assetClass), symbol: position.symbol },
        at,
      );
      return mid(quote);
    }
    try {
      return mid(await market.quote({ assetClass: 'option', contract: position.option }, at));
    } catch (error) {
      if (!(error instanceof UnknownInstrumentError)) throw error;
      const spot = mid(await market.quote({ assetClass: 'equity', symbol: position.option.underlying }, at));
      return intrinsic(position.option, spot);
    }
  };

  const equityAt = async (at: Date): Promise<Decimal> => {
    const marks = new Map<string, Decimal>();
    for (const position of account.positions()) marks.set(position.symbol, await markOf(position, at));
    return account.equity((position) => marks.get(position.symbol) ?? new Decimal(0));
  };

  const closeOn = async (date: string): Promise<Decimal | null> => {
    const cached = closes.get(date);
    if (cached !== undefined) return cached;
    let close: Decimal | null;
    try {
      close = (await market.quote({ assetClass, symbol }, newYorkInstant(date, 16, 0))).last;
    } catch (error) {
      if (!(error instanceof UnknownInstrumentError)) throw error;
      close = null;
    }
    closes.set(date, close);
    return close;
  };

  /** Daily closes of the `count` trading days before `date`, oldest first (fewer at the data's start). */
  const historyBefore = async (date: string, count: number): Promise<Decimal[]> => {
    const found: Decimal[] = [];
    let day = date;
    for (let tries = 0; found.length < count && tries < count * 2 + 14; tries += 1) {
      day = addDays(day, -1);
      if (assetClass === 'equity' && !usTradingDay(day).trading) continue;
      const close = await closeOn(day);
      if (close === null) break;
      found.push(close);
    }
    return found.reverse();
  };

  const snapshotAt = async (at: Date, date: string): Promise<StrategySnapshot> => {
    const quote = await market.quote({ assetClass, symbol }, at);
    const positions: HeldPosition[] = account
      .positions()
      .filter((position) => position.symbol === symbol || sameRoot(position.option?.underlying, symbol))
      .map((position) => ({
        symbol: position.symbol,
        assetClass: position.assetClass,
        quantity: position.quantity,
        averageCost: position.averageCost,
        ...(position.option ? { option: position.option } : {}),
      }));
    const chain =
      definition.needsOptionChain && assetClass === 'equity'
        ? await market.optionChain(symbol, at)
        : undefined;
    const history =
      definition.needsHistory > 0 ? await historyBefore(date, definition.needsHistory) : undefined;
    return {
      at,
      quote,
      session: market.session(assetClass, at),
      account: {
        cash: account.cash,
        buyingPower: account.buyingPower(),
        // No order is left working here (see above), so there is nothing to take off twice.
        netsWorkingOrders: true,
        equity: await equityAt(at),
        realizedPnlToday: account.realizedOn(date),
      },
      positions,
      pendingOrders: [],
      ...(chain ? { optionChain: chain } : {}),
      ...(history ? { history } : {}),
    };
  };

  const execute = async (order: ProposedOrder, reason: string, at: Date, date: string): Promise<void> => {
    const drop = (why: string) => {
      dropped.push({ at, order, reason: why });
    };
    const contract =
      order.assetClass === 'option' ? (order.option ?? parseOccSymbol(order.symbol)) : undefined;
    if (order.assetClass === 'option' && contract === undefined) return drop('not an option symbol');
    let quote: { bid: Decimal; ask: Decimal };
    try {
      quote = contract
        ? await market.quote({ assetClass: 'option', contract }, at)
        : await market.quote({ assetClass: equityOrCrypto(order.assetClass), symbol: order.symbol }, at);
    } catch (error) {
      if (!(error instanceof UnknownInstrumentError)) throw error;
      return drop(`no quote for ${order.symbol}`);
    }
    const touch = order.side === 'buy' ? quote.ask : quote.bid;
    let price = touch;
    if (order.orderType === 'limit') {
      const limit = order.limitPrice;
      if (limit === undefined) return drop('a limit order without a limit price');
      // The mid to the cent, rounded as strategies price their limits (option-legs): an odd-cent
      // spread's mid is not a price anyone can quote.
      const reference = fills === 'midpoint' ? mid(quote).toDecimalPlaces(2, Decimal.ROUND_HALF_UP) : touch;
      const marketable = order.side === 'buy' ? limit.gte(reference) : limit.lte(reference);
      if (!marketable)
        return drop(
          `not marketable: limit ${formatUsd(limit)} against bid ${formatUsd(quote.bid)} / ask ${formatUsd(quote.ask)}`,
        );
      price = limit;
    }

    const key = contract ? occSymbol(contract) : order.symbol;
    // The same assessment as a chat order's: the position by the broker's symbol, and for an
    // option the shares of its underlying that cover a call.
    const positions = [key, ...(contract ? [contract.underlying] : [])].flatMap((symbol) => {
      const position = account.position(symbol);
      return position === undefined ? [] : [{ symbol, quantity: position.quantity }];
    });
    const checks = assessOrder(
      {
        side: order.side,
        assetClass: order.assetClass,
        symbol: order.symbol,
        brokerSymbol: key,
        quantity: order.quantity,
        price,
        ...(contract ? { contract } : {}),
      },
      {
        balances: {
          buyingPower: account.buyingPower(),
          equity: await equityAt(at),
          realizedPnlToday: account.realizedOn(date),
        },
        positions,
        sellsOptionsToOpen: true,
      },
      { limits, session: market.session(order.assetClass, at), halted: undefined },
    );
    const failure = firstFailure(checks);
    if (failure !== undefined) return drop(`risk check ${failure.check}: ${failure.detail}`);

    trades.push(
      account.fill({
        at,
        kind: 'order',
        side: order.side,
        assetClass: order.assetClass,
        symbol: key,
        ...(contract ? { option: contract } : {}),
        quantity: order.quantity,
        price,
        reason,
      }),
    );
  };

  /** Settles the options that expire on or before `date`, each at 16:00 of its expiry day. */
  const settleExpiries = async (date: string): Promise<void> => {
    for (const position of account.expiringBy(date)) {
      const contract = position.option;
      if (contract === undefined) continue;
      const expiresAt = newYorkInstant(contract.expiry, 16, 0);
      const spot = (await market.quote({ assetClass: 'equity', symbol: contract.underlying }, expiresAt))
        .last;
      const settled = account.expire(position.symbol, spot, expiresAt);
      trades.push(...settled.trades);
      events.push({
        at: settled.event.at,
        kind: settled.event.kind,
        text: settled.event.text,
        symbol: settled.event.symbol,
      });
    }
  };

  for (const date of days) {
    // An expiry on a day without a session (a holiday) settled that day, before this day's
    // decisions see the account: trades and events stay in the order they happened.
    await settleExpiries(addDays(date, -1));
    for (const time of times) {
      if (halted) break;
      const at = newYorkInstant(date, time.hour, time.minute);
      const snapshot = await snapshotAt(at, date);
      evaluations += 1;
      const decision = definition.decide(params, state, snapshot);
      state = definition.stateSchema.parse(decision.state);
      for (const action of decision.actions) {
        if (action.kind === 'notify') events.push({ at, kind: 'notice', text: action.text });
        else if (action.kind === 'halt') {
          events.push({ at, kind: 'halt', text: action.reason });
          halted = true;
        } else await execute(action.order, action.reason, at, date);
      }
    }

    const close = newYorkInstant(date, 16, 0);
    await settleExpiries(date);
    equityCurve.push({ date, equity: await equityAt(close), cash: account.cash });
  }

  return {
    trades,
    events,
    dropped,
    equityCurve,
    summary: summarize(startingCash, account, trades, equityCurve, evaluations),
    finalState: state,
  };
}

function summarize(
  startingCash: Decimal,
  account: SimulatedAccount,
  trades: readonly LedgerTrade[],
  curve: readonly EquityPoint[],
  evaluations: number,
): BacktestSummary {
  const endingEquity = curve.at(-1)?.equity ?? startingCash;
  const totalPnl = endingEquity.minus(startingCash);
  let peak = startingCash;
  let maxDrawdown = new Decimal(0);
  let maxDrawdownPercent = new Decimal(0);
  for (const point of curve) {
    peak = Decimal.max(peak, point.equity);
    const fall = peak.minus(point.equity);
    if (fall.gt(maxDrawdown)) maxDrawdown = fall;
    if (peak.gt(0)) maxDrawdownPercent = Decimal.max(maxDrawdownPercent, fall.dividedBy(peak).times(100));
  }
  const orders = trades.filter((trade) => trade.kind === 'order');
  const premiumCollected = orders
    .filter((trade) => trade.assetClass === 'option')
    .reduce((sum, trade) => {
      const amount = trade.price.times(trade.quantity).times(OPTION_CONTRACT_MULTIPLIER);
      return trade.side === 'sell' ? sum.plus(amount) : sum.minus(amount);
    }, new Decimal(0));
  return {
    startingCash,
    endingEquity,
    totalPnl,
    returnPercent: startingCash.isZero()
      ? new Decimal(0)
      : totalPnl.dividedBy(startingCash).times(100).toDecimalPlaces(2),
    maxDrawdown,
    maxDrawdownPercent: maxDrawdownPercent.toDecimalPlaces(2),
    realizedPnl: account.realizedPnl,
    premiumCollected,
    tradeCount: orders.length,
    evaluations,
  };
}

function evaluationDays(from: string, to: string, assetClass: 'equity' | 'crypto'): string[] {
  for (const date of [from, to]) {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(date) || Number.isNaN(Date.parse(`${date}T00:00:00Z`)))
      throw new RangeError(`"${date}" is not a YYYY-MM-DD date`);
  }
  if (to < from) throw new RangeError(`The backtest ends (${to}) before it starts (${from})`);
  const days: string[] = [];
  for (let date = from; date <= to; date = addDays(date, 1)) {
    if (days.length > MAX_DAYS) throw new RangeError('A backtest covers at most ten years');
    if (assetClass === 'crypto' || usTradingDay(date).trading) days.push(date);
  }
  return days;
}

function parseTimes(times: readonly string[]): { hour: number; minute: number }[] {
  if (times.length === 0) throw new RangeError('A backtest needs at least one evaluation time');
  const parsed = times.map((time) => {
    const match = /^(\d{2}):(\d{2})$/.exec(time);
    const hour = Number(match?.[1]);
    const minute = Number(match?.[2]);
    if (!match || hour > 15 || minute > 59)
      throw new RangeError(`Evaluation time "${time}" must be HH:MM before 16:00 New York`);
    return { hour, minute };
  });
  return parsed.sort((a, b) => a.hour * 60 + a.minute - (b.hour * 60 + b.minute));
}

function mid(quote: { readonly bid: Decimal; readonly ask: Decimal }): Decimal {
  return quote.bid.plus(quote.ask).dividedBy(2);
}

function intrinsic(contract: OptionContract, spot: Decimal): Decimal {
  const value = contract.right === 'call' ? spot.minus(contract.strike) : contract.strike.minus(spot);
  return Decimal.max(0, value);
}

function equityOrCrypto(assetClass: AssetClass): 'equity' | 'crypto' {
  return assetClass === 'crypto' ? 'crypto' : 'equity';
}

function sameRoot(underlying: string | undefined, symbol: string): boolean {
  if (underlying === undefined) return false;
  const root = (text: string) => text.toUpperCase().replace(/[^A-Z0-9]/g, '');
  return root(underlying) === root(symbol);
}
