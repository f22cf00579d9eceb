/**
 * Alpaca's listed option expiries, read from its option contracts (`GET /v2/options/contracts`):
 * Alpaca publishes no expiry list of its own, so the distinct `expiration_date`s of the active,
 * tradable contracts of an underlying are its listing. Pages are followed by `next_page_token`, up
 * to a bound: a listing longer than that is not trusted (the calendar rule stands in), since an
 * expiry on a page never read would be refused as unlisted.
 */
import { z } from 'zod';
import type { Logger } from '../../core/logging/logger.js';
import { addDays } from '../../core/market-data/providers/us-market-calendar.js';
import type { BrokerHttpClient } from '../http/broker-http-client.js';
import { BrokerUnexpectedAnswerError } from '../http/errors.js';
import { firstIdField, parseList, rawList } from '../http/parse-list.js';
import { type ExpiryReading, isoDay } from '../option-expiries.js';

/** Contracts asked for per page: Alpaca's maximum, so most underlyings fit on one page. */
export const CONTRACTS_PAGE_LIMIT = 10_000;
/** Pages followed at most (a hundred thousand contracts at the page limit). */
export const MAX_CONTRACT_PAGES = 10;
/**
 * How far ahead expiries are asked for: beyond the longest LEAPS (under three years). Always sent,
 * because Alpaca's default for `expiration_date_lte` (when no date is given) is the next weekend.
 */
const HORIZON_DAYS = 3 * 366;

/** One contract, with only what the listing needs. */
const contractSchema = z.object({
  expiration_date: isoDay,
  root_symbol: z.string().nullish(),
  tradable: z.boolean().nullish(),
});

/** One page: its contracts as raw elements (each read on its own) and the next page's token. */
const pageSchema = z.object({
  option_contracts: rawList.nullish(),
  next_page_token: z.string().nullish(),
});

const contractId = firstIdField(['symbol'], ['id']);

/**
 * The expiries of the underlying's active, tradable contracts from `today` (New York) on. A
 * contract of an adjusted series (another root, after a split or a merger) is left out: an order
 * under the underlying's own root cannot reach it.
 * @throws BrokerUnexpectedAnswerError when the contracts run past `MAX_CONTRACT_PAGES` pages
 */
export async function readOptionExpiries(
  http: BrokerHttpClient,
  underlying: string,
  today: string,
  logger: Logger | undefined,
): Promise<ExpiryReading> {
  const expiries = new Set<string>();
  let unreadable = 0;
  let pageToken: string | undefined;
  for (let page = 1; page <= MAX_CONTRACT_PAGES; page++) {
    const { data } = await http.request({
      method: 'GET',
      path: '/v2/options/contracts',
      query: {
        underlying_symbols: underlying,
        status: 'active',
        expiration_date_gte: today,
        expiration_date_lte: addDays(today, HORIZON_DAYS),
        limit: String(CONTRACTS_PAGE_LIMIT),
        page_token: pageToken,
      },
      schema: pageSchema,
    });
    const raw = data.option_contracts ?? [];
    const contracts = parseList(raw, contractSchema, {
      provider: 'alpaca',
      list: 'option contracts',
      idOf: contractId,
      logger,
    });
    unreadable += raw.length - contracts.length;
    for (const contract of contracts) {
      const ownRoot = contract.root_symbol == null || contract.root_symbol === underlying;
      if (ownRoot && contract.tradable !== false) expiries.add(contract.expiration_date);
    }
    if (data.next_page_token == null || data.next_page_token === '')
      return { expiries: [...expiries], unreadable };
    pageToken = data.next_page_token;
  }
  throw new BrokerUnexpectedAnswerError(
    'alpaca',
    `Alpaca listed more than ${MAX_CONTRACT_PAGES} pages of option contracts for ${underlying}`,
  );
}
