/**
 * Automation from chat: create, list, pause, resume and stop strategies; price alerts and stop
 * monitors; the kill switch; backtests. Every answer is one message, and a refusal changes nothing.
 *
 * Auto mode places orders without a card, so it starts only after the user confirmed its limits in
 * their own words ("confirm auto 3f2a1b2c"); until then the strategy exists but is not evaluated.
 */

import type { Accounts, TradingAccount } from '../../core/accounts/accounts.js';
import type { BrokerLookup } from '../../core/brokers/broker.js';
import type { AutomationDesk, AutomationRequest } from '../../core/conversation/automation.js';
import type { AutomationCommand, AutomationTarget } from '../../core/conversation/commands.js';
import { Prisma, type PrismaClient } from '../../core/db/database.js';
import type { Alert, Strategy } from '../../core/db/generated/client.js';
import { Decimal, formatDecimal, formatUsd } from '../../core/domain/values.js';
import type { IntentService } from '../../core/intents/intent-service.js';
import type { Logger } from '../../core/logging/logger.js';
import type { SymbolResolver } from '../../core/market-data/instruments.js';
import type { MarketDataProvider } from '../../core/market-data/market-data.js';
import { STRATEGY_KINDS, strategyKind } from '../kinds.js';
import { backtest } from '../simulation/backtest.js';
import type { BacktestMarket } from '../simulation/backtest-market.js';
import { strategyName, strategyTitle } from './strategy-runner.js';

export interface AutomationDeskDependencies {
  readonly prisma: PrismaClient;
  readonly accounts: Accounts;
  readonly intents: IntentService;
  readonly brokerFor: BrokerLookup;
  readonly market: MarketDataProvider;
  readonly symbols: SymbolResolver;
  /** The simulated market at any moment, for backtests. */
  readonly backtestMarket: BacktestMarket;
  readonly logger: Logger;
  readonly clock: () => Date;
}

type CreateCommand = Extract<AutomationCommand, { action: 'create' }>;
type MonitorCommand = Extract<AutomationCommand, { action: 'monitor' }>;

/** The first eight hex digits of an id: what lists show and commands accept. */
function shortId(id: string): string {
  return id.replace(/-/g, '').slice(0, 8);
}

const ALERT_WORDS: Readonly<Record<Alert['kind'], string>> = {
  price_above: 'tell me above',
  price_below: 'tell me below',
  stop_loss: 'stop loss at',
  take_profit: 'take profit at',
  trailing_stop: 'trailing stop',
};

/** Alerts, and what happened to their pending orders, as the user sees them. */
function describeAlert(alert: Alert): string {
  const level =
    alert.kind === 'trailing_stop'
      ? `${formatDecimal(new Decimal(alert.trailFraction?.toString() ?? '0').mul(100), 2)}% below the high`
      : formatUsd(alert.threshold?.toString() ?? '0');
  const size =
    alert.action === 'close_position'
      ? `, sells ${alert.quantity === null ? 'the whole position' : `${formatDecimal(alert.quantity.toString())}`}`
      : '';
  return `${alert.symbol}: ${ALERT_WORDS[alert.kind]} ${level}${size}`;
}

const PROPOSED_BY_AUTOMATION = {
  status: 'proposed' as const,
  source: { in: ['strategy' as const, 'alert' as const] },
};

export class StrategyDesk implements AutomationDesk {
  constructor(private readonly deps: AutomationDeskDependencies) {}

  async perform(command: AutomationCommand, request: AutomationRequest): Promise<string> {
    switch (command.action) {
      case 'create':
        return this.create(command, request);
      case 'list':
        return this.list(request.userId);
      case 'pause':
      case 'resume':
      case 'stop':
        return this.control(command.action, command.target, request.userId);
      case 'stop_everything':
        return this.stopEverything(request.userId);
      case 'confirm_auto':
        return this.confirmAuto(command.target, request.userId);
      case 'monitor':
        return this.monitor(command, request);
      case 'backtest':
        return this.backtest(command);
    }
  }

  // ------------------------------------------------------------------ create

  private paramsFor(
    command: Pick<CreateCommand, 'strategy' | 'symbol' | 'params'> & { limits?: CreateCommand['limits'] },
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
          assetClass: this.deps.symbols.get(command.symbol)?.assetClass === 'crypto' ? 'crypto' : 'equity',
          sizing: { method: 'equity_fraction', fraction: '0.05' },
          ...(command.limits?.maxPosition === undefined ? {} : { maxPosition: command.limits.maxPosition }),
        };
    }
  }

  private async create(command: CreateCommand, request: AutomationRequest): Promise<string> {
    const { prisma } = this.deps;
    const definition = strategyKind(command.strategy);
    const instrument = this.deps.symbols.get(command.symbol);
    if (instrument === undefined) return `I don't know the symbol ${command.symbol}. Nothing was created.`;
    if (definition.needsOptionChain && instrument.assetClass !== 'equity')
      return `${definition.title} trades options, and ${command.symbol} has none. Nothing was created.`;
    if (command.strategy === 'ai_driven' && command.limits.maxPosition === undefined)
      return `Tell me the most it may hold, e.g. "run ai on ${command.symbol}, max position 50". Nothing was created.`;
    const parsed = definition.paramsSchema.safeParse(this.paramsFor(command));
    if (!parsed.success)
      return `I can't run that: ${parsed.error.issues.map((issue) => `${issue.path.join('.')} ${issue.message}`).join('; ')}. Nothing was created.`;

    const trader = await this.deps.accounts.traderById(request.userId, request.identityId);
    let account: TradingAccount | undefined;
    if (command.mode === 'live') {
      if (trader.account.mode !== 'live')
        return 'You are trading on paper. Say "go live on <broker>" first, or run it on paper. Nothing was created.';
      account = trader.account;
    } else {
      account = await this.deps.accounts.automationAccount(request.userId, null);
    }
    if (account === undefined) return 'I could not find your paper account. Nothing was created.';
    const duplicate = await prisma.strategy.findFirst({
      where: {
        userId: request.userId,
        kind: command.strategy,
        symbol: command.symbol,
        status: { in: ['active', 'paused', 'halted'] },
      },
      select: { id: true },
    });
    if (duplicate !== null)
      return `You already run ${definition.title} on ${command.symbol} (${shortId(duplicate.id)}). Stop it first to start a new one. Nothing was created.`;

    const drawdown = command.limits.maxDrawdown;
    if (drawdown !== undefined && !(Number(drawdown) > 0 && Number(drawdown) <= 1))
      return `A max drawdown is a share of equity above 0% and at most 100%. Nothing was created.`;
    const limits = this.autoLimits(command, trader.limits.maxOrderNotional, parsed.data);
    const strategy = await prisma.strategy.create({
      data: {
        userId: request.userId,
        connectionId: account.connectionId,
        kind: command.strategy,
        mode: account.mode,
        executionMode: command.execution,
        symbol: command.symbol,
        params: parsed.data as Prisma.InputJsonValue,
        state: definition.initialState(parsed.data) as Prisma.InputJsonValue,
        ...(limits === undefined
          ? {}
          : {
              maxNotionalPerOrder: new Prisma.Decimal(limits.maxNotionalPerOrder.toFixed()),
              maxNotionalPerDay: new Prisma.Decimal(limits.maxNotionalPerDay.toFixed()),
              maxPosition: new Prisma.Decimal(limits.maxPosition.toFixed()),
              maxDrawdown: new Prisma.Decimal(limits.maxDrawdown.toFixed()),
            }),
        platform: request.address.platform,
        workspaceExternalId: request.address.workspaceId,
        chatId: request.address.chatId,
      },
    });
    this.deps.logger.info(
      { userId: request.userId, strategyId: strategy.id, kind: strategy.kind },
      'strategy created',
    );
    const where = account.mode === 'live' ? `your LIVE ${account.provider} account` : 'your paper account';
    const head = `${strategyTitle(strategy)} (${shortId(strategy.id)}) on ${where}: ${definition.describe(parsed.data)}.`;
    if (limits === undefined)
      return `${head}\nIt runs in ask mode: every order it wants comes to you as a card to confirm. Say "my strategies" to see it, "pause ${command.symbol}" or "stop ${command.symbol}" to pause or stop it.`;
    return [
      head,
      'Auto mode places orders without asking, within these limits:',
      `  max ${formatUsd(limits.maxNotionalPerOrder)} per order, ${formatUsd(limits.maxNotionalPerDay)} per day`,
      `  max position ${formatDecimal(limits.maxPosition)} ${definition.needsOptionChain ? 'contracts' : 'units'}, halt at a ${formatDecimal(limits.maxDrawdown.mul(100), 2)}% drawdown`,
      `Orders beyond them still come to you as cards. To start it, say "confirm auto ${shortId(strategy.id)}".`,
    ].join('\n');
  }

  /** Auto mode's limits: what the user said, else defaults they see before confirming. */
  private autoLimits(command: CreateCommand, maxOrderNotional: Decimal, params: unknown) {
    if (command.execution !== 'auto') return undefined;
    const given = command.limits;
    const perOrder =
      given.maxNotionalPerOrder === undefined ? maxOrderNotional : new Decimal(given.maxNotionalPerOrder);
    const contracts =
      (params as { maxContracts?: number; maxLots?: number }).maxContracts ??
      (params as { maxLots?: number }).maxLots;
    return {
      maxNotionalPerOrder: perOrder,
      maxNotionalPerDay:
        given.maxNotionalPerDay === undefined ? perOrder.mul(3) : new Decimal(given.maxNotionalPerDay),
      maxPosition:
        given.maxPosition === undefined ? new Decimal(contracts ?? 1) : new Decimal(given.maxPosition),
      maxDrawdown: given.maxDrawdown === undefined ? new Decimal('0.2') : new Decimal(given.maxDrawdown),
    };
  }

  // ------------------------------------------------------------------ list and control

  private async list(userId: string): Promise<string> {
    const [strategies, alerts] = await Promise.all([
      this.deps.prisma.strategy.findMany({
        where: { userId, status: { not: 'stopped' } },
        orderBy: { createdAt: 'asc' },
      }),
      this.deps.prisma.alert.findMany({ where: { userId, status: 'active' }, orderBy: { createdAt: 'asc' } }),
    ]);
    if (strategies.length === 0 && alerts.length === 0)
      return 'You run no strategies or alerts. Try "run the wheel on SOFI, 2 contracts max, paper" or "alert me if AAPL goes above 250".';
    const lines: string[] = [];
    if (strategies.length > 0) lines.push('Strategies:');
    for (const strategy of strategies) {
      const definition = strategyKind(strategy.kind);
      const parsed = definition.paramsSchema.safeParse(strategy.params);
      const status =
        strategy.status === 'halted'
          ? `halted: ${strategy.haltReason ?? ''}`
          : strategy.executionMode === 'auto' && strategy.limitsConfirmedAt === null
            ? 'waiting for "confirm auto"'
            : strategy.status;
      lines.push(
        `  ${shortId(strategy.id)}  ${strategyTitle(strategy)} (${strategy.mode}, ${strategy.executionMode}) ${status}${parsed.success ? `: ${definition.describe(parsed.data)}` : ''}`,
      );
    }
    if (alerts.length > 0) lines.push('Alerts:');
    for (const alert of alerts) lines.push(`  ${shortId(alert.id)}  ${describeAlert(alert)}`);
    return lines.join('\n');
  }

  private matches(strategy: Strategy, target: AutomationTarget): boolean {
    if (target.kind === 'alert') return false;
    if (target.id !== undefined && !shortId(strategy.id).startsWith(target.id.slice(0, 8))) return false;
    if (target.kind !== undefined && strategy.kind !== target.kind) return false;
    if (target.symbol !== undefined && strategy.symbol !== target.symbol) return false;
    return true;
  }

  private async control(
    verb: 'pause' | 'resume' | 'stop',
    target: AutomationTarget,
    userId: string,
  ): Promise<string> {
    const { prisma } = this.deps;
    const alerts =
      target.kind === 'alert' || (target.kind === undefined && verb === 'stop')
        ? (await prisma.alert.findMany({ where: { userId, status: 'active' } })).filter(
            (alert) =>
              (target.id === undefined || shortId(alert.id).startsWith(target.id.slice(0, 8))) &&
              (target.symbol === undefined || alert.symbol === target.symbol),
          )
        : [];
    const strategies = (
      await prisma.strategy.findMany({ where: { userId, status: { not: 'stopped' } } })
    ).filter((strategy) => this.matches(strategy, target));
    if (strategies.length + alerts.length === 0)
      return 'Nothing of yours matches that. Say "my strategies" to see them.';
    if (strategies.length + alerts.length > 1)
      return `That matches more than one:\n${[
        ...strategies.map((strategy) => `  ${shortId(strategy.id)}  ${strategyTitle(strategy)}`),
        ...alerts.map((alert) => `  ${shortId(alert.id)}  ${describeAlert(alert)}`),
      ].join('\n')}\nSay "${verb} <id>" with one of these ids.`;
    const alert = alerts[0];
    if (alert !== undefined) {
      if (verb !== 'stop') return 'Alerts can only be stopped (say "stop alert <id>"). Nothing was changed.';
      await prisma.alert.updateMany({
        where: { id: alert.id, status: 'active' },
        data: { status: 'cancelled' },
      });
      const cancelled = await this.cancelProposed(userId, {
        source: 'alert',
        strategyTag: `alert:${alert.id}:close`,
      });
      return `Stopped the alert ${describeAlert(alert)}.${cancelled > 0 ? ' Its waiting card was cancelled.' : ''}`;
    }
    const strategy = strategies[0] as Strategy;
    const title = strategyTitle(strategy);
    const name = strategyName(strategy);
    switch (verb) {
      case 'pause': {
        const { count } = await prisma.strategy.updateMany({
          where: { id: strategy.id, status: { in: ['active', 'halted'] } },
          data: { status: 'paused' },
        });
        return count === 1
          ? `Paused ${name}. Say "resume ${strategy.symbol}" to continue.`
          : `${title} is already paused.`;
      }
      case 'resume': {
        if (strategy.executionMode === 'auto' && strategy.limitsConfirmedAt === null)
          return `${title} waits for your "confirm auto ${shortId(strategy.id)}". Nothing was changed.`;
        const { count } = await prisma.strategy.updateMany({
          where: { id: strategy.id, status: { in: ['paused', 'halted'] } },
          // A halt's drawdown is measured afresh from here.
          data: { status: 'active', haltReason: null, peakEquity: null },
        });
        return count === 1 ? `Resumed ${name}.` : `${title} is already running.`;
      }
      case 'stop': {
        await prisma.strategy.updateMany({
          where: { id: strategy.id, status: { not: 'stopped' } },
          data: { status: 'stopped' },
        });
        const cancelled = await this.cancelProposed(userId, { strategyId: strategy.id });
        return `Stopped ${name}.${cancelled > 0 ? ` ${cancelled} waiting card${cancelled === 1 ? ' was' : 's were'} cancelled.` : ''} Positions it opened stay as they are.`;
      }
    }
  }

  /** Cancels automation's cards still waiting for an answer; returns how many. */
  private async cancelProposed(userId: string, where: Prisma.TradeIntentWhereInput): Promise<number> {
    const waiting = await this.deps.prisma.tradeIntent.findMany({
      where: { userId, ...PROPOSED_BY_AUTOMATION, ...where },
      select: { id: true },
    });
    let cancelled = 0;
    for (const intent of waiting) {
      const update = await this.deps.intents.cancel(intent.id, userId);
      if (update.kind === 'updated') cancelled++;
    }
    return cancelled;
  }

  /** The kill switch: every strategy and monitor stops now, and waiting cards are cancelled. */
  private async stopEverything(userId: string): Promise<string> {
    const { prisma } = this.deps;
    const [strategies, alerts] = await prisma.$transaction([
      prisma.strategy.updateMany({
        where: { userId, status: { not: 'stopped' } },
        data: { status: 'stopped' },
      }),
      prisma.alert.updateMany({ where: { userId, status: 'active' }, data: { status: 'cancelled' } }),
    ]);
    const cancelled = await this.cancelProposed(userId, {});
    this.deps.logger.warn(
      { userId, strategies: strategies.count, alerts: alerts.count },
      'automation kill switch',
    );
    return [
      `Stopped everything: ${strategies.count} strateg${strategies.count === 1 ? 'y' : 'ies'} and ${alerts.count} alert${alerts.count === 1 ? '' : 's'}; ${cancelled} waiting card${cancelled === 1 ? ' was' : 's were'} cancelled.`,
      'Nothing more will be proposed or placed by automation. Orders already at the broker are not touched: say "orders" to see them and "cancel all" to cancel them.',
    ].join('\n');
  }

  private async confirmAuto(target: AutomationTarget, userId: string): Promise<string> {
    const waiting = (
      await this.deps.prisma.strategy.findMany({
        where: { userId, executionMode: 'auto', limitsConfirmedAt: null, status: { not: 'stopped' } },
      })
    ).filter((strategy) => this.matches(strategy, target));
    if (waiting.length === 0)
      return 'No auto strategy of yours waits for that confirmation. Nothing was changed.';
    if (waiting.length > 1)
      return 'That matches more than one strategy: say "confirm auto <id>" with the id from "my strategies".';
    const strategy = waiting[0] as Strategy;
    await this.deps.prisma.strategy.updateMany({
      where: { id: strategy.id, limitsConfirmedAt: null },
      data: { limitsConfirmedAt: this.deps.clock() },
    });
    return `${strategyTitle(strategy)} runs in auto mode now, within the limits you confirmed. I'll tell you about every order it places.`;
  }

  // ------------------------------------------------------------------ monitors

  private async monitor(command: MonitorCommand, request: AutomationRequest): Promise<string> {
    const { prisma } = this.deps;
    const instrument = this.deps.symbols.get(command.symbol);
    if (instrument === undefined) return `I don't know the symbol ${command.symbol}. Nothing was created.`;
    const quote = await this.deps.market.quote({
      assetClass: instrument.assetClass,
      symbol: instrument.symbol,
    });
    const threshold = command.threshold === undefined ? undefined : new Decimal(command.threshold);
    const price = quote.last;
    const breached =
      threshold !== undefined &&
      (command.monitor === 'price_above' || command.monitor === 'take_profit'
        ? price.gte(threshold)
        : command.monitor !== 'trailing_stop' && price.lte(threshold));
    if (breached)
      return `${command.symbol} is already at ${formatUsd(price)}, ${command.monitor === 'price_above' || command.monitor === 'take_profit' ? 'above' : 'below'} ${formatUsd(threshold)}. Nothing was created.`;

    let quantity: Decimal | undefined;
    let connectionId: string | null = null;
    if (command.closePosition) {
      const trader = await this.deps.accounts.traderById(request.userId, request.identityId);
      const broker = await this.deps.brokerFor(trader.account);
      const snapshot = await broker.getAccountSnapshot(trader.account.externalId);
      const held =
        snapshot.positions.find((position) => position.symbol === instrument.symbol)?.quantity ??
        new Decimal(0);
      if (held.lte(0)) return `You hold no ${instrument.symbol} to sell. Nothing was created.`;
      connectionId = trader.account.connectionId;
      if (command.fractionOfPosition !== undefined) {
        const raw = held.mul(command.fractionOfPosition);
        quantity = held.isInteger() ? raw.floor() : raw.toDecimalPlaces(8, Decimal.ROUND_DOWN);
        if (quantity.lte(0))
          return `That is less than one unit of your ${held.toFixed()} ${instrument.symbol}. Nothing was created.`;
      }
    }
    const alert = await prisma.alert.create({
      data: {
        userId: request.userId,
        connectionId,
        kind: command.monitor,
        action: command.closePosition ? 'close_position' : 'notify',
        symbol: instrument.symbol,
        assetClass: instrument.assetClass,
        ...(threshold === undefined ? {} : { threshold: new Prisma.Decimal(threshold.toFixed()) }),
        ...(command.trailFraction === undefined
          ? {}
          : {
              trailFraction: new Prisma.Decimal(command.trailFraction),
              highWaterMark: new Prisma.Decimal(price.toFixed()),
            }),
        ...(quantity === undefined ? {} : { quantity: new Prisma.Decimal(quantity.toFixed()) }),
        platform: request.address.platform,
        workspaceExternalId: request.address.workspaceId,
        chatId: request.address.chatId,
      },
    });
    const action = command.closePosition
      ? " When it triggers, I'll bring you a card to confirm the sale."
      : " I'll tell you when it triggers.";
    return `Alert ${shortId(alert.id)} set: ${describeAlert(alert)} (now ${formatUsd(price)}).${action}`;
  }

  // ------------------------------------------------------------------ backtests

  private async backtest(command: Extract<AutomationCommand, { action: 'backtest' }>): Promise<string> {
    if (command.strategy === 'ai_driven')
      return 'The AI strategy asks the model every day, so it cannot be backtested offline. Try the wheel.';
    // A backtest starts from cash, and a collar only protects shares already held.
    if (command.strategy === 'collar')
      return (
        'The collar protects shares you already hold, and a backtest starts from cash, so it would show no trades. Try "backtest the wheel on ' +
        command.symbol +
        '".'
      );
    const definition = STRATEGY_KINDS[command.strategy];
    const to = this.deps.clock();
    const from = new Date(to.getTime() - command.days * 86_400_000);
    const day = (at: Date) => at.toISOString().slice(0, 10);
    const result = await backtest({
      definition,
      params: this.paramsFor(command),
      symbol: command.symbol,
      market: this.deps.backtestMarket,
      from: day(from),
      to: day(to),
      startingCash: '100000',
      // Limit prices at the mid fill when the mid is reached, as a patient order often does.
      fills: 'midpoint',
    });
    const summary = result.summary;
    const lines = [
      `Backtest of ${definition.title} on ${command.symbol}, ${day(from)} to ${day(to)} on the simulated market, starting with ${formatUsd(summary.startingCash)}:`,
      `  P&L ${formatUsd(summary.totalPnl)} (${summary.returnPercent.toFixed(2)}%), max drawdown ${formatUsd(summary.maxDrawdown)} (${summary.maxDrawdownPercent.toFixed(2)}%)`,
      `  ${summary.tradeCount} trades, premium collected ${formatUsd(summary.premiumCollected)}, ${result.events.length} assignment/expiry events`,
    ];
    const recent = result.trades.slice(-5);
    if (recent.length > 0) lines.push('Last trades:');
    for (const trade of recent)
      lines.push(
        `  ${trade.at.toISOString().slice(0, 10)} ${trade.side} ${formatDecimal(trade.quantity)} ${trade.symbol.replace(/\s+/g, ' ')} at ${formatUsd(trade.price)} (${trade.reason})`,
      );
    const events = result.events.filter((event) => event.kind !== 'notice').slice(-3);
    for (const event of events) lines.push(`  ${event.at.toISOString().slice(0, 10)} ${event.text}`);
    lines.push('Simulated prices, not a forecast. Nothing was placed.');
    return lines.join('\n');
  }
}
