/**
 * The fake E*TRADE's `GET /v1/market/optionexpiredate`: the expiries listed for an optionable
 * symbol (../option-expiries.ts) as `{OptionExpireDateResponse: {ExpirationDate: [{year, month,
 * day, expiryType}]}}`. `symbol` is required (10043 when absent); `expiryType`, when given, must be
 * one of E*TRADE's values and filters WEEKLY or MONTHLY (ALL and UNSPECIFIED list every one; the
 * fake lists no daily, quarterly, VIX or month-end series, so those come back empty). A symbol
 * the fake does not price is refused with 10033, E*TRADE's "invalid symbol".
 */

import { fakeListedExpiries, isOptionable, newYorkDay } from '../option-expiries.js';
import { EtradeApiError } from './etrade-accounts.js';

const EXPIRY_TYPES = new Set([
  'UNSPECIFIED',
  'DAILY',
  'WEEKLY',
  'MONTHLY',
  'QUARTERLY',
  'VIX',
  'ALL',
  'MONTHEND',
]);

export function optionExpireDatesJson(
  query: ReadonlyMap<string, string>,
  knows: (symbol: string) => boolean,
  now: Date,
  extra: readonly unknown[],
): unknown {
  const symbol = query.get('symbol');
  if (symbol === undefined || symbol === '') {
    throw new EtradeApiError(400, 10043, 'Missing symbol. Please enter valid symbol.');
  }
  const expiryType = query.get('expiryType') ?? 'ALL';
  if (!EXPIRY_TYPES.has(expiryType)) {
    // The documentation gives no code for this refusal: the fake's parameter code.
    throw new EtradeApiError(400, 1001, `The expiryType ${expiryType} is invalid.`);
  }
  if (!isOptionable(symbol) || !knows(symbol)) {
    throw new EtradeApiError(400, 10033, 'The symbol entered is invalid. Please enter another symbol.');
  }
  const wanted = expiryType === 'ALL' || expiryType === 'UNSPECIFIED' ? undefined : expiryType;
  const dates = fakeListedExpiries(newYorkDay(now))
    .map((expiry) => ({ ...expiry, type: expiry.kind === 'monthly' ? 'MONTHLY' : 'WEEKLY' }))
    .filter((expiry) => wanted === undefined || expiry.type === wanted)
    .map(({ date, type }) => {
      const [year, month, day] = date.split('-').map(Number);
      return { year, month, day, expiryType: type };
    });
  return { OptionExpireDateResponse: { ExpirationDate: [...dates, ...extra] } };
}
