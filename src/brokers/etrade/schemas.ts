/**
 * E*TRADE API v1 answers (JSON), as zod schemas. E*TRADE sends amounts as JSON numbers; they
 * become `Decimal` here straight from their shortest decimal text, so no arithmetic ever happens
 * on a float. Fields we do not use are not listed (zod drops them); E*TRADE wraps single objects
 * and lists inconsistently, so lists accept one object too.
 */
import { z } from 'zod';
import { Decimal } from '../../core/domain/values.js';

const DECIMAL = /^-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?$/;

/** A JSON number (or a numeric string) → Decimal. */
export const etradeDecimal = z
  .union([z.number().finite(), z.string().regex(DECIMAL, 'must be a decimal')])
  .transform((value) => new Decimal(typeof value === 'number' ? String(value) : value));

const optionalDecimal = etradeDecimal.nullish().transform((value) => value ?? undefined);

/** Milliseconds since the epoch → Date. */
const epochMillis = z
  .number()
  .int()
  .nonnegative()
  .transform((value) => new Date(value));

/** A list that E*TRADE may also send as a single object. */
function listOf<T extends z.ZodType>(item: T) {
  return z
    .union([z.array(item), item])
    .transform((value) => (Array.isArray(value) ? value : [value]) as z.output<T>[]);
}

/** `{"Error":{"code":N,"message":"..."}}`: every E*TRADE API error body. */
export const etradeErrorSchema = z.object({
  Error: z.object({ code: z.union([z.number(), z.string()]).transform(String), message: z.string() }),
});

/** `GET /v1/accounts/list`. */
export const accountListSchema = z.object({
  AccountListResponse: z.object({
    Accounts: z.object({
      Account: listOf(
        z.object({
          accountId: z.string(),
          accountIdKey: z.string().min(1),
          accountMode: z.string().optional(),
          accountType: z.string().optional(),
          accountStatus: z.string().optional(),
        }),
      ),
    }),
  }),
});

/** `GET /v1/accounts/{accountIdKey}/balance?instType=BROKERAGE&realTimeNAV=true`. */
export const balanceSchema = z.object({
  BalanceResponse: z.object({
    accountId: z.string().optional(),
    accountMode: z.string().optional(),
    Computed: z.object({
      cashBalance: optionalDecimal,
      netCash: optionalDecimal,
      cashBuyingPower: etradeDecimal,
      marginBuyingPower: optionalDecimal,
      RealTimeValues: z.object({ totalAccountValue: etradeDecimal }),
    }),
  }),
});

export type EtradeBalance = z.infer<typeof balanceSchema>['BalanceResponse'];

/** An option's or a stock's identity, as E*TRADE writes it in orders, positions and quotes. */
export const productSchema = z.object({
  symbol: z.string().min(1),
  securityType: z.string(),
  callPut: z.enum(['CALL', 'PUT']).optional(),
  expiryYear: z.number().int().optional(),
  expiryMonth: z.number().int().optional(),
  expiryDay: z.number().int().optional(),
  strikePrice: optionalDecimal,
});

export type EtradeProduct = z.infer<typeof productSchema>;

export const portfolioPositionSchema = z.object({
  positionId: z.union([z.number(), z.string()]).optional(),
  quantity: etradeDecimal,
  positionType: z.enum(['LONG', 'SHORT']).optional(),
  costPerShare: optionalDecimal,
  totalCost: optionalDecimal,
  marketValue: optionalDecimal,
  totalGain: optionalDecimal,
  Product: productSchema,
  Quick: z.object({ lastTrade: optionalDecimal }).optional(),
});

export type EtradePortfolioPosition = z.infer<typeof portfolioPositionSchema>;

/**
 * `GET /v1/accounts/{key}/portfolio?totalsRequired=true`. An account without positions may answer
 * with no body at all (parsed as undefined).
 */
export const portfolioSchema = z
  .object({
    PortfolioResponse: z.object({
      AccountPortfolio: listOf(
        z.object({
          Position: listOf(portfolioPositionSchema).optional(),
          totalPages: z.number().int().optional(),
        }),
      ).optional(),
      Totals: z.object({ todaysGainLoss: optionalDecimal, cashBalance: optionalDecimal }).optional(),
    }),
  })
  .optional();

export type EtradePortfolio = z.infer<typeof portfolioSchema>;

/** `GET /v1/market/quote/{symbols}?detailFlag=ALL`. */
export const quoteSchema = z.object({
  QuoteResponse: z.object({
    QuoteData: listOf(
      z.object({
        dateTimeUTC: z.number().int().optional(),
        All: z.object({ lastTrade: etradeDecimal, bid: etradeDecimal, ask: etradeDecimal }),
        Product: productSchema,
      }),
    ).default([]),
  }),
});

export type EtradeQuoteData = z.infer<typeof quoteSchema>['QuoteResponse']['QuoteData'][number];

/** `POST .../orders/preview`. */
export const previewResponseSchema = z.object({
  PreviewOrderResponse: z.object({
    PreviewIds: listOf(z.object({ previewId: z.number().int().positive() })).refine(
      (ids) => ids.length > 0,
      'no preview id',
    ),
    Order: listOf(
      z.object({ estimatedCommission: optionalDecimal, estimatedTotalAmount: optionalDecimal }),
    ).optional(),
  }),
});

/** `POST .../orders/place`. */
export const placeResponseSchema = z.object({
  PlaceOrderResponse: z.object({
    OrderIds: listOf(z.object({ orderId: z.number().int().positive() })).refine(
      (ids) => ids.length > 0,
      'no order id',
    ),
    placedTime: epochMillis.optional(),
  }),
});

/** `PUT .../orders/cancel`. */
export const cancelResponseSchema = z.object({
  CancelOrderResponse: z.object({ orderId: z.number().int().positive() }),
});

export const orderInstrumentSchema = z.object({
  Product: productSchema,
  orderAction: z.string(),
  quantityType: z.string().optional(),
  orderedQuantity: etradeDecimal,
  filledQuantity: optionalDecimal,
  averageExecutionPrice: optionalDecimal,
});

export const orderDetailSchema = z.object({
  placedTime: epochMillis.optional(),
  executedTime: epochMillis.optional(),
  status: z.string(),
  orderTerm: z.string().optional(),
  priceType: z.string(),
  limitPrice: optionalDecimal,
  stopPrice: optionalDecimal,
  Instrument: listOf(orderInstrumentSchema).refine((list) => list.length > 0, 'no instrument'),
});

/** One order of `GET .../orders`. */
export const listedOrderSchema = z.object({
  orderId: z.number().int().positive(),
  clientOrderId: z.string().optional(),
  orderType: z.string().optional(),
  OrderDetail: listOf(orderDetailSchema).refine((list) => list.length > 0, 'no order detail'),
});

export type EtradeListedOrder = z.infer<typeof listedOrderSchema>;

/**
 * `GET .../orders`: a page of orders and a `marker` for the next page. An account without
 * matching orders may answer with no body (undefined).
 */
export const ordersSchema = z
  .object({
    OrdersResponse: z.object({
      marker: z.union([z.string(), z.number()]).transform(String).optional(),
      next: z.string().optional(),
      Order: listOf(listedOrderSchema).default([]),
    }),
  })
  .optional();

// ------------------------------------------------------------------ what we send

export type EtradePriceType = 'MARKET' | 'LIMIT' | 'STOP' | 'STOP_LIMIT';
export type EtradeOrderTerm = 'GOOD_FOR_DAY' | 'GOOD_UNTIL_CANCEL' | 'IMMEDIATE_OR_CANCEL' | 'FILL_OR_KILL';
export type EtradeOrderAction = 'BUY' | 'SELL' | 'BUY_OPEN' | 'SELL_OPEN' | 'BUY_CLOSE' | 'SELL_CLOSE';

export interface EtradeRequestProduct {
  readonly securityType: 'EQ' | 'OPTN';
  readonly symbol: string;
  readonly callPut?: 'CALL' | 'PUT';
  readonly expiryYear?: number;
  readonly expiryMonth?: number;
  readonly expiryDay?: number;
  readonly strikePrice?: number;
}

/** One `Order` element of a preview or place request. */
export interface EtradeRequestOrder {
  readonly allOrNone: boolean;
  readonly priceType: EtradePriceType;
  readonly orderTerm: EtradeOrderTerm;
  readonly marketSession: 'REGULAR';
  readonly limitPrice?: number;
  readonly stopPrice?: number;
  readonly Instrument: readonly [
    {
      readonly Product: EtradeRequestProduct;
      readonly orderAction: EtradeOrderAction;
      readonly quantityType: 'QUANTITY';
      readonly quantity: number;
    },
  ];
}

/** The body shared by preview and place (place adds `PreviewIds`). */
export interface EtradeOrderBody {
  readonly orderType: 'EQ' | 'OPTN';
  /** At most 20 alphanumerics, unique per account: E*TRADE's idempotency key. */
  readonly clientOrderId: string;
  readonly Order: readonly [EtradeRequestOrder];
}
