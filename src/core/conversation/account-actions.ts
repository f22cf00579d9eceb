/**
 * Typed actions that are not orders: cancelling open orders, the linking page, and switching
 * between paper and live trading. The same commands proposed by the LLM never change anything by
 * themselves: a cancel shows a card, a mode switch asks for the user's own typed words.
 */
import type { Trader } from '../accounts/accounts.js';
import type { IntentUpdate } from '../intents/intent-service.js';
import type { ChannelAddress, InboundAction, InboundMessage, OrdersActionVerb } from '../messages.js';
import type { ActionCommand } from './commands.js';
import type { ConversationDependencies } from './conversation.js';
import type { InboxTicket } from './inbox.js';
import { type CancelOrigin, OrderCancels } from './order-cancels.js';

export type ActionDependencies = Pick<
  ConversationDependencies,
  | 'prisma'
  | 'brokerFor'
  | 'intents'
  | 'logger'
  | 'linkTokens'
  | 'connections'
  | 'tradingModes'
  | 'channelFor'
  | 'clock'
>;

/** An action's answer: words to send, or the card it showed (named as the user sees it). */
export type ActionAnswer = string | { readonly card: string };

/** What the LLM is told to ask the user to type, instead of switching for them. */
const TYPE_PAPER_MODE = 'To switch to your paper account, say "paper mode". Nothing was changed.';

export class AccountActions {
  private readonly cancels: OrderCancels;

  constructor(
    private readonly deps: ActionDependencies,
    /** Edits a cancelled order's card (Conversation.deliverUpdate). */
    deliverUpdate: (address: ChannelAddress, update: IntentUpdate) => Promise<void>,
  ) {
    this.cancels = new OrderCancels(deps, deliverUpdate);
  }

  /** `origin`: the user's own words, or a proposal of the LLM (which only ever asks). */
  async perform(
    action: ActionCommand,
    userId: string,
    address: ChannelAddress,
    chatType: InboundMessage['chatType'],
    origin: CancelOrigin = 'user',
  ): Promise<ActionAnswer> {
    switch (action.action) {
      case 'cancel':
        return this.cancelOrders(action.target, userId, address, origin);
      case 'link':
        return this.linkBroker(userId, address, chatType);
      case 'mode':
      case 'confirm_live':
        return (origin === 'model' ? typedOnly(action) : undefined) ?? this.tradingMode(action, userId);
    }
  }

  /** A press on a "cancel open orders" card. */
  answerCancelCard(
    press: { readonly verb: OrdersActionVerb; readonly requestId: string },
    message: InboundAction,
    trader: Trader | undefined,
    ticket: InboxTicket | undefined,
  ): Promise<void> {
    return this.cancels.answer(press, message, trader, ticket);
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

  /** A typed "cancel <id>" cancels that order at once; "cancel all" and the LLM's cancels show a card. */
  private cancelOrders(
    target: string,
    userId: string,
    address: ChannelAddress,
    origin: CancelOrigin,
  ): Promise<ActionAnswer> {
    return this.cancels.request(target, userId, address, origin);
  }
}

/**
 * A mode switch the LLM asked for, where it must end in the user's typed words. Going live already
 * does (requestLive only asks for "confirm live <broker>"); going back to paper switches at once
 * when typed, so the model's request ends in the words to type. undefined: handled as typed.
 */
function typedOnly(action: Extract<ActionCommand, { action: 'mode' | 'confirm_live' }>): string | undefined {
  if (action.action === 'confirm_live')
    return `Switching to live trading is confirmed in your own words: say "confirm live ${action.provider}". Nothing was changed.`;
  return action.mode === 'paper' || action.provider === 'paper' ? TYPE_PAPER_MODE : undefined;
}
