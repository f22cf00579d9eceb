/**
 * Accounts, positions, cash and orders of the fake, and their JSON in Schwab's documented shapes.
 * Market orders fill at once; limit and stop orders rest (WORKING) until the test says the market
 * reached them. Buying power and holdings are checked at placement, as the broker does: an order
 * the account cannot pay for or deliver is created and immediately REJECTED. Every status change is
 * one row of TRANSITIONS; anything else throws.
 */
import { createHash } from 'node:crypto';
import { Decimal } from 'decimal.js';
import type { FakeMarket } from './market-data.js';
import { type CheckedOrder, isBuy, parseOptionSymbol } from './order-rules.js';

export type FakeOrderStatus = 'WORKING' | 'FILLED' | 'CANCELED' | 'REJECTED' | 'REPLACED';

/** Legal moves; a fill that leaves quantity keeps the order WORKING. */
const TRANSITIONS: Record<FakeOrderStatus, readonly FakeOrderStatus[]> = {
  WORKING: ['WORKING', 'FILLED', 'CANCELED', 'REPLACED'],
  FILLED: [],
  CANCELED: [],
  REJECTED: [],
  REPLACED: [],
};

export interface FakeSchwabPositionSeed {
  /** Equity symbol or option symbol (`AAPL  240517P00190000`); negative quantity = short. */
  readonly symbol: string;
  readonly quantity: number;
  readonly averagePrice: string;
}

export interface FakeSchwabAccountSeed {
  readonly accountNumber: string;
  /** Opaque and stable; derived from the seed and account number when not given. */
  readonly hashValue?: string;
  readonly cash: string;
  /** Margin accounts may sell short and open short options; no leverage is modelled. Default MARGIN. */
  readonly type?: 'CASH' | 'MARGIN';
  readonly positions?: readonly FakeSchwabPositionSeed[];
}

interface Position {
  quantity: number;
  averagePrice: Decimal;
  readonly assetType: 'EQUITY' | 'OPTION';
}

export interface FakeAccount {
  readonly accountNumber: string;
  readonly hashValue: string;
  readonly type: 'CASH' | 'MARGIN';
  cash: Decimal;
  readonly positions: Map<string, Position>;
}

interface Fill {
  readonly quantity: number;
  readonly price: Decimal;
  readonly time: Date;
}

export interface FakeOrder {
  readonly orderId: number;
  readonly account: FakeAccount;
  readonly order: CheckedOrder;
  readonly enteredTime: Date;
  status: FakeOrderStatus;
  statusDescription: string | undefined;
  closeTime: Date | undefined;
  readonly fills: Fill[];
}

export class OrderBook {
  readonly accounts: FakeAccount[];
  private readonly orders: FakeOrder[] = [];
  private nextOrderId: number;

  constructor(
    seeds: readonly FakeSchwabAccountSeed[],
    private readonly seed: number,
    private readonly market: FakeMarket,
    private readonly now: () => Date,
  ) {
    this.accounts = seeds.map((account) => ({
      accountNumber: account.accountNumber,
      hashValue: account.hashValue ?? this.hashOf(account.accountNumber),
      type: account.type ?? 'MARGIN',
      cash: new Decimal(account.cash),
      positions: new Map(
        (account.positions ?? []).map((position) => [
          position.symbol,
          {
            quantity: position.quantity,
            averagePrice: new Decimal(position.averagePrice),
            assetType: parseOptionSymbol(position.symbol) === undefined ? 'EQUITY' : 'OPTION',
          },
        ]),
      ),
    }));
    // Schwab order ids are large int64s; start somewhere seed-dependent but stable.
    this.nextOrderId =
      1_000_000_000 +
      (createHash('sha256').update(`orders:${seed}`).digest().readUInt32BE(0) % 1_000_000) * 1000;
  }

  accountByHash(hashValue: string): FakeAccount | undefined {
    return this.accounts.find((account) => account.hashValue === hashValue);
  }

  ordersOf(account: FakeAccount): FakeOrder[] {
    return this.orders.filter((order) => order.account === account);
  }

  allOrders(): FakeOrder[] {
    return [...this.orders];
  }

  find(account: FakeAccount, orderId: number): FakeOrder | undefined {
    return this.orders.find((order) => order.account === account && order.orderId === orderId);
  }

  /** Creates the order: REJECTED when the account cannot carry it, filled at once when MARKET. */
  place(account: FakeAccount, order: CheckedOrder): FakeOrder {
    const created: FakeOrder = {
      orderId: this.nextOrderId++,
      account,
      order,
      enteredTime: this.now(),
      status: 'WORKING',
      statusDescription: undefined,
      closeTime: undefined,
      fills: [],
    };
    this.orders.push(created);
    const refusal = this.refusal(account, order, created);
    if (refusal !== undefined) {
      created.status = 'REJECTED';
      created.statusDescription = refusal;
      created.closeTime = created.enteredTime;
      return created;
    }
    if (order.orderType === 'MARKET') {
      const price = this.market.fillPrice(order.symbol, order.assetType);
      if (price !== undefined) this.fill(created, order.quantity, price);
    }
    return created;
  }

  /** Fills every resting order the current prices reach: limits at the better of limit and market. */
  fillResting(): FakeOrder[] {
    const filled: FakeOrder[] = [];
    for (const order of this.orders) {
      if (order.status !== 'WORKING') continue;
      const market = this.market.fillPrice(order.order.symbol, order.order.assetType);
      if (market === undefined) continue;
      const price = executionPrice(order.order, market);
      if (price === undefined) continue;
      this.fill(order, remaining(order), price);
      filled.push(order);
    }
    return filled;
  }

  /** Fills part or all of one working order, at `price` or the current market. */
  fillOrder(order: FakeOrder, quantity: number, price: Decimal | undefined): void {
    if (order.status !== 'WORKING') throw new Error(`fake Schwab: order ${order.orderId} is ${order.status}`);
    if (!Number.isInteger(quantity) || quantity <= 0 || quantity > remaining(order)) {
      throw new Error(`fake Schwab: cannot fill ${quantity} of order ${order.orderId}`);
    }
    const at = price ?? this.market.fillPrice(order.order.symbol, order.order.assetType);
    if (at === undefined) throw new Error(`fake Schwab: no price for ${order.order.symbol}`);
    this.fill(order, quantity, at);
  }

  cancel(order: FakeOrder): 'canceled' | 'not-cancelable' {
    if (order.status !== 'WORKING') return 'not-cancelable';
    this.move(order, 'CANCELED');
    order.closeTime = this.now();
    return 'canceled';
  }

  /** Replace: the old order ends REPLACED and a new one is placed; refused when the old one is done. */
  replace(order: FakeOrder, replacement: CheckedOrder): FakeOrder | 'not-replaceable' {
    if (order.status !== 'WORKING') return 'not-replaceable';
    this.move(order, 'REPLACED');
    order.closeTime = this.now();
    return this.place(order.account, replacement);
  }

  /** `Order` as Schwab returns it from GET .../orders. */
  orderJson(order: FakeOrder): Record<string, unknown> {
    const { order: checked } = order;
    const filledQuantity = order.fills.reduce((sum, fill) => sum + fill.quantity, 0);
    const instrumentId = this.instrumentId(checked.symbol);
    let left = checked.quantity;
    const activities = order.fills.map((fill, index) => {
      left -= fill.quantity;
      return {
        activityType: 'EXECUTION',
        activityId: order.orderId * 10 + index + 1,
        executionType: 'FILL',
        quantity: fill.quantity,
        orderRemainingQuantity: left,
        executionLegs: [
          {
            legId: 1,
            quantity: fill.quantity,
            mismarkedQuantity: 0,
            price: fill.price.toNumber(),
            time: schwabTime(fill.time),
            instrumentId,
          },
        ],
      };
    });
    return {
      session: checked.session,
      duration: checked.duration,
      orderType: checked.orderType,
      complexOrderStrategyType: checked.complexOrderStrategyType ?? 'NONE',
      quantity: checked.quantity,
      filledQuantity,
      remainingQuantity: order.status === 'WORKING' ? checked.quantity - filledQuantity : 0,
      requestedDestination: 'AUTO',
      destinationLinkName: 'AutoRoute',
      // Schwab lists a market order with "price": 0; a client must not read it as a limit.
      ...(checked.price === undefined
        ? checked.orderType === 'MARKET'
          ? { price: 0 }
          : {}
        : { price: checked.price.toNumber() }),
      ...(checked.stopPrice === undefined ? {} : { stopPrice: checked.stopPrice.toNumber() }),
      orderLegCollection: [
        {
          orderLegType: checked.assetType,
          legId: 1,
          instrument: this.instrumentJson(checked.symbol, checked.assetType),
          instruction: checked.instruction,
          positionEffect: opens(checked) ? 'OPENING' : 'CLOSING',
          quantity: checked.quantity,
        },
      ],
      orderStrategyType: 'SINGLE',
      orderId: order.orderId,
      cancelable: order.status === 'WORKING',
      editable: order.status === 'WORKING',
      status: order.status,
      enteredTime: schwabTime(order.enteredTime),
      ...(order.closeTime === undefined ? {} : { closeTime: schwabTime(order.closeTime) }),
      ...(order.statusDescription === undefined ? {} : { statusDescription: order.statusDescription }),
      accountNumber: Number(order.account.accountNumber),
      ...(activities.length === 0 ? {} : { orderActivityCollection: activities }),
    };
  }

  /** `Account` as Schwab returns it; positions only when asked for. */
  accountJson(account: FakeAccount, withPositions: boolean): Record<string, unknown> {
    let longStock = new Decimal(0);
    let shortStock = new Decimal(0);
    let longOptions = new Decimal(0);
    let shortOptions = new Decimal(0);
    const positions: Record<string, unknown>[] = [];
    for (const [symbol, position] of account.positions) {
      if (position.quantity === 0) continue;
      const multiplier = position.assetType === 'OPTION' ? 100 : 1;
      const price = this.market.fillPrice(symbol, position.assetType) ?? position.averagePrice;
      const value = price.mul(position.quantity).mul(multiplier);
      if (position.assetType === 'EQUITY') {
        if (position.quantity > 0) longStock = longStock.plus(value);
        else shortStock = shortStock.plus(value);
      } else if (position.quantity > 0) longOptions = longOptions.plus(value);
      else shortOptions = shortOptions.plus(value);
      const long = Math.max(position.quantity, 0);
      const short = Math.max(-position.quantity, 0);
      const openProfit = price.minus(position.averagePrice).mul(position.quantity).mul(multiplier);
      positions.push({
        shortQuantity: short,
        averagePrice: position.averagePrice.toNumber(),
        currentDayProfitLoss: 0,
        currentDayProfitLossPercentage: 0,
        longQuantity: long,
        settledLongQuantity: long,
        settledShortQuantity: short,
        instrument: this.instrumentJson(symbol, position.assetType),
        marketValue: value.toDecimalPlaces(2).toNumber(),
        maintenanceRequirement: 0,
        ...(long > 0
          ? {
              averageLongPrice: position.averagePrice.toNumber(),
              taxLotAverageLongPrice: position.averagePrice.toNumber(),
              longOpenProfitLoss: openProfit.toDecimalPlaces(2).toNumber(),
            }
          : {
              averageShortPrice: position.averagePrice.toNumber(),
              taxLotAverageShortPrice: position.averagePrice.toNumber(),
              shortOpenProfitLoss: openProfit.toDecimalPlaces(2).toNumber(),
            }),
        previousSessionLongQuantity: long,
        previousSessionShortQuantity: short,
        currentDayCost: 0,
      });
    }
    const cash = account.cash.toDecimalPlaces(2).toNumber();
    const available = this.availableCash(account).toDecimalPlaces(2).toNumber();
    const liquidation = account.cash.plus(longStock).plus(shortStock).plus(longOptions).plus(shortOptions);
    const liquidationValue = liquidation.toDecimalPlaces(2).toNumber();
    const common = {
      accruedInterest: 0,
      bondValue: 0,
      cashReceipts: 0,
      liquidationValue,
      longOptionMarketValue: longOptions.toDecimalPlaces(2).toNumber(),
      longStockValue: longStock.toDecimalPlaces(2).toNumber(),
      moneyMarketFund: 0,
      mutualFundValue: 0,
      pendingDeposits: 0,
      shortOptionMarketValue: shortOptions.toDecimalPlaces(2).toNumber(),
      shortStockValue: shortStock.toDecimalPlaces(2).toNumber(),
      unsettledCash: 0,
      isInCall: 0,
    };
    const balances =
      account.type === 'CASH'
        ? {
            initialBalances: {
              ...common,
              accountValue: liquidationValue,
              cashBalance: cash,
              cashAvailableForTrading: cash,
              cashAvailableForWithdrawal: cash,
              cashDebitCallValue: 0,
            },
            currentBalances: {
              cashAvailableForTrading: available,
              cashAvailableForWithdrawal: available,
              cashCall: 0,
              cashDebitCallValue: 0,
              longNonMarginableMarketValue: 0,
              totalCash: cash,
              unsettledCash: 0,
            },
            projectedBalances: { cashAvailableForTrading: available, cashAvailableForWithdrawal: available },
          }
        : {
            initialBalances: {
              ...common,
              accountValue: liquidationValue,
              cashBalance: cash,
              cashAvailableForTrading: cash,
              availableFundsNonMarginableTrade: cash,
              buyingPower: cash,
              dayTradingBuyingPower: cash,
              dayTradingBuyingPowerCall: 0,
              dayTradingEquityCall: 0,
              equity: liquidationValue,
              equityPercentage: 100,
              longMarginValue: longStock.toDecimalPlaces(2).toNumber(),
              maintenanceCall: 0,
              maintenanceRequirement: 0,
              margin: 0,
              marginBalance: 0,
              marginEquity: liquidationValue,
              regTCall: 0,
              shortBalance: 0,
              shortMarginValue: 0,
              totalCash: cash,
            },
            currentBalances: {
              availableFunds: available,
              availableFundsNonMarginableTrade: available,
              buyingPower: available,
              buyingPowerNonMarginableTrade: available,
              dayTradingBuyingPower: available,
              dayTradingBuyingPowerCall: 0,
              equity: liquidationValue,
              equityPercentage: 100,
              longMarginValue: longStock.toDecimalPlaces(2).toNumber(),
              maintenanceCall: 0,
              maintenanceRequirement: 0,
              marginBalance: 0,
              regTCall: 0,
              shortBalance: 0,
              shortMarginValue: 0,
              sma: available,
              isInCall: 0,
              stockBuyingPower: available,
              optionBuyingPower: available,
            },
            projectedBalances: {
              availableFunds: available,
              buyingPower: available,
              stockBuyingPower: available,
            },
          };
    return {
      securitiesAccount: {
        type: account.type,
        accountNumber: account.accountNumber,
        roundTrips: 0,
        isDayTrader: false,
        isClosingOnlyRestricted: false,
        pfcbFlag: false,
        ...(withPositions ? { positions } : {}),
        ...balances,
      },
      aggregatedBalance: { currentLiquidationValue: liquidationValue, liquidationValue },
    };
  }

  /** Cash less what working buy orders have reserved. */
  availableCash(account: FakeAccount): Decimal {
    let reserved = new Decimal(0);
    for (const order of this.orders) {
      if (order.account !== account || order.status !== 'WORKING' || !isBuy(order.order.instruction))
        continue;
      reserved = reserved.plus(this.estimate(order.order, remaining(order)) ?? 0);
    }
    return account.cash.minus(reserved);
  }

  /** Estimated cost or proceeds of `quantity` at the order's limit/stop or the market. */
  estimate(order: CheckedOrder, quantity: number): Decimal | undefined {
    const price = order.price ?? order.stopPrice ?? this.market.fillPrice(order.symbol, order.assetType);
    return price?.mul(quantity).mul(order.assetType === 'OPTION' ? 100 : 1);
  }

  private refusal(account: FakeAccount, order: CheckedOrder, self: FakeOrder): string | undefined {
    const held = account.positions.get(order.symbol)?.quantity ?? 0;
    const pending = (instructions: readonly string[]) =>
      this.orders
        .filter(
          (other) =>
            other !== self &&
            other.account === account &&
            other.status === 'WORKING' &&
            other.order.symbol === order.symbol &&
            instructions.includes(other.order.instruction),
        )
        .reduce((sum, other) => sum + remaining(other), 0);
    switch (order.instruction) {
      case 'SELL':
      case 'SELL_TO_CLOSE':
        if (order.quantity > held - pending(['SELL', 'SELL_TO_CLOSE'])) {
          return 'This order may result in an oversold/overbought position in your account.';
        }
        return undefined;
      case 'BUY_TO_COVER':
      case 'BUY_TO_CLOSE':
        if (order.quantity > -held - pending(['BUY_TO_COVER', 'BUY_TO_CLOSE'])) {
          return 'This order may result in an oversold/overbought position in your account.';
        }
        return this.cashRefusal(account, order);
      case 'SELL_SHORT':
      case 'SELL_TO_OPEN':
        return account.type === 'CASH' ? 'Short selling is not allowed in a cash account.' : undefined;
      default:
        return this.cashRefusal(account, order);
    }
  }

  private cashRefusal(account: FakeAccount, order: CheckedOrder): string | undefined {
    const cost = this.estimate(order, order.quantity);
    if (cost?.gt(this.availableCash(account))) {
      return 'Your buying power is insufficient for this order.';
    }
    return undefined;
  }

  private fill(order: FakeOrder, quantity: number, price: Decimal): void {
    const { account, order: checked } = order;
    const time = this.now();
    order.fills.push({ quantity, price, time });
    const multiplier = checked.assetType === 'OPTION' ? 100 : 1;
    const signed = isBuy(checked.instruction) ? quantity : -quantity;
    account.cash = account.cash.minus(price.mul(signed).mul(multiplier));
    const position = account.positions.get(checked.symbol) ?? {
      quantity: 0,
      averagePrice: new Decimal(0),
      assetType: checked.assetType,
    };
    const next = position.quantity + signed;
    // Adding to a position (either side) moves its average; reducing keeps it; flipping restarts it.
    if (position.quantity === 0 || Math.sign(next) !== Math.sign(position.quantity)) {
      position.averagePrice = price;
    } else if (Math.abs(next) > Math.abs(position.quantity)) {
      position.averagePrice = position.averagePrice
        .mul(Math.abs(position.quantity))
        .plus(price.mul(quantity))
        .div(Math.abs(next))
        .toDecimalPlaces(4);
    }
    position.quantity = next;
    account.positions.set(checked.symbol, position);
    const done = remaining(order) === 0;
    this.move(order, done ? 'FILLED' : 'WORKING');
    if (done) order.closeTime = time;
  }

  private move(order: FakeOrder, next: FakeOrderStatus): void {
    if (!TRANSITIONS[order.status].includes(next)) {
      throw new Error(`fake Schwab: order ${order.orderId} cannot move ${order.status} -> ${next}`);
    }
    order.status = next;
  }

  private instrumentJson(symbol: string, assetType: 'EQUITY' | 'OPTION'): Record<string, unknown> {
    const base = { assetType, cusip: this.cusip(symbol), symbol, instrumentId: this.instrumentId(symbol) };
    const option = assetType === 'OPTION' ? parseOptionSymbol(symbol) : undefined;
    if (option === undefined) return base;
    const [year, month, day] = option.expiration.split('-');
    return {
      ...base,
      description: `${option.root} ${month}/${day}/${year} $${option.strike.toFixed(2)} ${option.putCall === 'PUT' ? 'Put' : 'Call'}`,
      type: 'VANILLA',
      putCall: option.putCall,
      underlyingSymbol: option.root,
      optionMultiplier: 100,
    };
  }

  private instrumentId(symbol: string): number {
    return createHash('sha256').update(`instrument:${this.seed}:${symbol}`).digest().readUInt32BE(0);
  }

  private cusip(symbol: string): string {
    const digits = createHash('sha256').update(`cusip:${this.seed}:${symbol}`).digest().readUInt32BE(0);
    return String(digits % 1_000_000_000).padStart(9, '0');
  }

  /** 64 upper-case hex characters, like Schwab's account hashes. */
  private hashOf(accountNumber: string): string {
    return createHash('sha256').update(`account:${this.seed}:${accountNumber}`).digest('hex').toUpperCase();
  }
}

function remaining(order: FakeOrder): number {
  return order.order.quantity - order.fills.reduce((sum, fill) => sum + fill.quantity, 0);
}

function opens(order: CheckedOrder): boolean {
  return ['BUY', 'BUY_TO_OPEN', 'SELL_TO_OPEN', 'SELL_SHORT'].includes(order.instruction);
}

/** Where a resting order executes at `market`, or undefined when the market has not reached it. */
function executionPrice(order: CheckedOrder, market: Decimal): Decimal | undefined {
  const buy = isBuy(order.instruction);
  if (order.stopPrice !== undefined) {
    const triggered = buy ? market.gte(order.stopPrice) : market.lte(order.stopPrice);
    if (!triggered) return undefined;
    if (order.orderType === 'STOP') return market;
  }
  if (order.price === undefined) return market;
  if (buy) return market.lte(order.price) ? Decimal.min(market, order.price) : undefined;
  return market.gte(order.price) ? Decimal.max(market, order.price) : undefined;
}

/** Schwab's timestamp form: `2024-05-10T14:30:00+0000` (offset without a colon). */
export function schwabTime(date: Date): string {
  return `${date.toISOString().slice(0, 19)}+0000`;
}
