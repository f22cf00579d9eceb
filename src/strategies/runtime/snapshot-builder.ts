/**
 * Gathers what one evaluation looks at: the quote and session of the underlying, the strategy's
 * account (balances and the holdings of that underlying), its orders still in flight, and the
 * option chain or price history its kind asks for. All I/O of an evaluation happens here, so the
 * decision that follows is pure.
 */

import type { TradingAccount } from '../../core/accounts/accounts.js';
import type { AccountSnapshot, Broker } from '../../core/brokers/broker.js';
import type { PrismaClient } from '../../core/db/database.js';
import type { IntentStatus } from '../../core/db/generated/enums.js';
import { Decimal } from '../../core/domain/values.js';
import { STRATEGY_NOT_RUNNING } from '../../core/intents/lost-confirmation.js';
import type { SymbolResolver } from '../../core/market-data/instruments.js';
import type { MarketDataProvider } from '../../core/market-data/market-data.js';
import { occSymbol, parseOccSymbol } from '../../core/market-data/providers/options.js';
import type { OptionChain, OptionChainProvider } from '../../core/market-data/providers/simulated-market.js';
import type { AnyStrategyDefinition } from '../kinds.js';
import type { HeldPosition, PendingOrder, StrategySnapshot } from '../strategy.js';

/** Intents of a strategy that are still on their way: a decision must not ask for them again. */
const IN_FLIGHT: readonly IntentStatus[] = [
  'proposed',
  'awaiting_approval',
  'confirmed',
  'submitting',
  'submitted',
  'partially_filled',
];
/**
 * A card the user let expire or cancelled is not asked again for this long: a strategy in ask
 * mode must not repeat the same card every minute to someone who said no. A card withdrawn
 * because its strategy was paused or stopped is not such an answer.
 */
export const DECLINED_COOLDOWN_MS = 6 * 3_600_000;
const DECLINED: readonly IntentStatus[] = ['expired', 'cancelled', 'rejected', 'failed'];

/** Daily closes before `at`, oldest first. */
export type PriceHistory = (
  symbol: string,
  assetClass: 'equity' | 'crypto',
  at: Date,
  days: number,
) => Promise<Decimal[]>;

export interface SnapshotSources {
  readonly prisma: Pick<PrismaClient, 'tradeIntent'>;
  readonly market: MarketDataProvider;
  readonly symbols: SymbolResolver;
  readonly chains?: OptionChainProvider;
  readonly history?: PriceHistory;
}

export interface StrategyView {
  readonly id: string;
  readonly symbol: string;
}

/**
 * Option chains remembered per (underlying, moment): thousands of strategies on a few hundred
 * underlyings evaluate at the same tick, and a chain is the same for all of them.
 */
export function memoizedChains(provider: OptionChainProvider, capacity = 1024): OptionChainProvider {
  const chains = new Map<string, Promise<OptionChain>>();
  return {
    optionChain(underlying, at) {
      const key = `${underlying}|${at?.getTime() ?? 'now'}`;
      const known = chains.get(key);
      if (known !== undefined) return known;
      // A tick's chains are all asked for at once; older ticks' go first.
      if (chains.size >= capacity) chains.clear();
      const loading = provider.optionChain(underlying, at);
      loading.catch(() => chains.delete(key));
      chains.set(key, loading);
      return loading;
    },
  };
}

/** The holdings of `symbol` and of options on it, signed. */
export function holdingsOf(snapshot: AccountSnapshot, symbol: string): HeldPosition[] {
  const held: HeldPosition[] = [];
  for (const position of snapshot.positions) {
    if (position.assetClass === 'option') {
      const contract = parseOccSymbol(position.symbol);
      if (contract === undefined || contract.underlying !== symbol.replace(/[^A-Z0-9]/g, '')) continue;
      held.push({
        symbol: position.symbol,
        assetClass: 'option',
        quantity: position.quantity,
        averageCost: position.averageCost,
        option: { ...contract, underlying: symbol },
      });
    } else if (position.symbol === symbol) {
      held.push({
        symbol: position.symbol,
        assetClass: position.assetClass,
        quantity: position.quantity,
        averageCost: position.averageCost,
      });
    }
  }
  return held;
}

export async function pendingOrdersOf(
  prisma: Pick<PrismaClient, 'tradeIntent'>,
  strategyId: string,
  at: Date,
): Promise<PendingOrder[]> {
  const rows = await prisma.tradeIntent.findMany({
    where: {
      strategyId,
      OR: [
        { status: { in: [...IN_FLIGHT] } },
        {
          status: { in: [...DECLINED] },
          updatedAt: { gt: new Date(at.getTime() - DECLINED_COOLDOWN_MS) },
          // A card closed because its strategy was paused is no "no" from the user: asked again once resumed.
          OR: [{ statusReason: null }, { NOT: { statusReason: { startsWith: STRATEGY_NOT_RUNNING } } }],
        },
      ],
    },
    select: {
      strategyTag: true,
      side: true,
      symbol: true,
      quantity: true,
      optionUnderlying: true,
      optionExpiry: true,
      optionRight: true,
      optionStrike: true,
    },
  });
  return rows.map((row) => ({
    tag: row.strategyTag ?? '',
    side: row.side,
    // An option intent's symbol column holds its underlying; strategies count contracts by OCC symbol.
    symbol:
      row.optionUnderlying !== null &&
      row.optionExpiry !== null &&
      row.optionRight !== null &&
      row.optionStrike !== null
        ? occSymbol({
            underlying: row.optionUnderlying,
            expiry: row.optionExpiry.toISOString().slice(0, 10),
            right: row.optionRight,
            strike: new Decimal(row.optionStrike.toString()),
          })
        : row.symbol,
    quantity: new Decimal(row.quantity?.toString() ?? '0'),
  }));
}

/**
 * Everything `definition.decide` needs at `at`.
 * @throws UnknownInstrumentError, MarketDataUnavailableError, broker errors: the evaluation fails
 *   and its job retries
 */
export async function buildSnapshot(
  sources: SnapshotSources,
  strategy: StrategyView,
  definition: AnyStrategyDefinition,
  account: { readonly trading: TradingAccount; readonly broker: Broker },
  at: Date,
): Promise<{ snapshot: StrategySnapshot; account: AccountSnapshot }> {
  const assetClass = sources.symbols.get(strategy.symbol)?.assetClass === 'crypto' ? 'crypto' : 'equity';
  const [quote, held, pendingOrders, optionChain, history] = await Promise.all([
    sources.market.quote({ assetClass, symbol: strategy.symbol }),
    account.broker.getAccountSnapshot(account.trading.externalId),
    pendingOrdersOf(sources.prisma, strategy.id, at),
    definition.needsOptionChain && sources.chains !== undefined
      ? sources.chains.optionChain(strategy.symbol, at)
      : Promise.resolve(undefined),
    definition.needsHistory > 0 && sources.history !== undefined
      ? sources.history(strategy.symbol, assetClass, at, definition.needsHistory)
      : Promise.resolve(undefined),
  ]);
  const snapshot: StrategySnapshot = {
    at,
    quote,
    session: sources.market.session(assetClass, at),
    account: {
      cash: held.balances.cash,
      buyingPower: held.balances.buyingPower,
      equity: held.balances.equity,
      realizedPnlToday: held.balances.realizedPnlToday,
    },
    positions: holdingsOf(held, strategy.symbol),
    pendingOrders,
    ...(optionChain === undefined ? {} : { optionChain }),
    ...(history === undefined ? {} : { history }),
  };
  return { snapshot, account: held };
}
