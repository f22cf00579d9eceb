/**
 * Charles Schwab Trader API and Market Data API answers, as zod schemas (shapes from the official
 * OpenAPI documents in tests/fakes/schwab/spec). Schwab sends amounts as JSON numbers; they become
 * `Decimal` here through their shortest decimal text, so no later arithmetic happens in floats.
 * Only the fields we use are listed (zod drops the rest), so Schwab adding fields never breaks us.
 */
import { z } from 'zod';
import { Decimal } from '../../core/domain/values.js';

/** A JSON number → Decimal (via its shortest round-trip text: 190.05 stays 190.05). */
export const schwabNumber = z
  .number()
  .refine((value) => Number.isFinite(value), 'must be a finite number')
  .transform((value) => new Decimal(String(value)));

const optionalNumber = schwabNumber.nullish().transform((value) => value ?? undefined);

/**
 * Greeks and volatilities: Schwab writes "not available" as -999, "NaN" or null; all become
 * undefined rather than a number anyone could trade on.
 */
const statistic = z
  .union([z.number(), z.string()])
  .nullish()
  .transform((value) => {
    if (typeof value !== 'number' || !Number.isFinite(value) || value === -999) return undefined;
    return new Decimal(String(value));
  });

/**
 * Schwab's timestamps: `2024-05-10T14:30:00+0000` (offset without a colon), or with `.000Z`.
 * The colon is added before parsing, since Date.parse need not accept the compact offset.
 */
export const schwabTimestamp = z
  .string()
  .transform((value) => new Date(value.replace(/([+-]\d{2})(\d{2})$/, '$1:$2')))
  .refine((date) => !Number.isNaN(date.getTime()), 'must be a timestamp');

// ------------------------------------------------------------------ errors

/** Trader API errors: `{"message": "...", "errors": ["...", ...]}` (errors sometimes absent). */
export const schwabTraderErrorSchema = z.object({
  message: z.string(),
  errors: z.array(z.string()).optional(),
});

/** Market Data API errors: `{"errors": [{id, status, title, detail}]}`. */
export const schwabMarketDataErrorSchema = z.object({
  errors: z
    .array(
      z.object({
        status: z.union([z.string(), z.number()]).optional(),
        title: z.string().optional(),
        detail: z.string().optional(),
      }),
    )
    .min(1),
});

// ------------------------------------------------------------------ accounts

/** `GET /accounts/accountNumbers`: the plain account number and the hash used in every path. */
export const schwabAccountNumbersSchema = z.array(
  z.object({ accountNumber: z.string().min(1), hashValue: z.string().min(1) }),
);
export type SchwabAccountNumber = z.infer<typeof schwabAccountNumbersSchema>[number];

export const schwabPositionSchema = z.object({
  longQuantity: schwabNumber.default(new Decimal(0)),
  shortQuantity: schwabNumber.default(new Decimal(0)),
  averagePrice: optionalNumber,
  marketValue: optionalNumber,
  longOpenProfitLoss: optionalNumber,
  shortOpenProfitLoss: optionalNumber,
  instrument: z.object({
    symbol: z.string().min(1),
    assetType: z.string(),
    optionMultiplier: optionalNumber,
  }),
});
export type SchwabPosition = z.infer<typeof schwabPositionSchema>;

/**
 * The balance fields we read, from MarginBalance, CashBalance and their initial variants (one
 * loose object: which fields are present tells the account type apart as well as `type` does).
 */
const balancesSchema = z.object({
  cashBalance: optionalNumber,
  totalCash: optionalNumber,
  buyingPower: optionalNumber,
  cashAvailableForTrading: optionalNumber,
  availableFunds: optionalNumber,
  equity: optionalNumber,
  liquidationValue: optionalNumber,
  accountValue: optionalNumber,
});
export type SchwabBalanceFields = z.infer<typeof balancesSchema>;

/** `GET /accounts/{hash}?fields=positions`. */
export const schwabAccountSchema = z.object({
  securitiesAccount: z.object({
    type: z.string(),
    accountNumber: z.string(),
    positions: z.array(schwabPositionSchema).default([]),
    initialBalances: balancesSchema.optional(),
    currentBalances: balancesSchema.optional(),
  }),
  aggregatedBalance: z
    .object({ currentLiquidationValue: optionalNumber, liquidationValue: optionalNumber })
    .optional(),
});
export type SchwabAccount = z.infer<typeof schwabAccountSchema>;

// ------------------------------------------------------------------ orders

export const SCHWAB_ORDER_STATUSES = [
  'AWAITING_PARENT_ORDER',
  'AWAITING_CONDITION',
  'AWAITING_STOP_CONDITION',
  'AWAITING_MANUAL_REVIEW',
  'ACCEPTED',
  'AWAITING_UR_OUT',
  'PENDING_ACTIVATION',
  'QUEUED',
  'WORKING',
  'REJECTED',
  'PENDING_CANCEL',
  'CANCELED',
  'PENDING_REPLACE',
  'REPLACED',
  'FILLED',
  'EXPIRED',
  'NEW',
  'AWAITING_RELEASE_TIME',
  'PENDING_ACKNOWLEDGEMENT',
  'PENDING_RECALL',
  'UNKNOWN',
] as const;
export type SchwabOrderStatus = (typeof SCHWAB_ORDER_STATUSES)[number];

const executionLegSchema = z.object({
  legId: z.number().int().optional(),
  quantity: schwabNumber,
  price: schwabNumber,
  time: schwabTimestamp,
});

const orderActivitySchema = z.object({
  activityType: z.string().optional(),
  /** Not in the published schema, but sent by Schwab; the fill id is built from it when present. */
  activityId: z.number().int().optional(),
  executionLegs: z.array(executionLegSchema).default([]),
});

const orderLegSchema = z.object({
  instruction: z.string(),
  quantity: schwabNumber,
  instrument: z.object({ symbol: z.string().min(1), assetType: z.string() }),
});

/** `GET /accounts/{hash}/orders/{id}` and each entry of the order lists. */
export const schwabOrderSchema = z.object({
  orderId: z.number().int().positive(),
  status: z.string(),
  statusDescription: z.string().optional(),
  orderType: z.string(),
  duration: z.string().optional(),
  quantity: schwabNumber,
  filledQuantity: schwabNumber.default(new Decimal(0)),
  price: optionalNumber,
  stopPrice: optionalNumber,
  enteredTime: schwabTimestamp,
  orderLegCollection: z.array(orderLegSchema).min(1),
  orderActivityCollection: z.array(orderActivitySchema).default([]),
});
export type SchwabOrder = z.infer<typeof schwabOrderSchema>;

export const schwabOrderListSchema = z.array(schwabOrderSchema);

// ------------------------------------------------------------------ market data

const quoteBlockSchema = z.object({
  bidPrice: optionalNumber,
  askPrice: optionalNumber,
  lastPrice: optionalNumber,
  mark: optionalNumber,
  quoteTime: z.number().int().optional(),
  delta: statistic,
  gamma: statistic,
  theta: statistic,
  vega: statistic,
  rho: statistic,
  volatility: statistic,
});

const quoteEntrySchema = z.object({
  assetMainType: z.string(),
  symbol: z.string(),
  quote: quoteBlockSchema.optional(),
});
export type SchwabQuoteEntry = z.infer<typeof quoteEntrySchema>;

/**
 * `GET /marketdata/v1/quotes`: a map keyed by symbol, plus `errors.invalidSymbols` for the unknown
 * ones. Entries of asset types we do not read are kept out by `assetMainType` checks later.
 */
export const schwabQuotesSchema = z.record(z.string(), z.unknown()).transform((body, context) => {
  const quotes: SchwabQuoteEntry[] = [];
  let invalidSymbols: string[] = [];
  for (const [key, value] of Object.entries(body)) {
    if (key === 'errors') {
      const errors = z.object({ invalidSymbols: z.array(z.string()).default([]) }).safeParse(value);
      if (errors.success) invalidSymbols = errors.data.invalidSymbols;
      continue;
    }
    const entry = quoteEntrySchema.safeParse(value);
    if (!entry.success) {
      context.addIssue({ code: 'custom', message: `quote ${key} does not match`, path: [key] });
      return z.NEVER;
    }
    quotes.push(entry.data);
  }
  return { quotes, invalidSymbols };
});

const chainContractSchema = z.object({
  putCall: z.enum(['PUT', 'CALL']),
  symbol: z.string().min(1),
  /** The chain writes `bid`/`ask`/`last`/`mark`; the published schema says `bidPrice`...: take either. */
  bid: optionalNumber,
  ask: optionalNumber,
  last: optionalNumber,
  mark: optionalNumber,
  bidPrice: optionalNumber,
  askPrice: optionalNumber,
  lastPrice: optionalNumber,
  markPrice: optionalNumber,
  strikePrice: schwabNumber,
  daysToExpiration: z.number().optional(),
  openInterest: z.number().optional(),
  totalVolume: z.number().optional(),
  delta: statistic,
  gamma: statistic,
  theta: statistic,
  vega: statistic,
  rho: statistic,
  volatility: statistic,
});
export type SchwabChainContract = z.infer<typeof chainContractSchema>;

/** `{"2024-05-17:3": {"190.0": [contract]}}`: expiration (with days to it), then strike. */
const expDateMapSchema = z.record(z.string(), z.record(z.string(), z.array(chainContractSchema)));

/** `GET /marketdata/v1/chains`. */
export const schwabChainSchema = z.object({
  symbol: z.string(),
  status: z.string(),
  underlyingPrice: optionalNumber,
  callExpDateMap: expDateMapSchema.default({}),
  putExpDateMap: expDateMapSchema.default({}),
});
export type SchwabChain = z.infer<typeof schwabChainSchema>;
