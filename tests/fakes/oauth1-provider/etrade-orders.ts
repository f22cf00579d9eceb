/**
 * The fake E*TRADE's order desk, strict where E*TRADE is: a place needs a preview of the very same
 * order (orderType, clientOrderId and Order content) and spends it; clientOrderId is required, at
 * most 20 alphanumerics and unique per account (a second one is refused); every enumerated field is
 * checked; options need their contract and an opening or closing action that fits the position.
 * As E*TRADE documents, the clientOrderId "does not appear in any API response": not in preview,
 * place nor list answers. Market orders execute at the price the test set; limit and stop orders
 * rest until `fillResting()`. Orders list newest first, `count` per page with a `marker`, narrowed
 * by `status` and by `fromDate`/`toDate` (MMDDYYYY, both or neither, days in New York), and an
 * empty list answers without a body. Listings carry what E*TRADE writes for what does not apply
 * yet: `executedTime` and `averageExecutionPrice` null until executed, `limitPrice` and
 * `stopPrice` 0 where the price type has none.
 *
 * The error codes are the fake's own (101 for a place without a matching preview is the one seen
 * from E*TRADE); clients must rely on the message and status, not on these numbers.
 */
import { isDeepStrictEqual } from 'node:util';
import { z } from 'zod';
import { Decimal } from '../../../src/core/domain/values.js';
import { easternDayNumber } from './eastern-time.js';
import {
  EtradeApiError,
  type FakeEtradeAccount,
  type FakeEtradeMarket,
  type FakeProduct,
  multiplierOf,
  num,
} from './etrade-accounts.js';

const invalid = (message: string, code = 1001) => new EtradeApiError(400, code, message);

const positive = z.number().finite().positive();

const productSchema = z.discriminatedUnion('securityType', [
  z.object({ securityType: z.literal('EQ'), symbol: z.string().regex(/^[A-Z0-9.]{1,10}$/) }).strict(),
  z
    .object({
      securityType: z.literal('OPTN'),
      symbol: z.string().regex(/^[A-Z0-9.]{1,10}$/),
      callPut: z.enum(['CALL', 'PUT']),
      expiryYear: z.number().int().min(2000).max(2100),
      expiryMonth: z.number().int().min(1).max(12),
      expiryDay: z.number().int().min(1).max(31),
      strikePrice: positive,
    })
    .strict(),
]);

const orderSchema = z
  .object({
    allOrNone: z.boolean().optional(),
    priceType: z.enum(['MARKET', 'LIMIT', 'STOP', 'STOP_LIMIT', 'MARKET_ON_CLOSE']),
    orderTerm: z.enum(['GOOD_FOR_DAY', 'GOOD_UNTIL_CANCEL', 'IMMEDIATE_OR_CANCEL', 'FILL_OR_KILL']),
    marketSession: z.enum(['REGULAR', 'EXTENDED']),
    limitPrice: positive.optional(),
    stopPrice: positive.optional(),
    Instrument: z
      .array(
        z
          .object({
            Product: productSchema,
            orderAction: z.enum([
              'BUY',
              'SELL',
              'BUY_TO_COVER',
              'SELL_SHORT',
              'BUY_OPEN',
              'SELL_OPEN',
              'BUY_CLOSE',
              'SELL_CLOSE',
            ]),
            quantityType: z.enum(['QUANTITY', 'DOLLAR', 'ALL_I_OWN']),
            quantity: z.number().int().positive(),
          })
          .strict(),
      )
      .length(1, 'The fake takes one instrument per order.'),
  })
  .strict();

const orderBodySchema = z.object({
  orderType: z.enum(['EQ', 'OPTN']),
  clientOrderId: z.string().regex(/^[A-Za-z0-9]{1,20}$/, 'clientOrderId must be 1 to 20 letters or digits'),
  Order: z.array(orderSchema).length(1, 'The fake takes one order per request.'),
});

type OrderBody = z.infer<typeof orderBodySchema>;

const previewRequestSchema = z.object({ PreviewOrderRequest: orderBodySchema.strict() }).strict();
const placeRequestSchema = z
  .object({
    PlaceOrderRequest: orderBodySchema
      .extend({ PreviewIds: z.array(z.object({ previewId: z.number().int().positive() })).length(1) })
      .strict(),
  })
  .strict();
const cancelRequestSchema = z
  .object({ CancelOrderRequest: z.object({ orderId: z.number().int().positive() }).strict() })
  .strict();

export type FakeOrderStatus = 'OPEN' | 'EXECUTED' | 'CANCELLED' | 'REJECTED' | 'EXPIRED';
const LISTABLE_STATUSES = new Set([
  'OPEN',
  'EXECUTED',
  'CANCELLED',
  'INDIVIDUAL_FILLS',
  'CANCEL_REQUESTED',
  'EXPIRED',
  'REJECTED',
]);

export interface FakeEtradeOrder {
  readonly orderId: number;
  readonly accountIdKey: string;
  readonly clientOrderId: string;
  readonly orderType: 'EQ' | 'OPTN';
  readonly body: OrderBody['Order'][number];
  readonly product: FakeProduct;
  status: FakeOrderStatus;
  filledQuantity: Decimal;
  averageExecutionPrice: Decimal | undefined;
  readonly placedTime: Date;
  executedTime: Date | undefined;
  /** Order listings that still leave it out (E*TRADE may list a new order late). */
  hiddenFromListings: number;
}

interface Preview {
  readonly accountIdKey: string;
  readonly body: OrderBody;
  used: boolean;
}

export class FakeEtradeOrders {
  private readonly orders: FakeEtradeOrder[] = [];
  private readonly previews = new Map<number, Preview>();
  private nextPreviewId = 168_321_663_200;
  private nextOrderId = 41;
  private listNextLate = 0;

  constructor(private readonly market: FakeEtradeMarket) {}

  /** Every order of an account, oldest first (copies). */
  list(accountIdKey: string): FakeEtradeOrder[] {
    return this.orders.filter((order) => order.accountIdKey === accountIdKey).map((order) => ({ ...order }));
  }

  /** The next order placed is left out of the next `listings` order listings. */
  listLate(listings: number): void {
    this.listNextLate = listings;
  }

  /** `POST .../orders/preview`. */
  preview(account: FakeEtradeAccount, json: unknown, now: Date): unknown {
    const parsed = previewRequestSchema.safeParse(json);
    if (!parsed.success) throw invalid(firstIssue(parsed.error));
    const body = parsed.data.PreviewOrderRequest;
    const order = this.check(account, body);
    const previewId = this.nextPreviewId++;
    this.previews.set(previewId, { accountIdKey: account.accountIdKey, body, used: false });
    const price = this.market.find(productOf(order)) ?? new Decimal(0);
    const quantity = new Decimal(order.Instrument[0]?.quantity ?? 0);
    const estimate = quantity
      .mul(new Decimal(order.limitPrice ?? num(price)))
      .mul(multiplierOf(productOf(order)));
    return {
      PreviewOrderResponse: {
        orderType: body.orderType,
        totalOrderValue: num(estimate),
        totalCommission: 0,
        Order: [{ ...order, estimatedCommission: 0, estimatedTotalAmount: num(estimate) }],
        PreviewIds: [{ previewId, cashMargin: 'CASH' }],
        previewTime: now.getTime(),
        accountId: account.accountId,
      },
    };
  }

  /** `POST .../orders/place`: the previewed body again, with its preview id. */
  place(account: FakeEtradeAccount, json: unknown, now: Date): unknown {
    const parsed = placeRequestSchema.safeParse(json);
    if (!parsed.success) throw invalid(firstIssue(parsed.error));
    const { PreviewIds, ...body } = parsed.data.PlaceOrderRequest;
    const previewId = PreviewIds[0]?.previewId ?? 0;
    const preview = this.previews.get(previewId);
    if (
      preview === undefined ||
      preview.used ||
      preview.accountIdKey !== account.accountIdKey ||
      !isDeepStrictEqual(preview.body, body)
    ) {
      throw invalid(
        'For your protection, we have timed out your original order request. If you would like to place this order, please resubmit it now.',
        101,
      );
    }
    const order = this.check(account, body);
    preview.used = true;
    const placed: FakeEtradeOrder = {
      orderId: this.nextOrderId++,
      accountIdKey: account.accountIdKey,
      clientOrderId: body.clientOrderId,
      orderType: body.orderType,
      body: order,
      product: productOf(order),
      status: 'OPEN',
      filledQuantity: new Decimal(0),
      averageExecutionPrice: undefined,
      placedTime: now,
      executedTime: undefined,
      hiddenFromListings: this.listNextLate,
    };
    this.listNextLate = 0;
    this.orders.push(placed);
    if (order.priceType === 'MARKET' || order.priceType === 'MARKET_ON_CLOSE') {
      const price = this.market.find(placed.product);
      if (price !== undefined) this.execute(account, placed, price, now);
    }
    return {
      PlaceOrderResponse: {
        orderType: body.orderType,
        Order: [order],
        OrderIds: [{ orderId: placed.orderId }],
        PreviewIds: [{ previewId }],
        placedTime: now.getTime(),
        accountId: account.accountId,
      },
    };
  }

  /** `PUT .../orders/cancel`: only an open order. */
  cancel(account: FakeEtradeAccount, json: unknown, now: Date): unknown {
    const parsed = cancelRequestSchema.safeParse(json);
    if (!parsed.success) throw invalid(firstIssue(parsed.error));
    const { orderId } = parsed.data.CancelOrderRequest;
    const order = this.orders.find(
      (candidate) => candidate.orderId === orderId && candidate.accountIdKey === account.accountIdKey,
    );
    if (order === undefined) throw invalid(`Order ${orderId} was not found.`, 5001);
    if (order.status !== 'OPEN') {
      throw invalid(`Order ${orderId} cannot be cancelled: it is ${order.status.toLowerCase()}.`, 5002);
    }
    order.status = 'CANCELLED';
    return {
      CancelOrderResponse: {
        accountId: account.accountId,
        orderId,
        cancelTime: now.getTime(),
        Messages: {
          Message: [
            {
              code: 5011,
              description: 'Your request to cancel your order is being processed.',
              type: 'WARNING',
            },
          ],
        },
      },
    };
  }

  /**
   * `GET .../orders?status=&fromDate=&toDate=&count=&marker=`: newest first; undefined (no body)
   * when none match.
   */
  listJson(account: FakeEtradeAccount, query: ReadonlyMap<string, string>): unknown {
    const status = query.get('status');
    if (status !== undefined && !LISTABLE_STATUSES.has(status))
      throw invalid(`Invalid status ${status}.`, 1015);
    const count = Number(query.get('count') ?? '25');
    if (!Number.isInteger(count) || count < 1 || count > 100) throw invalid('count must be 1 to 100.', 1016);
    const start = Number(query.get('marker') ?? '0');
    if (!Number.isInteger(start) || start < 0) throw invalid('Invalid marker.', 1017);
    const days = dayRange(query);
    const ofAccount = this.orders.filter((order) => order.accountIdKey === account.accountIdKey);
    const late = ofAccount.filter((order) => order.hiddenFromListings > 0);
    for (const order of late) order.hiddenFromListings -= 1;
    const matching = ofAccount
      .filter((order) => !late.includes(order))
      .filter((order) => status === undefined || order.status === status)
      .filter((order) => days === undefined || days.includes(easternDayNumber(order.placedTime)))
      .reverse();
    const page = matching.slice(start, start + count);
    if (page.length === 0) return undefined;
    const more = start + count < matching.length;
    return {
      OrdersResponse: {
        ...(more && { marker: String(start + count), next: 'more' }),
        Order: page.map(orderJson),
      },
    };
  }

  /** Executes every resting order whose price was reached; returns how many. */
  fillResting(accounts: ReadonlyMap<string, FakeEtradeAccount>, now: Date): number {
    let filled = 0;
    for (const order of this.orders) {
      if (order.status !== 'OPEN') continue;
      const account = accounts.get(order.accountIdKey);
      const price = this.market.find(order.product);
      if (account === undefined || price === undefined) continue;
      const fillPrice = restingFillPrice(order, price);
      if (fillPrice === undefined) continue;
      this.execute(account, order, fillPrice, now);
      filled += 1;
    }
    return filled;
  }

  /** The checks E*TRADE makes at preview and again at place. */
  private check(account: FakeEtradeAccount, body: OrderBody): OrderBody['Order'][number] {
    const [order] = body.Order;
    const instrument = order?.Instrument[0];
    if (order === undefined || instrument === undefined) throw invalid('An order needs one instrument.');
    if (
      this.orders.some(
        (o) => o.accountIdKey === account.accountIdKey && o.clientOrderId === body.clientOrderId,
      )
    ) {
      throw invalid(
        `The clientOrderId ${body.clientOrderId} has already been used. Please use a unique clientOrderId (duplicate).`,
        1042,
      );
    }
    const product = instrument.Product;
    if (product.securityType !== body.orderType) {
      throw invalid(`orderType ${body.orderType} does not match securityType ${product.securityType}.`, 1002);
    }
    const optionActions = ['BUY_OPEN', 'SELL_OPEN', 'BUY_CLOSE', 'SELL_CLOSE'];
    if ((product.securityType === 'OPTN') !== optionActions.includes(instrument.orderAction)) {
      throw invalid(`orderAction ${instrument.orderAction} is not valid for ${product.securityType}.`, 1003);
    }
    if (instrument.quantityType !== 'QUANTITY')
      throw invalid('quantityType must be QUANTITY for this order.', 1004);
    const needsLimit = order.priceType === 'LIMIT' || order.priceType === 'STOP_LIMIT';
    const needsStop = order.priceType === 'STOP' || order.priceType === 'STOP_LIMIT';
    if (needsLimit !== (order.limitPrice !== undefined))
      throw invalid('limitPrice does not fit priceType.', 1005);
    if (needsStop !== (order.stopPrice !== undefined))
      throw invalid('stopPrice does not fit priceType.', 1006);
    const price = this.market.find(product);
    if (price === undefined) throw invalid(`${product.symbol} is not a valid symbol or contract.`, 10033);
    const quantity = new Decimal(instrument.quantity);
    const held = account.held(product);
    if (instrument.orderAction === 'SELL_CLOSE' && held.lessThan(quantity)) {
      throw invalid('You do not hold enough contracts to close.', 1007);
    }
    if (instrument.orderAction === 'BUY_CLOSE' && held.neg().lessThan(quantity)) {
      throw invalid('You are not short enough contracts to close.', 1007);
    }
    if (instrument.orderAction === 'SELL' && held.lessThan(quantity)) {
      throw invalid('You do not hold enough shares to sell. Use SELL_SHORT to sell short.', 1008);
    }
    if (instrument.orderAction.startsWith('BUY')) {
      const cost = quantity.mul(new Decimal(order.limitPrice ?? num(price))).mul(multiplierOf(product));
      if (cost.greaterThan(account.cash)) throw invalid('Insufficient funds for this order.', 1009);
    }
    return order;
  }

  private execute(account: FakeEtradeAccount, order: FakeEtradeOrder, price: Decimal, now: Date): void {
    const quantity = new Decimal(order.body.Instrument[0]?.quantity ?? 0);
    const buys = order.body.Instrument[0]?.orderAction.startsWith('BUY') ?? false;
    account.execute(order.product, buys ? quantity : quantity.neg(), price);
    order.status = 'EXECUTED';
    order.filledQuantity = quantity;
    order.averageExecutionPrice = price;
    order.executedTime = now;
  }
}

function productOf(order: OrderBody['Order'][number]): FakeProduct {
  const product = order.Instrument[0]?.Product;
  if (product === undefined) throw invalid('An order needs one instrument.');
  return product;
}

/** Limit buys fill at the limit once the price is at or below it (sells: at or above); stops trigger. */
function restingFillPrice(order: FakeEtradeOrder, price: Decimal): Decimal | undefined {
  const buys = order.body.Instrument[0]?.orderAction.startsWith('BUY') ?? false;
  const limit = order.body.limitPrice === undefined ? undefined : new Decimal(order.body.limitPrice);
  const stop = order.body.stopPrice === undefined ? undefined : new Decimal(order.body.stopPrice);
  const limitReached = (at: Decimal) => (buys ? price.lessThanOrEqualTo(at) : price.greaterThanOrEqualTo(at));
  const stopTriggered = (at: Decimal) =>
    buys ? price.greaterThanOrEqualTo(at) : price.lessThanOrEqualTo(at);
  switch (order.body.priceType) {
    case 'LIMIT':
      return limit !== undefined && limitReached(limit) ? limit : undefined;
    case 'STOP':
      return stop !== undefined && stopTriggered(stop) ? price : undefined;
    case 'STOP_LIMIT':
      return stop !== undefined && limit !== undefined && stopTriggered(stop) && limitReached(limit)
        ? limit
        : undefined;
    default:
      return price;
  }
}

/** One listed order, without the clientOrderId (E*TRADE never shows it). */
function orderJson(order: FakeEtradeOrder): unknown {
  const instrument = order.body.Instrument[0];
  return {
    orderId: order.orderId,
    details: `https://api.etrade.com/v1/accounts/${order.accountIdKey}/orders/${order.orderId}`,
    orderType: order.orderType,
    OrderDetail: [
      {
        placedTime: order.placedTime.getTime(),
        executedTime: order.executedTime?.getTime() ?? null,
        orderValue: 0,
        status: order.status,
        orderTerm: order.body.orderTerm,
        priceType: order.body.priceType,
        limitPrice: order.body.limitPrice ?? 0,
        stopPrice: order.body.stopPrice ?? 0,
        marketSession: order.body.marketSession,
        allOrNone: order.body.allOrNone ?? false,
        Instrument: [
          {
            Product: instrument?.Product,
            symbolDescription: instrument?.Product.symbol,
            orderAction: instrument?.orderAction,
            quantityType: instrument?.quantityType,
            orderedQuantity: instrument?.quantity,
            filledQuantity: num(order.filledQuantity),
            averageExecutionPrice:
              order.averageExecutionPrice === undefined ? null : num(order.averageExecutionPrice),
            estimatedCommission: 0,
            estimatedFees: 0,
          },
        ],
      },
    ],
    Events: { Event: [{ name: 'ORDER_PLACED', dateTime: order.placedTime.getTime() }] },
  };
}

const MMDDYYYY = /^(\d{2})(\d{2})(\d{4})$/;

/**
 * The New York days `fromDate`..`toDate` cover (as YYYYMMDD numbers), or undefined for no dates.
 * Both or neither, MMDDYYYY, from not after to.
 */
function dayRange(query: ReadonlyMap<string, string>): { includes(day: number): boolean } | undefined {
  const from = query.get('fromDate');
  const to = query.get('toDate');
  if (from === undefined && to === undefined) return undefined;
  if (from === undefined || to === undefined) throw invalid('fromDate and toDate go together.', 1019);
  const [fromDay, toDay] = [dayNumber(from), dayNumber(to)];
  if (fromDay === undefined || toDay === undefined) throw invalid('Dates must be MMDDYYYY.', 1020);
  if (fromDay > toDay) throw invalid('fromDate must not be after toDate.', 1021);
  return { includes: (day) => day >= fromDay && day <= toDay };
}

function dayNumber(mmddyyyy: string): number | undefined {
  const match = MMDDYYYY.exec(mmddyyyy);
  if (match === null) return undefined;
  const [, month = '', day = '', year = ''] = match;
  const [m, d] = [Number(month), Number(day)];
  if (m < 1 || m > 12 || d < 1 || d > 31) return undefined;
  return Number(year) * 10_000 + m * 100 + d;
}

function firstIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  return issue === undefined ? 'Invalid request.' : `${issue.path.join('.')}: ${issue.message}`;
}
