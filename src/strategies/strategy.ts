/**
 * What every automated strategy is: a pure decision function over a snapshot of the market and
 * the account. `decide` does no I/O and reads no clock (the snapshot carries the time), so a
 * decision can be tested, replayed from a stored run, and simulated over a price series.
 *
 * Strategies only *propose*: every order they emit goes through the same risk checks, intent
 * state machine and (in ask mode) confirmation card as an order typed in chat.
 */
import type { z } from 'zod';
import type { AssetClass, Decimal, OrderSide, TimeInForce } from '../core/domain/values.js';
import type { MarketSession, OptionContract, Quote } from '../core/market-data/market-data.js';
import type { OptionChain } from '../core/market-data/providers/simulated-market.js';

/** Matches the `StrategyKind` enum of the data model. */
export type StrategyKind = 'wheel' | 'collar' | 'ai_driven';

/** One holding relevant to a strategy, as the account reports it. */
export interface HeldPosition {
  /** Ticker, or the OCC symbol of an option. */
  readonly symbol: string;
  readonly assetClass: AssetClass;
  /** Signed: negative is a short position (options sold to open). Options count contracts. */
  readonly quantity: Decimal;
  /** Per share or coin; per contract *share* (premium) for options. */
  readonly averageCost: Decimal;
  readonly option?: OptionContract;
}

/**
 * Where a pending order stands, which says whose numbers already count it:
 * - `not_placed`: a card waiting, or confirmed and not yet answered by the broker (being sent
 *   counts here: the paper broker books an order in the same transaction that moves its intent on,
 *   and a live broker's answer is not in yet). No buying power has it out yet.
 * - `working`: the broker has it; a broker whose `netsWorkingOrders` has its cash out already.
 * - `declined`: cancelled, expired, refused or failed lately. On its way nowhere: it holds no cash,
 *   it is only not asked for again yet.
 */
export type PendingStage = 'not_placed' | 'working' | 'declined';

/**
 * An order of this strategy that is not final yet (a card waiting, or working at the broker), or
 * one declined lately that must not be asked for again yet.
 */
export interface PendingOrder {
  /** The `ProposedOrder.tag` it was emitted with. */
  readonly tag: string;
  readonly side: OrderSide;
  readonly symbol: string;
  /** What is still to fill: the part already filled is in the positions. */
  readonly quantity: Decimal;
  readonly stage: PendingStage;
}

/** What the AI-driven strategy's model said about a snapshot (gathered before `decide`). */
export interface ModelAdvice {
  readonly action: 'buy' | 'sell' | 'hold';
  /** 0..1, the model's own confidence. */
  readonly confidence: number;
  /** One sentence for the user. */
  readonly reason: string;
}

/** Everything a decision may look at, gathered once per evaluation. */
export interface StrategySnapshot {
  /** The evaluation time; decisions never read a clock. */
  readonly at: Date;
  /** The underlying (stock or coin) the strategy trades. */
  readonly quote: Quote;
  /** Trading session of the underlying's market at `at`. */
  readonly session: MarketSession;
  readonly account: {
    readonly cash: Decimal;
    readonly buyingPower: Decimal;
    /**
     * True when `buyingPower` already has working orders' cash out of it (`Balances`): only
     * orders not placed yet are still to be taken off it. False: working ones are taken off too.
     */
    readonly netsWorkingOrders: boolean;
    readonly equity: Decimal;
    readonly realizedPnlToday: Decimal;
  };
  /** Holdings of the underlying and of options on it (others are left out). */
  readonly positions: readonly HeldPosition[];
  /**
   * Orders this strategy emitted that are not final yet, and those declined lately: a decision
   * must not repeat them. Their `stage` says which still need cash (`stillNeedsCash`).
   */
  readonly pendingOrders: readonly PendingOrder[];
  /** Option chain of the underlying, for strategies whose `needsOptionChain` is true. */
  readonly optionChain?: OptionChain;
  /** Daily closes before `at`, oldest first, for strategies whose `needsHistory` is set. */
  readonly history?: readonly Decimal[];
  /** For the AI-driven strategy: what the model proposed for this snapshot. */
  readonly advice?: ModelAdvice;
}

/** An order a strategy wants; risk and (in ask mode) the user decide whether it happens. */
export interface ProposedOrder {
  readonly side: OrderSide;
  readonly assetClass: AssetClass;
  /** Ticker, or the OCC symbol of an option. */
  readonly symbol: string;
  readonly option?: OptionContract;
  /** Shares, coins or contracts; positive. */
  readonly quantity: Decimal;
  readonly orderType: 'market' | 'limit';
  readonly limitPrice?: Decimal;
  readonly timeInForce: TimeInForce;
  /** Opening (sell to open a put) or closing (buy to close) for options. */
  readonly positionEffect?: 'open' | 'close';
  /**
   * Names what the order is for, stable across evaluations of the same situation
   * ("wheel:put:open:2026-12-19:20"): a decision skips an order whose tag is pending, and the
   * runner derives idempotency keys from it, so a re-run evaluation never orders twice.
   */
  readonly tag: string;
}

export type StrategyAction =
  /** Propose an order, with the reason the user sees on its card or message. */
  | { readonly kind: 'order'; readonly order: ProposedOrder; readonly reason: string }
  /** Tell the user something (an assignment noticed, a roll skipped and why). */
  | { readonly kind: 'notify'; readonly text: string }
  /** Stop the strategy for a reason the user is told; it resumes only when they say so. */
  | { readonly kind: 'halt'; readonly reason: string };

export interface Decision<State> {
  readonly actions: readonly StrategyAction[];
  /** The state for the next evaluation (returned unchanged when nothing happened). */
  readonly state: State;
}

/** One kind of strategy: its parameters, its state and its decision function. */
export interface StrategyDefinition<Params, State> {
  readonly kind: StrategyKind;
  /** For people: "the wheel". */
  readonly title: string;
  readonly paramsSchema: z.ZodType<Params>;
  readonly stateSchema: z.ZodType<State>;
  readonly needsOptionChain: boolean;
  /**
   * Sells calls covered by shares already held, and opens nothing without them (the collar):
   * creating it is refused while less than one contract's worth (100 shares) is held.
   */
  readonly coversShares?: boolean;
  /**
   * Decides nothing while its market is closed. The runner then records the run without building
   * a snapshot (most ticks of a week are outside the session, and the snapshot is the cost).
   */
  readonly actsOnlyInSession: boolean;
  /** Number of daily closes the decision wants in `snapshot.history` (0: none). */
  readonly needsHistory: number;
  initialState(params: Params): State;
  /** Pure: same inputs, same decision. */
  decide(params: Params, state: State, snapshot: StrategySnapshot): Decision<State>;
  /** One line for "list my strategies": "SOFI, 2 contracts max, puts at 0.30 delta". */
  describe(params: Params): string;
}
