/**
 * Market data behind one interface: quotes (bid/ask/last) and whether a market is open.
 * Providers: the offline simulated market (embedded default) and CoinGecko for crypto.
 */
import type { Decimal, OptionRight } from '../domain/values.js';
import { ArbionError } from '../errors.js';

/** An equity option contract. */
export interface OptionContract {
  readonly underlying: string;
  /** Expiration date, YYYY-MM-DD. */
  readonly expiry: string;
  readonly right: OptionRight;
  readonly strike: Decimal;
}

export type QuoteRequest =
  | { readonly assetClass: 'equity' | 'crypto'; readonly symbol: string }
  | { readonly assetClass: 'option'; readonly contract: OptionContract };

export interface Quote {
  /** Ticker, or the OCC symbol for an option ("AAPL  240517P00190000"). */
  readonly symbol: string;
  readonly assetClass: 'equity' | 'option' | 'crypto';
  readonly bid: Decimal;
  readonly ask: Decimal;
  readonly last: Decimal;
  /** When the provider says the price is from. */
  readonly at: Date;
  /** Provider name, e.g. "simulated", "coingecko". */
  readonly source: string;
}

/** Whether a market trades at a moment, and when that changes. */
export interface MarketSession {
  readonly open: boolean;
  /** For people: "US equities are closed (weekend); they open Monday 09:30 ET". */
  readonly description: string;
  readonly nextOpen?: Date;
  readonly nextClose?: Date;
}

/** The market data provider has no price for this instrument. */
export class UnknownInstrumentError extends ArbionError {
  readonly code = 'unknown_instrument';

  constructor(readonly symbol: string) {
    super(`No market data for ${symbol}`, `I don't know the symbol ${symbol}. Nothing was done.`);
  }
}

/** The provider did not answer usefully (down, slow, rate limited after retries). */
export class MarketDataUnavailableError extends ArbionError {
  readonly code = 'market_data_unavailable';

  constructor(
    readonly provider: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(
      message,
      'Prices are not available right now. Nothing was done; please try again in a minute.',
      options,
    );
  }
}

export interface MarketDataProvider {
  readonly name: string;
  /**
   * @throws UnknownInstrumentError when the instrument does not exist for this provider
   * @throws MarketDataUnavailableError when the provider cannot answer now
   */
  quote(request: QuoteRequest): Promise<Quote>;
  /** Trading session state for an asset class at `at` (crypto is always open). */
  session(assetClass: 'equity' | 'option' | 'crypto', at: Date): MarketSession;
}
