/**
 * Follows orders at the brokers after they were placed: working orders are asked about every few
 * seconds and their fills reported back to the user (except at brokers that report their own
 * fills); placements whose outcome stayed unknown are looked for (`reconcilePlacement`) until found
 * or given up. What differs between brokers comes from their capabilities, never their names.
 *
 * Runs in the background pass. Never places anything: a placement that cannot be found is
 * reported as not placed, and the user decides whether to ask again.
 */

import {
  type Broker,
  type BrokerLookup,
  type BrokerOrder,
  type BrokerProvider,
  brokerName,
  type PlaceOrderRequest,
} from '../brokers/broker.js';
import type { PrismaClient } from '../db/database.js';
import { Decimal } from '../domain/values.js';
import type { Logger } from '../logging/logger.js';
import { occSymbol } from '../market-data/providers/options.js';
import { contractOf, type IntentRow, type IntentService, type IntentUpdate } from './intent-service.js';

export interface OrderTrackerSettings {
  /** How often one working order is asked about. */
  readonly pollIntervalMs: number;
  /** How long after sending a placement with no answer is first looked for (an attempt may still be running). */
  readonly reconcileAfterMs: number;
  /** How long a placement with an unknown outcome is looked for before it is reported as not placed. */
  readonly reconcileForMs: number;
  /** Orders asked about per pass (the brokers' rate limits are per connection; this bounds the pass). */
  readonly batchSize: number;
}

export const DEFAULT_ORDER_TRACKER_SETTINGS: OrderTrackerSettings = {
  pollIntervalMs: 5_000,
  reconcileAfterMs: 60_000,
  reconcileForMs: 15 * 60_000,
  batchSize: 100,
};

export interface OrderTrackerDependencies {
  readonly prisma: PrismaClient;
  readonly brokerFor: BrokerLookup;
  readonly intents: IntentService;
  readonly logger: Logger;
  readonly settings?: Partial<OrderTrackerSettings>;
  readonly clock?: () => Date;
}

/** Something to tell the user about an order: its intent (where to say it) and the update. */
export interface TrackedUpdate {
  readonly intent: IntentRow;
  readonly update: IntentUpdate;
}

export class OrderTracker {
  private readonly settings: OrderTrackerSettings;
  /**
   * Providers whose brokers report their own fills (`reportsOwnFills`), learned from the first of
   * their working orders met: capabilities are a provider's, the same for every connection.
   */
  private readonly selfReporting = new Set<BrokerProvider>();

  constructor(private readonly deps: OrderTrackerDependencies) {
    this.settings = { ...DEFAULT_ORDER_TRACKER_SETTINGS, ...deps.settings };
  }

  private now(): Date {
    return this.deps.clock?.() ?? new Date();
  }

  /** One round: working orders polled, unknown placements looked for. Returns what changed. */
  async pass(): Promise<TrackedUpdate[]> {
    return [...(await this.pollWorkingOrders()), ...(await this.reconcilePlacements())];
  }

  /**
   * Working orders at brokers that do not report their own fills. A batch that met such a broker
   * for the first time is followed by another without its orders, so they never crowd the others
   * out (at most once per such provider in the life of the process).
   */
  private async pollWorkingOrders(): Promise<TrackedUpdate[]> {
    const updates: TrackedUpdate[] = [];
    for (;;) {
      const known = this.selfReporting.size;
      updates.push(...(await this.pollBatch()));
      if (this.selfReporting.size === known) return updates;
    }
  }

  private async pollBatch(): Promise<TrackedUpdate[]> {
    const now = this.now();
    const due = await this.deps.prisma.order.findMany({
      where: {
        provider: { notIn: [...this.selfReporting] },
        // A cancel the broker has not finished is followed too, until it ends cancelled or filled.
        status: { in: ['accepted', 'partially_filled', 'cancel_requested'] },
        brokerOrderId: { not: null },
        OR: [
          { lastCheckedAt: null },
          { lastCheckedAt: { lt: new Date(now.getTime() - this.settings.pollIntervalMs) } },
        ],
      },
      include: { brokerAccount: { select: { externalId: true } } },
      orderBy: { lastCheckedAt: { sort: 'asc', nulls: 'first' } },
      take: this.settings.batchSize,
    });
    const updates: TrackedUpdate[] = [];
    for (const order of due) {
      const logged = { orderId: order.id, intentId: order.intentId, provider: order.provider };
      try {
        const broker = await this.deps.brokerFor(order);
        if (broker.reportsOwnFills) {
          this.selfReporting.add(order.provider);
          continue;
        }
        const reported = await broker.getOrder(
          order.brokerAccount?.externalId ?? '',
          order.brokerOrderId ?? '',
        );
        if (reported === undefined) {
          await this.touch(order.id);
          continue;
        }
        const changed =
          reported.status !== order.status ||
          !reported.filledQuantity.equals(new Decimal(order.filledQuantity.toString()));
        if (!changed) {
          await this.touch(order.id);
          continue;
        }
        const update = await this.deps.intents.applyBrokerOrder({
          ...reported,
          clientOrderId: order.clientOrderId,
        });
        updates.push({ intent: await this.intentOf(order.intentId), update });
      } catch (error) {
        // A broker that is down is asked again next interval; its circuit breaker keeps that cheap.
        this.deps.logger.warn({ ...logged, err: error }, 'could not read an order at its broker');
        await this.touch(order.id);
      }
    }
    return updates;
  }

  /** Placements with no answer: found → applied; still missing after the window → told as not placed or unclear, as sure as the broker's lookup. */
  private async reconcilePlacements(): Promise<TrackedUpdate[]> {
    const now = this.now();
    const due = await this.deps.prisma.order.findMany({
      where: {
        status: 'pending',
        brokerOrderId: null,
        intent: { status: 'submitting' },
        submittedAt: { lt: new Date(now.getTime() - this.settings.reconcileAfterMs) },
        OR: [
          { lastCheckedAt: null },
          { lastCheckedAt: { lt: new Date(now.getTime() - this.settings.pollIntervalMs) } },
        ],
      },
      include: { intent: true, brokerAccount: { select: { externalId: true } } },
      take: this.settings.batchSize,
    });
    const updates: TrackedUpdate[] = [];
    for (const order of due) {
      const sentAt = order.submittedAt ?? order.createdAt;
      const logged = { orderId: order.id, intentId: order.intentId, provider: order.provider };
      let broker: Broker;
      let found: BrokerOrder | undefined;
      try {
        broker = await this.deps.brokerFor(order);
        found = await broker.reconcilePlacement(this.requestOf(order, order.intent), sentAt);
      } catch (error) {
        this.deps.logger.warn({ ...logged, err: error }, 'could not look for an unclear placement');
        // Still unanswerable after the window (the broker stays down, or several orders match and
        // none can be claimed): the user is told it is unclear, never that it was not placed.
        if (now.getTime() - sentAt.getTime() >= this.settings.reconcileForMs) {
          const update = await this.deps.intents.abandonPlacement(order.id, this.unclearText(order));
          if (update !== undefined) updates.push({ intent: await this.intentOf(order.intentId), update });
        } else {
          await this.touch(order.id);
        }
        continue;
      }
      if (found !== undefined) {
        this.deps.logger.info({ ...logged, brokerOrderId: found.brokerOrderId }, 'unclear placement found');
        const update = await this.deps.intents.applyBrokerOrder({
          ...found,
          clientOrderId: order.clientOrderId,
        });
        updates.push({ intent: order.intent, update });
        continue;
      }
      if (now.getTime() - sentAt.getTime() < this.settings.reconcileForMs) {
        await this.touch(order.id);
        continue;
      }
      const text = this.notFoundText(broker, order);
      this.deps.logger.warn(logged, 'unclear placement not found; reported to the user');
      const update = await this.deps.intents.abandonPlacement(order.id, text);
      if (update !== undefined) updates.push({ intent: await this.intentOf(order.intentId), update });
    }
    return updates;
  }

  /**
   * What to tell the user when a placement was not found, as sure as the broker's lookup is: a
   * lookup by client order id answers authoritatively; matching and on-chain following are best
   * effort.
   */
  private notFoundText(
    broker: Broker,
    order: { provider: BrokerProvider; side: string; symbol: string },
  ): string {
    const name = brokerName(order.provider);
    switch (broker.placementLookup) {
      case 'on_chain':
        return `I could not confirm that your swap of ${order.symbol} reached the network, and this server has no record of sending it: it was most likely not sent. Nothing was resent; check your wallet's activity before asking again.`;
      case 'reconciliation':
        // Matching by content is best effort: not found is not proof (the issue that found this:
        // an order reported "not placed" filled).
        return this.unclearText(order);
      case 'client_order_id':
        return `${name} never received your order to ${order.side} ${order.symbol}: nothing was placed and nothing was resent. Ask again if you still want it.`;
    }
  }

  /** The outcome cannot be known from here: say so, and what the user should check. */
  private unclearText(order: { provider: BrokerProvider; side: string; symbol: string }): string {
    const name = brokerName(order.provider);
    return `I could not confirm whether your order to ${order.side} ${order.symbol} reached ${name}: ${name} never answered it clearly, and I cannot tell it apart among the account's orders. Nothing was resent. Check your ${name} orders before placing it again: if it is there, it was placed.`;
  }

  /** The request as it was sent, rebuilt from the order row (what the matching compares). */
  private requestOf(
    order: Awaited<ReturnType<PrismaClient['order']['findFirstOrThrow']>> & {
      brokerAccount: { externalId: string } | null;
    },
    intent: IntentRow,
  ): PlaceOrderRequest {
    const contract = contractOf(intent);
    const decimal = (value: { toString(): string } | null) =>
      value === null ? undefined : new Decimal(value.toString());
    return {
      accountId: order.brokerAccount?.externalId ?? '',
      clientOrderId: order.clientOrderId,
      side: order.side,
      assetClass: order.assetClass,
      symbol: contract ? occSymbol(contract) : order.symbol,
      option: contract,
      quantity: decimal(order.quantity),
      notional: decimal(order.notional),
      orderType: order.orderType,
      limitPrice: decimal(order.limitPrice),
      stopPrice: decimal(order.stopPrice),
      timeInForce: order.timeInForce,
    };
  }

  private async touch(orderId: string): Promise<void> {
    await this.deps.prisma.order.update({ where: { id: orderId }, data: { lastCheckedAt: this.now() } });
  }

  private async intentOf(intentId: string): Promise<IntentRow> {
    return this.deps.prisma.tradeIntent.findUniqueOrThrow({ where: { id: intentId } });
  }
}
