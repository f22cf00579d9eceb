/**
 * One interface for every broker. The core talks to brokers only through this, and never by a
 * provider's name: what differs between brokers is declared here as capabilities
 * (`placementLookup`, `reportsOwnFills`, `sellsOptionsToOpen`) that every adapter sets.
 *
 * Errors (./errors.ts) split the way callers must react: `BrokerRejectedError` means the broker
 * answered and refused (nothing was placed); `BrokerUnreachableError` means we got no usable
 * answer, so an order may or may not exist: the caller must reconcile by client order id before
 * doing anything else. Each carries a `kind` (refused, auth, rate_limited, circuit_open,
 * unexpected_answer; unreachable).
 */
import type { Prisma } from '../db/database.js';
import type { BrokerProvider, OrderStatus } from '../db/generated/enums.js';
import type { AssetClass, Decimal, OrderSide, OrderType, TimeInForce } from '../domain/values.js';
import type { OptionContract, Quote, QuoteRequest } from '../market-data/market-data.js';

export {
  BrokerError,
  type BrokerFailureKind,
  BrokerRejectedError,
  type BrokerRejectionKind,
  BrokerUnreachableError,
  type BrokerUnreachableKind,
  brokerFailureSentence,
} from './errors.js';
export { brokerName } from './names.js';
export type { BrokerProvider, OrderStatus };

export interface PlaceOrderRequest {
  /** The broker's account id (BrokerAccount.externalId). */
  readonly accountId: string;
  /** Our idempotency key, derived from the intent: placing twice returns the first order. */
  readonly clientOrderId: string;
  readonly side: OrderSide;
  readonly assetClass: AssetClass;
  /** Ticker, or the OCC symbol of an option contract. */
  readonly symbol: string;
  /** The contract, for option orders (brokers need its parts, not only the OCC symbol). */
  readonly option?: OptionContract;
  /** Exactly one of quantity and notional. Option quantities count contracts. */
  readonly quantity?: Decimal;
  readonly notional?: Decimal;
  readonly orderType: OrderType;
  readonly limitPrice?: Decimal;
  readonly stopPrice?: Decimal;
  readonly timeInForce: TimeInForce;
  /**
   * A token swap (wallets only): `symbol`/`quantity` are what is given up, this says what is
   * received and the least the user accepted on the card.
   */
  readonly swap?: SwapOrder;
}

/** What a swap receives, as confirmed on its card. */
export interface SwapOrder {
  readonly network: string;
  readonly toToken: string;
  readonly slippageBps: number;
  /** The card's "minimum received": a fresh quote below it is refused, nothing sent. */
  readonly minToAmount: Decimal;
}

export interface SwapQuoteRequest {
  readonly accountId: string;
  /** Absent: the wallet's default network. */
  readonly network?: string;
  readonly fromToken: string;
  readonly toToken: string;
  readonly fromAmount: Decimal;
  readonly slippageBps: number;
}

/** A swap priced for a card. Amounts are in whole tokens. */
export interface SwapQuote {
  /** Where the swap runs (the wallet's default when the request named none). */
  readonly network: string;
  readonly fromAmount: Decimal;
  readonly toAmount: Decimal;
  /** What the user receives at worst, after slippage. */
  readonly minToAmount: Decimal;
  /**
   * The wallet's balance of the token given up, on that network. Where the wallet service lists
   * no balances there, only what the swap price tells: the balance when it is short, else the
   * amount swapped (the balance is at least that); see `fromBalanceExact`.
   */
  readonly fromBalance: Decimal;
  /**
   * False when `fromBalance` is only a lower bound (a balance not listed): it then says nothing
   * about whether the wallet also covers swaps still pending there.
   */
  readonly fromBalanceExact: boolean;
  /** True when a paymaster sponsors the gas; false when the wallet pays it in the native token. */
  readonly gasSponsored: boolean;
}

export interface BrokerFill {
  readonly id: string;
  readonly quantity: Decimal;
  readonly price: Decimal;
  readonly fee: Decimal;
  readonly at: Date;
}

/** An order as the broker reports it. */
export interface BrokerOrder {
  readonly brokerOrderId: string;
  readonly clientOrderId: string;
  readonly status: OrderStatus;
  readonly symbol: string;
  readonly side: OrderSide;
  readonly orderType: OrderType;
  readonly quantity: Decimal | undefined;
  readonly notional: Decimal | undefined;
  readonly limitPrice: Decimal | undefined;
  readonly stopPrice: Decimal | undefined;
  readonly filledQuantity: Decimal;
  readonly averageFillPrice: Decimal | undefined;
  readonly rejectReason: string | undefined;
  readonly fills: readonly BrokerFill[];
  readonly createdAt: Date;
}

export interface Balances {
  readonly cash: Decimal;
  /** What can be spent on a new order now: net of working orders where the broker nets them. */
  readonly buyingPower: Decimal;
  /**
   * Cash set aside for working buy orders and options sold to open (cash-secured puts), where the
   * broker reports it (Coinbase's holds) or Arbion computes it (the paper broker); undefined where
   * it is not known.
   */
  readonly reserved?: Decimal;
  /**
   * True when `buyingPower` is known to have working orders' cash already out of it (the paper
   * broker computes it so; Alpaca and Coinbase document it): a caller must not take a working
   * order off it again. False or absent where that is not known: a caller that knows of its own
   * working orders takes them off, to be safe.
   */
  readonly netsWorkingOrders?: boolean;
  /** Cash plus the market value of positions. */
  readonly equity: Decimal;
  /** Realized P&L since the start of the current US trading day. */
  readonly realizedPnlToday: Decimal;
  readonly currency: string;
}

export interface Position {
  readonly symbol: string;
  readonly assetClass: AssetClass;
  readonly quantity: Decimal;
  readonly averageCost: Decimal;
  readonly marketPrice: Decimal | undefined;
  readonly marketValue: Decimal | undefined;
  readonly unrealizedPnl: Decimal | undefined;
  readonly realizedPnl: Decimal;
}

/**
 * Which broker instance serves an account: the provider and, for linked brokers, the connection
 * (its credentials, rate limits and circuit breaker). `TradingAccount`s and order rows are routes.
 */
export interface BrokerRoute {
  readonly provider: BrokerProvider;
  readonly connectionId: string | null;
}

/** The broker instance for a route; rejects when the connection cannot trade (unlinked, needs a sign-in). */
export type BrokerLookup = (route: BrokerRoute) => Promise<Broker>;

/**
 * How a placement whose outcome stayed unknown is found again, and so how sure "not found" is:
 * - `client_order_id`: the broker keeps our client order id and is asked for it; not found means
 *   it never received the order (Alpaca, Coinbase, the paper broker).
 * - `reconciliation`: no client order id can be searched for; the order is matched among the
 *   account's recent orders (instrument, side, quantity, prices, time), so not found is no proof:
 *   the user is told the outcome is unclear and what to check (Schwab, E*TRADE).
 * - `on_chain`: a wallet operation, followed on chain by the process that sent it; after a restart
 *   nothing can be looked up, so not found means most likely not sent (the Coinbase smart wallet).
 */
export type PlacementLookup = 'client_order_id' | 'reconciliation' | 'on_chain';

/**
 * What a broker can do, as core asks it instead of naming the provider: read-only properties every
 * adapter declares, the same for every connection of a provider.
 */
export interface BrokerCapabilities {
  /** How a placement with an unknown outcome is found again (see {@link PlacementLookup}). */
  readonly placementLookup: PlacementLookup;
  /**
   * True when the broker reports its own fills and changes (the paper broker's background pass
   * hands them over), so its working orders are not polled; false when they must be asked about.
   */
  readonly reportsOwnFills: boolean;
  /**
   * Whether options may be sold to open here (cash-secured puts, covered calls). False: selling
   * an option needs the contracts held, like any other sale.
   */
  readonly sellsOptionsToOpen: boolean;
}

export interface Broker extends BrokerCapabilities {
  readonly provider: BrokerProvider;
  /**
   * Places an order, idempotently on `clientOrderId`.
   * @throws BrokerRejectedError when the broker refused it (nothing placed)
   * @throws BrokerUnreachableError when the outcome is unknown
   */
  placeOrder(request: PlaceOrderRequest): Promise<BrokerOrder>;
  /**
   * Brokers whose book is in Arbion's own database (the paper broker): the placement is prepared
   * outside any transaction (quoted, checked), and the function it returns writes it in the
   * transaction that also applies the answer to our order and intent rows: the fill and the
   * intent's move commit together, or neither does. Absent: `placeOrder`, and the answer applied
   * after it.
   * @throws BrokerRejectedError from either step when the broker refuses (nothing written)
   */
  preparePlacement?(
    request: PlaceOrderRequest,
  ): Promise<(tx: Prisma.TransactionClient) => Promise<BrokerOrder>>;
  /** The order placed with this client order id, if any: how ambiguous failures are resolved. */
  findOrderByClientOrderId(accountId: string, clientOrderId: string): Promise<BrokerOrder | undefined>;
  /**
   * The order a placement with an unknown outcome created, if any, from any process and after a
   * restart: by client order id where the broker keeps one, by matching recent orders (entered
   * from `sentAt` on) where it does not (Schwab, E*TRADE). Never places anything.
   */
  reconcilePlacement(request: PlaceOrderRequest, sentAt: Date): Promise<BrokerOrder | undefined>;
  getOrder(accountId: string, brokerOrderId: string): Promise<BrokerOrder | undefined>;
  cancelOrder(accountId: string, brokerOrderId: string): Promise<BrokerOrder>;
  listOpenOrders(accountId: string): Promise<BrokerOrder[]>;
  getBalances(accountId: string): Promise<Balances>;
  getPositions(accountId: string): Promise<Position[]>;
  /** Balances and positions together, in as few calls as the broker allows (risk checks need both). */
  getAccountSnapshot(accountId: string): Promise<AccountSnapshot>;
  /**
   * The broker's own quote, where it has market data (Schwab, E*TRADE): cards and the price
   * re-check then use the prices the order will meet. Undefined (or no method): the configured
   * market data prices it instead.
   * @throws UnknownInstrumentError when the broker does not know the symbol
   */
  quote?(request: QuoteRequest): Promise<Quote | undefined>;
  /**
   * The expiries the broker lists for options on `underlying` (YYYY-MM-DD, ascending), where it
   * publishes an option chain: option orders and the chat's chains then follow its listing
   * instead of the calendar rule (src/core/market-data/option-expiries.ts). Undefined (or no
   * method): the calendar rule, also when the broker could not be asked (down, slow, an answer
   * it could not read), so a broker's outage never blocks a proposal by itself. Schwab (its
   * expiration chain), E*TRADE (its option expire dates) and Alpaca (its option contracts)
   * implement it, each keeping a listing a few minutes; the paper broker follows the calendar.
   * @throws UnknownInstrumentError when the broker lists no options on `underlying`
   */
  optionExpiries?(underlying: string): Promise<readonly string[] | undefined>;
  /**
   * The time in force the broker applies to an order of this kind when `order.timeInForce` is
   * asked (Coinbase runs every market order immediate-or-cancel, whatever was asked). The card
   * shows it and the intent is placed with it. Absent: the one asked for (see `timeInForceAt`).
   * Async like every broker call: the broker registry wraps each method in an async one.
   */
  appliedTimeInForce?(order: TimeInForceRequest): Promise<TimeInForce>;
  /**
   * The order as the broker will take it (sizes rounded to its increments, prices to its tick),
   * checked against its minimum and maximum sizes, before the card is shown: the card then shows
   * exactly what will be placed. Absent: the order is placed as asked.
   * @throws BrokerRejectedError with a chat-ready reason when no size of it can be placed
   */
  sizeOrder?(order: SizingRequest): Promise<OrderSize>;
  /**
   * Prices a token swap (wallets). Never sends anything.
   * @throws BrokerRejectedError with a chat-ready reason (unknown token, no liquidity)
   */
  quoteSwap?(request: SwapQuoteRequest): Promise<SwapQuote>;
  /**
   * The broker's own preview of an order as it would be placed (Coinbase): what it would cost,
   * fees included. Never places anything.
   * @throws BrokerRejectedError with the broker's reason when the order would fail
   */
  previewCost?(request: PlaceOrderRequest): Promise<OrderPreview>;
  /**
   * Token balances per network (wallets); a network's `tokens` is undefined where the wallet
   * service lists no balances.
   */
  walletBalances?(accountId: string): Promise<readonly NetworkBalances[]>;
}

/** The parts of an order its time in force depends on. */
export interface TimeInForceRequest {
  readonly assetClass: AssetClass;
  readonly orderType: OrderType;
  /** The time in force asked for. */
  readonly timeInForce: TimeInForce;
}

/** The time in force `broker` applies to `order`: its own answer, else the one asked for. */
export async function timeInForceAt(
  broker: Pick<Broker, 'appliedTimeInForce'>,
  order: TimeInForceRequest,
): Promise<TimeInForce> {
  return (await broker.appliedTimeInForce?.(order)) ?? order.timeInForce;
}

/** What a broker's preview says an order would move. */
export interface OrderPreview {
  /** Everything the order moves, fees included (dollars). */
  readonly total: Decimal;
  readonly fees: Decimal;
}

export interface NetworkBalances {
  readonly network: string;
  readonly tokens: readonly { readonly symbol: string; readonly quantity: Decimal }[] | undefined;
}

/** The parts of an order a broker's increments and limits apply to. */
export interface OrderSize {
  readonly quantity?: Decimal | undefined;
  readonly notional?: Decimal | undefined;
  readonly limitPrice?: Decimal | undefined;
  readonly stopPrice?: Decimal | undefined;
}

export interface SizingRequest extends OrderSize {
  readonly symbol: string;
  readonly assetClass: AssetClass;
  readonly side: OrderSide;
  readonly orderType: OrderType;
}

export interface AccountSnapshot {
  readonly balances: Balances;
  readonly positions: readonly Position[];
}
