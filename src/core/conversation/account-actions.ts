/**
 * Typed actions that are not orders: cancelling open orders, the linking page, and switching
 * between paper and live trading.
 */
import { brokerName } from '../brokers/broker.js';
import { describeBrokerFailure } from '../intents/broker-failures.js';
import type { IntentUpdate } from '../intents/intent-service.js';
import { describeCancel } from '../intents/intent-updates.js';
import type { ChannelAddress, InboundMessage } from '../messages.js';
import type { ActionCommand } from './commands.js';
import type { ConversationDependencies } from './conversation.js';

export type ActionDependencies = Pick<
  ConversationDependencies,
  'prisma' | 'brokerFor' | 'intents' | 'logger' | 'linkTokens' | 'connections' | 'tradingModes'
>;

export class AccountActions {
  constructor(
    private readonly deps: ActionDependencies,
    /** Edits a cancelled order's card (Conversation.deliverUpdate). */
    private readonly deliverUpdate: (address: ChannelAddress, update: IntentUpdate) => Promise<void>,
  ) {}

  async perform(
    action: ActionCommand,
    userId: string,
    address: ChannelAddress,
    chatType: InboundMessage['chatType'],
  ): Promise<string> {
    switch (action.action) {
      case 'cancel':
        return this.cancelOrders(action.target, userId, address);
      case 'link':
        return this.linkBroker(userId, address, chatType);
      case 'mode':
      case 'confirm_live':
        return this.tradingMode(action, userId);
    }
  }

  /** "go live on schwab", "confirm live schwab", "paper mode". */
  private async tradingMode(
    action: Extract<ActionCommand, { action: 'mode' | 'confirm_live' }>,
    userId: string,
  ): Promise<string> {
    const modes = this.deps.tradingModes;
    if (action.action === 'mode' && action.mode === 'paper') {
      return modes === undefined
        ? 'You are on your paper account: orders use simulated money.'
        : modes.usePaper(userId);
    }
    if (modes === undefined) {
      return 'Live trading needs a linked broker, and this process runs without the linking page. You are trading on your paper account; nothing was changed.';
    }
    return action.action === 'confirm_live'
      ? modes.confirmLive(userId, action.provider)
      : modes.requestLive(userId, action.provider);
  }

  /**
   * A one-time URL to the linking page. Only in a private chat: whoever holds the URL can link
   * brokers to this account for ten minutes, so it must not be posted where others read.
   */
  private async linkBroker(
    userId: string,
    address: ChannelAddress,
    chatType: InboundMessage['chatType'],
  ): Promise<string> {
    const { linkTokens, connections } = this.deps;
    if (linkTokens === undefined) {
      return 'Linking a broker needs the linking page, and this process runs without the web server. You are trading on your paper account.';
    }
    if (chatType === 'group') {
      return 'For your safety I only send linking pages in a private chat: message me directly and say "link". Nothing was changed.';
    }
    const { url } = await linkTokens.issue(userId, address);
    const linked = connections === undefined ? [] : await connections.list(userId);
    const current =
      linked.length === 0
        ? 'No broker is linked yet: you are trading on your paper account.'
        : `Linked now: ${linked.map((connection) => `${connection.provider} (${connection.mode}${connection.status === 'active' ? '' : `, ${connection.status.replace('_', ' ')}`})`).join(', ')}.`;
    return [
      'Open this page to link or manage your brokers. It works once and for 10 minutes; do not share it:',
      url,
      current,
      'To use Arbion from another chat app on this same account, say "link chat".',
    ].join('\n');
  }

  private async cancelOrders(target: string, userId: string, address: ChannelAddress): Promise<string> {
    const open = await this.deps.prisma.order.findMany({
      where: {
        intent: { userId },
        status: { in: ['accepted', 'partially_filled'] },
        brokerOrderId: { not: null },
      },
      include: { brokerAccount: true },
    });
    const chosen =
      target === 'all' ? open : open.filter((order) => order.intentId.startsWith(target.toLowerCase()));
    if (chosen.length === 0)
      return target === 'all' ? 'You have no open orders to cancel.' : `No open order matches "${target}".`;
    const results: string[] = [];
    for (const order of chosen) {
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
    return results.join('\n');
  }
}
