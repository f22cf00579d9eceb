/**
 * "backtest the wheel on SOFI for 6 months": a strategy over the simulated market's past, from
 * cash; nothing is placed. When the user runs that strategy on that symbol, the backtest uses its
 * settings (contracts, deltas, windows...) and says so: the answer is about the strategy they
 * run, not a default one. Settings the command names win over the running strategy's.
 */
import type { AutomationCommand } from '../../core/conversation/commands.js';
import type { PrismaClient } from '../../core/db/database.js';
import { formatDecimal, formatUsd } from '../../core/domain/values.js';
import type { SymbolResolver } from '../../core/market-data/instruments.js';
import { STRATEGY_KINDS } from '../kinds.js';
import { type BacktestResult, backtest } from '../simulation/backtest.js';
import type { BacktestMarket } from '../simulation/backtest-market.js';
import { shortId } from './desk-words.js';
import { paramsFor } from './strategy-params.js';

type BacktestCommand = Extract<AutomationCommand, { action: 'backtest' }>;

export interface DeskBacktestDependencies {
  readonly prisma: Pick<PrismaClient, 'strategy'>;
  readonly symbols: SymbolResolver;
  /** The simulated market at any moment. */
  readonly backtestMarket: BacktestMarket;
  readonly clock: () => Date;
}

/** How many of the last trades and expiries the answer lists. */
const LAST_ENTRIES = 6;

/** Runs the backtest the command asks for and answers in a few lines. */
export async function answerBacktest(
  deps: DeskBacktestDependencies,
  command: BacktestCommand,
  userId: string,
): Promise<string> {
  if (command.strategy === 'ai_driven')
    return 'The AI strategy asks the model every day, so it cannot be backtested offline. Try the wheel.';
  // A backtest starts from cash, and a collar only protects shares already held.
  if (command.strategy === 'collar')
    return `The collar protects shares you already hold, and a backtest starts from cash, so it would show no trades. Try "backtest the wheel on ${command.symbol}".`;
  const definition = STRATEGY_KINDS[command.strategy];
  const asked = paramsFor(command, deps.symbols);
  const running = await deps.prisma.strategy.findFirst({
    where: { userId, kind: command.strategy, symbol: command.symbol, status: { not: 'stopped' } },
    orderBy: { createdAt: 'desc' },
  });
  const stored = running === null ? undefined : definition.paramsSchema.safeParse(running.params);
  const params = stored?.success ? { ...(stored.data as Record<string, unknown>), ...asked } : asked;
  const parsed = definition.paramsSchema.safeParse(params);
  if (!parsed.success)
    return `I can't backtest that: ${parsed.error.issues.map((issue) => `${issue.path.join('.')} ${issue.message}`).join('; ')}.`;
  const settings =
    running !== null && stored?.success
      ? `With the settings of your ${definition.title.replace(/^the /, '')} on ${running.symbol} (${shortId(running.id)}): ${definition.describe(parsed.data)}.`
      : `With the default settings: ${definition.describe(parsed.data)}.`;

  const to = deps.clock();
  const from = new Date(to.getTime() - command.days * 86_400_000);
  const day = (at: Date) => at.toISOString().slice(0, 10);
  const result = await backtest({
    definition,
    params: parsed.data,
    symbol: command.symbol,
    market: deps.backtestMarket,
    from: day(from),
    to: day(to),
    startingCash: '100000',
    // Limit prices at the mid fill when the mid is reached, as a patient order often does.
    fills: 'midpoint',
  });
  const { summary } = result;
  const expiries = result.events.filter((event) => event.kind !== 'notice' && event.kind !== 'halt');
  const lines = [
    `Backtest of ${definition.title} on ${command.symbol}, ${day(from)} to ${day(to)} on the simulated market, starting with ${formatUsd(summary.startingCash)}:`,
    settings,
    `  P&L ${formatUsd(summary.totalPnl)} (${summary.returnPercent.toFixed(2)}%), max drawdown ${formatUsd(summary.maxDrawdown)} (${summary.maxDrawdownPercent.toFixed(2)}%)`,
    `  ${summary.tradeCount} trades, premium collected ${formatUsd(summary.premiumCollected)}, ${expiries.length} assignment/expiry events`,
  ];
  const timeline = backtestTimeline(result).slice(-LAST_ENTRIES);
  if (timeline.length > 0)
    lines.push('Last trades and expiries, oldest first:', ...timeline.map((line) => `  ${line}`));
  lines.push('Simulated prices, not a forecast. Nothing was placed.');
  return lines.join('\n');
}

/**
 * The backtest's orders and expiry outcomes as one list in date order, a line each: "2026-10-02
 * sell 2 SOFI ... at $0.45 (reason)", "2026-10-16 2 SOFI ... puts: assigned: ...". The shares an
 * expiry delivers are told by its outcome, not as trades of their own.
 */
export function backtestTimeline(result: Pick<BacktestResult<unknown>, 'trades' | 'events'>): string[] {
  const day = (at: Date) => at.toISOString().slice(0, 10);
  const entries = [
    ...result.trades
      .filter((trade) => trade.kind === 'order')
      .map((trade) => ({
        at: trade.at,
        text: `${day(trade.at)} ${trade.side} ${formatDecimal(trade.quantity)} ${trade.symbol.replace(/\s+/g, ' ')} at ${formatUsd(trade.price)} (${trade.reason})`,
      })),
    ...result.events
      .filter((event) => event.kind !== 'notice')
      .map((event) => ({ at: event.at, text: `${day(event.at)} ${event.text}` })),
  ];
  // Stable: what happened at the same moment keeps the order it happened in.
  return entries.sort((a, b) => a.at.getTime() - b.at.getTime()).map((entry) => entry.text);
}
