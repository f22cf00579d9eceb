/**
 * One market data object for the core: crypto goes to one provider (CoinGecko or the simulated
 * market), equities and options to another, so callers never choose a provider themselves.
 */
import type { MarketDataProvider, MarketSession, Quote, QuoteRequest } from '../market-data.js';

export interface MarketDataRouterOptions {
  readonly crypto: MarketDataProvider;
  /** Stocks, ETFs and options. */
  readonly equities: MarketDataProvider;
}

export class MarketDataRouter implements MarketDataProvider {
  readonly name: string;
  private readonly crypto: MarketDataProvider;
  private readonly equities: MarketDataProvider;

  constructor(options: MarketDataRouterOptions) {
    this.crypto = options.crypto;
    this.equities = options.equities;
    // Quotes keep their own `source`; the name says which providers sit behind the router.
    this.name =
      this.crypto === this.equities
        ? this.crypto.name
        : `router(crypto: ${this.crypto.name}, equities: ${this.equities.name})`;
  }

  /** The provider that answers for an asset class. */
  providerFor(assetClass: 'equity' | 'option' | 'crypto'): MarketDataProvider {
    return assetClass === 'crypto' ? this.crypto : this.equities;
  }

  quote(request: QuoteRequest): Promise<Quote> {
    return this.providerFor(request.assetClass).quote(request);
  }

  session(assetClass: 'equity' | 'option' | 'crypto', at: Date): MarketSession {
    return this.providerFor(assetClass).session(assetClass, at);
  }
}
