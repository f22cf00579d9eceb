/**
 * The fake Alpaca's `GET /v2/options/contracts`: a few strikes around the price, calls and puts,
 * on every expiry listed for an optionable symbol the fake prices (../option-expiries.ts), in
 * Alpaca's contract shape (amounts as decimal strings, open interest and close price null).
 *
 * Query as Alpaca documents it: `underlying_symbols` (comma separated), `status` (active or
 * inactive; active by default), `expiration_date`, `expiration_date_gte`, `expiration_date_lte`
 * (YYYY-MM-DD; with neither `expiration_date` nor `expiration_date_lte`, only contracts expiring
 * by the coming weekend), `root_symbol`, `type` (call, put), `limit` (100 by default, at most
 * 10,000) and `page_token` (the `next_page_token` of the page before). A symbol without options
 * matches nothing: an empty page. `pageCap` makes pages smaller than `limit` asks (stricter than
 * Alpaca), so a client's paging can be seen.
 */
import { createHash } from 'node:crypto';
import { Decimal } from 'decimal.js';
import { fakeListedExpiries, isOptionable } from '../option-expiries.js';

/** A refusal in Alpaca's shape. */
export interface ContractsRefusal {
  readonly status: number;
  readonly code: number;
  readonly message: string;
}

export interface ContractsContext {
  /** The price of a symbol the fake knows, undefined otherwise. */
  readonly priceOf: (symbol: string) => Decimal | undefined;
  /** New York's day on the fake's clock. */
  readonly today: string;
  readonly pageCap: number | undefined;
  /** Raw elements every page carries after its own. */
  readonly extra: readonly unknown[];
}

const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 10_000;
const STRIKES_EACH_SIDE = 2;
const DAY = /^\d{4}-\d{2}-\d{2}$/;

const refuse = (message: string): ContractsRefusal => ({ status: 422, code: 40010001, message });

/** One page of contracts, or Alpaca's refusal of the query. */
export function optionContractsPage(
  query: URLSearchParams,
  context: ContractsContext,
): { body: unknown } | { refusal: ContractsRefusal } {
  const limit = Number(query.get('limit') ?? DEFAULT_LIMIT);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) return { refusal: refuse('invalid limit') };
  const status = query.get('status') ?? 'active';
  if (status !== 'active' && status !== 'inactive') return { refusal: refuse('invalid status') };
  const type = query.get('type');
  if (type !== null && type !== 'call' && type !== 'put') return { refusal: refuse('invalid type') };
  for (const name of ['expiration_date', 'expiration_date_gte', 'expiration_date_lte']) {
    const value = query.get(name);
    if (value !== null && !DAY.test(value)) return { refusal: refuse(`invalid ${name}`) };
  }
  const offset = pageOffset(query.get('page_token'));
  if (offset === undefined) return { refusal: refuse('invalid page_token') };
  const all = status === 'active' ? matching(query, context, type) : [];
  const size = Math.min(limit, context.pageCap ?? limit);
  const page = all.slice(offset, offset + size);
  const next = offset + size < all.length ? pageToken(offset + size) : null;
  return { body: { option_contracts: [...page, ...context.extra], next_page_token: next } };
}

/** Every contract the query selects, in a stable order (expiry, strike, calls first). */
function matching(query: URLSearchParams, context: ContractsContext, type: string | null) {
  const underlyings = (query.get('underlying_symbols') ?? '')
    .split(',')
    .map((symbol) => symbol.trim())
    .filter((symbol) => symbol !== '');
  const exact = query.get('expiration_date');
  const from = query.get('expiration_date_gte') ?? context.today;
  const to = query.get('expiration_date_lte') ?? (exact === null ? comingWeekend(context.today) : exact);
  const root = query.get('root_symbol');
  const contracts = [];
  for (const underlying of underlyings) {
    const price = context.priceOf(underlying);
    if (price === undefined || !isOptionable(underlying) || (root !== null && root !== underlying)) continue;
    for (const { date } of fakeListedExpiries(context.today)) {
      if (date < from || date > to || (exact !== null && date !== exact)) continue;
      for (const strike of strikesAround(price)) {
        for (const right of ['call', 'put'] as const) {
          if (type === null || type === right) contracts.push(contractJson(underlying, date, right, strike));
        }
      }
    }
  }
  return contracts;
}

/** The Sunday that ends the coming weekend: Alpaca's default last expiry. */
function comingWeekend(today: string): string {
  const weekday = new Date(`${today}T00:00:00Z`).getUTCDay();
  const days = weekday === 0 ? 7 : 7 - weekday;
  return new Date(Date.parse(`${today}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
}

function strikesAround(price: Decimal): Decimal[] {
  const step = price.greaterThan(100) ? new Decimal(5) : new Decimal(1);
  const atm = price.dividedBy(step).toDecimalPlaces(0).mul(step);
  const strikes: Decimal[] = [];
  for (let index = -STRIKES_EACH_SIDE; index <= STRIKES_EACH_SIDE; index++) {
    const strike = atm.plus(step.mul(index));
    if (strike.greaterThan(0)) strikes.push(strike);
  }
  return strikes;
}

function contractJson(underlying: string, expiry: string, right: 'call' | 'put', strike: Decimal) {
  const symbol = `${underlying}${expiry.slice(2).replaceAll('-', '')}${right === 'call' ? 'C' : 'P'}${strike
    .mul(1000)
    .toFixed(0)
    .padStart(8, '0')}`;
  return {
    id: uuidOf(symbol),
    symbol,
    name: `${underlying} ${expiry} ${strike.toFixed()} ${right === 'call' ? 'Call' : 'Put'}`,
    status: 'active',
    tradable: true,
    expiration_date: expiry,
    root_symbol: underlying,
    underlying_symbol: underlying,
    underlying_asset_id: uuidOf(underlying),
    type: right,
    style: 'american',
    strike_price: strike.toFixed(),
    multiplier: '100',
    size: '100',
    open_interest: null,
    open_interest_date: null,
    close_price: null,
    close_price_date: null,
  };
}

/** A stable UUID-shaped id for a symbol. */
function uuidOf(text: string): string {
  const hex = createHash('sha256').update(text).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

function pageToken(offset: number): string {
  return Buffer.from(JSON.stringify({ offset })).toString('base64url');
}

/** The offset a page token stands for (0 without one); undefined for a token the fake never gave. */
function pageOffset(token: string | null): number | undefined {
  if (token === null) return 0;
  try {
    const { offset } = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { offset?: unknown };
    return typeof offset === 'number' && Number.isInteger(offset) && offset > 0 ? offset : undefined;
  } catch {
    return undefined;
  }
}
