/**
 * Our order → Schwab's order JSON, and the pure rules around it: truncated price strings, the
 * padded option symbol, instructions and durations, local refusals, the recent-orders match that
 * replaces a client order id, and Schwab's statuses.
 */
import { describe, expect, it } from 'vitest';
import {
  instructionFor,
  positionEffectFor,
  schwabOptionSymbol,
  schwabOrderJson,
  schwabPrice,
} from '../../src/brokers/schwab/order-json.js';
import {
  CLOCK_SKEW_MS,
  findPlacement,
  fingerprintOf,
  reconcileWindow,
} from '../../src/brokers/schwab/reconcile.js';
import { type SchwabOrder, schwabOrderSchema } from '../../src/brokers/schwab/schemas.js';
import {
  describeSchwabError,
  orderIdFromLocation,
  orderStatusFor,
} from '../../src/brokers/schwab/schwab-broker.js';
import { BrokerRejectedError, type PlaceOrderRequest } from '../../src/core/brokers/broker.js';
import { Decimal } from '../../src/core/domain/values.js';

function request(overrides: Partial<PlaceOrderRequest> = {}): PlaceOrderRequest {
  return {
    accountId: 'HASH',
    clientOrderId: 'intent-1',
    side: 'buy',
    assetClass: 'equity',
    symbol: 'AAPL',
    quantity: new Decimal(10),
    orderType: 'market',
    timeInForce: 'day',
    ...overrides,
  };
}

const PUT_190 = { underlying: 'AAPL', expiry: '2024-05-17', right: 'put' as const, strike: new Decimal(190) };

describe('schwabPrice', () => {
  it('truncates to 2 decimals from $1 and to 4 below, never rounding up', () => {
    expect(schwabPrice(new Decimal('199.999'))).toBe('199.99');
    expect(schwabPrice(new Decimal('0.12345'))).toBe('0.1234');
    expect(schwabPrice(new Decimal('0.99999'))).toBe('0.9999');
    expect(schwabPrice(new Decimal('1'))).toBe('1.00');
    expect(schwabPrice(new Decimal('1.005'))).toBe('1.00');
    expect(schwabPrice(new Decimal('0.5'))).toBe('0.5000');
    expect(schwabPrice(new Decimal('185.5'))).toBe('185.50');
  });
});

describe('schwabOrderJson', () => {
  it('writes a market buy of shares', () => {
    expect(schwabOrderJson(request())).toEqual({
      orderType: 'MARKET',
      session: 'NORMAL',
      duration: 'DAY',
      orderStrategyType: 'SINGLE',
      orderLegCollection: [
        { instruction: 'BUY', quantity: 10, instrument: { symbol: 'AAPL', assetType: 'EQUITY' } },
      ],
    });
  });

  it('writes limit, stop and stop-limit prices as truncated strings, with each time in force', () => {
    const limit = schwabOrderJson(
      request({ side: 'sell', orderType: 'limit', limitPrice: new Decimal('199.999'), timeInForce: 'gtc' }),
    );
    expect(limit).toMatchObject({ orderType: 'LIMIT', price: '199.99', duration: 'GOOD_TILL_CANCEL' });
    expect(limit.orderLegCollection[0].instruction).toBe('SELL');
    expect(limit).not.toHaveProperty('stopPrice');

    const stop = schwabOrderJson(
      request({ orderType: 'stop', stopPrice: new Decimal('201.257'), timeInForce: 'ioc' }),
    );
    expect(stop).toMatchObject({ orderType: 'STOP', stopPrice: '201.25', duration: 'IMMEDIATE_OR_CANCEL' });
    expect(stop).not.toHaveProperty('price');

    const stopLimit = schwabOrderJson(
      request({
        orderType: 'stop_limit',
        stopPrice: new Decimal('0.55555'),
        limitPrice: new Decimal('0.6'),
        timeInForce: 'fok',
      }),
    );
    expect(stopLimit).toMatchObject({
      orderType: 'STOP_LIMIT',
      stopPrice: '0.5555',
      price: '0.6000',
      duration: 'FILL_OR_KILL',
    });
  });

  it('writes an option leg with the padded symbol, its instruction and NONE strategy', () => {
    const body = schwabOrderJson(
      request({
        side: 'sell',
        assetClass: 'option',
        symbol: 'AAPL  240517P00190000',
        option: PUT_190,
        quantity: new Decimal(1),
        orderType: 'limit',
        limitPrice: new Decimal('1'),
      }),
      'open',
    );
    expect(body).toEqual({
      orderType: 'LIMIT',
      session: 'NORMAL',
      duration: 'DAY',
      orderStrategyType: 'SINGLE',
      complexOrderStrategyType: 'NONE',
      price: '1.00',
      orderLegCollection: [
        {
          instruction: 'SELL_TO_OPEN',
          quantity: 1,
          instrument: { symbol: 'AAPL  240517P00190000', assetType: 'OPTION' },
        },
      ],
    });
  });

  it('refuses locally what Schwab cannot take', () => {
    const refusals: [Partial<PlaceOrderRequest>, RegExp][] = [
      [{ quantity: undefined, notional: new Decimal(500) }, /dollar amounts/],
      [{ quantity: new Decimal('0.5') }, /whole shares/],
      [{ assetClass: 'crypto', symbol: 'BTC' }, /crypto/],
      [{ orderType: 'limit' }, /limit price/],
      [{ orderType: 'stop' }, /stop price/],
      [{ orderType: 'limit', limitPrice: new Decimal('0.00001') }, /at least/],
      [{ assetClass: 'option', symbol: 'AAPL' }, /not an option symbol/],
    ];
    for (const [overrides, message] of refusals) {
      let caught: unknown;
      try {
        schwabOrderJson(request(overrides));
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(BrokerRejectedError);
      expect((caught as BrokerRejectedError).reason).toMatch(message);
    }
  });
});

describe('option symbols and instructions', () => {
  it('pads the root to six characters, from the contract or from an unpadded OCC symbol', () => {
    expect(schwabOptionSymbol({ symbol: 'ignored', option: PUT_190 })).toBe('AAPL  240517P00190000');
    expect(schwabOptionSymbol({ symbol: 'F240621C00012500' })).toBe('F     240621C00012500');
    expect(
      schwabOptionSymbol({
        symbol: '',
        option: { underlying: 'googl', expiry: '2025-01-17', right: 'call', strike: new Decimal('1234.5') },
      }),
    ).toBe('GOOGL 250117C01234500');
    expect(schwabOptionSymbol({ symbol: 'AAPL  240517P00190000' }).length).toBe(21);
  });

  it('opens unless the order reduces what the account holds in the contract', () => {
    expect(positionEffectFor('sell', new Decimal(0))).toBe('open');
    expect(positionEffectFor('sell', new Decimal(2))).toBe('close');
    expect(positionEffectFor('buy', new Decimal(-1))).toBe('close');
    expect(positionEffectFor('buy', new Decimal(3))).toBe('open');
    expect(instructionFor('option', 'buy', 'open')).toBe('BUY_TO_OPEN');
    expect(instructionFor('option', 'buy', 'close')).toBe('BUY_TO_CLOSE');
    expect(instructionFor('option', 'sell', 'open')).toBe('SELL_TO_OPEN');
    expect(instructionFor('option', 'sell', 'close')).toBe('SELL_TO_CLOSE');
    expect(instructionFor('equity', 'sell', 'close')).toBe('SELL');
  });
});

describe('reconcile: finding our order without a client order id', () => {
  const sentAt = new Date('2024-05-13T14:30:00.500Z');
  const body = schwabOrderJson(request({ orderType: 'limit', limitPrice: new Decimal('185.50') }));
  let nextId = 1_000_000_001;
  const schwabOrder = (
    overrides: Record<string, unknown> = {},
    leg: Record<string, unknown> = {},
  ): SchwabOrder =>
    schwabOrderSchema.parse({
      orderId: nextId++,
      status: 'WORKING',
      orderType: 'LIMIT',
      duration: 'DAY',
      quantity: 10,
      filledQuantity: 0,
      price: 185.5,
      enteredTime: '2024-05-13T14:30:00+0000',
      orderLegCollection: [
        { instruction: 'BUY', quantity: 10, instrument: { symbol: 'AAPL', assetType: 'EQUITY' }, ...leg },
      ],
      ...overrides,
    });

  it('queries from two minutes before the send to a minute past now', () => {
    expect(reconcileWindow(sentAt, new Date('2024-05-13T14:30:05.000Z'))).toEqual({
      fromEnteredTime: '2024-05-13T14:28:00.500Z',
      toEnteredTime: '2024-05-13T14:31:05.000Z',
    });
  });

  it('finds the single matching order entered at or after the send (less the skew)', () => {
    const ours = schwabOrder();
    const outcome = findPlacement([ours], fingerprintOf(body), sentAt, new Set());
    expect(outcome).toEqual({ kind: 'found', order: ours });
  });

  it('ignores orders that differ in any field that identifies the placement, or are too old', () => {
    const others = [
      schwabOrder({}, { instrument: { symbol: 'MSFT', assetType: 'EQUITY' } }),
      schwabOrder({}, { instruction: 'SELL' }),
      schwabOrder({ quantity: 11 }, { quantity: 11 }),
      schwabOrder({ orderType: 'MARKET', price: undefined }),
      schwabOrder({ price: 185.49 }),
      schwabOrder({ duration: 'GOOD_TILL_CANCEL' }),
      schwabOrder({ stopPrice: 180 }),
      schwabOrder({
        enteredTime: new Date(sentAt.getTime() - CLOCK_SKEW_MS - 1000)
          .toISOString()
          .replace('Z', '+0000')
          .replace(/\.\d+/, ''),
      }),
    ];
    expect(findPlacement(others, fingerprintOf(body), sentAt, new Set())).toEqual({ kind: 'none' });
  });

  it('accepts a clock skew: an order Schwab timed a little before our send is still ours', () => {
    const early = schwabOrder({ enteredTime: '2024-05-13T14:29:01+0000' });
    expect(findPlacement([early], fingerprintOf(body), sentAt, new Set()).kind).toBe('found');
  });

  it('skips orders attributed to other intents, and claims none of several matches', () => {
    const first = schwabOrder();
    const second = schwabOrder();
    expect(
      findPlacement([first, second], fingerprintOf(body), sentAt, new Set([String(first.orderId)])),
    ).toEqual({
      kind: 'found',
      order: second,
    });
    expect(findPlacement([first, second], fingerprintOf(body), sentAt, new Set())).toEqual({
      kind: 'several',
      orderIds: [String(first.orderId), String(second.orderId)],
    });
  });
});

describe('Schwab answers', () => {
  it('maps every status to ours, with fill progress for live orders', () => {
    const status = (value: string, filled = 0) =>
      orderStatusFor({ status: value, filledQuantity: new Decimal(filled) });
    expect(status('WORKING')).toBe('accepted');
    expect(status('WORKING', 3)).toBe('partially_filled');
    expect(status('QUEUED')).toBe('accepted');
    expect(status('PENDING_ACTIVATION')).toBe('accepted');
    expect(status('AWAITING_STOP_CONDITION')).toBe('accepted');
    expect(status('NEW')).toBe('pending');
    expect(status('AWAITING_MANUAL_REVIEW')).toBe('pending');
    expect(status('PENDING_CANCEL')).toBe('cancel_requested');
    expect(status('FILLED', 10)).toBe('filled');
    expect(status('CANCELED')).toBe('cancelled');
    expect(status('REPLACED')).toBe('cancelled');
    expect(status('EXPIRED')).toBe('expired');
    expect(status('REJECTED')).toBe('rejected');
    expect(status('SOMETHING_NEW')).toBe('unknown');
  });

  it('reads the order id from the Location header', () => {
    expect(orderIdFromLocation('https://api.schwabapi.com/trader/v1/accounts/ABC/orders/1004055538123')).toBe(
      '1004055538123',
    );
    expect(orderIdFromLocation('/trader/v1/accounts/ABC/orders/42/')).toBe('42');
    expect(orderIdFromLocation('https://api.schwabapi.com/trader/v1/accounts/ABC/orders')).toBeUndefined();
    expect(orderIdFromLocation(null)).toBeUndefined();
  });

  it('turns error bodies into sentences', () => {
    expect(
      describeSchwabError(400, {
        message: 'A validation error occurred while processing the request.',
        errors: ['price 1.234 has more than 2 decimal places', 'duration is required'],
      }),
    ).toBe(
      'A validation error occurred while processing the request: price 1.234 has more than 2 decimal places; duration is required.',
    );
    expect(describeSchwabError(400, { message: 'Invalid account number' })).toBe('Invalid account number.');
    expect(
      describeSchwabError(400, {
        errors: [{ id: 'x', status: '400', title: 'Bad Request', detail: 'symbol is required' }],
      }),
    ).toBe('symbol is required');
    expect(describeSchwabError(502, '<html>Bad gateway</html>')).toBe('Schwab answered HTTP 502.');
  });
});
