/**
 * Automation from chat: create, list, pause, resume and stop strategies; price alerts and stop
 * monitors; the kill switch; backtests. Every answer is one message, and a refusal changes nothing.
 * Pause, resume, stop and the kill switch are strategy-controls.ts; backtests desk-backtest.ts.
 *
 * Auto mode places orders without a card, so it starts only after the user confirmed its limits in
 * their own words ("confirm auto 3f2a1b2c"); until then the strategy exists but is not evaluated.
 */

import type { Accounts, TradingAccount } from '../../core/accounts/accounts.js';
import type { BrokerLookup } from '../../core/brokers/broker.js';
import type {
  AutomationAnswer,
  AutomationDesk,
  AutomationRequest,
} from '../../core/conversation/automation.js';
import type { AutomationCommand, AutomationTarget } from '../../core/conversation/commands.js';
import { Prisma, type PrismaClient } from '../../core/db/database.js';
import type { Strategy } from '../../core/db/generated/client.js';
import { Decimal, formatDecimal, formatUsd } from '../../core/domain/values.js';
import type { IntentService } from '../../core/intents/intent-service.js';
import type { Logger } from '../../core/logging/logger.js';
import type { SymbolResolver } from '../../core/market-data/instruments.js';
import type { MarketDataProvider } from '../../core/market-data/market-data.js';
import { strategyKind } from '../kinds.js';
import { lotsOf, SHARES_PER_CONTRACT } from '../option-legs.js';
import type { BacktestMarket } from '../simulation/backtest-market.js';
import { answerBacktest } from './desk-backtest.js';
import { describeAlert, shortId } from './desk-words.js';
import { StrategyControls } from './strategy-controls.js';
import { paramsFor } from './strategy-params.js';
import { strategyTitle } from './strategy-runner.js';

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

interface SharesHeld {
  readonly held: Decimal;
  /** Whole contracts' worth (100 shares each). */
  readonly lots: number;
}

/** "You hold 150 SOFI shares: 1 contract's worth (up to 2 as you buy more)." */
function coveredNow(symbol: string, shares: SharesHeld, params: unknown): string {
  const asked = (params as { maxLots?: number }).maxLots;
  const more = asked !== undefined && asked > shares.lots ? ` (up to ${asked} as you buy more)` : '';
  return `You hold ${formatDecimal(shares.held)} ${symbol} shares: ${shares.lots} contract${shares.lots === 1 ? "'s" : "s'"} worth${more}.`;
}

/** An answer that closes no card. */
function said(text: string): AutomationAnswer {
  return { text, closedCards: [] };
}

export class StrategyDesk implements AutomationDesk {
  private readonly controls: StrategyControls;

  constructor(private readonly deps: AutomationDeskDependencies) {
    this.controls = new StrategyControls(deps);
  }

  async perform(command: AutomationCommand, request: AutomationRequest): Promise<AutomationAnswer> {
    switch (command.action) {
      case 'create':
        return said(await this.create(command, request));
      case 'list':
        return said(await this.list(request.userId));
      case 'pause':
      case 'resume':
      case 'stop':
        return this.controls.control(command.action, command.target, request.userId);
      case 'stop_everything':
        return this.controls.stopEverything(request.userId);
      case 'confirm_auto':
        return said(await this.confirmAuto(command.target, request.userId));
      case 'monitor':
        return said(await this.monitor(command, request));
      case 'backtest':
        return said(await answerBacktest(this.deps, command, request.userId));
    }
  }

  // ------------------------------------------------------------------ create

  private async create(command: CreateCommand, request: AutomationRequest): Promise<string> {
    const { prisma } = this.deps;
    const definition = strategyKind(command.strategy);
    const instrument = this.deps.symbols.get(command.symbol);
    if (instrument === undefined) return `I don't know the symbol ${command.symbol}. Nothing was created.`;
    if (definition.needsOptionChain && instrument.assetClass !== 'equity')
      return `${definition.title} trades options, and ${command.symbol} has none. Nothing was created.`;
    if (command.strategy === 'ai_driven' && command.limits.maxPosition === undefined)
      return `Tell me the most it may hold, e.g. "run ai on ${command.symbol}, max position 50". Nothing was created.`;
    const parsed = definition.paramsSchema.safeParse(paramsFor(command, this.deps.symbols));
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
    // A covered strategy without the shares would only say every day that it has nothing to do.
    const shares = definition.coversShares ? await this.sharesHeld(account, command.symbol) : undefined;
    if (shares !== undefined && shares.lots === 0)
      return `A ${definition.title.replace(/^the /, '')} on ${command.symbol} needs ${SHARES_PER_CONTRACT} shares per contract; you hold ${formatDecimal(shares.held)}. Nothing was created.`;

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
    const held = shares === undefined ? '' : ` ${coveredNow(command.symbol, shares, parsed.data)}`;
    const head = `${strategyTitle(strategy)} (${shortId(strategy.id)}) on ${where}: ${definition.describe(parsed.data)}.${held}`;
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

  /** Shares of `symbol` the account holds, and how many contracts they cover. */
  private async sharesHeld(account: TradingAccount, symbol: string): Promise<SharesHeld> {
    const broker = await this.deps.brokerFor(account);
    const snapshot = await broker.getAccountSnapshot(account.externalId);
    const held = snapshot.positions
      .filter((position) => position.assetClass === 'equity' && position.symbol === symbol)
      .reduce((sum, position) => sum.plus(position.quantity), new Decimal(0));
    return { held, lots: lotsOf(held) };
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

  private async confirmAuto(target: AutomationTarget, userId: string): Promise<string> {
    const waiting = (
      await this.deps.prisma.strategy.findMany({
        where: { userId, executionMode: 'auto', limitsConfirmedAt: null, status: { not: 'stopped' } },
      })
    ).filter((strategy) => this.controls.matches(strategy, target));
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
}
