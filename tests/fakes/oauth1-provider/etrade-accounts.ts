/**
 * The fake E*TRADE's accounts and market: cash, positions, prices the test sets, and the JSON of
 * `/v1/accounts/list`, `.../balance`, `.../portfolio` and `/v1/market/quote/{symbols}` in E*TRADE's
 * shapes (amounts as JSON numbers, as E*TRADE sends them).
 */
import { Decimal } from '../../../src/core/domain/values.js';

/** E*TRADE's error answer: `{"Error":{"code":N,"message":"..."}}` with an HTTP status. */
export class EtradeApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: number,
    message: string,
  ) {
    super(message);
  }

  get body(): { Error: { code: number; message: string } } {
    return { Error: { code: this.code, message: this.message } };
  }
}

/** What an order or position trades: a stock, or an option contract. */
export interface FakeProduct {
  readonly securityType: 'EQ' | 'OPTN';
  readonly symbol: string;
  readonly callPut?: 'CALL' | 'PUT';
  readonly expiryYear?: number;
  readonly expiryMonth?: number;
  readonly expiryDay?: number;
  readonly strikePrice?: number;
}

/** One key per product: the symbol, or the contract's parts. */
export function productKey(product: FakeProduct): string {
  if (product.securityType === 'EQ') return product.symbol;
  return [
    product.symbol,
    product.expiryYear,
    product.expiryMonth,
    product.expiryDay,
    product.callPut,
    product.strikePrice,
  ].join(':');
}

/** Shares per contract. */
export function multiplierOf(product: FakeProduct): number {
  return product.securityType === 'OPTN' ? 100 : 1;
}

interface FakePosition {
  readonly product: FakeProduct;
  /** Signed: negative is short. */
  quantity: Decimal;
  /** What was paid for the open quantity (negative for a short's proceeds). */
  cost: Decimal;
}

export const STARTING_CASH = '100000';

export class FakeEtradeAccount {
  cash = new Decimal(STARTING_CASH);
  private readonly positions = new Map<string, FakePosition>();

  constructor(
    readonly accountId: string,
    readonly accountIdKey: string,
  ) {}

  /** Signed quantity held of a product. */
  held(product: FakeProduct): Decimal {
    return this.positions.get(productKey(product))?.quantity ?? new Decimal(0);
  }

  /** Applies an execution: `quantity` signed (positive buys), at `price` per share or contract. */
  execute(product: FakeProduct, quantity: Decimal, price: Decimal): void {
    const amount = quantity.mul(price).mul(multiplierOf(product));
    this.cash = this.cash.sub(amount);
    const key = productKey(product);
    const position = this.positions.get(key) ?? { product, quantity: new Decimal(0), cost: new Decimal(0) };
    const closing = !position.quantity.isZero() && position.quantity.isNegative() !== quantity.isNegative();
    if (closing) {
      // Cost leaves in proportion to the quantity closed.
      const closed = Decimal.min(quantity.abs(), position.quantity.abs());
      position.cost = position.cost.sub(position.cost.mul(closed).div(position.quantity.abs()));
      const rest = quantity.abs().sub(closed);
      position.quantity = position.quantity.add(quantity);
      if (rest.greaterThan(0)) position.cost = position.quantity.mul(price).mul(multiplierOf(product));
    } else {
      position.quantity = position.quantity.add(quantity);
      position.cost = position.cost.add(amount);
    }
    if (position.quantity.isZero()) this.positions.delete(key);
    else this.positions.set(key, position);
  }

  listJson(): Record<string, unknown> {
    return {
      accountId: this.accountId,
      accountIdKey: this.accountIdKey,
      accountMode: 'MARGIN',
      accountDesc: 'Brokerage',
      accountName: 'Individual Brokerage',
      accountType: 'INDIVIDUAL',
      institutionType: 'BROKERAGE',
      accountStatus: 'ACTIVE',
      closedDate: 0,
    };
  }

  balanceJson(market: FakeEtradeMarket): unknown {
    const marketValue = this.marketValue(market);
    const total = this.cash.add(marketValue);
    return {
      BalanceResponse: {
        accountId: this.accountId,
        institutionType: 'BROKERAGE',
        accountType: 'INDIVIDUAL',
        accountDescription: 'Brokerage',
        accountMode: 'MARGIN',
        Cash: { fundsForOpenOrdersCash: 0, moneyMktBalance: 0 },
        Computed: {
          cashAvailableForInvestment: num(this.cash),
          netCash: num(this.cash),
          cashBalance: num(this.cash),
          settledCashForInvestment: num(this.cash),
          cashBuyingPower: num(this.cash),
          marginBuyingPower: num(this.cash.mul(2)),
          RealTimeValues: {
            totalAccountValue: num(total),
            netMv: num(marketValue),
            netMvLong: num(marketValue),
          },
        },
      },
    };
  }

  /** Undefined when there is nothing to show: E*TRADE then answers without a body. */
  portfolioJson(market: FakeEtradeMarket): unknown {
    if (this.positions.size === 0) return undefined;
    let totalGain = new Decimal(0);
    const positions = [...this.positions.values()].map((position, index) => {
      const multiplier = multiplierOf(position.product);
      const last = market.priceOf(position.product);
      const value = position.quantity.mul(last).mul(multiplier);
      const gain = value.sub(position.cost);
      totalGain = totalGain.add(gain);
      return {
        positionId: 10_000 + index,
        symbolDescription: position.product.symbol,
        quantity: num(position.quantity.abs()),
        positionType: position.quantity.isNegative() ? 'SHORT' : 'LONG',
        costPerShare: num(position.cost.div(position.quantity).div(multiplier)),
        totalCost: num(position.cost.abs()),
        marketValue: num(value),
        totalGain: num(gain),
        daysGain: num(gain),
        Product: position.product,
        Quick: { lastTrade: num(last) },
      };
    });
    return {
      PortfolioResponse: {
        AccountPortfolio: [{ accountId: this.accountId, Position: positions, totalPages: 1 }],
        Totals: { todaysGainLoss: num(totalGain), cashBalance: num(this.cash) },
      },
    };
  }

  private marketValue(market: FakeEtradeMarket): Decimal {
    let value = new Decimal(0);
    for (const position of this.positions.values()) {
      value = value.add(
        position.quantity.mul(market.priceOf(position.product)).mul(multiplierOf(position.product)),
      );
    }
    return value;
  }
}

/** Prices set by the test: market orders execute at them, quotes show them. */
export class FakeEtradeMarket {
  private readonly prices = new Map<string, Decimal>();

  set(product: FakeProduct | string, price: string): void {
    this.prices.set(typeof product === 'string' ? product : productKey(product), new Decimal(price));
  }

  /** The price, or undefined for a product nobody priced (E*TRADE: an invalid symbol). */
  find(product: FakeProduct): Decimal | undefined {
    return this.prices.get(productKey(product));
  }

  priceOf(product: FakeProduct): Decimal {
    return this.find(product) ?? new Decimal(0);
  }

  /** `GET /v1/market/quote/{A,B}`: at most 25 symbols; an unknown one is a message, not an error. */
  quoteJson(symbols: readonly string[], now: Date): unknown {
    if (symbols.length === 0 || symbols.length > 25) {
      throw new EtradeApiError(400, 1019, 'The number of symbols must be between 1 and 25.');
    }
    const quoteData = [];
    const messages = [];
    for (const symbol of symbols) {
      const price = this.prices.get(symbol);
      if (price === undefined) {
        messages.push({ description: `${symbol} is not a valid symbol.`, code: 10033, type: 'WARNING' });
        continue;
      }
      quoteData.push({
        dateTimeUTC: Math.floor(now.getTime() / 1000),
        quoteStatus: 'REALTIME',
        ahFlag: 'false',
        All: { lastTrade: num(price), bid: num(price.sub('0.01')), ask: num(price.add('0.01')) },
        Product: { symbol, securityType: 'EQ' },
      });
    }
    return {
      QuoteResponse: {
        QuoteData: quoteData,
        ...(messages.length > 0 && { Messages: { Message: messages } }),
      },
    };
  }
}

/** E*TRADE sends amounts as JSON numbers. */
export function num(value: Decimal): number {
  return Number(value.toFixed());
}
