/**
 * A SymbolResolver over a fixed list of instruments: for tests, examples and tools that must not
 * load the full directory. Ambiguous names resolve to nothing, like the real directory.
 */
import type { Instrument, SymbolResolver } from '../../market-data/instruments.js';

export class StaticSymbolResolver implements SymbolResolver {
  private readonly bySymbol = new Map<string, Instrument>();
  /** Name or alias -> instrument; `null` marks a name shared by several instruments. */
  private readonly byName = new Map<string, Instrument | null>();

  constructor(private readonly instruments: readonly Instrument[]) {
    for (const instrument of instruments) this.bySymbol.set(instrument.symbol.toLowerCase(), instrument);
    for (const instrument of instruments) {
      for (const name of [instrument.name.toLowerCase(), ...instrument.aliases]) {
        const existing = this.byName.get(name);
        this.byName.set(name, existing === undefined || existing === instrument ? instrument : null);
      }
    }
  }

  resolve(text: string): Instrument | undefined {
    let key = text.trim().toLowerCase();
    if (key.startsWith('$')) key = key.slice(1);
    const ticker = this.bySymbol.get(key) ?? this.bySymbol.get(key.replaceAll('-', '.'));
    if (ticker !== undefined) return ticker;
    return this.byName.get(key) ?? undefined;
  }

  get(symbol: string): Instrument | undefined {
    return this.bySymbol.get(symbol.trim().toLowerCase());
  }

  search(prefix: string, limit = 10): Instrument[] {
    const key = prefix.trim().toLowerCase();
    return this.instruments
      .filter((i) => i.symbol.toLowerCase().startsWith(key) || i.name.toLowerCase().startsWith(key))
      .slice(0, limit);
  }

  all(): readonly Instrument[] {
    return this.instruments;
  }
}
