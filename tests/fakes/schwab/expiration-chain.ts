/**
 * The fake's `GET /marketdata/v1/expirationchain`: the series listed for an optionable symbol
 * (../option-expiries.ts), in the shape the service sends (the document's example, and captured
 * answers: `expirationDate`, `daysToExpiration`, `expirationType` S for the third Friday and W
 * for weeklies, `settlementType`, `optionRoots`, `standard`). The one parameter, `symbol`, is
 * required. A symbol the fake does not price answers 200 with `status: "FAILED"` and no series,
 * as its chains do (the document does not say; the client must read it as "no options").
 */
import { fakeListedExpiries, isOptionable } from '../option-expiries.js';
import type { MarketDataError } from './market-data.js';

export type ExpirationChainOutcome =
  | { readonly status: 200; readonly body: Record<string, unknown> }
  | { readonly status: 400; readonly errors: MarketDataError[] };

export function expirationChain(
  query: URLSearchParams,
  knows: (symbol: string) => boolean,
  today: string,
  extra: readonly unknown[],
): ExpirationChainOutcome {
  const symbol = query.get('symbol');
  if (symbol === null || symbol.trim() === '') {
    return {
      status: 400,
      errors: [{ status: 400, detail: 'symbol is required', source: { parameter: 'symbol' } }],
    };
  }
  if (!isOptionable(symbol) || !knows(symbol)) {
    return { status: 200, body: { status: 'FAILED', expirationList: [] } };
  }
  const series = fakeListedExpiries(today).map((expiry) => ({
    expirationDate: expiry.date,
    daysToExpiration: Math.round((Date.parse(expiry.date) - Date.parse(today)) / 86_400_000),
    expirationType: expiry.kind === 'monthly' ? 'S' : 'W',
    settlementType: 'P',
    optionRoots: symbol,
    standard: true,
  }));
  return { status: 200, body: { expirationList: [...series, ...extra] } };
}
