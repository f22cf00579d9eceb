/**
 * Alpaca Trading API v2 answers, as zod schemas. Alpaca sends every amount as a decimal string;
 * they become `Decimal` here, so no amount ever passes through a JS number. Fields we do not use
 * are not listed (zod drops them), so Alpaca adding fields never breaks us. Fields Alpaca documents
 * as nullable (an unfilled order's `filled_avg_price` and `filled_at`, a market order's
 * `limit_price`, a position's prices while it has no quote) are optional here. Lists (orders,
 * positions) are read element by element (../http/parse-list.ts).
 */
import { z } from 'zod';
import { Decimal } from '../../core/domain/values.js';

const DECIMAL = /^-?\d+(?:\.\d+)?$/;

/** "190.5", "-3" → Decimal. */
export const alpacaDecimal = z
  .string()
  .regex(DECIMAL, 'must be a decimal string')
  .transform((value) => new Decimal(value));

const optionalDecimal = alpacaDecimal.nullish().transform((value) => value ?? undefined);

const timestamp = z
  .string()
  .refine((value) => !Number.isNaN(Date.parse(value)), 'must be a timestamp')
  .transform((value) => new Date(value));

/** `{"code":40010001,"message":"..."}`: every Alpaca error body. */
export const alpacaErrorSchema = z.object({ code: z.number().int(), message: z.string() });

/** Alpaca's order statuses (docs: "Order Lifecycle"); unknown ones are kept and mapped to `unknown`. */
export const ALPACA_ORDER_STATUSES = [
  'new',
  'partially_filled',
  'filled',
  'done_for_day',
  'canceled',
  'expired',
  'replaced',
  'pending_cancel',
  'pending_replace',
  'accepted',
  'pending_new',
  'accepted_for_bidding',
  'stopped',
  'rejected',
  'suspended',
  'calculated',
  'held',
] as const;

export type AlpacaOrderStatus = (typeof ALPACA_ORDER_STATUSES)[number];

/** An order object (`POST /v2/orders`, `GET /v2/orders/{id}`, `GET /v2/orders:by_client_order_id`). */
export const alpacaOrderSchema = z.object({
  id: z.string().min(1),
  client_order_id: z.string(),
  created_at: timestamp,
  updated_at: timestamp.nullish(),
  filled_at: timestamp.nullish(),
  symbol: z.string(),
  asset_class: z.string().nullish(),
  qty: optionalDecimal,
  notional: optionalDecimal,
  filled_qty: alpacaDecimal,
  filled_avg_price: optionalDecimal,
  type: z.enum(['market', 'limit', 'stop', 'stop_limit', 'trailing_stop']),
  side: z.enum(['buy', 'sell']),
  time_in_force: z.string(),
  limit_price: optionalDecimal,
  stop_price: optionalDecimal,
  status: z.string(),
});

export type AlpacaOrder = z.infer<typeof alpacaOrderSchema>;

/** `GET /v2/account`. */
export const alpacaAccountSchema = z.object({
  account_number: z.string(),
  status: z.string(),
  currency: z.string().default('USD'),
  cash: alpacaDecimal,
  buying_power: alpacaDecimal,
  equity: alpacaDecimal,
  /** Equity at the close of the previous trading day. */
  last_equity: alpacaDecimal,
});

export type AlpacaAccount = z.infer<typeof alpacaAccountSchema>;

/** One entry of `GET /v2/positions`. */
export const alpacaPositionSchema = z.object({
  symbol: z.string(),
  asset_class: z.string(),
  qty: alpacaDecimal,
  side: z.enum(['long', 'short']),
  avg_entry_price: alpacaDecimal,
  market_value: optionalDecimal,
  current_price: optionalDecimal,
  unrealized_pl: optionalDecimal,
});

export type AlpacaPosition = z.infer<typeof alpacaPositionSchema>;

/** The body of `POST /v2/orders` as we send it: amounts as decimal strings. */
export interface AlpacaOrderRequest {
  readonly symbol: string;
  readonly qty?: string;
  readonly notional?: string;
  readonly side: 'buy' | 'sell';
  readonly type: 'market' | 'limit' | 'stop' | 'stop_limit';
  readonly time_in_force: 'day' | 'gtc' | 'ioc' | 'fok';
  readonly limit_price?: string;
  readonly stop_price?: string;
  /** Alpaca's idempotency key: unique per account, at most 128 characters. */
  readonly client_order_id: string;
}
