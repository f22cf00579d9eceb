/**
 * Pause, resume and stop from chat, and the kill switch. What a strategy leaves behind is said in
 * the answer: its cards still waiting for an answer are withdrawn (moved to cancelled through the
 * intent state machine, their outbox flag set until their cards show it, and edited before the
 * answer is sent), its orders already at a broker stay working there and are listed with how to
 * cancel them, and its positions stay.
 */
import type { AutomationAnswer, ClosedCard } from '../../core/conversation/automation.js';
import type { AutomationTarget } from '../../core/conversation/commands.js';
import type { Prisma, PrismaClient } from '../../core/db/database.js';
import type { Strategy } from '../../core/db/generated/client.js';
import { formatDecimal, formatUsd } from '../../core/domain/values.js';
import { contractOf, type IntentService } from '../../core/intents/intent-service.js';
import { strategyNotRunningReason } from '../../core/intents/lost-confirmation.js';
import type { Logger } from '../../core/logging/logger.js';
import type { ChannelAddress } from '../../core/messages.js';
import { contractLabel } from '../option-legs.js';
import { cardsWere, describeAlert, shortId } from './desk-words.js';
import { strategyName, strategyTitle } from './strategy-runner.js';

export interface StrategyControlDependencies {
  readonly prisma: PrismaClient;
  readonly intents: IntentService;
  readonly logger: Logger;
}

/** Cards of automation that wait for the user: proposed, or confirmed and waiting for an approver. */
const WAITING_AUTOMATION_CARDS = {
  status: { in: ['proposed' as const, 'awaiting_approval' as const] },
  source: { in: ['strategy' as const, 'alert' as const] },
};

/** Order rows still working at (or on their way to) a broker. */
const WORKING_ORDER_STATUSES = ['pending' as const, 'accepted' as const, 'partially_filled' as const];

function answer(text: string, closedCards: readonly ClosedCard[] = []): AutomationAnswer {
  return { text, closedCards };
}

export class StrategyControls {
  constructor(private readonly deps: StrategyControlDependencies) {}

  matches(strategy: Strategy, target: AutomationTarget): boolean {
    if (target.kind === 'alert') return false;
    if (target.id !== undefined && !shortId(strategy.id).startsWith(target.id.slice(0, 8))) return false;
    if (target.kind !== undefined && strategy.kind !== target.kind) return false;
    if (target.symbol !== undefined && strategy.symbol !== target.symbol) return false;
    return true;
  }

  /** "pause SOFI", "resume the wheel on SOFI", "stop strategy 3f2a1b9c", "stop alert 1a2b3c4d". */
  async control(
    verb: 'pause' | 'resume' | 'stop',
    target: AutomationTarget,
    userId: string,
  ): Promise<AutomationAnswer> {
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
      return answer('Nothing of yours matches that. Say "my strategies" to see them.');
    if (strategies.length + alerts.length > 1)
      return answer(
        `That matches more than one:\n${[
          ...strategies.map((strategy) => `  ${shortId(strategy.id)}  ${strategyTitle(strategy)}`),
          ...alerts.map((alert) => `  ${shortId(alert.id)}  ${describeAlert(alert)}`),
        ].join('\n')}\nSay "${verb} <id>" with one of these ids.`,
      );
    const alert = alerts[0];
    if (alert !== undefined) {
      if (verb !== 'stop')
        return answer('Alerts can only be stopped (say "stop alert <id>"). Nothing was changed.');
      await prisma.alert.updateMany({
        where: { id: alert.id, status: 'active' },
        data: { status: 'cancelled' },
      });
      const closed = await this.withdrawCards(
        userId,
        { source: 'alert', strategyTag: `alert:${alert.id}:close` },
        'its alert was stopped',
      );
      return answer(
        `Stopped the alert ${describeAlert(alert)}.${closed.length > 0 ? ' Its waiting card was withdrawn.' : ''}`,
        closed,
      );
    }
    const strategy = strategies[0] as Strategy;
    switch (verb) {
      case 'pause':
        return this.pause(strategy, userId);
      case 'resume':
        return this.resume(strategy);
      case 'stop':
        return this.stop(strategy, userId);
    }
  }

  private async pause(strategy: Strategy, userId: string): Promise<AutomationAnswer> {
    const { count } = await this.deps.prisma.strategy.updateMany({
      where: { id: strategy.id, status: { in: ['active', 'halted'] } },
      data: { status: 'paused' },
    });
    if (count === 0) return answer(`${strategyTitle(strategy)} is already paused.`);
    // Paused first: a Confirm racing this finds the strategy not running and places nothing.
    const closed = await this.withdrawCards(
      userId,
      { strategyId: strategy.id },
      strategyNotRunningReason('paused'),
    );
    return answer(
      [
        `Paused ${strategyName(strategy)}. Say "resume ${strategy.symbol}" to continue.`,
        ...this.withdrawn(closed, 'it asks again when resumed'),
        ...(await this.workingOrders(strategy)),
      ].join('\n'),
      closed,
    );
  }

  private async resume(strategy: Strategy): Promise<AutomationAnswer> {
    if (strategy.executionMode === 'auto' && strategy.limitsConfirmedAt === null)
      return answer(
        `${strategyTitle(strategy)} waits for your "confirm auto ${shortId(strategy.id)}". Nothing was changed.`,
      );
    const { count } = await this.deps.prisma.strategy.updateMany({
      where: { id: strategy.id, status: { in: ['paused', 'halted'] } },
      // A halt's drawdown is measured afresh from here.
      data: { status: 'active', haltReason: null, peakEquity: null },
    });
    return answer(
      count === 1 ? `Resumed ${strategyName(strategy)}.` : `${strategyTitle(strategy)} is already running.`,
    );
  }

  private async stop(strategy: Strategy, userId: string): Promise<AutomationAnswer> {
    await this.deps.prisma.strategy.updateMany({
      where: { id: strategy.id, status: { not: 'stopped' } },
      data: { status: 'stopped' },
    });
    const closed = await this.withdrawCards(
      userId,
      { strategyId: strategy.id },
      strategyNotRunningReason('stopped'),
    );
    return answer(
      [
        `Stopped ${strategyName(strategy)}. Positions it opened stay as they are.`,
        ...this.withdrawn(closed),
        ...(await this.workingOrders(strategy)),
      ].join('\n'),
      closed,
    );
  }

  /** The kill switch: every strategy and monitor stops now, and waiting cards are withdrawn. */
  async stopEverything(userId: string): Promise<AutomationAnswer> {
    const { prisma } = this.deps;
    const [strategies, alerts] = await prisma.$transaction([
      prisma.strategy.updateMany({
        where: { userId, status: { not: 'stopped' } },
        data: { status: 'stopped' },
      }),
      prisma.alert.updateMany({ where: { userId, status: 'active' }, data: { status: 'cancelled' } }),
    ]);
    const closed = await this.withdrawCards(userId, {}, 'automation was stopped');
    this.deps.logger.warn(
      { userId, strategies: strategies.count, alerts: alerts.count },
      'automation kill switch',
    );
    return answer(
      [
        `Stopped everything: ${strategies.count} strateg${strategies.count === 1 ? 'y' : 'ies'} and ${alerts.count} alert${alerts.count === 1 ? '' : 's'}; ${closed.length} waiting ${cardsWere(closed.length)} cancelled.`,
        'Nothing more will be proposed or placed by automation. Orders already at the broker are not touched: say "orders" to see them and "cancel all" to cancel them.',
      ].join('\n'),
      closed,
    );
  }

  /** "Its 2 waiting cards were withdrawn (nothing was sent)." (nothing when there were none). */
  private withdrawn(closed: readonly ClosedCard[], after?: string): string[] {
    if (closed.length === 0) return [];
    const what = closed.length === 1 ? 'Its waiting card was' : `Its ${closed.length} waiting cards were`;
    return [`${what} withdrawn (nothing was sent)${after ? `; ${after}` : ''}.`];
  }

  /**
   * Withdraws automation's cards that still wait for an answer; returns them to edit, each in the
   * chat it was shown in. A card answered meanwhile is left to its answer.
   */
  private async withdrawCards(
    userId: string,
    where: Prisma.TradeIntentWhereInput,
    reason: string,
  ): Promise<ClosedCard[]> {
    const waiting = await this.deps.prisma.tradeIntent.findMany({
      where: { userId, ...WAITING_AUTOMATION_CARDS, ...where },
      select: { id: true, platform: true, workspaceExternalId: true, chatId: true, threadId: true },
      orderBy: { createdAt: 'asc' },
    });
    const closed: ClosedCard[] = [];
    for (const intent of waiting) {
      const update = await this.deps.intents.withdraw(intent.id, userId, reason);
      if (update === undefined) continue;
      const address: ChannelAddress = {
        platform: intent.platform,
        workspaceId: intent.workspaceExternalId,
        chatId: intent.chatId,
        ...(intent.threadId === null ? {} : { threadId: intent.threadId }),
      };
      closed.push({ address, update });
    }
    return closed;
  }

  /** What the strategy has working at a broker, and how to cancel it: it is not cancelled for them. */
  private async workingOrders(strategy: Strategy): Promise<string[]> {
    const orders = await this.deps.prisma.order.findMany({
      where: { intent: { strategyId: strategy.id }, status: { in: WORKING_ORDER_STATUSES } },
      include: { intent: true },
      orderBy: { createdAt: 'asc' },
    });
    if (orders.length === 0) return ['It has no orders working at a broker.'];
    const lines = orders.map((order) => {
      const contract = contractOf(order.intent);
      const what = contract === undefined ? order.symbol : contractLabel(contract);
      const size = formatDecimal(order.quantity?.toString() ?? '0');
      const price = order.limitPrice === null ? '' : `, limit ${formatUsd(order.limitPrice.toString())}`;
      return `  ${order.intentId.slice(0, 8)}  ${order.side} ${size} ${what}${price} (${order.status.replace('_', ' ')})`;
    });
    return [
      orders.length === 1
        ? 'Its order at the broker stays working:'
        : 'Its orders at the broker stay working:',
      ...lines,
      `Say "cancel <id>" to cancel one, or "cancel all" to cancel all your open orders.`,
    ];
  }
}
