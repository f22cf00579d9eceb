/**
 * One check of one price alert or stop monitor. A triggered monitor's closing order is proposed
 * before the monitor is marked triggered, under an intent id derived from the monitor: a run cut
 * off between the two proposes nothing new when it runs again, and still marks it.
 */

import type { Accounts } from '../../core/accounts/accounts.js';
import type { BrokerLookup } from '../../core/brokers/broker.js';
import { Prisma, type PrismaClient } from '../../core/db/database.js';
import type { Alert } from '../../core/db/generated/client.js';
import { Decimal } from '../../core/domain/values.js';
import type { IntentService } from '../../core/intents/intent-service.js';
import type { Logger } from '../../core/logging/logger.js';
import type { MarketDataProvider } from '../../core/market-data/market-data.js';
import type { ChannelAddress } from '../../core/messages.js';
import { evaluateMonitor, type Monitor } from '../monitors/monitors.js';
import { monitorIntentId } from './automation-ids.js';
import type { Outbox } from './outbox.js';

export interface MonitorRunnerDependencies {
  readonly prisma: PrismaClient;
  readonly accounts: Accounts;
  readonly intents: IntentService;
  readonly brokerFor: BrokerLookup;
  readonly market: MarketDataProvider;
  readonly outbox: Outbox;
  readonly logger: Logger;
  readonly clock: () => Date;
}

function decimal(value: { toString(): string } | null): Decimal | null {
  return value === null ? null : new Decimal(value.toString());
}

export function monitorOf(alert: Alert): Monitor {
  return {
    id: alert.id,
    kind: alert.kind,
    action: alert.action,
    symbol: alert.symbol,
    assetClass: alert.assetClass,
    threshold: decimal(alert.threshold),
    trailFraction: decimal(alert.trailFraction),
    highWaterMark: decimal(alert.highWaterMark),
    quantity: decimal(alert.quantity),
  };
}

export function alertAddress(
  alert: Pick<Alert, 'platform' | 'workspaceExternalId' | 'chatId'>,
): ChannelAddress {
  return { platform: alert.platform, workspaceId: alert.workspaceExternalId, chatId: alert.chatId };
}

export class MonitorRunner {
  constructor(private readonly deps: MonitorRunnerDependencies) {}

  /** Checks `alertId` once against the current price; returns whether it fired now. */
  async check(alertId: string): Promise<boolean> {
    const { prisma, market, outbox } = this.deps;
    const alert = await prisma.alert.findUnique({ where: { id: alertId } });
    if (alert === null || alert.status !== 'active') return false;
    const address = alertAddress(alert);
    const quoted = alert.assetClass === 'option' ? 'equity' : alert.assetClass;
    const quote = await market.quote({ assetClass: quoted, symbol: alert.symbol });
    const account =
      alert.action === 'close_position'
        ? await this.deps.accounts.automationAccount(alert.userId, alert.connectionId)
        : undefined;
    let positionQuantity = new Decimal(0);
    if (account !== undefined) {
      const broker = await this.deps.brokerFor(account);
      const snapshot = await broker.getAccountSnapshot(account.externalId);
      positionQuantity =
        snapshot.positions.find((held) => held.symbol === alert.symbol)?.quantity ?? positionQuantity;
    }
    const evaluation = evaluateMonitor(monitorOf(alert), {
      price: quote.last,
      bid: quote.bid,
      ask: quote.ask,
      positionQuantity,
      at: this.deps.clock(),
    });
    if (!evaluation.triggered) {
      if (evaluation.invalid !== undefined) {
        const invalid = evaluation.invalid;
        await outbox.transaction(async (tx, told) => {
          const { count } = await tx.alert.updateMany({
            where: { id: alert.id, status: 'active' },
            data: { status: 'cancelled' },
          });
          if (count === 1)
            await told.say(
              address,
              `Your ${alert.symbol} alert was cancelled: ${invalid}.`,
              `invalid:${alert.id}`,
            );
        });
        return false;
      }
      const mark = evaluation.highWaterMark;
      if (mark !== null && (alert.highWaterMark === null || !mark.eq(alert.highWaterMark.toString())))
        await prisma.alert.updateMany({
          where: { id: alert.id, status: 'active' },
          data: { highWaterMark: new Prisma.Decimal(mark.toFixed()) },
        });
      return false;
    }

    // The kill switch (or a cancel) may have come while the price and position were read.
    const current = await prisma.alert.findUnique({ where: { id: alert.id }, select: { status: true } });
    if (current?.status !== 'active') return false;
    let closing: string | undefined;
    if (evaluation.closeOrder !== undefined && account !== undefined) {
      closing = await this.proposeClose(alert, evaluation.closeOrder, account);
    }
    // Marked triggered and told in one transaction: a crash cannot leave a fired alert untold.
    const fired = await outbox.transaction(async (tx, told) => {
      const { count } = await tx.alert.updateMany({
        where: { id: alert.id, status: 'active' },
        data: {
          status: 'triggered',
          triggeredAt: this.deps.clock(),
          triggerPrice: new Prisma.Decimal(evaluation.triggerPrice.toFixed()),
          ...(evaluation.highWaterMark === null
            ? {}
            : { highWaterMark: new Prisma.Decimal(evaluation.highWaterMark.toFixed()) }),
        },
      });
      if (count === 1)
        await told.say(
          address,
          [evaluation.notice, closing].filter(Boolean).join(' '),
          `triggered:${alert.id}`,
        );
      return count === 1;
    });
    if (fired) this.deps.logger.info({ alertId: alert.id, userId: alert.userId }, 'monitor triggered');
    return fired;
  }

  /** The closing order: a card (ask) or placed at once (auto). Returns a sentence for the notice. */
  private async proposeClose(
    alert: Alert,
    order: NonNullable<Extract<ReturnType<typeof evaluateMonitor>, { triggered: true }>['closeOrder']>,
    account: NonNullable<Awaited<ReturnType<Accounts['automationAccount']>>>,
  ): Promise<string | undefined> {
    const { prisma, intents, outbox } = this.deps;
    const intentId = monitorIntentId(alert.id);
    const address = alertAddress(alert);
    const existing = await prisma.tradeIntent.findUnique({
      where: { id: intentId },
      select: { status: true },
    });
    if (existing === null) {
      const identity = await prisma.channelIdentity.findFirst({
        where: { userId: alert.userId, platform: alert.platform },
        orderBy: { createdAt: 'asc' },
        select: { id: true },
      });
      const trader = await this.deps.accounts.traderById(alert.userId, identity?.id ?? '');
      const outcome = await intents.propose(
        {
          kind: 'order',
          side: 'sell',
          assetClass: order.assetClass,
          symbol: order.symbol,
          quantity: order.quantity.toFixed(),
          orderType: 'market',
          timeInForce: order.timeInForce,
        },
        {
          userId: alert.userId,
          identityId: trader.identityId,
          address,
          source: 'alert',
          trader: { ...trader, account },
          automation: { intentId, tag: order.tag },
        },
      );
      if (outcome.kind === 'refused') return `I could not propose the sale: ${outcome.text}`;
    } else if (existing.status !== 'proposed') {
      return undefined;
    }
    if (alert.executionMode === 'auto') {
      const update = await intents.confirm(intentId, alert.userId);
      return update.kind === 'notice' ? update.text : update.text;
    }
    await outbox.card(address, intentId, undefined);
    return `Confirm below to sell ${order.quantity.toFixed()} ${order.symbol}.`;
  }
}
