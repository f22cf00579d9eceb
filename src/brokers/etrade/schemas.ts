/**
 * E*TRADE API v1 answers (JSON), as zod schemas. E*TRADE sends amounts as JSON numbers; they
 * become `Decimal` here straight from their shortest decimal text, so no arithmetic ever happens
 * on a float. Fields we do not use are not listed (zod drops them).
 *
 * Lists (accounts, orders, positions, quotes) are parsed in two steps: the answer's envelope here,
 * with its list as raw elements (`rawList`), then each element on its own (../http/parse-list.ts),
 * so one element we cannot read is skipped and logged instead of making the whole answer
 * unreadable.
 * E*TRADE writes null (or 0) for what does not apply yet (`executedTime` of an open order,
 * `averageExecutionPrice` before a fill, `limitPrice` of a market order): every field that is not
 * essential accepts null. E*TRADE wraps single objects and lists inconsistently, so lists accept
 * one object too.
 */
import { z } from 'zod';
import { Decimal } from '../../core/domain/values.js';
import { dayOf } from '../option-expiries.js';

const DECIMAL = /^-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?$/;

/** A JSON number (or a numeric string) → Decimal. */
export const etradeDecimal = z
  .union([z.number().finite(), z.string().regex(DECIMAL, 'must be a decimal')])
  .transform((value) => new Decimal(typeof value === 'number' ? String(value) : value));

const optionalDecimal = etradeDecimal.nullish().transform((value) => value ?? undefined);

/** Milliseconds since the epoch → Date; null, absent or 0 ("not yet") → undefined. */
const optionalEpochMillis = z
  .number()
  .int()
  .nonnegative()
  .nullish()
  .transform((value) => (value === null || value === undefined || value === 0 ? undefined : new Date(value)));

const optionalString = z
  .string()
  .nullish()
  .transform((value) => value ?? undefined);

const optionalInt = z
  .number()
  .int()
  .nullish()
  .transform((value) => value ?? undefined);

/**
 * A list's raw elements, each parsed later on its own (`parseList`). Unlike the shared `rawList`
 * (a JSON array only), E*TRADE's may be absent or null (empty) or a single object (a list of one).
 */
export const rawList = z
  .unknown()
  .transform((value): unknown[] =>
    value === null || value === undefined ? [] : Array.isArray(value) ? value : [value],
  );

/** A strict list of `item` that E*TRADE may also send as a single object (inside one element). */
function listOf<T extends z.ZodType>(item: T) {
  return z
    .union([z.array(item), item])
    .transform((value) => (Array.isArray(value) ? value : [value]) as z.output<T>[]);
}

/** `{"Error":{"code":N,"message":"..."}}`: every E*TRADE API error body. */
export const etradeErrorSchema = z.object({
  Error: z.object({ code: z.union([z.number(), z.string()]).transform(String), message: z.string() }),
});

/** One account of `GET /v1/accounts/list`. */
export const accountSchema = z.object({
  accountId: z.union([z.string(), z.number()]).transform(String),
  accountIdKey: z.string().min(1),
  accountMode: optionalString,
  accountType: optionalString,
  accountStatus: optionalString,
});

/** `GET /v1/accounts/list`: its accounts as raw elements (see `accountSchema`). */
export const accountListSchema = z.object({
  AccountListResponse: z.object({ Accounts: z.object({ Account: rawList }) }),
});

/** `GET /v1/accounts/{accountIdKey}/balance?instType=BROKERAGE&realTimeNAV=true`. */
export const balanceSchema = z.object({
  BalanceResponse: z.object({
    accountId: optionalString,
    accountMode: optionalString,
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
  // Stocks may carry an empty or null callPut: only CALL and PUT mean an option's right.
  callPut: z
    .string()
    .nullish()
    .transform((value) => (value === 'CALL' || value === 'PUT' ? value : undefined)),
  expiryYear: optionalInt,
  expiryMonth: optionalInt,
  expiryDay: optionalInt,
  strikePrice: optionalDecimal,
});

export type EtradeProduct = z.infer<typeof productSchema>;

/** One position of `GET .../portfolio`. */
export const portfolioPositionSchema = z.object({
  positionId: z.union([z.number(), z.string()]).nullish(),
  quantity: etradeDecimal,
  positionType: z
    .string()
    .nullish()
    .transform((value) => (value === 'SHORT' ? ('SHORT' as const) : ('LONG' as const))),
  costPerShare: optionalDecimal,
  totalCost: optionalDecimal,
  marketValue: optionalDecimal,
  totalGain: optionalDecimal,
  Product: productSchema,
  Quick: z
    .object({ lastTrade: optionalDecimal })
    .nullish()
    .transform((value) => value ?? undefined),
});

export type EtradePortfolioPosition = z.infer<typeof portfolioPositionSchema>;

/** One account's part of a portfolio answer: its positions as raw elements. */
export const accountPortfolioSchema = z.object({ Position: rawList });

/**
 * `GET /v1/accounts/{key}/portfolio?totalsRequired=true`: account portfolios (and their positions)
 * as raw elements. An account without positions may answer with no body at all (undefined).
 */
export const portfolioSchema = z
  .object({
    PortfolioResponse: z.object({
      AccountPortfolio: rawList,
      Totals: z
        .object({ todaysGainLoss: optionalDecimal, cashBalance: optionalDecimal })
        .nullish()
        .transform((value) => value ?? undefined),
    }),
  })
  .optional();

export type EtradePortfolioAnswer = z.infer<typeof portfolioSchema>;

/** A portfolio answer once its positions were read one by one. */
export interface EtradePortfolio {
  readonly positions: readonly EtradePortfolioPosition[];
  /** The day's gain or loss over every position (E*TRADE's `Totals.todaysGainLoss`). */
  readonly todaysGainLoss: Decimal | undefined;
}

/** One quote of `GET /v1/market/quote/{symbols}?detailFlag=ALL`. */
export const quoteDataSchema = z.object({
  dateTimeUTC: optionalInt,
  All: z.object({ lastTrade: etradeDecimal, bid: etradeDecimal, ask: etradeDecimal }),
  Product: productSchema,
});

export type EtradeQuoteData = z.infer<typeof quoteDataSchema>;

/** `GET /v1/market/quote/{symbols}?detailFlag=ALL`: its quotes as raw elements. */
export const quoteSchema = z.object({ QuoteResponse: z.object({ QuoteData: rawList }) });

/** A calendar part as E*TRADE writes it: a JSON number (or its digits as text). */
const datePart = z.union([
  z.number().int(),
  z
    .string()
    .regex(/^\d{1,4}$/)
    .transform(Number),
]);

/** One expiry of `GET /v1/market/optionexpiredate`: `{year, month, day, expiryType}` → YYYY-MM-DD. */
export const expireDateSchema = z
  .object({ year: datePart, month: datePart, day: datePart })
  .transform(({ year, month, day }) => dayOf(year, month, day))
  .refine((day) => day !== undefined, 'must be a real date')
  .transform((day) => day ?? '');

/** `GET /v1/market/optionexpiredate`: its expiries as raw elements (none: no body at all). */
export const optionExpireDateSchema = z
  .object({ OptionExpireDateResponse: z.object({ ExpirationDate: rawList }).nullish() })
  .nullish();

/** `POST .../orders/preview`. */
export const previewResponseSchema = z.object({
  PreviewOrderResponse: z.object({
    PreviewIds: listOf(z.object({ previewId: z.number().int().positive() })).refine(
      (ids) => ids.length > 0,
      'no preview id',
    ),
  }),
});

/** `POST .../orders/place`. */
export const placeResponseSchema = z.object({
  PlaceOrderResponse: z.object({
    OrderIds: listOf(z.object({ orderId: z.number().int().positive() })).refine(
      (ids) => ids.length > 0,
      'no order id',
    ),
    placedTime: optionalEpochMillis,
  }),
});

/** `PUT .../orders/cancel`. */
export const cancelResponseSchema = z.object({
  CancelOrderResponse: z.object({ orderId: z.number().int().positive() }),
});

export const orderInstrumentSchema = z.object({
  Product: productSchema,
  orderAction: z.string(),
  quantityType: optionalString,
  orderedQuantity: etradeDecimal,
  filledQuantity: optionalDecimal,
  averageExecutionPrice: optionalDecimal,
});

export const orderDetailSchema = z.object({
  placedTime: optionalEpochMillis,
  executedTime: optionalEpochMillis,
  status: z.string(),
  orderTerm: optionalString,
  marketSession: optionalString,
  priceType: z.string(),
  limitPrice: optionalDecimal,
  stopPrice: optionalDecimal,
  Instrument: listOf(orderInstrumentSchema).refine((list) => list.length > 0, 'no instrument'),
});

/**
 * One order of `GET .../orders`, read as a whole: a detail or instrument we cannot read makes the
 * order unreadable (skipped), since its meaning depends on every leg. E*TRADE never shows our
 * `clientOrderId` in an answer, so the schema has none.
 */
export const listedOrderSchema = z.object({
  orderId: z.number().int().positive(),
  orderType: optionalString,
  OrderDetail: listOf(orderDetailSchema).refine((list) => list.length > 0, 'no order detail'),
});

export type EtradeListedOrder = z.infer<typeof listedOrderSchema>;

/**
 * `GET .../orders`: a page of orders (raw elements, see `listedOrderSchema`) and a `marker` for
 * the next page. An account without matching orders may answer with no body (undefined).
 */
export const ordersSchema = z
  .object({
    OrdersResponse: z.object({
      marker: z
        .union([z.string(), z.number()])
        .nullish()
        .transform((value) => (value === null || value === undefined ? undefined : String(value))),
      Order: rawList,
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
  /**
   * At most 20 alphanumerics, unique per account: E*TRADE refuses a second order with it, but never
   * shows it in any answer (so it cannot be looked up).
   */
  readonly clientOrderId: string;
  readonly Order: readonly [EtradeRequestOrder];
}
