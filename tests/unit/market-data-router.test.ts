import { describe, expect, it } from 'vitest';
import { Decimal } from '../../src/core/domain/values.js';
import type { Instrument, SymbolResolver } from '../../src/core/market-data/instruments.js';
import type {
  MarketDataProvider,
  MarketSession,
  Quote,
  QuoteRequest,
} from '../../src/core/market-data/market-data.js';
import { MarketDataRouter } from '../../src/core/market-data/providers/router.js';
import { SimulatedMarket } from '../../src/core/market-data/providers/simulated-market.js';

function fixtureResolver(): SymbolResolver {
  const list: Instrument[] = [
    { symbol: 'AAPL', name: 'Apple', assetClass: 'equity', kind: 'stock', aliases: [], indexes: [] },
    {
      symbol: 'BTC',
      name: 'Bitcoin',
      assetClass: 'crypto',
      kind: 'crypto',
      aliases: [],
      indexes: [],
      coingeckoId: 'bitcoin',
    },
  ];
  const bySymbol = new Map(list.map((item) => [item.symbol, item]));
  return {
    get: (symbol) => bySymbol.get(symbol.toUpperCase()),
    resolve: (text) => bySymbol.get(text.toUpperCase()),
    search: () => list,
    all: () => list,
  };
}

/** Records what it was asked and answers a fixed crypto price. */
class RecordingCrypto implements MarketDataProvider {
  readonly name = 'recording';
  readonly requests: QuoteRequest[] = [];
  async quote(request: QuoteRequest): Promise<Quote> {
    this.requests.push(request);
    const price = new Decimal(100);
    const symbol = request.assetClass === 'option' ? 'x' : request.symbol;
    return {
      symbol,
      assetClass: 'crypto',
      bid: price,
      ask: price,
      last: price,
      at: new Date(0),
      source: this.name,
    };
  }
  session(): MarketSession {
    return { open: true, description: 'recording crypto' };
  }
}

describe('MarketDataRouter', () => {
  const at = new Date('2026-03-14T16:00:00Z'); // Saturday
  const simulated = new SimulatedMarket({ seed: 1, symbols: fixtureResolver(), clock: () => at });

  it('sends crypto to the crypto provider and equities/options to the other', async () => {
    const crypto = new RecordingCrypto();
    const router = new MarketDataRouter({ crypto, equities: simulated });
    expect((await router.quote({ assetClass: 'crypto', symbol: 'BTC' })).source).toBe('recording');
    expect((await router.quote({ assetClass: 'equity', symbol: 'AAPL' })).source).toBe('simulated');
    const option = await router.quote({
      assetClass: 'option',
      contract: { underlying: 'AAPL', expiry: '2026-04-17', right: 'call', strike: new Decimal(230) },
    });
    expect(option.symbol).toBe('AAPL  260417C00230000');
    expect(crypto.requests).toHaveLength(1);
    expect(router.session('crypto', at).description).toBe('recording crypto');
    expect(router.session('equity', at).open).toBe(false);
    expect(router.providerFor('option')).toBe(simulated);
    expect(router.name).toBe('router(crypto: recording, equities: simulated)');
  });

  it('can use the simulated market for everything', async () => {
    const router = new MarketDataRouter({ crypto: simulated, equities: simulated });
    expect(router.name).toBe('simulated');
    const btc = await router.quote({ assetClass: 'crypto', symbol: 'BTC' });
    expect(btc.source).toBe('simulated');
    expect(btc.bid.lt(btc.ask)).toBe(true);
  });
});
