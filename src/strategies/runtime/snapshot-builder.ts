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
import type { HeldPosition, PendingOrder, PendingStage, StrategySnapshot } from '../strategy.js';

/**
 * Intents of a strategy that are still on their way: a decision must not ask for them again. The
 * first are not at a broker yet (`submitting`: the paper broker books the order in the transaction
 * that moves the intent on, a live broker's answer is not in), the last are working there.
 */
const NOT_PLACED: readonly IntentStatus[] = ['proposed', 'awaiting_approval', 'confirmed', 'submitting'];
const WORKING: readonly IntentStatus[] = ['submitted', 'partially_filled'];
const IN_FLIGHT: readonly IntentStatus[] = [...NOT_PLACED, ...WORKING];
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
      status: true,
      strategyTag: true,
      side: true,
      symbol: true,
      quantity: true,
      optionUnderlying: true,
      optionExpiry: true,
      optionRight: true,
      optionStrike: true,
      orders: { select: { filledQuantity: true } },
    },
  });
  return rows.map((row) => ({
    tag: row.strategyTag ?? '',
    stage: stageOf(row.status),
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
    // The filled part is in the positions already: only the rest is still on its way.
    quantity: Decimal.max(
      new Decimal(row.quantity?.toString() ?? '0').sub(
        row.orders.reduce((sum, order) => sum.add(order.filledQuantity.toString()), new Decimal(0)),
      ),
      0,
    ),
  }));
}

function stageOf(status: IntentStatus): PendingStage {
  if (NOT_PLACED.includes(status)) return 'not_placed';
  return WORKING.includes(status) ? 'working' : 'declined';
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
  const [quote, { held, pendingOrders }, optionChain, history] = await Promise.all([
    sources.market.quote({ assetClass, symbol: strategy.symbol }),
    ordersThenAccount(sources, strategy, account, at),
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
      netsWorkingOrders: held.balances.netsWorkingOrders === true,
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

/**
 * The strategy's orders, then the account: an order read as working was placed before the
 * balances were read, so a broker that nets working orders has it out of them. Read the other way
 * round, one placed in between would be in neither figure; this way it is at worst in both.
 */
async function ordersThenAccount(
  sources: SnapshotSources,
  strategy: StrategyView,
  account: { readonly trading: TradingAccount; readonly broker: Broker },
  at: Date,
): Promise<{ held: AccountSnapshot; pendingOrders: PendingOrder[] }> {
  const pendingOrders = await pendingOrdersOf(sources.prisma, strategy.id, at);
  const held = await account.broker.getAccountSnapshot(account.trading.externalId);
  return { held, pendingOrders };
}
