/** A chat command's words as a strategy kind's parameters (its zod schema validates them). */
import type { AutomationCommand } from '../../core/conversation/commands.js';
import type { SymbolResolver } from '../../core/market-data/instruments.js';

type StrategyCommand = Extract<AutomationCommand, { action: 'create' | 'backtest' }>;

/** The parameters a command asks for: only what it said, and the symbol; defaults come from the schema. */
export function paramsFor(
  command: Pick<StrategyCommand, 'strategy' | 'symbol' | 'params'> & {
    limits?: Extract<AutomationCommand, { action: 'create' }>['limits'];
  },
  symbols: SymbolResolver,
): Record<string, unknown> {
  const { maxContracts, targetDelta } = command.params;
  switch (command.strategy) {
    case 'wheel':
      return {
        symbol: command.symbol,
        ...(maxContracts === undefined ? {} : { maxContracts }),
        ...(targetDelta === undefined ? {} : { put: { targetDelta } }),
      };
    case 'collar':
      return { symbol: command.symbol, ...(maxContracts === undefined ? {} : { maxLots: maxContracts }) };
    case 'ai_driven':
      return {
        symbol: command.symbol,
        assetClass: symbols.get(command.symbol)?.assetClass === 'crypto' ? 'crypto' : 'equity',
        sizing: { method: 'equity_fraction', fraction: '0.05' },
        ...(command.limits?.maxPosition === undefined ? {} : { maxPosition: command.limits.maxPosition }),
      };
  }
}
