/**
 * What a paper account's working orders set aside, as plain values: the arithmetic of each kind of
 * order, and the ledger refusing what the reservations leave no room for.
 */
import { describe, expect, it } from 'vitest';
import {
  type LedgerOrder,
  type LockedAccount,
  type PlanOptions,
  planFill,
} from '../../../src/brokers/paper/ledger.js';
import {
  buyReservation,
  putSaleReservation,
  reservedForOrders,
  UnpricedReservationError,
  type WorkingOrder,
} from '../../../src/brokers/paper/reservations.js';
import { Decimal } from '../../../src/core/domain/values.js';
import type { OptionContract, Quote } from '../../../src/core/market-data/market-data.js';

const d = (value: Decimal.Value) => new Decimal(value);
const put = (strike: number): OptionContract => ({
  underlying: 'SOFI',
  expiry: '2026-12-04',
  right: 'put',
  strike: d(strike),
});

/** A working order; a buy limit of 40 KO at 50 unless told otherwise. */
const working = (overrides: Partial<WorkingOrder> = {}): WorkingOrder => ({
  id: 'o1',
  side: 'buy',
  assetClass: 'equity',
  symbol: 'KO',
  orderType: 'limit',
  quantity: d(40),
  notional: undefined,
  limitPrice: d(50),
  stopPrice: undefined,
  filledQuantity: d(0),
  option: undefined,
  held: d(0),
  ...overrides,
});

const market = { orderType: 'market', limitPrice: undefined } as const;

describe('buyReservation', () => {
  it('holds limit x the quantity still to fill, with no fees on paper', () => {
    expect(buyReservation(working(), undefined, 2).toFixed()).toBe('2000');
    expect(buyReservation(working({ filledQuantity: d(10) }), undefined, 2).toFixed()).toBe('1500');
    expect(buyReservation(working({ orderType: 'stop_limit', stopPrice: d(55) }), d(60), 2).toFixed()).toBe(
      '2000',
    );
  });

  it('holds an option buy per contract of 100 shares', () => {
    const option = working({ assetClass: 'option', symbol: 'SOFI  261204P00020000', quantity: d(2) });
    expect(buyReservation({ ...option, limitPrice: d('1.2') }, undefined, 2).toFixed()).toBe('240');
  });

  it('holds a market buy at the ask plus slippage, and refuses to guess without one', () => {
    expect(buyReservation(working({ ...market, quantity: d(10) }), d(60), 2).toFixed()).toBe('600.12');
    expect(() => buyReservation(working(market), undefined, 2)).toThrow(UnpricedReservationError);
  });

  it('holds a stop at the higher of its stop and the ask', () => {
    const stop = working({ orderType: 'stop', limitPrice: undefined, stopPrice: d(65), quantity: d(10) });
    expect(buyReservation(stop, d(60), 0).toFixed()).toBe('650');
    expect(buyReservation(stop, d(70), 0).toFixed()).toBe('700');
    expect(buyReservation(stop, undefined, 0).toFixed()).toBe('650');
  });

  it('holds a dollar-amount buy at its amount until it fills, and nothing for a sale', () => {
    const dollars = working({ ...market, quantity: undefined, notional: d(500) });
    expect(buyReservation(dollars, undefined, 2).toFixed()).toBe('500');
    expect(buyReservation({ ...dollars, filledQuantity: d('0.1') }, undefined, 2).toFixed()).toBe('0');
    expect(buyReservation(working({ side: 'sell' }), d(60), 2).toFixed()).toBe('0');
  });
});

describe('putSaleReservation', () => {
  const sale = (contracts: number, held: number, overrides: Partial<WorkingOrder> = {}) =>
    working({
      side: 'sell',
      assetClass: 'option',
      symbol: 'SOFI  261204P00020000',
      option: put(20),
      quantity: d(contracts),
      limitPrice: d('0.8'),
      held: d(held),
      ...overrides,
    });

  it('holds strike x 100 for each contract the sale would open', () => {
    expect(putSaleReservation([sale(2, 0)]).toFixed()).toBe('4000');
    // One held long is sold first; only two open.
    expect(putSaleReservation([sale(3, 1)]).toFixed()).toBe('4000');
    // Already short: every contract sold opens more.
    expect(putSaleReservation([sale(1, -2)]).toFixed()).toBe('2000');
    expect(putSaleReservation([sale(2, 0, { filledQuantity: d(1) })]).toFixed()).toBe('2000');
  });

  it('counts the contracts held long once across several sales of them', () => {
    expect(putSaleReservation([sale(2, 1, { id: 'a' }), sale(2, 1, { id: 'b' })]).toFixed()).toBe('6000');
  });

  it('holds nothing for calls or buys', () => {
    const call = sale(1, 0, { option: { ...put(20), right: 'call' }, symbol: 'SOFI  261204C00020000' });
    expect(putSaleReservation([call, working()]).toFixed()).toBe('0');
  });
});

describe('reservedForOrders', () => {
  it('adds every working buy and put sale, pricing market buys from the asks', () => {
    const orders = [
      working(),
      working({ id: 'o2', ...market, symbol: 'AAPL', quantity: d(2) }),
      working({
        id: 'o3',
        side: 'sell',
        assetClass: 'option',
        symbol: 'SOFI  261204P00020000',
        option: put(20),
        quantity: d(1),
      }),
    ];
    const asks = new Map([['equity:AAPL', d('196.5')]]);
    expect(reservedForOrders(orders, asks, 0).toFixed()).toBe('4393'); // 2,000 + 393 + 2,000
    expect(() => reservedForOrders(orders, new Map(), 0)).toThrow(
      'a working order on AAPL has no price now, so the cash it holds is not known',
    );
  });
});

describe('planFill with working orders', () => {
  const quote: Quote = {
    symbol: 'KO',
    assetClass: 'equity',
    bid: d('59.99'),
    ask: d(60),
    last: d(60),
    at: new Date(0),
    source: 'test',
  };
  const account: LockedAccount = {
    id: 'a',
    version: 0,
    cash: d(10_000),
    dayRealizedPnl: d(0),
    dayRealizedPnlDate: null,
    position: undefined,
    underlyingPosition: undefined,
    shortOptions: [],
    workingOrders: [],
  };
  const order = (overrides: Partial<LedgerOrder>): LedgerOrder => ({
    side: 'buy',
    assetClass: 'equity',
    symbol: 'KO',
    option: undefined,
    orderType: 'limit',
    quantity: d(100),
    notional: undefined,
    limitPrice: d(50),
    stopPrice: undefined,
    filledQuantity: d(0),
    averageFillPrice: undefined,
    triggeredAt: null,
    ...overrides,
  });
  const options = (overrides: Partial<PlanOptions>): PlanOptions => ({
    marketOpen: true,
    slippageBps: 0,
    now: new Date(0),
    today: '2026-11-24',
    reservedForOrders: d(0),
    placing: true,
    ...overrides,
  });

  it('rests a new buy only when its reservation fits beside the others', () => {
    // 100 x 50 = 5,000 rests beside 5,000 held; not beside 5,000.01.
    expect(planFill(order({}), quote, account, options({ reservedForOrders: d(5000) })).status).toBe(
      'accepted',
    );
    const refused = planFill(order({}), quote, account, options({ reservedForOrders: d('5000.01') }));
    expect(refused.status).toBe('rejected');
    expect(refused.rejectReason).toBe(
      'insufficient buying power: needs 5000 USD, has 4999.99 (5000.01 USD is held by working orders)',
    );
    // A market buy placed while the market is closed rests, reserved at the ask.
    const closed = options({ marketOpen: false, reservedForOrders: d(4001) });
    expect(
      planFill(order({ orderType: 'market', limitPrice: undefined }), quote, account, closed).status,
    ).toBe('rejected');
  });

  it('fills only what the cash left beside the working orders pays for', () => {
    const marketable = order({ limitPrice: d(61) }); // fills at the 60 ask: 6,000
    expect(planFill(marketable, quote, account, options({ reservedForOrders: d(4000) })).status).toBe(
      'filled',
    );
    expect(planFill(marketable, quote, account, options({ reservedForOrders: d(4001) })).status).toBe(
      'rejected',
    );
  });

  it('leaves an order already resting alone until it would fill', () => {
    const resting = planFill(
      order({}),
      quote,
      account,
      options({ reservedForOrders: d(9000), placing: false }),
    );
    expect(resting.status).toBe('accepted');
  });

  it('rests a new put sale only when its collateral fits beside the working orders', () => {
    const sale = order({
      side: 'sell',
      assetClass: 'option',
      symbol: 'SOFI  261204P00020000',
      option: put(20),
      quantity: d(2),
      limitPrice: d('0.8'),
    });
    const optionQuote = {
      ...quote,
      symbol: sale.symbol,
      assetClass: 'option' as const,
      bid: d('0.5'),
      ask: d('0.55'),
    };
    expect(planFill(sale, optionQuote, account, options({ reservedForOrders: d(6000) })).status).toBe(
      'accepted',
    );
    expect(planFill(sale, optionQuote, account, options({ reservedForOrders: d(6001) })).rejectReason).toBe(
      'a cash-secured put needs $4,000.00 of buying power, you have $3,999.00',
    );
  });
});
