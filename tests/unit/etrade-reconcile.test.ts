/**
 * Finding an E*TRADE order again by its content after a place whose answer was lost (E*TRADE never
 * shows our clientOrderId), and reading E*TRADE's listings element by element: plain values only.
 */
import { describe, expect, it } from 'vitest';
import { etradeOrderBody, toBrokerOrder } from '../../src/brokers/etrade/order-json.js';
import {
  CLOCK_SKEW_MS,
  findPlacement,
  fingerprintEitherEffect,
  fingerprintOf,
  reconcileWindow,
} from '../../src/brokers/etrade/reconcile.js';
import { type EtradeListedOrder, listedOrderSchema, rawList } from '../../src/brokers/etrade/schemas.js';
import { idField, parseEntries } from '../../src/brokers/http/parse-list.js';
import type { PlaceOrderRequest } from '../../src/core/brokers/broker.js';
import { Decimal } from '../../src/core/domain/values.js';

const sentAt = new Date('2025-06-02T14:30:00.000Z'); // 10:30 in New York

function request(overrides: Partial<PlaceOrderRequest> = {}): PlaceOrderRequest {
  return {
    accountId: 'KEY',
    clientOrderId: 'INTENT1',
    side: 'buy',
    assetClass: 'equity',
    symbol: 'AAPL',
    quantity: new Decimal(10),
    orderType: 'limit',
    limitPrice: new Decimal('185.5'),
    timeInForce: 'day',
    ...overrides,
  };
}

const limitBody = etradeOrderBody(request());

let nextOrderId = 500;

/** A listed order as E*TRADE's JSON has it (then parsed), matching `limitBody` unless overridden. */
function listed(
  detail: Record<string, unknown> = {},
  instrument: Record<string, unknown> = {},
  order: Record<string, unknown> = {},
): EtradeListedOrder {
  return listedOrderSchema.parse({
    orderId: nextOrderId++,
    orderType: 'EQ',
    OrderDetail: [
      {
        placedTime: sentAt.getTime() + 400,
        executedTime: null,
        status: 'OPEN',
        orderTerm: 'GOOD_FOR_DAY',
        priceType: 'LIMIT',
        limitPrice: 185.5,
        stopPrice: 0,
        marketSession: 'REGULAR',
        Instrument: [
          {
            Product: { securityType: 'EQ', symbol: 'AAPL' },
            orderAction: 'BUY',
            quantityType: 'QUANTITY',
            orderedQuantity: 10,
            filledQuantity: 0,
            averageExecutionPrice: null,
            ...instrument,
          },
        ],
        ...detail,
      },
    ],
    ...order,
  });
}

describe('E*TRADE reconciliation: the window', () => {
  it('lists New York days from the send less the skew to now plus a minute, as MMDDYYYY', () => {
    expect(reconcileWindow(sentAt, new Date(sentAt.getTime() + 5_000))).toEqual({
      fromDate: '06022025',
      toDate: '06022025',
    });
    // 00:01 in New York: the skew reaches back into the day before.
    const justAfterMidnight = new Date('2025-06-03T04:01:00Z');
    expect(reconcileWindow(justAfterMidnight, justAfterMidnight)).toEqual({
      fromDate: '06022025',
      toDate: '06032025',
    });
    // A late look (the tracker after a restart) reaches to today.
    expect(reconcileWindow(sentAt, new Date('2025-06-04T15:00:00Z')).toDate).toBe('06042025');
  });
});

describe('E*TRADE reconciliation: the matching rule', () => {
  it('finds the single matching order placed after the send', () => {
    const ours = listed();
    expect(findPlacement([ours], fingerprintOf(limitBody), sentAt, new Set())).toEqual({
      kind: 'found',
      order: ours,
    });
  });

  it('ignores orders that differ in anything that identifies the placement, or are too old', () => {
    const others = [
      listed({}, { Product: { securityType: 'EQ', symbol: 'MSFT' } }),
      listed({}, { orderAction: 'SELL' }),
      listed({}, { orderedQuantity: 11 }),
      listed({ priceType: 'MARKET', limitPrice: 0 }),
      listed({ limitPrice: 185.49 }),
      listed({ limitPrice: null }),
      listed({ orderTerm: 'GOOD_UNTIL_CANCEL' }),
      listed({ marketSession: 'EXTENDED' }),
      listed({ placedTime: sentAt.getTime() - CLOCK_SKEW_MS - 1_000 }),
      listed({ placedTime: null }),
    ];
    expect(findPlacement(others, fingerprintOf(limitBody), sentAt, new Set())).toEqual({ kind: 'none' });
  });

  it('accepts a clock skew, and fields E*TRADE leaves null', () => {
    const early = listed({ placedTime: sentAt.getTime() - CLOCK_SKEW_MS + 1_000 });
    expect(findPlacement([early], fingerprintOf(limitBody), sentAt, new Set()).kind).toBe('found');
    const sparse = listed({ orderTerm: null, marketSession: null });
    expect(findPlacement([sparse], fingerprintOf(limitBody), sentAt, new Set()).kind).toBe('found');
  });

  it("ignores a market order's prices, whatever E*TRADE lists for them", () => {
    const market = fingerprintOf(etradeOrderBody(request({ orderType: 'market', limitPrice: undefined })));
    for (const limitPrice of [0, null, 190.12]) {
      const order = listed({ priceType: 'MARKET', limitPrice, status: 'EXECUTED' });
      expect(findPlacement([order], market, sentAt, new Set()).kind).toBe('found');
    }
  });

  it('compares a stop price only where the price type has one', () => {
    const stop = fingerprintOf(
      etradeOrderBody(request({ orderType: 'stop', limitPrice: undefined, stopPrice: new Decimal('180') })),
    );
    expect(
      findPlacement([listed({ priceType: 'STOP', limitPrice: 0, stopPrice: 180 })], stop, sentAt, new Set())
        .kind,
    ).toBe('found');
    expect(
      findPlacement([listed({ priceType: 'STOP', limitPrice: 0, stopPrice: 181 })], stop, sentAt, new Set())
        .kind,
    ).toBe('none');
  });

  it('never takes one leg of a multi-leg order, nor an order with two details, for ours', () => {
    const leg = {
      Product: { securityType: 'EQ', symbol: 'AAPL' },
      orderAction: 'BUY',
      orderedQuantity: 10,
    };
    const twoLegs = listed({ Instrument: [leg, { ...leg, orderAction: 'SELL' }] });
    const detail = twoLegs.OrderDetail[0];
    const twoDetails = { ...listed(), OrderDetail: [...listed().OrderDetail, ...(detail ? [detail] : [])] };
    expect(findPlacement([twoLegs, twoDetails], fingerprintOf(limitBody), sentAt, new Set())).toEqual({
      kind: 'none',
    });
  });

  it('matches an option by its contract, opening or closing alike when rebuilt after the fact', () => {
    const option = request({
      assetClass: 'option',
      symbol: 'AAPL  250718C00200000',
      option: { underlying: 'AAPL', expiry: '2025-07-18', right: 'call', strike: new Decimal(200) },
      quantity: new Decimal(2),
      limitPrice: new Decimal('3.1'),
    });
    const contract = {
      securityType: 'OPTN',
      symbol: 'AAPL',
      callPut: 'CALL',
      expiryYear: 2025,
      expiryMonth: 7,
      expiryDay: 18,
      strikePrice: 200,
    };
    const closing = listed(
      { limitPrice: 3.1 },
      { Product: contract, orderAction: 'BUY_CLOSE', orderedQuantity: 2 },
    );
    const rebuilt = fingerprintEitherEffect(etradeOrderBody(option, 'open'));
    expect(findPlacement([closing], rebuilt, sentAt, new Set()).kind).toBe('found');
    // What we know we sent (open) is exactly that action.
    expect(
      findPlacement([closing], fingerprintOf(etradeOrderBody(option, 'open')), sentAt, new Set()).kind,
    ).toBe('none');
    const otherStrike = listed(
      { limitPrice: 3.1 },
      { Product: { ...contract, strikePrice: 205 }, orderAction: 'BUY_OPEN', orderedQuantity: 2 },
    );
    const otherExpiry = listed(
      { limitPrice: 3.1 },
      { Product: { ...contract, expiryDay: 25 }, orderAction: 'BUY_OPEN', orderedQuantity: 2 },
    );
    expect(findPlacement([otherStrike, otherExpiry], rebuilt, sentAt, new Set())).toEqual({ kind: 'none' });
  });

  it('skips orders attributed to other intents, and claims none of several matches', () => {
    const first = listed();
    const second = listed();
    expect(
      findPlacement([first, second], fingerprintOf(limitBody), sentAt, new Set([String(first.orderId)])),
    ).toEqual({ kind: 'found', order: second });
    expect(findPlacement([first, second], fingerprintOf(limitBody), sentAt, new Set())).toEqual({
      kind: 'several',
      orderIds: [String(first.orderId), String(second.orderId)],
    });
  });
});

describe('E*TRADE listings, element by element', () => {
  it('reads nulls and zeros as "not yet", and skips only the element it cannot read', () => {
    const open = {
      orderId: 7,
      OrderDetail: [
        {
          placedTime: sentAt.getTime(),
          executedTime: null,
          status: 'OPEN',
          priceType: 'MARKET',
          limitPrice: 0,
          stopPrice: 0,
          orderTerm: null,
          Instrument: [
            {
              Product: { securityType: 'EQ', symbol: 'AAPL', callPut: null, strikePrice: 0 },
              orderAction: 'BUY',
              orderedQuantity: 5,
              filledQuantity: 0,
              averageExecutionPrice: null,
            },
          ],
        },
      ],
    };
    const malformed = { orderId: 8, OrderDetail: 'see website' };
    const raw = rawList.parse([open, malformed, 'junk']);
    const { items, skipped } = parseEntries(
      raw.map((element, index) => [String(index), element] as const),
      listedOrderSchema,
      (element) => idField(element, 'orderId'),
    );
    expect(items.map((order) => order.orderId)).toEqual([7]);
    expect(skipped).toEqual([
      { at: '1', id: '8', issues: [expect.stringMatching(/^OrderDetail: /)] },
      { at: '2', id: undefined, issues: [expect.any(String)] },
    ]);
    expect(JSON.stringify(skipped)).not.toContain('see website');
    // E*TRADE may send a list of one as the object itself, and no list at all.
    expect(rawList.parse(open)).toEqual([open]);
    expect(rawList.parse(null)).toEqual([]);
    const [order] = items;
    if (order === undefined) throw new Error('not parsed');
    expect(toBrokerOrder(order, 'INTENT7')).toMatchObject({
      brokerOrderId: '7',
      clientOrderId: 'INTENT7',
      status: 'accepted',
      orderType: 'market',
      limitPrice: undefined,
      stopPrice: undefined,
      averageFillPrice: undefined,
      fills: [],
    });
  });

  it('turns an executed order into one fill at its average price and execution time', () => {
    const executed = listed(
      { status: 'EXECUTED', executedTime: sentAt.getTime() + 2_000 },
      { filledQuantity: 10, averageExecutionPrice: 185.5 },
    );
    const order = toBrokerOrder(executed);
    expect(order).toMatchObject({ status: 'filled', clientOrderId: '' });
    expect(order.limitPrice?.toFixed()).toBe('185.5');
    expect(order.fills).toEqual([
      {
        id: String(executed.orderId),
        quantity: new Decimal(10),
        price: new Decimal('185.5'),
        fee: new Decimal(0),
        at: new Date(sentAt.getTime() + 2_000),
      },
    ]);
  });
});
