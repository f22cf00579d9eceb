/**
 * Charles Schwab Trader API and Market Data API answers, as zod schemas (shapes from the official
 * OpenAPI documents in tests/fakes/schwab/spec). Schwab sends amounts as JSON numbers; they become
 * `Decimal` here through their shortest decimal text, so no later arithmetic happens in floats.
 * Only the fields we use are listed (zod drops the rest), so Schwab adding fields never breaks us.
 * Every field the published schema lets Schwab leave out may also come as null: both read as
 * absent. List answers are read entry by entry (../http/parse-list.ts): one entry we cannot read is
 * skipped and reported, never a reason to refuse the whole list.
 */
import { z } from 'zod';
import { Decimal } from '../../core/domain/values.js';
import {
  type ElementId,
  idField,
  type ParsedList,
  parseEntries,
  rawList,
  type SkippedElement,
} from '../http/parse-list.js';
import { isoDay } from '../option-expiries.js';

/** A JSON number → Decimal (via its shortest round-trip text: 190.05 stays 190.05). */
export const schwabNumber = z
  .number()
  .refine((value) => Number.isFinite(value), 'must be a finite number')
  .transform((value) => new Decimal(String(value)));

const optionalNumber = schwabNumber.nullish().transform((value) => value ?? undefined);
/** A quantity Schwab may leave out (or send as null) when it is zero. */
const quantityOrZero = schwabNumber.nullish().transform((value) => value ?? new Decimal(0));
const optionalText = z
  .string()
  .nullish()
  .transform((value) => value ?? undefined);
const optionalInteger = z
  .number()
  .int()
  .nullish()
  .transform((value) => value ?? undefined);
const optionalCount = z
  .number()
  .nullish()
  .transform((value) => value ?? undefined);

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

/** A JSON array read element by element: the ones that do not match are skipped, not fatal. */
function listOf<T>(element: z.ZodType<T>, idOf: ElementId) {
  return rawList.transform(
    (raw): ParsedList<T> =>
      parseEntries(
        raw.map((value, index) => [String(index), value] as const),
        element,
        idOf,
      ),
  );
}

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

const accountNumberSchema = z.object({ accountNumber: z.string().min(1), hashValue: z.string().min(1) });
export type SchwabAccountNumber = z.infer<typeof accountNumberSchema>;

/** `GET /accounts/accountNumbers`: the plain account number and the hash used in every path. */
export const schwabAccountNumbersSchema = listOf(accountNumberSchema, (raw) => idField(raw, 'hashValue'));

export const schwabPositionSchema = z.object({
  longQuantity: quantityOrZero,
  shortQuantity: quantityOrZero,
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

const emptyList = { items: [], skipped: [] };

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
    /** Absent unless asked for (`fields=positions`) or when there are none. */
    positions: listOf(schwabPositionSchema, (raw) => idField(raw, 'instrument', 'symbol'))
      .nullish()
      .transform((listed): ParsedList<SchwabPosition> => listed ?? emptyList),
    initialBalances: balancesSchema.nullish().transform((value) => value ?? undefined),
    currentBalances: balancesSchema.nullish().transform((value) => value ?? undefined),
  }),
  aggregatedBalance: z
    .object({ currentLiquidationValue: optionalNumber, liquidationValue: optionalNumber })
    .nullish()
    .transform((value) => value ?? undefined),
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
  legId: optionalInteger,
  quantity: schwabNumber,
  price: schwabNumber,
  time: schwabTimestamp,
});

const orderActivitySchema = z.object({
  activityType: optionalText,
  /** Not in the published schema, but sent by Schwab; the fill id is built from it when present. */
  activityId: optionalInteger,
  executionLegs: z
    .array(executionLegSchema)
    .nullish()
    .transform((legs) => legs ?? []),
});

const orderLegSchema = z.object({
  instruction: z.string(),
  quantity: schwabNumber,
  instrument: z.object({ symbol: z.string().min(1), assetType: z.string() }),
});

/**
 * `GET /accounts/{hash}/orders/{id}` and each entry of the order lists. A market order may list
 * `"price": 0` (or none): prices are read as they come; what they mean depends on the order type.
 */
export const schwabOrderSchema = z.object({
  orderId: z.number().int().positive(),
  status: z.string(),
  statusDescription: optionalText,
  orderType: z.string(),
  duration: optionalText,
  quantity: schwabNumber,
  filledQuantity: quantityOrZero,
  price: optionalNumber,
  stopPrice: optionalNumber,
  enteredTime: schwabTimestamp,
  orderLegCollection: z.array(orderLegSchema).min(1),
  orderActivityCollection: z
    .array(orderActivitySchema)
    .nullish()
    .transform((activities) => activities ?? []),
});
export type SchwabOrder = z.infer<typeof schwabOrderSchema>;

/** `GET /accounts/{hash}/orders`: the orders we can read, and the ones skipped (by order id). */
export const schwabOrderListSchema = listOf(schwabOrderSchema, (raw) => idField(raw, 'orderId'));

// ------------------------------------------------------------------ market data

const quoteBlockSchema = z.object({
  bidPrice: optionalNumber,
  askPrice: optionalNumber,
  lastPrice: optionalNumber,
  mark: optionalNumber,
  quoteTime: optionalInteger,
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
  quote: quoteBlockSchema.nullish().transform((value) => value ?? undefined),
});
export type SchwabQuoteEntry = z.infer<typeof quoteEntrySchema>;

const invalidSymbolsSchema = z.object({
  invalidSymbols: z
    .array(z.string())
    .nullish()
    .transform((symbols) => symbols ?? []),
});

/** The quotes answer: readable entries, symbols Schwab does not know, and entries skipped. */
export interface SchwabQuotesAnswer {
  readonly quotes: SchwabQuoteEntry[];
  readonly invalidSymbols: string[];
  readonly skipped: SkippedElement[];
}

/**
 * `GET /marketdata/v1/quotes`: a map keyed by symbol, plus `errors.invalidSymbols` for the unknown
 * ones. Entries of asset types we do not read are kept out by `assetMainType` checks later; an
 * entry of an unexpected shape is skipped (and its symbol counted as not quoted by the caller).
 */
export const schwabQuotesSchema = z.record(z.string(), z.unknown()).transform((body): SchwabQuotesAnswer => {
  const { errors, ...entries } = body;
  const listed = parseEntries(Object.entries(entries), quoteEntrySchema, (raw) => idField(raw, 'symbol'));
  const invalid = invalidSymbolsSchema.safeParse(errors ?? {});
  return {
    quotes: listed.items,
    invalidSymbols: invalid.success ? invalid.data.invalidSymbols : [],
    skipped: listed.skipped,
  };
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
  daysToExpiration: optionalCount,
  openInterest: optionalCount,
  totalVolume: optionalCount,
  delta: statistic,
  gamma: statistic,
  theta: statistic,
  vega: statistic,
  rho: statistic,
  volatility: statistic,
});
export type SchwabChainContract = z.infer<typeof chainContractSchema>;

/** A contract of a chain with the expiration it is listed under (YYYY-MM-DD). */
export interface SchwabChainListing {
  readonly expiry: string;
  readonly contract: SchwabChainContract;
}

const chainListingSchema = z.object({ expiry: z.string().min(1), contract: chainContractSchema });

/** `{"2024-05-17:3": {"190.0": [contract]}}`: expiration (with days to it), then strike. */
const expDateMapSchema = z
  .record(z.string(), z.record(z.string(), z.unknown()))
  .nullish()
  .transform((map) => map ?? {});
type ExpDateMap = z.infer<typeof expDateMapSchema>;

/** Every contract of the maps as (where, {expiry, contract}); a strike that holds no list counts as one entry. */
function chainEntries(maps: readonly ExpDateMap[]): [string, unknown][] {
  const entries: [string, unknown][] = [];
  for (const map of maps) {
    for (const [key, strikes] of Object.entries(map)) {
      const expiry = key.split(':')[0] ?? key;
      for (const [strike, contracts] of Object.entries(strikes)) {
        if (!Array.isArray(contracts)) {
          entries.push([`${key}/${strike}`, contracts]);
          continue;
        }
        contracts.forEach((contract: unknown, index) => {
          entries.push([`${key}/${strike}/${index}`, { expiry, contract }]);
        });
      }
    }
  }
  return entries;
}

/** `GET /marketdata/v1/chains`: its contracts read one by one (calls, then puts). */
export const schwabChainSchema = z
  .object({
    symbol: z.string(),
    status: z.string(),
    underlyingPrice: optionalNumber,
    callExpDateMap: expDateMapSchema,
    putExpDateMap: expDateMapSchema,
  })
  .transform(({ callExpDateMap, putExpDateMap, ...chain }) => ({
    ...chain,
    contracts: parseEntries(chainEntries([callExpDateMap, putExpDateMap]), chainListingSchema, (raw) =>
      idField(raw, 'contract', 'symbol'),
    ),
  }));
export type SchwabChain = z.infer<typeof schwabChainSchema>;

// ------------------------------------------------------------------ option expirations

/**
 * One series of `GET /marketdata/v1/expirationchain`. The service (and the document's own example)
 * writes the day as `expirationDate`; the document's schema names it `expiration`: either is read.
 * `standard: false` marks an adjusted series (another root, after a split or a merger).
 */
const expirationSchema = z
  .object({
    expirationDate: isoDay.nullish(),
    expiration: isoDay.nullish(),
    standard: z.boolean().nullish(),
  })
  .refine((series) => (series.expirationDate ?? series.expiration) != null, {
    message: 'an expiration has no day',
    path: ['expirationDate'],
  })
  .transform((series) => ({
    day: series.expirationDate ?? series.expiration ?? '',
    standard: series.standard !== false,
  }));

/** `GET /marketdata/v1/expirationchain`: the underlying's series, read one by one. */
export const schwabExpirationChainSchema = z.object({
  status: optionalText,
  expirationList: listOf(expirationSchema, (raw) => idField(raw, 'expirationDate')).nullish(),
});
export type SchwabExpirationChain = z.infer<typeof schwabExpirationChainSchema>;
