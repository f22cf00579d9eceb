/**
 * Cancelling working orders from chat. "cancel all" (typed) and every cancel the LLM asks for show
 * a card listing the orders first; only the requester's Confirm on it cancels, once, before it
 * expires, and only the orders it listed. The request lives in `cancel_requests`, so a restart or
 * a press handled by another process finds it; the decision is one conditional update that exactly
 * one press wins. A typed "cancel <id>" names one order and cancels it at once.
 */
import type { Trader } from '../accounts/accounts.js';
import { AuditLog } from '../audit/audit-log.js';
import { brokerName } from '../brokers/broker.js';
import type { Prisma, PrismaClient } from '../db/database.js';
import { knownTimeZone } from '../domain/time-zones.js';
import { describeBrokerFailure } from '../intents/broker-failures.js';
import type { IntentUpdate } from '../intents/intent-service.js';
import { describeCancel } from '../intents/intent-updates.js';
import {
  ACTION_CANCEL_ORDERS,
  type ChannelAddress,
  type InboundAction,
  type OrdersActionVerb,
} from '../messages.js';
import type { ActionDependencies } from './account-actions.js';
import { type ListedRequest, MAX_LISTED_ORDERS, renderCancelCard } from './cancel-card.js';
import type { InboxTicket } from './inbox.js';

/** Who asked for a cancel: the user's own words, or the LLM on their behalf (always a card). */
export type CancelOrigin = 'user' | 'model';

const OPEN_STATUSES = ['accepted', 'partially_filled'] as const;

const listedOrderInclude = {
  brokerAccount: true,
  intent: { select: { mode: true, positionEffect: true } },
} as const;
type OrderRow = Prisma.OrderGetPayload<{ include: typeof listedOrderInclude }>;

const NOT_YOURS = 'Only the person who asked for this can answer it. Nothing was changed.';

export class OrderCancels {
  private readonly audit: AuditLog;
  private readonly clock: () => Date;

  constructor(
    private readonly deps: ActionDependencies,
    /** Edits a cancelled order's own card (Conversation.deliverUpdate). */
    private readonly deliverUpdate: (address: ChannelAddress, update: IntentUpdate) => Promise<void>,
  ) {
    this.audit = new AuditLog(deps.prisma);
    this.clock = deps.clock ?? (() => new Date());
  }

  /**
   * "cancel all", "cancel <id>": a typed id cancels that one order at once; "all", and anything
   * the model asks for, shows the card. Returns the answer's words, or the card it showed.
   */
  async request(
    target: string,
    userId: string,
    address: ChannelAddress,
    origin: CancelOrigin,
  ): Promise<string | { readonly card: string }> {
    const open = await this.deps.prisma.order.findMany({
      where: {
        intent: { userId },
        status: { in: [...OPEN_STATUSES] },
        brokerOrderId: { not: null },
      },
      include: listedOrderInclude,
      orderBy: { createdAt: 'asc' },
    });
    // "cancel 3f2a": the intent id's first characters, as cards and answers show them.
    const chosen =
      target === 'all' ? open : open.filter((order) => order.intentId.startsWith(target.toLowerCase()));
    if (chosen.length === 0)
      return target === 'all' ? 'You have no open orders to cancel.' : `No open order matches "${target}".`;
    if (target !== 'all' && origin === 'user')
      return (await this.cancelEach(chosen, userId, address)).join('\n');
    return this.showCard(chosen, userId, address);
  }

  /** Stores the request and shows its card. */
  private async showCard(
    orders: readonly OrderRow[],
    userId: string,
    address: ChannelAddress,
  ): Promise<{ readonly card: string }> {
    const now = this.clock();
    const listed = orders.slice(0, MAX_LISTED_ORDERS);
    // The next number of the user's cards (a crash before the create only skips one).
    const { lastCardNumber, timezone } = await this.deps.prisma.user.update({
      where: { id: userId },
      data: { lastCardNumber: { increment: 1 } },
      select: { lastCardNumber: true, timezone: true },
    });
    const request = await this.deps.prisma.cancelRequest.create({
      data: {
        userId,
        cardNumber: lastCardNumber,
        platform: address.platform,
        workspaceExternalId: address.workspaceId,
        chatId: address.chatId,
        orderIds: listed.map((order) => order.id),
        expiresAt: new Date(now.getTime() + this.deps.intents.confirmationTtlSeconds * 1000),
      },
    });
    const card = renderCancelCard(request, listed, {
      now,
      timeZone: timezone,
      more: orders.length - listed.length,
    });
    const sent = await this.deps
      .channelFor(address.platform)
      .send(address, { kind: 'card', card, audience: 'requester' });
    await this.deps.prisma.cancelRequest.update({
      where: { id: request.id },
      data: { cardMessageId: sent.messageId },
    });
    return { card: `#${lastCardNumber}` };
  }

  /**
   * A press on the card. Only the requester's, only while open and unexpired, and only one: the
   * conditional update below decides, whatever the number of presses or processes. A replayed
   * press (its first attempt crashed after confirming) finishes the cancels it started.
   */
  async answer(
    press: { readonly verb: OrdersActionVerb; readonly requestId: string },
    message: InboundAction,
    trader: Trader | undefined,
    ticket: InboxTicket | undefined,
  ): Promise<void> {
    const channel = this.deps.channelFor(message.address.platform);
    const tell = (text: string) => channel.notify(message.address, message.sender, text);
    if (trader === undefined) return tell(NOT_YOURS);
    const { prisma } = this.deps;
    const request = await prisma.cancelRequest.findUnique({ where: { id: press.requestId } });
    if (request === null) return tell('That card is no longer valid. Nothing was changed.');
    if (request.userId !== trader.userId) {
      await this.audit.record({
        type: 'orders.cancel_refused',
        actorKind: 'user',
        actorId: trader.userId,
        data: { cancelRequestId: request.id, reason: 'not the requester' },
      });
      return tell(NOT_YOURS);
    }
    const now = this.clock();
    const decision = press.verb === ACTION_CANCEL_ORDERS ? 'confirmed' : 'kept';
    const claimed = await prisma.cancelRequest.updateMany({
      where: { id: request.id, userId: trader.userId, status: 'open', expiresAt: { gt: now } },
      data: { status: decision, decidedAt: now },
    });
    if (claimed.count === 1) {
      await this.audit.record({
        type: `orders.cancel_${decision}`,
        actorKind: 'user',
        actorId: trader.userId,
        userId: trader.userId,
        data: { cancelRequestId: request.id, orders: request.orderIds.length },
      });
      const decided = { ...request, status: decision, decidedAt: now } as const;
      if (decision === 'kept') return this.showState(decided, message);
      return this.cancelListed(decided, message);
    }
    return this.explainLost(request.id, decision, message, ticket);
  }

  /** A press that did not win: the card expired, or it was answered already. */
  private async explainLost(
    requestId: string,
    decision: 'confirmed' | 'kept',
    message: InboundAction,
    ticket: InboxTicket | undefined,
  ): Promise<void> {
    const { prisma } = this.deps;
    const tell = (text: string) =>
      this.deps.channelFor(message.address.platform).notify(message.address, message.sender, text);
    const now = this.clock();
    const current = await prisma.cancelRequest.findUniqueOrThrow({ where: { id: requestId } });
    if (current.status === 'open') {
      await prisma.cancelRequest.updateMany({
        where: { id: requestId, status: 'open', expiresAt: { lte: now } },
        data: { status: 'expired', decidedAt: now },
      });
      await this.showState({ ...current, status: 'expired' }, message);
      return tell(
        'That card expired: nothing was cancelled. Say "cancel all" to see your open orders again.',
      );
    }
    if (
      current.status === 'confirmed' &&
      current.doneAt === null &&
      decision === 'confirmed' &&
      ticket?.replayed
    ) {
      this.deps.logger.info(
        { cancelRequestId: requestId },
        'replayed press: finishing the cancels it confirmed',
      );
      return this.cancelListed(current, message);
    }
    // Expired by the background pass, whose edit of this card may have failed: show it now.
    if (current.status === 'expired') await this.showState(current, message);
    return tell(
      current.status === 'confirmed'
        ? 'That card was already confirmed: its orders were cancelled once. Nothing more was done.'
        : current.status === 'kept'
          ? 'That card was already answered: the orders were kept. Nothing was cancelled.'
          : 'That card expired: nothing was cancelled.',
    );
  }

  /** Confirmed: each listed order still open is cancelled where it rests; the card and a message tell. */
  private async cancelListed(
    request: ListedRequest & { readonly userId: string; readonly orderIds: readonly string[] },
    message: InboundAction,
  ): Promise<void> {
    await this.showState(request, message);
    const listed = await listedOrders(this.deps.prisma, request);
    const open = listed.filter(
      (order) => (OPEN_STATUSES as readonly string[]).includes(order.status) && order.brokerOrderId !== null,
    );
    const results = await this.cancelEach(open, request.userId, message.address);
    const closed = listed
      .filter((order) => !open.includes(order))
      .map((order) => describeCancel(order.intentId.slice(0, 8), brokerName(order.provider), order.status));
    const doneAt = this.clock();
    await this.deps.prisma.cancelRequest.updateMany({
      where: { id: request.id, doneAt: null },
      data: { doneAt },
    });
    await this.showState({ ...request, doneAt }, message, listed);
    await this.deps
      .channelFor(message.address.platform)
      .send(message.address, { kind: 'text', text: [...results, ...closed].join('\n') });
  }

  /** Edits the pressed card to the request's state (buttons gone once decided). */
  private async showState(
    request: ListedRequest & { readonly userId: string; readonly orderIds: readonly string[] },
    message: InboundAction,
    orders?: readonly OrderRow[],
  ): Promise<void> {
    // A typed answer to a card whose sending was never recorded (a crash right after it) has no
    // message to edit; the answer's words still say what happened.
    if (message.messageId === '') return;
    const [listed, user] = await Promise.all([
      orders ?? listedOrders(this.deps.prisma, request),
      this.deps.prisma.user.findUnique({ where: { id: request.userId }, select: { timezone: true } }),
    ]);
    const card = renderCancelCard(request, listed, {
      now: this.clock(),
      timeZone: knownTimeZone(user?.timezone),
    });
    await this.deps
      .channelFor(message.address.platform)
      .edit(message.address, message.messageId, { kind: 'card', card, audience: 'requester' });
  }

  /** Cancels each order where it was placed; one line per order says what the broker answered. */
  private async cancelEach(
    orders: readonly OrderRow[],
    userId: string,
    address: ChannelAddress,
  ): Promise<string[]> {
    const results: string[] = [];
    for (const order of orders) {
      try {
        // Each order is cancelled where it was placed, whatever account orders go to now.
        const broker = await this.deps.brokerFor(order);
        const cancelled = await broker.cancelOrder(
          order.brokerAccount?.externalId ?? '',
          order.brokerOrderId ?? '',
        );
        const update = await this.deps.intents.applyBrokerOrder(cancelled);
        if (update.kind === 'updated') await this.deliverUpdate(address, { ...update, text: undefined });
        results.push(
          describeCancel(order.intentId.slice(0, 8), brokerName(order.provider), cancelled.status),
        );
      } catch (error) {
        this.deps.logger.warn({ err: error, userId, orderId: order.id }, 'could not cancel an order');
        results.push(`${order.intentId.slice(0, 8)} not cancelled: ${describeBrokerFailure(error)}`);
      }
    }
    return results;
  }
}

/** A request's listed orders as they stand now, in the card's order (only the requester's). */
export async function listedOrders(
  prisma: PrismaClient,
  request: { readonly userId: string; readonly orderIds: readonly string[] },
): Promise<OrderRow[]> {
  const rows = await prisma.order.findMany({
    where: { id: { in: [...request.orderIds] }, intent: { userId: request.userId } },
    include: listedOrderInclude,
  });
  return request.orderIds.flatMap((id) => rows.filter((row) => row.id === id));
}
