/**
 * What a message means, as data. The fast-path parser produces these, the LLM's tool calls are
 * validated into the same shapes, and `arbion parse` prints them as JSON. Numbers are decimal
 * strings, never floats.
 *
 * An `order` command is only a request: it becomes a trade intent, which is quoted, risk-checked and
 * shown on a confirmation card before anything reaches a broker.
 */
import { z } from 'zod';
import {
  assetClassSchema,
  fractionString,
  optionRightSchema,
  orderSideSchema,
  orderTypeSchema,
  positiveDecimalString,
  timeInForceSchema,
} from '../domain/values.js';

/** An option leg: "sell 1 AAPL put 190 May 17". */
export const optionSpecSchema = z.object({
  underlying: z.string().regex(/^[A-Z][A-Z0-9.]{0,9}$/),
  /** YYYY-MM-DD */
  expiry: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
  right: optionRightSchema,
  strike: positiveDecimalString,
  /** open or close; absent = open for buy/sell without a position, decided by the core. */
  positionEffect: z.enum(['open', 'close']).optional(),
});
export type OptionSpec = z.infer<typeof optionSpecSchema>;

export const orderCommandSchema = z
  .object({
    kind: z.literal('order'),
    side: orderSideSchema,
    /** Ticker of the instrument; for options the underlying's ticker. */
    symbol: z.string().regex(/^[A-Z][A-Z0-9.]{0,9}$/),
    assetClass: assetClassSchema,
    /** Exactly one of quantity, notional, fractionOfPosition. */
    quantity: positiveDecimalString.optional(),
    /** USD amount: "buy $500 of BTC". */
    notional: positiveDecimalString.optional(),
    /** Share of the current position, in (0, 1]: "sell half my TSLA" = "0.5". */
    fractionOfPosition: fractionString.optional(),
    orderType: orderTypeSchema,
    limitPrice: positiveDecimalString.optional(),
    stopPrice: positiveDecimalString.optional(),
    timeInForce: timeInForceSchema,
    option: optionSpecSchema.optional(),
  })
  .superRefine((order, ctx) => {
    const sizes = [order.quantity, order.notional, order.fractionOfPosition].filter(
      (value) => value !== undefined,
    );
    if (sizes.length !== 1) {
      ctx.addIssue({
        code: 'custom',
        message: 'exactly one of quantity, notional, fractionOfPosition is required',
      });
    }
    if (order.fractionOfPosition !== undefined && order.side !== 'sell') {
      ctx.addIssue({ code: 'custom', message: 'a fraction of a position can only be sold' });
    }
    const needsLimit = order.orderType === 'limit' || order.orderType === 'stop_limit';
    const needsStop = order.orderType === 'stop' || order.orderType === 'stop_limit';
    if (needsLimit !== (order.limitPrice !== undefined)) {
      ctx.addIssue({
        code: 'custom',
        message: `limitPrice is ${needsLimit ? 'required' : 'not allowed'} for ${order.orderType} orders`,
      });
    }
    if (needsStop !== (order.stopPrice !== undefined)) {
      ctx.addIssue({
        code: 'custom',
        message: `stopPrice is ${needsStop ? 'required' : 'not allowed'} for ${order.orderType} orders`,
      });
    }
    if ((order.assetClass === 'option') !== (order.option !== undefined)) {
      ctx.addIssue({ code: 'custom', message: 'option orders (and only they) need an option contract' });
    }
    if (order.option !== undefined && order.option.underlying !== order.symbol) {
      ctx.addIssue({ code: 'custom', message: 'symbol must be the option underlying' });
    }
  });
export type OrderCommand = z.infer<typeof orderCommandSchema>;

/** The networks swaps run on (the CDP swap API's list, plus base-sepolia for testing). */
export const SWAP_NETWORKS = ['base', 'ethereum', 'arbitrum', 'optimism', 'polygon', 'base-sepolia'] as const;
export const swapNetworkSchema = z.enum(SWAP_NETWORKS);
export type SwapNetwork = z.infer<typeof swapNetworkSchema>;

/**
 * "swap 0.1 ETH to USDC on base": a token swap on the user's smart wallet. Like an order, only a
 * request: it is quoted, risk-checked and confirmed on a card before anything is sent.
 */
export const swapCommandSchema = z
  .object({
    kind: z.literal('swap'),
    /** Token symbols as the wallet lists them ("ETH", "USDC"). */
    fromToken: z.string().regex(/^[A-Z][A-Z0-9.]{0,9}$/),
    toToken: z.string().regex(/^[A-Z][A-Z0-9.]{0,9}$/),
    /** How much of fromToken to give up. */
    amount: positiveDecimalString,
    /** Absent: the network chosen when the wallet was linked. */
    network: swapNetworkSchema.optional(),
    /** Most the received amount may fall below the quote, in basis points (absent: the default, 1%). */
    slippageBps: z.number().int().min(1).max(500).optional(),
  })
  .refine((swap) => swap.fromToken !== swap.toToken, { message: 'a swap needs two different tokens' });
export type SwapCommand = z.infer<typeof swapCommandSchema>;

/**
 * `wallet`: the smart wallet's tokens per network. `history`: orders placed and what became of
 * them; `fills`: executions. Both newest first, a page at a time.
 */
export const querySchema = z.enum([
  'quote',
  'balance',
  'positions',
  'orders',
  'wallet',
  'help',
  'history',
  'fills',
  'chain',
]);
/** An option expiry as asked: a day (YYYY-MM-DD) or a month (YYYY-MM: its standard monthly). */
export const optionExpiryQuerySchema = z.string().regex(/^\d{4}-\d{2}(-\d{2})?$/);
/** "quote AAPL 190 put May 2027": the contract a quote is about (its underlying is `symbol`). */
export const optionQuoteSchema = z.object({
  right: optionRightSchema,
  strike: positiveDecimalString,
  expiry: optionExpiryQuerySchema,
});
export type OptionQuote = z.infer<typeof optionQuoteSchema>;
/** A calendar period in the user's time zone, up to now: today, this week (from Monday), this month. */
export const historyPeriodSchema = z.enum(['today', 'week', 'month']);
export type HistoryPeriod = z.infer<typeof historyPeriodSchema>;
export const queryCommandSchema = z.object({
  kind: z.literal('query'),
  query: querySchema,
  /** For quotes: the ticker asked about; for history and fills: only this instrument (options: the underlying). */
  symbol: z
    .string()
    .regex(/^[A-Z][A-Z0-9.]{0,9}$/)
    .optional(),
  /** History and fills: only this period. */
  period: historyPeriodSchema.optional(),
  /** History and fills: the page, 1 = the newest. */
  page: z.number().int().min(1).max(1000).optional(),
  /** Quotes: an option contract on `symbol` instead of `symbol` itself. */
  option: optionQuoteSchema.optional(),
  /** Chains ("chain AAPL May 2027"): the month or day whose expiries are listed; absent, the next monthly. */
  expiry: optionExpiryQuerySchema.optional(),
});
export type QueryCommand = z.infer<typeof queryCommandSchema>;

/** Account actions that are not orders. */
export const actionCommandSchema = z.discriminatedUnion('action', [
  /** "cancel 3f2a..." or "cancel all" (open orders). */
  z.object({
    kind: z.literal('action'),
    action: z.literal('cancel'),
    target: z.union([z.literal('all'), z.string().min(1)]),
  }),
  /** "link", "link schwab": a one-time URL to the linking page. */
  z.object({
    kind: z.literal('action'),
    action: z.literal('link'),
    provider: z.enum(['schwab', 'etrade', 'alpaca', 'coinbase', 'cdp_wallet']).optional(),
  }),
  /** "go live on schwab", "paper mode": switch the trading mode (live needs its own confirmation). */
  z.object({
    kind: z.literal('action'),
    action: z.literal('mode'),
    mode: z.enum(['paper', 'live']),
    provider: z.enum(['paper', 'schwab', 'etrade', 'alpaca', 'coinbase', 'cdp_wallet']).optional(),
  }),
  /**
   * "confirm live schwab": the typed answer to "go live on schwab". Only the fast path produces it
   * (no LLM tool does): switching to real money is always the user's own words.
   */
  z.object({
    kind: z.literal('action'),
    action: z.literal('confirm_live'),
    provider: z.enum(['schwab', 'etrade', 'alpaca', 'coinbase', 'cdp_wallet']),
  }),
]);
export type ActionCommand = z.infer<typeof actionCommandSchema>;

/**
 * A typed answer to a confirmation card: "confirm 12", "yes #12", "cancel #12", or a bare "yes" /
 * "no" (then the one open card, if exactly one is). Only the fast path produces it (no LLM tool
 * does): a card is answered in the user's own words or with its buttons. The core looks the number
 * up among the sender's own cards and answers through the same path as the card's button.
 */
export const cardCommandSchema = z.object({
  kind: z.literal('card'),
  verb: z.enum(['confirm', 'cancel']),
  /** The number as typed; the core refuses 0, negatives and numbers no card of the sender has. */
  number: z.number().int().optional(),
});
export type CardCommand = z.infer<typeof cardCommandSchema>;

/** Strategy kinds as the data model names them. */
export const strategyKindSchema = z.enum(['wheel', 'collar', 'ai_driven']);
export type StrategyKindName = z.infer<typeof strategyKindSchema>;

const tickerSchema = z.string().regex(/^[A-Z][A-Z0-9.]{0,9}$/);
const amountSchema = z.string().regex(/^\d+(\.\d+)?$/);

/** Which strategies or monitors a pause/resume/stop is about: an id prefix, a kind, a symbol. */
export const automationTargetSchema = z.object({
  id: z
    .string()
    .regex(/^[0-9a-f]{4,36}$/)
    .optional(),
  kind: z.union([strategyKindSchema, z.literal('alert')]).optional(),
  symbol: tickerSchema.optional(),
});
export type AutomationTarget = z.infer<typeof automationTargetSchema>;

/**
 * Automation from chat: strategies ("run the wheel on SOFI, 2 contracts max, paper"), monitors
 * ("alert me if AAPL goes above 250", "sell half my ETH if it drops under 3k"), the kill switch
 * ("stop everything") and backtests. Limits for auto mode are confirmed in the user's own words
 * ("confirm auto ..."), never by the LLM.
 */
export const automationCommandSchema = z.discriminatedUnion('action', [
  z.object({
    kind: z.literal('automation'),
    action: z.literal('create'),
    strategy: strategyKindSchema,
    symbol: tickerSchema,
    /** Kind-specific parameters (the strategy's zod schema validates them). */
    params: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])),
    mode: z.enum(['paper', 'live']),
    execution: z.enum(['ask', 'auto']),
    limits: z.object({
      maxNotionalPerOrder: amountSchema.optional(),
      maxNotionalPerDay: amountSchema.optional(),
      maxPosition: amountSchema.optional(),
      /** Fraction 0..1. */
      maxDrawdown: amountSchema.optional(),
    }),
  }),
  z.object({ kind: z.literal('automation'), action: z.literal('list') }),
  z.object({
    kind: z.literal('automation'),
    action: z.enum(['pause', 'resume', 'stop']),
    target: automationTargetSchema,
  }),
  /** The kill switch: every strategy and monitor of the user stops. */
  z.object({ kind: z.literal('automation'), action: z.literal('stop_everything') }),
  /** "confirm auto <id|symbol>": starts an auto-mode strategy within the limits it was shown with. */
  z.object({
    kind: z.literal('automation'),
    action: z.literal('confirm_auto'),
    target: automationTargetSchema,
  }),
  z.object({
    kind: z.literal('automation'),
    action: z.literal('monitor'),
    monitor: z.enum(['price_above', 'price_below', 'stop_loss', 'take_profit', 'trailing_stop']),
    symbol: tickerSchema,
    threshold: amountSchema.optional(),
    /** Trailing stops: 0..1 below the high-water mark. */
    trailFraction: amountSchema.optional(),
    /** Share of the position to close, 0..1; absent: all of it (close actions only). */
    fractionOfPosition: amountSchema.optional(),
    closePosition: z.boolean(),
  }),
  z.object({
    kind: z.literal('automation'),
    action: z.literal('backtest'),
    strategy: strategyKindSchema,
    symbol: tickerSchema,
    params: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])),
    days: z.number().int().min(5).max(730),
  }),
]);
export type AutomationCommand = z.infer<typeof automationCommandSchema>;

/** Not understood as a plain command. `reason` says why, for people and for the LLM hand-off. */
export const unknownCommandSchema = z.object({
  kind: z.literal('unknown'),
  reason: z.string().optional(),
});
export type UnknownCommand = z.infer<typeof unknownCommandSchema>;

export const commandSchema = z.union([
  orderCommandSchema,
  swapCommandSchema,
  queryCommandSchema,
  actionCommandSchema,
  cardCommandSchema,
  automationCommandSchema,
  unknownCommandSchema,
]);
export type Command =
  | OrderCommand
  | SwapCommand
  | QueryCommand
  | ActionCommand
  | CardCommand
  | AutomationCommand
  | UnknownCommand;
