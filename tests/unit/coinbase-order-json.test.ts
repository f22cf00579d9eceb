/**
 * Coinbase order sizing and mapping, with plain values: sizes rounded to the product's increments
 * and checked against its limits (chat-ready refusals), our orders to Coinbase's configurations,
 * Coinbase's statuses and refusals to ours.
 */
import { describe, expect, it } from 'vitest';
import { describeCoinbaseError } from '../../src/brokers/coinbase/coinbase-broker.js';
import {
  coinbaseOrderBody,
  describeOrderError,
  orderStatusFor,
  productIdFor,
  sameSize,
  sizeOrder,
  symbolForProduct,
  toBrokerOrder,
} from '../../src/brokers/coinbase/order-json.js';
import {
  type CoinbaseProduct,
  coinbaseOrderSchema,
  coinbaseProductSchema,
} from '../../src/brokers/coinbase/schemas.js';
import { BrokerRejectedError, type PlaceOrderRequest } from '../../src/core/brokers/broker.js';
import { Decimal } from '../../src/core/domain/values.js';

const product = (overrides: Record<string, unknown> = {}): CoinbaseProduct =>
  coinbaseProductSchema.parse({
    product_id: 'BTC-USD',
    base_currency_id: 'BTC',
    quote_currency_id: 'USD',
    base_display_symbol: 'BTC',
    base_increment: '0.00000001',
    quote_increment: '0.01',
    price_increment: '0.01',
    base_min_size: '0.00001',
    base_max_size: '3400',
    quote_min_size: '1',
    quote_max_size: '150000000',
    status: 'online',
    trading_disabled: false,
    ...overrides,
  });

const BTC = product();

function request(overrides: Partial<PlaceOrderRequest> = {}): PlaceOrderRequest {
  return {
    accountId: 'default',
    clientOrderId: 'A0123456789ABCDEF012',
    side: 'buy',
    assetClass: 'crypto',
    symbol: 'BTC',
    quantity: new Decimal('0.01'),
    orderType: 'market',
    timeInForce: 'gtc',
    ...overrides,
  };
}

function refusal(run: () => unknown): BrokerRejectedError {
  try {
    run();
  } catch (error) {
    if (error instanceof BrokerRejectedError) return error;
    throw error;
  }
  throw new Error('expected a refusal');
}

describe('sizeOrder', () => {
  it('rounds a base size down to the base increment, never up', () => {
    const sized = sizeOrder(BTC, request({ quantity: new Decimal('0.123456789') }));
    expect(sized.quantity?.toFixed()).toBe('0.12345678');
    expect(sizeOrder(BTC, request({ quantity: new Decimal('0.99999999999') })).quantity?.toFixed()).toBe(
      '0.99999999',
    );
    const coarse = product({ base_increment: '0.001', base_min_size: '0.001' });
    expect(sizeOrder(coarse, request({ quantity: new Decimal('1.2349') })).quantity?.toFixed()).toBe('1.234');
  });

  it('rounds a dollar amount down to the quote increment', () => {
    const sized = sizeOrder(BTC, request({ quantity: undefined, notional: new Decimal('50.009') }));
    expect(sized.notional?.toFixed()).toBe('50');
    expect(sized.quantity).toBeUndefined();
  });

  it("rounds a limit price to the tick in the user's favour and a stop price to the nearest tick", () => {
    const buy = sizeOrder(
      BTC,
      request({
        orderType: 'stop_limit',
        limitPrice: new Decimal('64000.129'),
        stopPrice: new Decimal('63999.995'),
      }),
    );
    expect(buy.limitPrice?.toFixed()).toBe('64000.12');
    expect(buy.stopPrice?.toFixed()).toBe('64000');
    const sell = sizeOrder(
      BTC,
      request({ side: 'sell', orderType: 'limit', limitPrice: new Decimal('64000.121') }),
    );
    expect(sell.limitPrice?.toFixed()).toBe('64000.13');
    const noTick = product({ price_increment: undefined, quote_increment: '0.5' });
    expect(
      sizeOrder(
        noTick,
        request({ orderType: 'limit', limitPrice: new Decimal('10.7') }),
      ).limitPrice?.toFixed(),
    ).toBe('10.5');
  });

  it('leaves an order already on the increments unchanged', () => {
    const order = request({ orderType: 'limit', limitPrice: new Decimal('64000.12') });
    const sized = sizeOrder(BTC, order);
    expect(sameSize(sized, order)).toBe(true);
    expect(sized.clientOrderId).toBe(order.clientOrderId);
    const offStep = request({ quantity: new Decimal('0.010000015') });
    expect(sameSize(sizeOrder(BTC, offStep), offStep)).toBe(false);
  });

  it('refuses sizes below the minimum and above the maximum, in words for the chat', () => {
    expect(refusal(() => sizeOrder(BTC, request({ quantity: new Decimal('0.000009') }))).reason).toBe(
      'The smallest BTC order on Coinbase is 0.00001 BTC.',
    );
    // Rounding down can take a size under the minimum.
    const coarse = product({ base_increment: '0.01', base_min_size: '0.01' });
    expect(refusal(() => sizeOrder(coarse, request({ quantity: new Decimal('0.0099') }))).reason).toBe(
      'The smallest BTC order on Coinbase is 0.01 BTC.',
    );
    expect(refusal(() => sizeOrder(BTC, request({ quantity: new Decimal('3400.00000001') }))).reason).toBe(
      'The largest BTC order on Coinbase is 3400 BTC.',
    );
    const dollars = refusal(() =>
      sizeOrder(BTC, request({ quantity: undefined, notional: new Decimal('0.99') })),
    );
    expect(dollars.reason).toBe('The smallest BTC order on Coinbase is $1.00.');
    expect(dollars.code).toBe('quote_size_too_small');
    expect(
      refusal(() => sizeOrder(BTC, request({ quantity: undefined, notional: new Decimal('150000000.01') })))
        .reason,
    ).toBe('The largest BTC order on Coinbase is $150,000,000.00.');
    const usdc = product({ product_id: 'BTC-USDC', quote_currency_id: 'USDC' });
    expect(
      refusal(() => sizeOrder(usdc, request({ quantity: undefined, notional: new Decimal('0.5') }))).reason,
    ).toBe('The smallest BTC order on Coinbase is 1 USDC.');
  });

  it('refuses when the product is not trading, and market orders in limit-only mode', () => {
    for (const overrides of [{ status: 'offline' }, { trading_disabled: true }, { cancel_only: true }]) {
      expect(refusal(() => sizeOrder(product(overrides), request())).reason).toBe(
        'Coinbase is not taking orders for BTC-USD right now.',
      );
    }
    const limitOnly = product({ limit_only: true });
    expect(refusal(() => sizeOrder(limitOnly, request())).reason).toBe(
      'Coinbase takes only limit orders for BTC-USD right now.',
    );
    expect(
      sizeOrder(limitOnly, request({ orderType: 'limit', limitPrice: new Decimal(1) })).limitPrice?.toFixed(),
    ).toBe('1');
  });
});

describe('coinbaseOrderBody', () => {
  const at = new Date('2026-03-02T10:00:00.000Z');

  it('maps market orders by quote size and by base size', () => {
    expect(coinbaseOrderBody(request({ quantity: undefined, notional: new Decimal(50) }), at)).toEqual({
      client_order_id: 'A0123456789ABCDEF012',
      product_id: 'BTC-USD',
      side: 'BUY',
      order_configuration: { market_market_ioc: { quote_size: '50' } },
    });
    expect(coinbaseOrderBody(request({ side: 'sell', symbol: 'eth' }), at)).toMatchObject({
      product_id: 'ETH-USD',
      side: 'SELL',
      order_configuration: { market_market_ioc: { base_size: '0.01' } },
    });
  });

  it('maps limit orders by time in force', () => {
    const limit = (timeInForce: PlaceOrderRequest['timeInForce']) =>
      coinbaseOrderBody(request({ orderType: 'limit', limitPrice: new Decimal('60000.5'), timeInForce }), at)
        .order_configuration;
    const fields = { base_size: '0.01', limit_price: '60000.5' };
    expect(limit('gtc')).toEqual({ limit_limit_gtc: { ...fields, post_only: false } });
    expect(limit('day')).toEqual({
      limit_limit_gtd: { ...fields, end_time: '2026-03-03T10:00:00.000Z', post_only: false },
    });
    expect(limit('ioc')).toEqual({ sor_limit_ioc: fields });
    expect(limit('fok')).toEqual({ limit_limit_fok: fields });
  });

  it('maps stop-limits with the stop direction from the side', () => {
    const stopLimit = (side: 'buy' | 'sell', timeInForce: PlaceOrderRequest['timeInForce'] = 'gtc') =>
      coinbaseOrderBody(
        request({
          side,
          orderType: 'stop_limit',
          stopPrice: new Decimal(65000),
          limitPrice: new Decimal(65100),
          timeInForce,
        }),
        at,
      ).order_configuration;
    expect(stopLimit('buy')).toEqual({
      stop_limit_stop_limit_gtc: {
        base_size: '0.01',
        limit_price: '65100',
        stop_price: '65000',
        stop_direction: 'STOP_DIRECTION_STOP_UP',
      },
    });
    expect(stopLimit('sell', 'day')).toEqual({
      stop_limit_stop_limit_gtd: {
        base_size: '0.01',
        limit_price: '65100',
        stop_price: '65000',
        stop_direction: 'STOP_DIRECTION_STOP_DOWN',
        end_time: '2026-03-03T10:00:00.000Z',
      },
    });
    expect(refusal(() => stopLimit('buy', 'ioc')).reason).toMatch(/not IOC or FOK/);
  });

  it('refuses what Coinbase cannot take', () => {
    const cases: [Partial<PlaceOrderRequest>, RegExp][] = [
      [{ assetClass: 'equity' }, /crypto only/],
      [{ orderType: 'stop', stopPrice: new Decimal(1) }, /no stop market orders/],
      [{ orderType: 'limit' }, /needs a limit price/],
      [{ orderType: 'stop_limit', limitPrice: new Decimal(1) }, /needs a stop price/],
      [{ notional: new Decimal(5) }, /exactly one of quantity and notional/],
      [{ quantity: undefined }, /exactly one of quantity and notional/],
      [
        { quantity: undefined, notional: new Decimal(5), orderType: 'limit', limitPrice: new Decimal(1) },
        /market orders only/,
      ],
      [{ quantity: undefined, notional: new Decimal(5), side: 'sell' }, /say how much BTC to sell/],
      [{ clientOrderId: '' }, /client order id/],
    ];
    for (const [overrides, reason] of cases) {
      expect(refusal(() => coinbaseOrderBody(request(overrides), at)).reason).toMatch(reason);
    }
  });

  it('names products and symbols both ways', () => {
    expect(productIdFor('btc')).toBe('BTC-USD');
    expect(productIdFor('BTC/USD')).toBe('BTC-USD');
    expect(productIdFor('ETH-USDC')).toBe('ETH-USDC');
    expect(symbolForProduct('BTC-USD')).toBe('BTC');
    expect(symbolForProduct('ETH-USDC')).toBe('ETH-USDC');
  });
});

describe('Coinbase orders to ours', () => {
  const coinbaseOrder = (overrides: Record<string, unknown> = {}) =>
    coinbaseOrderSchema.parse({
      order_id: 'o-1',
      client_order_id: 'c-1',
      product_id: 'BTC-USD',
      side: 'BUY',
      status: 'OPEN',
      order_type: 'LIMIT',
      order_configuration: { limit_limit_gtc: { base_size: '0.01', limit_price: '60000', post_only: false } },
      created_time: '2026-03-02T10:00:00.123456Z',
      filled_size: '0',
      average_filled_price: '0',
      number_of_fills: '0',
      pending_cancel: false,
      reject_reason: 'REJECT_REASON_UNSPECIFIED',
      reject_message: '',
      ...overrides,
    });

  it('maps every documented status', () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ status: 'PENDING' }, 'pending'],
      [{ status: 'OPEN' }, 'accepted'],
      [{ status: 'OPEN', filled_size: '0.004' }, 'partially_filled'],
      [{ status: 'OPEN', pending_cancel: true }, 'cancel_requested'],
      [{ status: 'FILLED', filled_size: '0.01' }, 'filled'],
      [{ status: 'CANCEL_QUEUED' }, 'cancel_requested'],
      [{ status: 'CANCELLED' }, 'cancelled'],
      [{ status: 'CANCELLED', filled_size: '0.004' }, 'cancelled'],
      [{ status: 'EXPIRED' }, 'expired'],
      [{ status: 'FAILED' }, 'rejected'],
      [{ status: 'UNKNOWN_ORDER_STATUS' }, 'unknown'],
      [{ status: 'QUEUED' }, 'accepted'],
      [{ status: 'SOMETHING_NEW' }, 'unknown'],
    ];
    for (const [overrides, status] of cases) expect(orderStatusFor(coinbaseOrder(overrides))).toBe(status);
  });

  it('reads sizes, prices and fills; an unfilled order has no average price', () => {
    const open = toBrokerOrder(coinbaseOrder());
    expect(open).toMatchObject({
      brokerOrderId: 'o-1',
      clientOrderId: 'c-1',
      symbol: 'BTC',
      orderType: 'limit',
    });
    expect(open.quantity?.toFixed()).toBe('0.01');
    expect(open.limitPrice?.toFixed()).toBe('60000');
    expect(open.averageFillPrice).toBeUndefined();
    expect(open.createdAt.toISOString()).toBe('2026-03-02T10:00:00.123Z');

    const market = coinbaseOrder({
      status: 'FILLED',
      order_type: 'MARKET',
      order_configuration: { market_market_ioc: { quote_size: '50', base_size: '' } },
      filled_size: '0.00078',
      average_filled_price: '64010',
      number_of_fills: '1',
    });
    const fills = [
      {
        entry_id: 'e-1',
        trade_id: 't-1',
        order_id: 'o-1',
        trade_time: new Date('2026-03-02T10:00:01Z'),
        price: new Decimal(64000),
        size: new Decimal(32),
        commission: new Decimal('0.19'),
        size_in_quote: true,
      },
      {
        entry_id: 'e-2',
        trade_id: 't-2',
        order_id: 'someone-else',
        trade_time: new Date('2026-03-02T10:00:01Z'),
        price: new Decimal(1),
        size: new Decimal(1),
        commission: undefined,
        size_in_quote: false,
      },
    ];
    const mapped = toBrokerOrder(market, fills);
    expect(mapped).toMatchObject({ status: 'filled', orderType: 'market' });
    expect(mapped.notional?.toFixed()).toBe('50');
    expect(mapped.quantity).toBeUndefined();
    expect(mapped.averageFillPrice?.toFixed()).toBe('64010');
    expect(mapped.fills).toHaveLength(1);
    expect(mapped.fills[0]).toMatchObject({ id: 'e-1' });
    expect(mapped.fills[0]?.quantity.toFixed()).toBe('0.0005');
    expect(mapped.fills[0]?.fee.toFixed()).toBe('0.19');
  });

  it('explains a failed order in words', () => {
    expect(
      toBrokerOrder(coinbaseOrder({ status: 'FAILED', reject_reason: 'INSUFFICIENT_FUND' })).rejectReason,
    ).toBe('there is not enough money available in the Coinbase account for this order');
    expect(
      toBrokerOrder(coinbaseOrder({ status: 'FAILED', reject_message: 'Account is restricted' }))
        .rejectReason,
    ).toBe('Account is restricted');
    expect(toBrokerOrder(coinbaseOrder({ status: 'FAILED' })).rejectReason).toBe(
      'Coinbase rejected the order',
    );
  });
});

describe('Coinbase refusals in words', () => {
  const buy = { side: 'buy' as const, base: 'BTC' };
  const sell = { side: 'sell' as const, base: 'BTC' };

  it('prefers the preview reason, then the new-order reason, then the message', () => {
    expect(
      describeOrderError(
        {
          error: 'INSUFFICIENT_FUND',
          message: 'Insufficient balance in source account',
          preview_failure_reason: 'PREVIEW_INSUFFICIENT_FUND',
          new_order_failure_reason: 'INSUFFICIENT_FUND',
        },
        sell,
      ),
    ).toEqual({
      reason: 'there is not enough BTC available in the Coinbase account for this order',
      code: 'PREVIEW_INSUFFICIENT_FUND',
    });
    expect(
      describeOrderError(
        {
          preview_failure_reason: 'UNKNOWN_PREVIEW_FAILURE_REASON',
          new_order_failure_reason: 'INVALID_SIZE_PRECISION',
        },
        buy,
      ),
    ).toEqual({
      reason: 'the BTC amount has more decimals than Coinbase allows',
      code: 'INVALID_SIZE_PRECISION',
    });
    expect(
      describeOrderError({ error: 'SOMETHING_ELSE', message: 'Product is in maintenance' }, buy),
    ).toEqual({ reason: 'Product is in maintenance', code: 'SOMETHING_ELSE' });
    expect(describeOrderError(undefined, buy)).toEqual({
      reason: 'Coinbase refused the order without saying why',
      code: undefined,
    });
  });

  it('describes HTTP errors', () => {
    expect(describeCoinbaseError(401, 'Unauthorized')).toBe(
      'Coinbase did not accept the key or sign-in (unauthorized)',
    );
    expect(describeCoinbaseError(400, { error: 'INVALID_ARGUMENT', message: 'bad cursor' })).toBe(
      'bad cursor',
    );
    expect(describeCoinbaseError(404, {})).toBe('Coinbase does not know it');
    expect(describeCoinbaseError(418, '')).toBe('Coinbase answered HTTP 418');
  });
});
