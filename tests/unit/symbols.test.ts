import { describe, expect, it } from 'vitest';
import type { Instrument } from '../../src/core/market-data/instruments.js';
import { builtinInstrumentSpecs, type InstrumentSpec } from '../../src/core/market-data/symbols/catalog.js';
import { getSymbolDirectory, SymbolDirectory } from '../../src/core/market-data/symbols/directory.js';

const directory = getSymbolDirectory();
const all = directory.all();
const ofKind = (kind: Instrument['kind']) => all.filter((instrument) => instrument.kind === kind);
const inIndex = (index: 'sp500' | 'nasdaq100') =>
  all.filter((instrument) => instrument.indexes.includes(index));

function symbolOf(text: string): string | undefined {
  return directory.resolve(text)?.symbol;
}

describe('shipped symbol data', () => {
  it('covers the S&P 500, the Nasdaq-100, major ETFs and the top 50 crypto assets', () => {
    expect(inIndex('sp500').length).toBeGreaterThanOrEqual(500);
    expect(inIndex('nasdaq100').length).toBeGreaterThanOrEqual(100);
    expect(ofKind('etf').length).toBeGreaterThanOrEqual(60);
    expect(ofKind('crypto')).toHaveLength(50);
    expect(ofKind('stock').length + ofKind('etf').length + ofKind('crypto').length).toBe(all.length);
  });

  it('has one entry per ticker within each asset class', () => {
    for (const assetClass of ['equity', 'crypto'] as const) {
      const symbols = all.filter((i) => i.assetClass === assetClass).map((i) => i.symbol);
      expect(new Set(symbols).size).toBe(symbols.length);
    }
  });

  it('spells tickers as brokers do', () => {
    for (const instrument of all) expect(instrument.symbol).toMatch(/^[A-Z][A-Z0-9.]{0,9}$/);
  });

  it('gives every crypto asset a unique CoinGecko id and no equity one', () => {
    const crypto = ofKind('crypto');
    const ids = crypto.map((i) => i.coingeckoId);
    for (const id of ids) expect(id).toMatch(/^[a-z0-9-]+$/);
    expect(new Set(ids).size).toBe(ids.length);
    for (const instrument of all.filter((i) => i.assetClass === 'equity')) {
      expect(instrument.coingeckoId).toBeUndefined();
    }
    expect(directory.get('BTC')?.coingeckoId).toBe('bitcoin');
    expect(directory.get('XRP')?.coingeckoId).toBe('ripple');
    expect(directory.get('BNB')?.coingeckoId).toBe('binancecoin');
    expect(directory.get('AVAX')?.coingeckoId).toBe('avalanche-2');
  });

  const POPULAR_OUTSIDE_INDEXES = [
    'SOFI',
    'RIVN',
    'LCID',
    'GME',
    'AMC',
    'NIO',
    'BABA',
    'SNAP',
    'RBLX',
    'AFRM',
    'UPST',
    'RKLB',
    'SPOT',
    'NU',
  ];

  it('keeps asset class, kind and index membership consistent', () => {
    for (const instrument of all) {
      expect(instrument.assetClass).toBe(instrument.kind === 'crypto' ? 'crypto' : 'equity');
      if (instrument.kind !== 'stock') expect(instrument.indexes).toEqual([]);
      if (instrument.kind === 'stock' && !POPULAR_OUTSIDE_INDEXES.includes(instrument.symbol)) {
        expect(instrument.indexes.length, instrument.symbol).toBeGreaterThan(0);
      }
    }
  });

  it('knows the popular stocks outside both indexes, with no index membership', () => {
    for (const symbol of POPULAR_OUTSIDE_INDEXES) expect(directory.get(symbol)?.indexes, symbol).toEqual([]);
    expect(directory.resolve('sofi')?.symbol).toBe('SOFI');
    expect(directory.resolve('gamestop')?.symbol).toBe('GME');
  });

  it('lists well-known members in the right indexes', () => {
    const indexesOf = (symbol: string) => directory.get(symbol)?.indexes;
    for (const symbol of ['AAPL', 'MSFT', 'NVDA', 'AMZN', 'META', 'GOOGL', 'GOOG', 'TSLA', 'COST', 'PEP']) {
      expect(indexesOf(symbol), symbol).toEqual(['sp500', 'nasdaq100']);
    }
    for (const symbol of ['JPM', 'XOM', 'BRK.B', 'V', 'WMT', 'KO', 'UNH', 'LLY', 'BF.B']) {
      expect(indexesOf(symbol), symbol).toEqual(['sp500']);
    }
    for (const symbol of ['ASML', 'AZN', 'MELI', 'ARM', 'PDD', 'MRVL']) {
      expect(indexesOf(symbol), symbol).toEqual(['nasdaq100']);
    }
  });

  it('exposes lower-case aliases that each resolve back to their instrument', () => {
    for (const instrument of all) {
      for (const alias of instrument.aliases) {
        expect(alias).toBe(alias.toLowerCase());
        expect(directory.resolve(alias), `${alias} -> ${instrument.symbol}`).toBe(instrument);
      }
    }
  });

  it('has no hand-written alias that is ambiguous or shadowed by a ticker', () => {
    for (const spec of builtinInstrumentSpecs()) {
      for (const alias of spec.aliases ?? []) {
        expect(symbolOf(alias), `${alias} -> ${spec.symbol}`).toBe(spec.symbol);
      }
    }
  });

  it('resolves bare tickers shared by a crypto asset and an equity to the equity', () => {
    const equities = new Set(all.filter((i) => i.assetClass === 'equity').map((i) => i.symbol));
    for (const crypto of ofKind('crypto').filter((i) => equities.has(i.symbol))) {
      expect(directory.resolve(crypto.symbol)?.assetClass).toBe('equity');
      expect(directory.resolve(`${crypto.symbol}-USD`)).toBe(crypto);
    }
  });
});

describe('SymbolDirectory.resolve', () => {
  it.each([
    ['Apple', 'AAPL'],
    ['apple inc', 'AAPL'],
    ['  APPLE Inc.  ', 'AAPL'],
    ['aapl', 'AAPL'],
    ['$AAPL', 'AAPL'],
    ['microsoft', 'MSFT'],
    ['google', 'GOOGL'],
    ['alphabet', 'GOOGL'],
    ['GOOG', 'GOOG'],
    ['alphabet class c', 'GOOG'],
    ['facebook', 'META'],
    ['meta', 'META'],
    ['amazon', 'AMZN'],
    ['tesla', 'TSLA'],
    ['nvidia', 'NVDA'],
    ['Berkshire Hathaway', 'BRK.B'],
    ['berkshire', 'BRK.B'],
    ['BRK.B', 'BRK.B'],
    ['brk-b', 'BRK.B'],
    ['brk/b', 'BRK.B'],
    ['brk b', 'BRK.B'],
    ['coke', 'KO'],
    ['Coca-Cola', 'KO'],
    ['jpmorgan', 'JPM'],
    ['JP Morgan', 'JPM'],
    ['chase', 'JPM'],
    ['home depot', 'HD'],
    ["McDonald's", 'MCD'],
    ['AT&T', 'T'],
    ['Johnson & Johnson', 'JNJ'],
    ['Estée Lauder', 'EL'],
    ['$tsla', 'TSLA'],
    ['bitcoin', 'BTC'],
    ['btc', 'BTC'],
    ['ether', 'ETH'],
    ['ethereum', 'ETH'],
    ['dogecoin', 'DOGE'],
    ['eth-usd', 'ETH'],
    ['BTC-USD', 'BTC'],
    ['btc/usd', 'BTC'],
    ['BTCUSD', 'BTC'],
    ['solusdt', 'SOL'],
    ['matic', 'POL'],
    ['spy', 'SPY'],
  ])('%s -> %s', (text, symbol) => {
    expect(symbolOf(text)).toBe(symbol);
  });

  it('marks ETFs as equities of kind etf', () => {
    const spy = directory.resolve('spy');
    expect(spy?.kind).toBe('etf');
    expect(spy?.assetClass).toBe('equity');
  });

  it.each([
    '',
    '   ',
    '$',
    'hello',
    'appl',
    'aple',
    'microsft',
    'bitcoins',
    'AAPL-USD',
    'BTC.EUR',
    'x'.repeat(200),
  ])('does not guess for %j', (text) => {
    expect(directory.resolve(text)).toBeUndefined();
  });

  it('does not resolve a name shared by two share classes', () => {
    expect(directory.get('NWS')).toBeDefined();
    expect(directory.get('NWSA')).toBeDefined();
    expect(directory.resolve('news corp')).toBeUndefined();
    expect(directory.resolve('fox corporation')).toBeUndefined();
    expect(symbolOf('news corp class a')).toBe('NWSA');
  });
});

describe('SymbolDirectory.get', () => {
  it('looks up exact tickers only', () => {
    expect(directory.get('aapl')?.name).toBe('Apple Inc.');
    expect(directory.get('brk-b')).toBe(directory.get('BRK.B'));
    expect(directory.get('BRK.B')?.symbol).toBe('BRK.B');
    expect(directory.get('apple')).toBeUndefined();
    expect(directory.get('BTC-USD')).toBeUndefined();
  });
});

describe('SymbolDirectory.search', () => {
  it('puts tickers with the prefix first, shortest first', () => {
    const results = directory.search('MS').map((i) => i.symbol);
    expect(results[0]).toBe('MS');
    expect(results).toContain('MSFT');
    const tickerHits = results.filter((symbol) => symbol.startsWith('MS'));
    expect(results.slice(0, tickerHits.length)).toEqual(tickerHits);
    const lengths = tickerHits.map((symbol) => symbol.length);
    expect(lengths).toEqual([...lengths].sort((a, b) => a - b));
  });

  it('then finds names', () => {
    const results = directory.search('app').map((i) => i.symbol);
    expect(results[0]).toBe('APP');
    expect(results).toContain('AAPL');
    expect(directory.search('berkshire').map((i) => i.symbol)).toEqual(['BRK.B']);
  });

  it('honours the limit and ignores empty prefixes', () => {
    expect(directory.search('a', 3)).toHaveLength(3);
    expect(directory.search('a')).toHaveLength(10);
    expect(directory.search('')).toEqual([]);
    expect(directory.search('a', 0)).toEqual([]);
    expect(directory.search('zzzzqx')).toEqual([]);
  });
});

describe('SymbolDirectory rules on custom data', () => {
  const stacks: InstrumentSpec = { symbol: 'STX', name: 'Stacks', kind: 'crypto', coingeckoId: 'blockstack' };
  const seagate: InstrumentSpec = {
    symbol: 'STX',
    name: 'Seagate Technology Holdings plc',
    kind: 'stock',
    indexes: ['sp500'],
  };

  it('resolves a colliding bare ticker to the equity and keeps the crypto reachable', () => {
    const custom = new SymbolDirectory([stacks, seagate]);
    expect(custom.resolve('stx')?.kind).toBe('stock');
    expect(custom.resolve('$STX')?.kind).toBe('stock');
    expect(custom.get('STX')?.kind).toBe('stock');
    expect(custom.resolve('STX-USD')?.kind).toBe('crypto');
    expect(custom.resolve('stxusd')?.kind).toBe('crypto');
    expect(custom.resolve('stacks')?.kind).toBe('crypto');
    expect(custom.resolve('seagate technology')?.kind).toBe('stock');
    expect(custom.all()).toHaveLength(2);
  });

  it('drops an alias claimed by two instruments, and a derived name loses to a hand-written alias', () => {
    const custom = new SymbolDirectory([
      {
        symbol: 'AAA',
        name: 'Alpha One Inc.',
        kind: 'stock',
        indexes: ['sp500'],
        aliases: ['shared', 'alpha'],
      },
      { symbol: 'BBB', name: 'Alpha Inc.', kind: 'stock', indexes: ['sp500'], aliases: ['shared'] },
    ]);
    expect(custom.resolve('shared')).toBeUndefined();
    expect(custom.resolve('alpha')?.symbol).toBe('AAA');
    expect(custom.resolve('alpha inc')?.symbol).toBe('BBB');
    expect(custom.get('AAA')?.aliases).toEqual(['alpha', 'alpha one']);
    expect(custom.get('BBB')?.aliases).toEqual([]);
  });

  it('rejects malformed data', () => {
    const stock = (symbol: string): InstrumentSpec => ({
      symbol,
      name: 'X',
      kind: 'stock',
      indexes: ['sp500'],
    });
    expect(() => new SymbolDirectory([stock('aapl')])).toThrow(/Malformed ticker/);
    expect(() => new SymbolDirectory([stock('AAPL'), stock('AAPL')])).toThrow(/Duplicate ticker/);
    expect(() => new SymbolDirectory([{ ...stacks, coingeckoId: undefined }])).toThrow(/CoinGecko/);
    expect(() => new SymbolDirectory([stacks, { ...stacks, symbol: 'STK' }])).toThrow(/Duplicate CoinGecko/);
    expect(() => new SymbolDirectory([{ ...seagate, coingeckoId: 'seagate' }])).toThrow(/Equity with/);
  });
});

describe('getSymbolDirectory', () => {
  it('builds one shared instance', () => {
    expect(getSymbolDirectory()).toBe(directory);
  });

  it('resolves in a few microseconds per call at most', () => {
    const inputs = ['AAPL', '$tsla', 'Apple', 'berkshire hathaway', 'btc-usd', 'hello', 'brk.b', 'ETHUSDT'];
    const rounds = 20_000;
    const started = performance.now();
    for (let i = 0; i < rounds; i++) directory.resolve(inputs[i % inputs.length] ?? '');
    const microsPerCall = ((performance.now() - started) * 1000) / rounds;
    // Loose bound (about 50x the measured cost) so slow CI machines do not flake.
    expect(microsPerCall).toBeLessThan(20);
  });
});
