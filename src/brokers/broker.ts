/**
 * One interface for every broker. The core talks to brokers only through this.
 *
 * Errors follow grammY's split: `BrokerRejectedError` means the broker answered and refused
 * (nothing was placed); `BrokerUnreachableError` means we got no usable answer, so an order may or
 * may not exist: the caller must reconcile by client order id before doing anything else.
 */
import type { BrokerProvider, OrderStatus } from '../core/db/generated/enums.js';
import type { AssetClass, Decimal, OrderSide, OrderType, TimeInForce } from '../core/domain/values.js';
import type { OptionContract } from '../core/market-data/market-data.js';

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
  readonly buyingPower: Decimal;
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

export interface Broker {
  readonly provider: BrokerProvider;
  /**
   * Places an order, idempotently on `clientOrderId`.
   * @throws BrokerRejectedError when the broker refused it (nothing placed)
   * @throws BrokerUnreachableError when the outcome is unknown
   */
  placeOrder(request: PlaceOrderRequest): Promise<BrokerOrder>;
  /** The order placed with this client order id, if any: how ambiguous failures are resolved. */
  findOrderByClientOrderId(accountId: string, clientOrderId: string): Promise<BrokerOrder | undefined>;
  getOrder(accountId: string, brokerOrderId: string): Promise<BrokerOrder | undefined>;
  cancelOrder(accountId: string, brokerOrderId: string): Promise<BrokerOrder>;
  listOpenOrders(accountId: string): Promise<BrokerOrder[]>;
  getBalances(accountId: string): Promise<Balances>;
  getPositions(accountId: string): Promise<Position[]>;
  /** Balances and positions together, in as few calls as the broker allows (risk checks need both). */
  getAccountSnapshot(accountId: string): Promise<AccountSnapshot>;
}

export interface AccountSnapshot {
  readonly balances: Balances;
  readonly positions: readonly Position[];
}

/** The broker answered and refused. Nothing was placed. */
export class BrokerRejectedError extends Error {
  constructor(
    readonly provider: BrokerProvider,
    /** What the broker said, fit for a chat message. */
    readonly reason: string,
    /** The broker's error code, when it has one. */
    readonly code?: string,
  ) {
    super(`${provider} rejected the request: ${reason}`);
    this.name = 'BrokerRejectedError';
  }
}

/** No usable answer (timeout, reset, 5xx after sending). The order may exist: reconcile first. */
export class BrokerUnreachableError extends Error {
  constructor(
    readonly provider: BrokerProvider,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'BrokerUnreachableError';
  }
}
