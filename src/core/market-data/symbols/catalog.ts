/**
 * Turns the compact data rows shipped with the project into instrument specs for the directory.
 */
import { CRYPTO_ROWS } from './data/crypto.js';
import { ETF_ROWS } from './data/etfs.js';
import { NDX, SP, STOCK_ROWS } from './data/stocks.js';

export type IndexName = 'sp500' | 'nasdaq100';

/** What the data says about an instrument, before the directory derives and checks aliases. */
export interface InstrumentSpec {
  readonly symbol: string;
  readonly name: string;
  readonly kind: 'stock' | 'etf' | 'crypto';
  readonly indexes?: readonly IndexName[];
  readonly coingeckoId?: string;
  /** Hand-written aliases; they win over aliases derived from other instruments' names. */
  readonly aliases?: readonly string[];
}

function indexesOf(flags: number): IndexName[] {
  const indexes: IndexName[] = [];
  if (flags & SP) indexes.push('sp500');
  if (flags & NDX) indexes.push('nasdaq100');
  return indexes;
}

/** Every stock, ETF and crypto asset shipped with the project. */
export function builtinInstrumentSpecs(): InstrumentSpec[] {
  const specs: InstrumentSpec[] = [];
  for (const [symbol, name, flags, aliases] of STOCK_ROWS) {
    specs.push({ symbol, name, kind: 'stock', indexes: indexesOf(flags), aliases: aliases ?? [] });
  }
  for (const [symbol, name, aliases] of ETF_ROWS) {
    specs.push({ symbol, name, kind: 'etf', aliases: aliases ?? [] });
  }
  for (const [symbol, name, coingeckoId, aliases] of CRYPTO_ROWS) {
    specs.push({ symbol, name, kind: 'crypto', coingeckoId, aliases: aliases ?? [] });
  }
  return specs;
}
