/**
 * Coinbase Advanced Trade (`/api/v3/brokerage`) answers, as zod schemas. Coinbase sends amounts as
 * decimal strings and often sends "", "0" or null where a value does not apply yet (an unfilled
 * order's `average_filled_price` "0", its `filled_size` "0"); "" and null become `undefined` here,
 * never a JS number. Fields we do not use are not listed (zod drops them), so Coinbase adding
 * fields, or nulling ones we ignore (`settled`, `completion_percentage`), never breaks us. Lists
 * (accounts, orders, fills, books, cancel results) are read element by element
 * (../http/parse-list.ts): their pages hold raw elements, parsed with the element schemas here.
 */
import { z } from 'zod';
import { Decimal } from '../../core/domain/values.js';
import { rawList } from '../http/parse-list.js';

const DECIMAL = /^-?\d+(?:\.\d+)?$/;

/** "0.00000001", "68923.67" → Decimal. */
export const coinbaseDecimal = z
  .string()
  .regex(DECIMAL, 'must be a decimal string')
  .transform((value) => new Decimal(value));

/** A decimal that may be absent, null or "" (Coinbase's "not applicable"). */
const optionalDecimal = z
  .union([z.literal(''), coinbaseDecimal])
  .nullish()
  .transform((value) => (value === '' || value === null || value === undefined ? undefined : value));

const timestamp = z
  .string()
  .refine((value) => !Number.isNaN(Date.parse(value)), 'must be a timestamp')
  .transform((value) => new Date(value));

const optionalText = z
  .string()
  .nullish()
  .transform((value) => value ?? '');

/**
 * An error answer: `{"error":"NOT_FOUND","code":5,"message":"...","error_details":"..."}` (the
 * gRPC-gateway shape Coinbase uses for HTTP errors). Every field is optional: a 401 may be plain text.
 */
export const coinbaseErrorSchema = z.object({
  error: z.string().optional(),
  message: z.string().optional(),
  error_details: z.string().optional(),
});

const amount = z.object({ value: coinbaseDecimal, currency: z.string() });

/** One entry of `GET /accounts`: one per currency the portfolio has a wallet for. */
export const coinbaseAccountSchema = z.object({
  uuid: z.string(),
  currency: z.string(),
  available_balance: amount,
  hold: amount.nullish(),
});

export type CoinbaseAccount = z.infer<typeof coinbaseAccountSchema>;

/** `GET /accounts`: cursor paging (`has_next`, `cursor`); entries are `coinbaseAccountSchema`. */
export const coinbaseAccountsPageSchema = z.object({
  accounts: rawList,
  has_next: z.boolean().default(false),
  cursor: optionalText,
});

/** `GET /products/{product_id}`: what sizing needs. */
export const coinbaseProductSchema = z.object({
  product_id: z.string(),
  base_currency_id: z.string(),
  quote_currency_id: z.string(),
  base_display_symbol: z.string().optional(),
  base_increment: coinbaseDecimal,
  quote_increment: coinbaseDecimal,
  /** The price tick; older answers lack it, and `quote_increment` is the tick then. */
  price_increment: optionalDecimal,
  base_min_size: coinbaseDecimal,
  base_max_size: coinbaseDecimal,
  quote_min_size: coinbaseDecimal,
  quote_max_size: coinbaseDecimal,
  /** "online" when trading; anything else ("offline", "delisted") means no orders. */
  status: z.string(),
  trading_disabled: z.boolean().default(false),
  is_disabled: z.boolean().default(false),
  cancel_only: z.boolean().default(false),
  limit_only: z.boolean().default(false),
  post_only: z.boolean().default(false),
});

export type CoinbaseProduct = z.infer<typeof coinbaseProductSchema>;

const priceLevel = z.object({ price: coinbaseDecimal, size: coinbaseDecimal });

/** One product's book in `GET /best_bid_ask`; a side with no orders may be empty or null. */
export const coinbasePricebookSchema = z.object({
  product_id: z.string(),
  bids: z
    .array(priceLevel)
    .nullish()
    .transform((levels) => levels ?? []),
  asks: z
    .array(priceLevel)
    .nullish()
    .transform((levels) => levels ?? []),
  time: timestamp.nullish(),
});

/** `GET /best_bid_ask?product_ids=A&product_ids=B`; entries are `coinbasePricebookSchema`. */
export const coinbaseBestBidAskSchema = z.object({ pricebooks: rawList });

export type CoinbasePricebook = z.infer<typeof coinbasePricebookSchema>;

/** The sizes and prices of any order configuration (each kind uses some of them). */
const orderConfigurationFields = z.object({
  base_size: optionalDecimal,
  quote_size: optionalDecimal,
  limit_price: optionalDecimal,
  stop_price: optionalDecimal,
  end_time: z.string().nullish(),
  post_only: z.boolean().nullish(),
  stop_direction: z.string().nullish(),
});

export type CoinbaseOrderConfigurationFields = z.infer<typeof orderConfigurationFields>;

/** `{ "limit_limit_gtc": {...} }`: one key naming the kind, its fields inside. */
const orderConfiguration = z.record(z.string(), orderConfigurationFields.nullish());

/** An order (`GET /orders/historical/{id}`, `GET /orders/historical/batch`). */
export const coinbaseOrderSchema = z.object({
  order_id: z.string().min(1),
  client_order_id: optionalText,
  product_id: z.string(),
  side: z.enum(['BUY', 'SELL']),
  status: z.string(),
  order_type: z.string().nullish(),
  time_in_force: z.string().nullish(),
  order_configuration: orderConfiguration.nullish(),
  created_time: timestamp,
  filled_size: optionalDecimal,
  average_filled_price: optionalDecimal,
  number_of_fills: z
    .union([z.string(), z.number()])
    .nullish()
    .transform((value) => Number(value ?? 0) || 0),
  total_fees: optionalDecimal,
  pending_cancel: z.boolean().nullish(),
  reject_reason: optionalText,
  reject_message: optionalText,
  cancel_message: optionalText,
});

export type CoinbaseOrder = z.infer<typeof coinbaseOrderSchema>;

export const coinbaseOrderResponseSchema = z.object({ order: coinbaseOrderSchema });

/** `GET /orders/historical/batch`: cursor paging; entries are `coinbaseOrderSchema`. */
export const coinbaseOrdersPageSchema = z.object({
  orders: rawList,
  has_next: z.boolean().default(false),
  cursor: optionalText,
});

/** One execution (`GET /orders/historical/fills`). */
export const coinbaseFillSchema = z.object({
  entry_id: z.string().min(1),
  trade_id: optionalText,
  order_id: z.string(),
  trade_time: timestamp,
  price: coinbaseDecimal,
  size: coinbaseDecimal,
  commission: optionalDecimal,
  /** True when `size` is in the quote currency (dollars), not the base (BTC). */
  size_in_quote: z.boolean().nullish(),
});

export type CoinbaseFill = z.infer<typeof coinbaseFillSchema>;

/** `GET /orders/historical/fills`: cursor paging; entries are `coinbaseFillSchema`. */
export const coinbaseFillsPageSchema = z.object({
  fills: rawList,
  cursor: optionalText,
});

/** Why an order was refused: HTTP 200 with `success: false` carries this. */
export const coinbaseOrderErrorSchema = z.object({
  error: z.string().nullish(),
  message: z.string().nullish(),
  error_details: z.string().nullish(),
  preview_failure_reason: z.string().nullish(),
  new_order_failure_reason: z.string().nullish(),
});

export type CoinbaseOrderError = z.infer<typeof coinbaseOrderErrorSchema>;

/** `POST /orders`: a refusal is HTTP 200 with `success: false`, not an HTTP error. */
export const coinbaseCreateOrderResponseSchema = z.discriminatedUnion('success', [
  z.object({
    success: z.literal(true),
    success_response: z.object({
      order_id: z.string().min(1),
      client_order_id: optionalText,
      product_id: z.string().nullish(),
    }),
  }),
  z.object({
    success: z.literal(false),
    error_response: coinbaseOrderErrorSchema.nullish(),
    failure_reason: z.string().nullish(),
  }),
]);

/** `POST /orders/preview`: `errs` lists why the order would fail (empty when it would go through). */
export const coinbasePreviewResponseSchema = z.object({
  order_total: coinbaseDecimal,
  commission_total: coinbaseDecimal,
  quote_size: optionalDecimal,
  base_size: optionalDecimal,
  best_bid: optionalDecimal,
  best_ask: optionalDecimal,
  slippage: optionalDecimal,
  preview_id: z.string().nullish(),
  errs: z.array(z.unknown()).nullish(),
  warning: z.array(z.unknown()).nullish(),
});

export type CoinbasePreviewResponse = z.infer<typeof coinbasePreviewResponseSchema>;

/** One order's result in `POST /orders/batch_cancel`. */
export const coinbaseCancelResultSchema = z.object({
  success: z.boolean(),
  failure_reason: z.string().nullish(),
  order_id: z.string(),
});

/** `POST /orders/batch_cancel`: one result per order id; entries are `coinbaseCancelResultSchema`. */
export const coinbaseCancelResponseSchema = z.object({ results: rawList });

/** The order configurations we send (Create Order's `order_configuration`). */
export type CoinbaseOrderConfiguration =
  | { readonly market_market_ioc: { readonly quote_size: string } | { readonly base_size: string } }
  | { readonly limit_limit_gtc: LimitFields & { readonly post_only: boolean } }
  | { readonly limit_limit_gtd: LimitFields & { readonly end_time: string; readonly post_only: boolean } }
  | { readonly limit_limit_fok: LimitFields }
  | { readonly sor_limit_ioc: LimitFields }
  | { readonly stop_limit_stop_limit_gtc: StopLimitFields }
  | { readonly stop_limit_stop_limit_gtd: StopLimitFields & { readonly end_time: string } };

interface LimitFields {
  readonly base_size: string;
  readonly limit_price: string;
}

interface StopLimitFields extends LimitFields {
  readonly stop_price: string;
  readonly stop_direction: 'STOP_DIRECTION_STOP_UP' | 'STOP_DIRECTION_STOP_DOWN';
}

/** The body of `POST /orders` (and, without `client_order_id`, of `POST /orders/preview`). */
export interface CoinbaseOrderBody {
  readonly client_order_id: string;
  readonly product_id: string;
  readonly side: 'BUY' | 'SELL';
  readonly order_configuration: CoinbaseOrderConfiguration;
}
