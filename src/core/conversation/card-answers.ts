/**
 * Typed answers to confirmation cards, in every channel: "confirm 12", "yes #12", "cancel #12",
 * and the bare "confirm"/"yes"/"ok" or "cancel"/"no".
 *
 * A numbered answer names one of the sender's own cards (numbers are per user); another user's
 * number is simply not found. A bare answer acts only when exactly one of the sender's cards in
 * this chat can take it; with several it lists them and does nothing. So a repeated bare
 * "confirm" can never reach a second card: the first one moved the only open card out of
 * `proposed`, and the second finds none.
 *
 * Acting is pressing the card's button: an InboundAction with the card's message id and action id
 * goes through Conversation's action handling, with the same authorization (requester only,
 * roles, expiry, first decision wins) and the same inbox ticket as a press.
 */
import type { Trader } from '../accounts/accounts.js';
import type { Prisma } from '../db/database.js';
import { clockTime, knownTimeZone } from '../domain/time-zones.js';
import type { IntentRow } from '../intents/intent-row.js';
import {
  ACTION_CANCEL,
  ACTION_CANCEL_ORDERS,
  ACTION_CONFIRM,
  ACTION_KEEP_ORDERS,
  actionId,
  type ChannelAddress,
  type InboundAction,
  type InboundText,
  ordersActionId,
} from '../messages.js';
import { cardList, describeCardState } from './card-states.js';
import type { CardCommand } from './commands.js';
import type { ConversationDependencies } from './conversation.js';
import type { InboxTicket } from './inbox.js';

export type CardAnswerDependencies = Pick<ConversationDependencies, 'prisma' | 'channelFor' | 'logger'>;

/** What the answers need of the conversation. */
export interface CardAnswerHooks {
  /** Conversation's handling of a button press. */
  readonly press: (action: InboundAction, ticket: InboxTicket | undefined) => Promise<void>;
  /** "cancel #12" of a placed order that is still working: the order cancel, as "cancel <id>". */
  readonly cancelOrder: (intentId: string, userId: string, address: ChannelAddress) => Promise<string>;
}

/** Card numbers are stored as INTEGER: anything above is no card's. */
const MAX_CARD_NUMBER = 2_147_483_647;
/** The most cards a "which card?" answer lists. */
const LISTED = 10;

type Verb = CardCommand['verb'];
type CancelRequest = Prisma.CancelRequestGetPayload<object>;

/** The statuses in which a card still has the verb's button. */
const ANSWERABLE: Record<Verb, readonly IntentRow['status'][]> = {
  confirm: ['proposed'],
  cancel: ['proposed', 'awaiting_approval'],
};

export class CardAnswers {
  constructor(
    private readonly deps: CardAnswerDependencies,
    private readonly clock: () => Date,
    private readonly hooks: CardAnswerHooks,
  ) {}

  async answer(
    command: CardCommand,
    message: InboundText,
    trader: Trader,
    ticket: InboxTicket | undefined,
  ): Promise<void> {
    if (command.number === undefined) await this.answerBare(command.verb, message, trader, ticket);
    else await this.answerNumbered(command.verb, command.number, message, trader, ticket);
  }

  /** "confirm 12": that card of the sender, if it is theirs, in this chat, and can take the answer. */
  private async answerNumbered(
    verb: Verb,
    number: number,
    message: InboundText,
    trader: Trader,
    ticket: InboxTicket | undefined,
  ): Promise<void> {
    if (number < 1) {
      await this.reply(message, `Cards are numbered from 1: there is no card #${number}. Nothing was done.`);
      return;
    }
    const intent =
      number > MAX_CARD_NUMBER
        ? null
        : await this.deps.prisma.tradeIntent.findUnique({
            where: { userId_cardNumber: { userId: trader.userId, cardNumber: number } },
          });
    if (intent === null) {
      const cancelCard =
        number > MAX_CARD_NUMBER
          ? null
          : await this.deps.prisma.cancelRequest.findUnique({
              where: { userId_cardNumber: { userId: trader.userId, cardNumber: number } },
            });
      if (cancelCard !== null) await this.answerCancelCard(verb, cancelCard, message, ticket);
      else await this.reply(message, `There is no card #${number} of yours. Nothing was changed.`);
      return;
    }
    if (!inChat(intent, message.address)) {
      await this.reply(message, `Card #${number} is in another chat: answer it there. Nothing was done.`);
      return;
    }
    if (isAnswerable(intent, verb, this.clock())) {
      await this.act(verb, intent, message, ticket);
      return;
    }
    if (verb === 'cancel' && (intent.status === 'submitted' || intent.status === 'partially_filled')) {
      // The card was confirmed and its order still works at the broker: cancel the order.
      const said = await this.hooks.cancelOrder(intent.id, trader.userId, message.address);
      await this.reply(message, `Card #${number}: ${said}`);
      return;
    }
    await this.tellState(intent, message, ticket);
  }

  /** "confirm", "yes", "no": only when exactly one of the sender's cards in this chat can take it. */
  private async answerBare(
    verb: Verb,
    message: InboundText,
    trader: Trader,
    ticket: InboxTicket | undefined,
  ): Promise<void> {
    const { address } = message;
    const here = {
      userId: trader.userId,
      platform: address.platform,
      workspaceExternalId: address.workspaceId,
      chatId: address.chatId,
    };
    const open = await this.deps.prisma.tradeIntent.findMany({
      where: { ...here, status: { in: [...ANSWERABLE[verb]] }, expiresAt: { gt: this.clock() } },
      // Numbers give the order (a user's next card has the next number): clocks can tie.
      orderBy: [{ cardNumber: { sort: 'asc', nulls: 'first' } }, { createdAt: 'asc' }],
      take: LISTED + 1,
    });
    const cancels = await this.deps.prisma.cancelRequest.findMany({
      where: { ...here, status: 'open', expiresAt: { gt: this.clock() } },
      orderBy: [{ cardNumber: { sort: 'asc', nulls: 'first' } }, { createdAt: 'asc' }],
      take: LISTED + 1,
    });
    const [only] = open;
    const [onlyCancel] = cancels;
    if (only !== undefined && open.length === 1 && cancels.length === 0) {
      await this.act(verb, only, message, ticket);
      return;
    }
    if (onlyCancel !== undefined && cancels.length === 1 && open.length === 0) {
      await this.pressCancelCard(verb, onlyCancel, message, ticket);
      return;
    }
    if (open.length + cancels.length > 1) {
      const listed = [
        ...open.map((intent) => ({ number: intent.cardNumber, text: cardList([intent]) })),
        ...cancels.map((request) => ({
          number: request.cardNumber,
          text: `#${request.cardNumber ?? '?'} cancel ${request.orderIds.length} open order${request.orderIds.length === 1 ? '' : 's'}`,
        })),
      ].sort((a, b) => (a.number ?? 0) - (b.number ?? 0));
      const shown = listed.slice(0, LISTED);
      const newest = shown.at(-1)?.number;
      const more = listed.length > LISTED ? ', and more' : '';
      await this.reply(
        message,
        `Which card? ${shown.map((entry) => entry.text).join(', ')}${more}. Say "${verb} ${newest ?? '<number>'}". Nothing was done.`,
      );
      return;
    }
    // None open: what became of the newest card, an order's or a "cancel open orders" one.
    const newestFirst = { cardNumber: { sort: 'desc', nulls: 'last' } } as const;
    const [last, lastCancel] = await Promise.all([
      this.deps.prisma.tradeIntent.findFirst({ where: here, orderBy: [newestFirst, { createdAt: 'desc' }] }),
      this.deps.prisma.cancelRequest.findFirst({
        where: here,
        orderBy: [newestFirst, { createdAt: 'desc' }],
      }),
    ]);
    if (lastCancel !== null && (last === null || (lastCancel.cardNumber ?? 0) > (last.cardNumber ?? 0))) {
      await this.answerCancelCard(verb, lastCancel, message, ticket);
      return;
    }
    if (last === null) {
      await this.reply(message, `You have no open card to ${verb}. Nothing was done.`);
      return;
    }
    await this.tellState(last, message, ticket);
  }

  /** The answer as a press of the card's button. */
  private act(verb: Verb, intent: IntentRow, message: InboundText, ticket: InboxTicket | undefined) {
    const action = actionId(verb === 'confirm' ? ACTION_CONFIRM : ACTION_CANCEL, intent.id);
    return this.press(message, intent.cardMessageId, action, ticket);
  }

  /**
   * A typed answer handed on as a press of `action` on the card `cardMessageId`. Empty when the
   * card's sending was never recorded: then no card is edited, or adopted.
   */
  private press(
    message: InboundText,
    cardMessageId: string | null,
    action: string,
    ticket: InboxTicket | undefined,
  ) {
    return this.hooks.press(
      {
        kind: 'action',
        deliveryId: message.deliveryId,
        address: message.address,
        sender: message.sender,
        receivedAt: message.receivedAt,
        chatType: message.chatType,
        messageId: cardMessageId ?? '',
        actionId: action,
      },
      ticket,
    );
  }

  /** "confirm 14" of a "cancel open orders" card: its button, while it can take it; else where it stands. */
  private async answerCancelCard(
    verb: Verb,
    request: CancelRequest,
    message: InboundText,
    ticket: InboxTicket | undefined,
  ): Promise<void> {
    const name = `Card #${request.cardNumber} (cancel ${request.orderIds.length} open order${request.orderIds.length === 1 ? '' : 's'})`;
    if (!inChat(request, message.address)) {
      await this.reply(message, `${name} is in another chat: answer it there. Nothing was done.`);
      return;
    }
    if (request.status === 'open' && request.expiresAt > this.clock()) {
      await this.pressCancelCard(verb, request, message, ticket);
      return;
    }
    // A replayed answer that decided the card in its first attempt: that attempt told it.
    if (ticket?.replayed && request.decidedAt !== null && request.decidedAt >= message.receivedAt) return;
    const state =
      request.status === 'confirmed'
        ? 'was already confirmed: its orders were asked to cancel once'
        : request.status === 'kept'
          ? 'was already answered: the orders were kept'
          : `expired at ${await this.requesterClockTime(request.userId, request.expiresAt)}: nothing was cancelled`;
    await this.reply(message, `${name} ${state}. Nothing more was done.`);
  }

  /** The answer as a press of the cancel card's button ("confirm" cancels, "cancel" keeps). */
  private pressCancelCard(
    verb: Verb,
    request: CancelRequest,
    message: InboundText,
    ticket: InboxTicket | undefined,
  ) {
    const action = ordersActionId(verb === 'confirm' ? ACTION_CANCEL_ORDERS : ACTION_KEEP_ORDERS, request.id);
    return this.press(message, request.cardMessageId, action, ticket);
  }

  /** Says where a card stands, the answer having changed nothing. */
  private async tellState(intent: IntentRow, message: InboundText, ticket: InboxTicket | undefined) {
    // A replayed answer whose card moved since it arrived: that move is most likely this answer's
    // own first attempt, and its outcome is told from the intent's outbox; saying it here too
    // would tell it twice.
    if (ticket?.replayed && intent.updatedAt >= message.receivedAt) {
      this.deps.logger.info(
        { intentId: intent.id, deliveryId: message.deliveryId },
        'replayed card answer: its card moved since; the outcome is told from the outbox',
      );
      return;
    }
    const [user, fill] = await Promise.all([
      this.deps.prisma.user.findUnique({ where: { id: intent.userId }, select: { timezone: true } }),
      this.deps.prisma.order.findFirst({
        where: { intentId: intent.id },
        orderBy: { createdAt: 'desc' },
        select: { filledQuantity: true, averageFillPrice: true },
      }),
    ]);
    const text = describeCardState(intent, {
      now: this.clock(),
      timeZone: knownTimeZone(user?.timezone),
      fill,
    });
    await this.reply(message, text);
  }

  /** "10:02 EST" on the requester's clock, as an expired order card says it. */
  private async requesterClockTime(userId: string, at: Date): Promise<string> {
    const user = await this.deps.prisma.user.findUnique({
      where: { id: userId },
      select: { timezone: true },
    });
    return clockTime(at, this.clock(), knownTimeZone(user?.timezone));
  }

  private async reply(message: InboundText, text: string): Promise<void> {
    await this.deps.channelFor(message.address.platform).send(message.address, { kind: 'text', text });
  }
}

function isAnswerable(intent: IntentRow, verb: Verb, now: Date): boolean {
  return ANSWERABLE[verb].includes(intent.status) && intent.expiresAt > now;
}

/** The card was shown in this chat (typed answers act only where the card is: its edits go there). */
function inChat(
  intent: Pick<IntentRow, 'platform' | 'workspaceExternalId' | 'chatId'>,
  address: ChannelAddress,
): boolean {
  return (
    intent.platform === address.platform &&
    intent.workspaceExternalId === address.workspaceId &&
    intent.chatId === address.chatId
  );
}
