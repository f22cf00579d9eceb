/**
 * The in-memory symbol directory: every instrument shipped with the project, indexed once so that
 * resolving what a user typed costs a few Map lookups (the message parser calls it on its hot path).
 */
import type { Instrument, SymbolResolver } from '../instruments.js';
import { builtinInstrumentSpecs, type InstrumentSpec } from './catalog.js';
import { deriveNameKeys, normalizeName, normalizeTicker } from './normalize.js';

/** Ticker format brokers use: upper case, digits allowed, "." before a share class. */
const TICKER_FORMAT = /^[A-Z][A-Z0-9.]{0,9}$/;

/** Text shaped like a ticker, optionally followed by a share class or a quote currency. */
const TICKER_LIKE = /^([A-Za-z0-9]{1,12})(?:[.\-/ ]([A-Za-z0-9]{1,5}))?$/;

/** Quote currencies accepted in crypto pairs ("BTC-USD", "eth/usdt", "SOLUSDC"). */
const QUOTE_CURRENCIES = ['USDT', 'USDC', 'USD'] as const;
const QUOTE_SET: ReadonlySet<string> = new Set(QUOTE_CURRENCIES);

/** Longest input worth looking at; a company name longer than this is not a name. */
const MAX_INPUT_LENGTH = 80;

/** A name key and the instrument it belongs to, for prefix search. */
interface SearchEntry {
  readonly key: string;
  readonly instrument: Instrument;
}

/**
 * Resolves tickers, crypto pairs, company names and aliases to instruments.
 *
 * Resolution order, first hit wins:
 * 1. the text as a ticker ("aapl", "$AAPL", "brk-b"): an equity (stock or ETF) first, then a crypto asset;
 * 2. the text as a crypto pair ("BTC-USD", "btc/usdt", "BTCUSD"): always the crypto asset;
 * 3. the text as a name or alias ("Apple", "apple inc", "berkshire hathaway"), after normalization.
 *
 * Ticker collisions: when a crypto asset shares its ticker with a stock or ETF, the bare ticker
 * resolves to the equity, because brokers and users treat bare tickers as equities. The crypto asset
 * stays reachable by its name ("stacks") and its pair form ("STX-USD"); `get` returns the equity.
 *
 * Ambiguity is never guessed: a name key that belongs to two instruments resolves to nothing.
 * Hand-written aliases outrank keys derived from names (so "alphabet" means GOOGL even though
 * GOOG's name also reduces to "alphabet"); two hand-written aliases that collide are ambiguous too.
 * No fuzzy matching: unknown text is undefined.
 */
export class SymbolDirectory implements SymbolResolver {
  private readonly instruments: readonly Instrument[];
  private readonly equityByTicker = new Map<string, Instrument>();
  private readonly cryptoByTicker = new Map<string, Instrument>();
  private readonly byName = new Map<string, Instrument>();
  /** Sorted shortest ticker first, for prefix search. */
  private readonly tickerOrder: readonly Instrument[];
  /** Sorted shortest key first, for prefix search; ambiguous keys list each of their instruments. */
  private readonly nameOrder: readonly SearchEntry[];

  /** Builds every index once; throws on malformed data (a bad ticker, a duplicate, a missing coin id). */
  constructor(specs: readonly InstrumentSpec[]) {
    checkSpecs(specs);

    const handKeys = new Map<string, Set<number>>();
    const derivedKeys = new Map<string, Set<number>>();
    const shortAliases: string[] = [];
    const searchKeys: Array<{ key: string; index: number }> = [];
    specs.forEach((spec, index) => {
      const { keys, short } = deriveNameKeys(spec.name, spec.kind);
      shortAliases.push(short);
      for (const key of keys) {
        addTo(derivedKeys, key, index);
        searchKeys.push({ key, index });
      }
      for (const alias of spec.aliases ?? []) {
        const key = normalizeName(alias);
        if (key === '') continue;
        addTo(handKeys, key, index);
        searchKeys.push({ key, index });
      }
    });

    // Which spec each name key belongs to, or undefined when ambiguous.
    const owner = (key: string): number | undefined => {
      const owners = handKeys.get(key) ?? derivedKeys.get(key);
      if (owners === undefined || owners.size !== 1) return undefined;
      const [only] = owners;
      return only;
    };

    // First pass: instruments without aliases, so the ticker indexes exist to filter aliases below.
    const drafts = specs.map((spec) => makeInstrument(spec, []));
    drafts.forEach((instrument) => {
      const tickers = instrument.assetClass === 'crypto' ? this.cryptoByTicker : this.equityByTicker;
      tickers.set(instrument.symbol, instrument);
    });
    for (const key of new Set([...handKeys.keys(), ...derivedKeys.keys()])) {
      const index = owner(key);
      const instrument = index === undefined ? undefined : drafts[index];
      if (instrument !== undefined) this.byName.set(key, instrument);
    }

    // Exposed aliases: hand-written ones plus the short derived name, kept only when they actually
    // resolve to this instrument (not ambiguous, not shadowed by another instrument's ticker).
    const finals = specs.map((spec, index) => {
      const draft = drafts[index] as Instrument;
      const candidates = [...(spec.aliases ?? []).map(normalizeName), shortAliases[index] ?? ''];
      const aliases = [...new Set(candidates)].filter(
        (alias) => alias !== '' && alias !== spec.symbol.toLowerCase() && this.resolve(alias) === draft,
      );
      return makeInstrument(spec, aliases);
    });
    const finalOf = new Map(drafts.map((draft, index) => [draft, finals[index] as Instrument]));
    const swap = (map: Map<string, Instrument>) => {
      for (const [key, draft] of map) map.set(key, finalOf.get(draft) ?? draft);
    };
    swap(this.equityByTicker);
    swap(this.cryptoByTicker);
    swap(this.byName);

    this.instruments = Object.freeze(finals);
    this.tickerOrder = [...finals].sort(
      (a, b) =>
        a.symbol.length - b.symbol.length ||
        compare(a.symbol, b.symbol) ||
        Number(a.assetClass === 'crypto') - Number(b.assetClass === 'crypto'),
    );
    const seen = new Set<string>();
    const entries: SearchEntry[] = [];
    for (const { key, index } of searchKeys) {
      const instrument = finals[index];
      const id = `${key}\u0000${index}`;
      if (instrument === undefined || seen.has(id)) continue;
      seen.add(id);
      entries.push({ key, instrument });
    }
    this.nameOrder = entries.sort(
      (a, b) =>
        a.key.length - b.key.length ||
        compare(a.key, b.key) ||
        compare(a.instrument.symbol, b.instrument.symbol),
    );
  }

  resolve(text: string): Instrument | undefined {
    let input = text.trim();
    if (input.startsWith('$')) input = input.slice(1);
    if (input.length === 0 || input.length > MAX_INPUT_LENGTH) return undefined;

    const match = TICKER_LIKE.exec(input);
    if (match !== null) {
      const base = (match[1] ?? '').toUpperCase();
      const suffix = match[2]?.toUpperCase();
      if (suffix === undefined) {
        const hit =
          this.equityByTicker.get(base) ?? this.cryptoByTicker.get(base) ?? this.concatenatedPair(base);
        if (hit !== undefined) return hit;
      } else {
        const hit = this.equityByTicker.get(`${base}.${suffix}`);
        if (hit !== undefined) return hit;
        if (QUOTE_SET.has(suffix)) {
          const crypto = this.cryptoByTicker.get(base);
          if (crypto !== undefined) return crypto;
        }
      }
    }
    return this.byName.get(normalizeName(input));
  }

  get(symbol: string): Instrument | undefined {
    const key = normalizeTicker(symbol);
    return this.equityByTicker.get(key) ?? this.cryptoByTicker.get(key);
  }

  /** Tickers starting with the prefix first (shortest first), then names and aliases starting with it. */
  search(prefix: string, limit = 10): Instrument[] {
    const max = Math.floor(limit);
    let text = prefix.trim();
    if (text.startsWith('$')) text = text.slice(1);
    if (text.length === 0 || !(max > 0)) return [];

    const found: Instrument[] = [];
    const seen = new Set<Instrument>();
    const take = (instrument: Instrument): boolean => {
      if (!seen.has(instrument)) {
        seen.add(instrument);
        found.push(instrument);
      }
      return found.length >= max;
    };

    const tickerPrefix = normalizeTicker(text);
    for (const instrument of this.tickerOrder) {
      if (instrument.symbol.startsWith(tickerPrefix) && take(instrument)) return found;
    }
    const namePrefix = normalizeName(text);
    if (namePrefix === '') return found;
    for (const entry of this.nameOrder) {
      if (entry.key.startsWith(namePrefix) && take(entry.instrument)) return found;
    }
    return found;
  }

  all(): readonly Instrument[] {
    return this.instruments;
  }

  /** "BTCUSD", "ETHUSDT": a crypto ticker glued to a quote currency. */
  private concatenatedPair(text: string): Instrument | undefined {
    for (const quote of QUOTE_CURRENCIES) {
      if (text.length > quote.length && text.endsWith(quote)) {
        const crypto = this.cryptoByTicker.get(text.slice(0, -quote.length));
        if (crypto !== undefined) return crypto;
      }
    }
    return undefined;
  }
}

let shared: SymbolDirectory | undefined;

/** The process-wide directory of shipped instruments, built on first use (a few milliseconds). */
export function getSymbolDirectory(): SymbolResolver {
  shared ??= new SymbolDirectory(builtinInstrumentSpecs());
  return shared;
}

function makeInstrument(spec: InstrumentSpec, aliases: readonly string[]): Instrument {
  const isCrypto = spec.kind === 'crypto';
  const base = {
    symbol: spec.symbol,
    name: spec.name,
    assetClass: isCrypto ? ('crypto' as const) : ('equity' as const),
    kind: spec.kind,
    aliases: Object.freeze([...aliases]),
    indexes: Object.freeze(isCrypto ? [] : [...(spec.indexes ?? [])]),
  };
  return Object.freeze(isCrypto ? { ...base, coingeckoId: spec.coingeckoId } : base);
}

/** Rejects data the indexes cannot represent faithfully. */
function checkSpecs(specs: readonly InstrumentSpec[]): void {
  const tickers = new Set<string>();
  const coinIds = new Set<string>();
  for (const spec of specs) {
    if (!TICKER_FORMAT.test(spec.symbol)) throw new Error(`Malformed ticker: ${spec.symbol}`);
    const isCrypto = spec.kind === 'crypto';
    const key = `${isCrypto ? 'crypto' : 'equity'}:${spec.symbol}`;
    if (tickers.has(key)) throw new Error(`Duplicate ticker: ${spec.symbol}`);
    tickers.add(key);
    if (isCrypto) {
      if (spec.coingeckoId === undefined || spec.coingeckoId === '') {
        throw new Error(`Crypto asset without a CoinGecko id: ${spec.symbol}`);
      }
      if (coinIds.has(spec.coingeckoId)) throw new Error(`Duplicate CoinGecko id: ${spec.coingeckoId}`);
      coinIds.add(spec.coingeckoId);
      if ((spec.indexes ?? []).length > 0)
        throw new Error(`Crypto asset with index memberships: ${spec.symbol}`);
    } else if (spec.coingeckoId !== undefined) {
      throw new Error(`Equity with a CoinGecko id: ${spec.symbol}`);
    }
  }
}

function addTo(map: Map<string, Set<number>>, key: string, index: number): void {
  const owners = map.get(key);
  if (owners === undefined) map.set(key, new Set([index]));
  else owners.add(index);
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
