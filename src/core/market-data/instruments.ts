/**
 * What the symbol directory knows about a tradable instrument, and how the rest of the product asks it.
 */

/** A stock, an ETF or a crypto asset that users can name in a message. */
export interface Instrument {
  /** Ticker as brokers spell it: "AAPL", "BRK.B", "BTC". Upper case. */
  readonly symbol: string;
  /** Company, fund or asset name: "Apple Inc.", "SPDR S&P 500 ETF Trust", "Bitcoin". */
  readonly name: string;
  readonly assetClass: 'equity' | 'crypto';
  readonly kind: 'stock' | 'etf' | 'crypto';
  /** Other names people use, lower case: "apple", "google", "alphabet", "btc", "bitcoin". */
  readonly aliases: readonly string[];
  /** Index memberships (stocks only). */
  readonly indexes: readonly ('sp500' | 'nasdaq100')[];
  /** CoinGecko coin id for crypto ("bitcoin"); absent for equities. */
  readonly coingeckoId?: string;
}

/** Resolves what people type to instruments. Implementations are pure and in-memory. */
export interface SymbolResolver {
  /**
   * A ticker ("aapl", "$AAPL", "BRK.B", "brk-b") or a name or alias ("Apple", "google", "bitcoin").
   * Case-insensitive. Undefined when unknown or ambiguous: never a guess.
   */
  resolve(text: string): Instrument | undefined;
  /** Exact ticker lookup (case-insensitive). */
  get(symbol: string): Instrument | undefined;
  /** Up to `limit` instruments whose ticker or name starts with `prefix` (autocomplete). */
  search(prefix: string, limit?: number): Instrument[];
  /** Every instrument, for tests and listings. */
  all(): readonly Instrument[];
}
