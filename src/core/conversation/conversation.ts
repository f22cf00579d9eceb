/**
 * One inbound message, end to end: de-duplicate, identify, understand, answer.
 * Channel-agnostic: it speaks to chats only through `ChannelPort`s.
 */

import type { Accounts, Trader } from '../accounts/accounts.js';
import type { IdentityLinks } from '../accounts/identity-links.js';
import type { TradingModes } from '../accounts/trading-modes.js';
import type { AccountSnapshot, BrokerLookup } from '../brokers/broker.js';
import type { PrismaClient, SqlExecutor } from '../db/database.js';
import type { Platform } from '../db/generated/enums.js';
import { isDatabaseOutage } from '../db/outage.js';
import { userMessageFor } from '../errors.js';
import { describeBrokerFailure, isBrokerFailure } from '../intents/broker-failures.js';
import type { IntentCardUpdate, IntentRow, IntentService, IntentUpdate } from '../intents/intent-service.js';
import type { BrokerConnections } from '../linking/connections.js';
import type { LinkTokens } from '../linking/link-tokens.js';
import { createScrubber, type Logger } from '../logging/logger.js';
import type { SymbolResolver } from '../market-data/instruments.js';
import type { MarketDataProvider } from '../market-data/market-data.js';
import { UnknownInstrumentError } from '../market-data/market-data.js';
import {
  type ChannelAddress,
  type ChannelPort,
  type InboundAction,
  type InboundMessage,
  type InboundText,
  parseActionId,
  parseOrdersActionId,
  type Sender,
} from '../messages.js';
import { type Membership, ROLE_RIGHTS, type Workspaces } from '../workspaces/workspaces.js';
import { AccountActions } from './account-actions.js';
import type { AutomationDesk, ClosedCard } from './automation.js';
import { CardAnswers } from './card-answers.js';
import type { Command, OrderCommand, SwapCommand } from './commands.js';
import { receivedAuditCte, recordReceived } from './inbound-log.js';
import type { InboxTicket } from './inbox.js';
import { type CoreReply, outcomeOf, type Proposer } from './llm/index.js';
import { Queries } from './queries.js';
import { TeamActions, viewerRefusal } from './team-actions.js';
import { parseTeamCommand } from './team-commands.js';
import { replyToUnknown } from './unknown-replies.js';

/**
 * Understands a message when the fast path cannot (the LLM), or says it cannot. It changes
 * nothing itself: each command it proposes goes through `propose`, which dispatches it like the
 * same typed command, and the answer's text is said after those cards.
 */
export interface FallbackInterpreter {
  interpret(input: {
    userId: string;
    address: ChannelAddress;
    text: string;
    propose: Proposer;
  }): Promise<{ text: string }>;
}

/** A command the model proposed: dispatched as typed, and what the user was shown is reported. */
interface ModelProposal {
  readonly shown: (reply: CoreReply) => void;
}

export interface ConversationDependencies {
  readonly prisma: PrismaClient;
  /** Plain SQL for the delivery record on every message. */
  readonly sql: SqlExecutor;
  readonly accounts: Accounts;
  readonly workspaces: Workspaces;
  readonly identityLinks: IdentityLinks;
  /** One-time URLs to the broker linking page; absent when no web server runs. */
  readonly linkTokens?: LinkTokens;
  /** The user's broker connections, for "link" answers. */
  readonly connections?: BrokerConnections;
  /** "go live on X" and "paper mode"; absent without linking (paper only). */
  readonly tradingModes?: TradingModes;
  readonly intents: IntentService;
  readonly market: MarketDataProvider;
  readonly symbols: SymbolResolver;
  readonly brokerFor: BrokerLookup;
  /** The channel adapters, by platform: answers go back where the message came from. */
  readonly channelFor: (platform: Platform) => ChannelPort;
  /** The fast-path parser. */
  readonly parse: (text: string, now: Date) => Command;
  /** The LLM path; absent without OPENAI_API_KEY. */
  readonly fallback?: FallbackInterpreter;
  /** Strategies, monitors and backtests; absent where no background jobs run. */
  readonly automation?: AutomationDesk;
  readonly logger: Logger;
  readonly clock?: () => Date;
}

/** What an unknown person in a group chat is told (groups never create users). */
const GROUP_STRANGER_TEXT =
  'To trade in a group, first send me a private message (any text) so I can open your account, or use "join <code>" here with a code from "link chat" in a chat where I know you. Nothing was done.';

/** Scrubs token-shaped strings from message text before it is stored in the audit trail. */
const scrubTokens = createScrubber([]);

export class Conversation {
  private readonly clock: () => Date;
  private readonly team: TeamActions;
  private readonly queries: Queries;
  private readonly actions: AccountActions;
  private readonly cards: CardAnswers;

  constructor(private readonly deps: ConversationDependencies) {
    this.clock = deps.clock ?? (() => new Date());
    this.team = new TeamActions(deps);
    this.queries = new Queries(deps, this.clock);
    this.actions = new AccountActions(deps, (address, update) => this.deliverUpdate(address, update));
    // A typed answer is a press of the card's button: the same handling, the same authorization.
    this.cards = new CardAnswers(deps, this.clock, {
      press: (action, ticket) => this.handleAction(action, ticket),
      // "cancel #12" of a working order is "cancel <its id>" (the chat type only matters to "link").
      cancelOrder: async (intentId, userId, address) => {
        const answer = await this.actions.perform(
          { kind: 'action', action: 'cancel', target: intentId },
          userId,
          address,
          'direct',
        );
        // A typed id cancels at once and answers in words; a card would only come for "all".
        return typeof answer === 'string' ? answer : `see card ${answer.card}`;
      },
    });
  }

  /**
   * Handles one delivery. Redeliveries never get here: the inbox recorded each delivery once
   * before the platform was answered (runtime/inbound.ts).
   */
  async handle(message: InboundMessage, ticket?: InboxTicket): Promise<void> {
    if (message.kind === 'action') {
      await this.handleAction(message, ticket);
      return;
    }
    await this.handleText(message, ticket);
  }

  private async handleText(message: InboundText, ticket: InboxTicket | undefined): Promise<void> {
    const channel = this.deps.channelFor(message.address.platform);
    const reply = (text: string) => channel.send(message.address, { kind: 'text', text });
    const team = parseTeamCommand(message.text);
    // One round trip: the message's audit row and the sender's trader row.
    const known = await this.deps.accounts.traderAlong(
      message.address,
      message.sender,
      receivedAuditCte({
        platform: message.address.platform,
        type: 'message.received',
        actor: {
          lookup: { workspaceId: message.address.workspaceId, platformUserId: message.sender.platformUserId },
        },
        data: {
          text: String(scrubTokens(message.text.slice(0, 2000))),
          messageId: message.messageId,
          deliveryId: message.deliveryId,
        },
        at: this.clock(),
      }),
    );
    let trader = known;
    if (trader === undefined) {
      // Groups without a workspace (Telegram) never create users: only people the bot already
      // knows (from a private chat, or a link code) can act there. Workspaces have roles instead.
      if (message.chatType === 'group' && message.address.workspaceId === '') {
        if (team?.kind === 'redeem-link-code')
          await reply(await this.team.redeemLinkCode(team.code, message));
        else await reply(GROUP_STRANGER_TEXT);
        return;
      }
      // First contact (its audit row above carries no user yet: there was none).
      trader = await this.deps.accounts.trader(message.address, message.sender, { create: true });
      if (trader === undefined) throw new Error('a trader is always created for a text message');
    }
    const { userId } = trader;
    // Parsing is pure; the account snapshot (orders) and the workspace membership load together.
    const command = team === undefined ? this.deps.parse(message.text, this.clock()) : undefined;
    const snapshot =
      command?.kind === 'order'
        ? this.deps
            .brokerFor(trader.account)
            .then((broker) => broker.getAccountSnapshot(trader.account.externalId))
        : undefined;
    snapshot?.catch(() => undefined); // Read only if the order gets that far.
    const member = await this.deps.workspaces.membership(message.address, userId, message.sender);
    // Bindings, not a child logger: a pino child costs ~30 us, and most messages never log.
    const logged = { userId, platform: message.address.platform, deliveryId: message.deliveryId };

    if (team !== undefined) {
      await reply(await this.team.perform(team, message, trader, member));
      return;
    }
    if (command === undefined) return;
    if (command.kind === 'unknown') {
      if (this.deps.fallback === undefined) {
        const now = this.clock();
        await reply(
          replyToUnknown(message.text, command, {
            symbols: this.deps.symbols,
            parse: (text) => this.deps.parse(text, now),
          }),
        );
        return;
      }
      const answer = await this.deps.fallback.interpret({
        userId,
        address: message.address,
        text: message.text,
        // Dispatched at once (the card goes out without waiting for the model again); the model
        // learns what the core did only after it did it.
        propose: async (proposed) => {
          let shown: CoreReply | undefined;
          const from = { shown: (reply: CoreReply) => (shown = reply) };
          await this.dispatch(proposed, message, trader, member, logged, undefined, undefined, from);
          return outcomeOf(proposed, shown);
        },
      });
      if (answer.text) await reply(answer.text);
      return;
    }
    await this.dispatch(command, message, trader, member, logged, snapshot, ticket);
  }

  private async dispatch(
    command: Command,
    message: InboundText,
    trader: Trader,
    member: Membership | undefined,
    logged: Record<string, string>,
    snapshot?: Promise<AccountSnapshot>,
    ticket?: InboxTicket,
    model?: ModelProposal,
  ): Promise<void> {
    const { userId } = trader;
    const channel = this.deps.channelFor(message.address.platform);
    const reply = (text: string) => {
      model?.shown({ kind: 'text', text });
      return channel.send(message.address, { kind: 'text', text });
    };
    try {
      switch (command.kind) {
        case 'order':
        case 'swap':
          if (member !== undefined && !ROLE_RIGHTS[member.role].trade) {
            await reply(viewerRefusal(member, message.sender.platformUserId));
            return;
          }
          await this.propose(command, message, trader, member, snapshot, ticket, model);
          return;
        case 'query':
          await reply(await this.queries.answer(command, userId));
          return;
        case 'automation': {
          const changes = command.action !== 'list' && command.action !== 'backtest';
          if (changes && member !== undefined && !ROLE_RIGHTS[member.role].trade) {
            await reply(viewerRefusal(member, message.sender.platformUserId));
            return;
          }
          if (this.deps.automation === undefined) {
            await reply('Strategies and alerts are not available on this server. Nothing was changed.');
            return;
          }
          const answer = await this.deps.automation.perform(command, {
            userId,
            identityId: trader.identityId,
            address: message.address,
          });
          for (const closed of answer.closedCards) await this.editClosedCard(closed);
          await reply(answer.text);
          return;
        }
        case 'action': {
          const from = model === undefined ? 'user' : 'model';
          const answer = await this.actions.perform(command, userId, message.address, message.chatType, from);
          if (typeof answer === 'string') await reply(answer);
          else model?.shown({ kind: 'card', card: answer.card });
          return;
        }
        case 'card':
          await this.cards.answer(command, message, trader, ticket);
          return;
        case 'unknown':
          await reply("I didn't understand that. For example: buy 10 AAPL. Say help for more.");
          return;
      }
    } catch (error) {
      // An outage is not this message's fault: the inbound queue waits it out and tries again.
      if (isDatabaseOutage(error)) throw error;
      if (error instanceof UnknownInstrumentError) {
        await reply(`I don't know the symbol ${error.symbol}. Nothing was done.`);
        return;
      }
      if (isBrokerFailure(error)) {
        this.deps.logger.warn({ ...logged, err: error }, 'a broker call failed');
        await reply(`${describeBrokerFailure(error)} Nothing was changed.`);
        return;
      }
      this.deps.logger.error({ ...logged, err: error }, 'could not handle the message');
      await reply(userMessageFor(error));
    }
  }

  /** An order or a swap: the intent service's card (or refusal) sent to the requester. */
  private async propose(
    command: OrderCommand | SwapCommand,
    message: InboundText,
    trader: Trader,
    member: Membership | undefined,
    snapshot?: Promise<AccountSnapshot>,
    ticket?: InboxTicket,
    model?: ModelProposal,
  ): Promise<void> {
    const channel = this.deps.channelFor(message.address.platform);
    if (ticket?.replayed && (await this.showLeftoverCard(message, trader, ticket))) return;
    const context = {
      userId: trader.userId,
      identityId: trader.identityId,
      address: message.address,
      requestMessageId: message.messageId,
      trader,
      approvalThreshold: member?.approvalThreshold,
      sharedChat: message.chatType === 'group',
    };
    const outcome =
      command.kind === 'swap'
        ? await this.deps.intents.proposeSwap(command, context)
        : await this.deps.intents.propose(command, { ...context, snapshot });
    if (outcome.kind === 'refused') {
      model?.shown({ kind: 'text', text: outcome.text });
      await channel.send(message.address, { kind: 'text', text: outcome.text });
      return;
    }
    const sent = await channel.send(message.address, {
      kind: 'card',
      card: outcome.card,
      audience: 'requester',
    });
    model?.shown({
      kind: 'card',
      card: outcome.card.number === undefined ? outcome.intentId.slice(0, 8) : `#${outcome.card.number}`,
    });
    // The last step of the message: its inbox row is finished by the same statement.
    await this.deps.intents.attachCard(outcome.intentId, sent.messageId, ticket);
  }

  /**
   * A replayed message whose earlier attempt proposed an intent and stopped before its card was
   * attached: that intent's card is shown (as it stands now), and nothing is proposed twice. (If
   * the earlier attempt did send the card, the user sees it twice: the same intent, one order.)
   * It is shown once more at most: a replay after a crash mid-resend sends nothing, since one of
   * the two sendings may have reached the user (a press on it attaches it: adoptPressedCard).
   */
  private async showLeftoverCard(
    message: InboundText,
    trader: Trader,
    ticket: InboxTicket,
  ): Promise<boolean> {
    const leftover = await this.deps.intents.proposedBy({
      userId: trader.userId,
      address: message.address,
      messageId: message.messageId,
      receivedAt: message.receivedAt,
    });
    if (leftover === null) return false;
    if (leftover.cardMessageId !== null) {
      // The card reached the user and a press on it attached it (adoptPressedCard) before this
      // message's handling was marked: the message was answered, and its order is the intent's.
      this.deps.logger.info(
        { intentId: leftover.id, deliveryId: message.deliveryId, status: leftover.status },
        'replayed message: its card was shown and attached; nothing more to do',
      );
      return true;
    }
    if (!(await this.deps.intents.claimCardResend(leftover.id))) {
      this.deps.logger.warn(
        { intentId: leftover.id, deliveryId: message.deliveryId },
        'replayed message: its card was already sent once more; not sent a third time',
      );
      return true;
    }
    this.deps.logger.info(
      { intentId: leftover.id, deliveryId: message.deliveryId },
      'replayed message: showing the card its first attempt proposed',
    );
    const { card, status } = this.deps.intents.cardOf(leftover);
    const channel = this.deps.channelFor(message.address.platform);
    const sent = await channel.send(message.address, { kind: 'card', card, audience: 'requester' });
    await this.deps.intents.attachCard(leftover.id, sent.messageId, ticket, status);
    return true;
  }

  /**
   * A requester's press on a card whose sending was never recorded (a crash between the platform's
   * answer and our write): the pressed card becomes the intent's card, so the outcome edits it.
   * Without this the outcome would find no card to edit and the card would keep its buttons or
   * its "Placing the order...".
   */
  private async adoptPressedCard(
    message: InboundAction,
    trader: Trader,
    parsed: { verb: string; intentId: string },
    intentRead: Promise<IntentRow | null> | undefined,
  ): Promise<void> {
    // A typed answer to a card whose sending was never recorded has no card to adopt.
    if ((parsed.verb !== 'confirm' && parsed.verb !== 'cancel') || message.messageId === '') return;
    const intent = await intentRead;
    if (
      intent === null ||
      intent === undefined ||
      intent.cardMessageId !== null ||
      intent.userId !== trader.userId ||
      intent.platform !== message.address.platform ||
      intent.workspaceExternalId !== message.address.workspaceId ||
      intent.chatId !== message.address.chatId
    )
      return;
    this.deps.logger.info(
      { intentId: intent.id, cardMessageId: message.messageId },
      'a press on an unattached card: that card is attached',
    );
    await this.deps.intents.adoptCard(intent.id, message.messageId);
  }

  /**
   * A replayed press (its first attempt crashed or met an outage) of an intent that is no longer
   * open: that attempt, or another press, decided it, and its outcome is told from the intent's
   * outbox (tellPending). Answering "already decided" beside that telling would say it twice.
   */
  private async decidedMeanwhile(
    intentId: string,
    intentRead: Promise<IntentRow | null> | undefined,
  ): Promise<boolean> {
    const intent = await (intentRead ?? this.deps.intents.read(intentId));
    if (intent === null || intent.status === 'proposed' || intent.status === 'awaiting_approval')
      return false;
    this.deps.logger.info(
      { intentId, status: intent.status },
      'replayed press of a decided intent: its outcome is told from the outbox',
    );
    return true;
  }

  private async handleAction(message: InboundAction, ticket: InboxTicket | undefined): Promise<void> {
    const channel = this.deps.channelFor(message.address.platform);
    const parsed = parseActionId(message.actionId);
    const ordersPress = parsed === undefined ? parseOrdersActionId(message.actionId) : undefined;
    // A press never creates a user: a stranger's press is refused with nothing created for them.
    // The button names the intent: read it alongside the lookup and the audit row.
    const intentRead = parsed ? this.deps.intents.read(parsed.intentId) : undefined;
    intentRead?.catch(() => undefined);
    const [trader] = await Promise.all([
      this.deps.accounts.trader(message.address, message.sender, { create: false }),
      recordReceived(this.deps.sql, {
        platform: message.address.platform,
        type: 'action.received',
        actor: {
          lookup: { workspaceId: message.address.workspaceId, platformUserId: message.sender.platformUserId },
        },
        data: {
          action: parsed?.verb ?? ordersPress?.verb ?? 'unknown',
          intentId: parsed?.intentId ?? null,
          ...(ordersPress === undefined ? {} : { cancelRequestId: ordersPress.requestId }),
          platformUserId: message.sender.platformUserId,
          deliveryId: message.deliveryId,
        },
        at: this.clock(),
      }),
    ]);
    if (ordersPress !== undefined) {
      await this.actions.answerCancelCard(ordersPress, message, trader, ticket);
      return;
    }
    if (parsed === undefined) {
      await channel.notify(message.address, message.sender, 'That button is not valid. Nothing was changed.');
      return;
    }
    if (trader === undefined) {
      await channel.notify(
        message.address,
        message.sender,
        'Only the person who asked for this order can answer it.',
      );
      return;
    }
    await this.adoptPressedCard(message, trader, parsed, intentRead);
    if (ticket?.replayed && (await this.decidedMeanwhile(parsed.intentId, intentRead))) return;
    // Roles can change between the card and the press: check them again (fail closed).
    const member =
      parsed.verb === 'cancel'
        ? undefined
        : await this.deps.workspaces.membership(message.address, trader.userId, message.sender);
    // Once the decision is made the card says so (buttons gone) while the broker works; the final
    // update waits for that edit, so the two never arrive out of order.
    let progress: Promise<void> = Promise.resolve();
    const observer = {
      onDecided: (decided: IntentCardUpdate) => {
        progress = this.deliverUpdate(
          message.address,
          { ...decided, text: undefined },
          // Progress, not an outcome: the outcome's own telling clears the outbox flag.
          { cardMessageId: message.messageId, progress: true },
        ).catch((error: unknown) =>
          this.deps.logger.warn({ err: error, intentId: decided.intentId }, 'could not show the decision'),
        );
      },
    };
    let update: IntentUpdate;
    switch (parsed.verb) {
      case 'confirm':
        update =
          member !== undefined && !ROLE_RIGHTS[member.role].trade
            ? { kind: 'notice', text: viewerRefusal(member, message.sender.platformUserId) }
            : await this.deps.intents.confirm(parsed.intentId, trader.userId, trader, intentRead, observer);
        break;
      case 'cancel':
        update = await this.deps.intents.cancel(parsed.intentId, trader.userId);
        break;
      case 'approve':
      case 'decline':
        update = await this.deps.intents.approve(
          parsed.intentId,
          trader.userId,
          {
            isAdmin: member !== undefined && ROLE_RIGHTS[member.role].manage,
            decline: parsed.verb === 'decline',
          },
          observer,
        );
        break;
    }
    await progress;
    await this.deliverUpdate(message.address, update, {
      recipient: message,
      cardMessageId: message.messageId,
      ticket,
    });
  }

  /**
   * A card automation closed shows it now; the answer that follows says why, so no sentence of
   * its own. One that cannot be edited now stays in its intent's outbox (the background pass
   * edits it, and says the sentence then).
   */
  private async editClosedCard({ address, update }: ClosedCard): Promise<void> {
    try {
      await this.deliverUpdate(address, { ...update, text: undefined });
    } catch (error) {
      if (isDatabaseOutage(error)) throw error;
      this.deps.logger.warn({ err: error, intentId: update.intentId }, 'could not edit a closed card');
    }
  }

  /**
   * Sends an intent update: a private notice to the presser, or card edits plus a chat message.
   * Four-eyes updates edit both cards (the requester's and the chat's approval card), posting the
   * approval card the first time.
   */
  async deliverUpdate(
    address: ChannelAddress,
    update: IntentUpdate,
    options: {
      recipient?: InboundAction;
      cardMessageId?: string;
      /** Tell this person privately instead of the chat (background updates in shared chats). */
      privateTo?: Sender;
      /** The press being answered: its inbox row is finished with the told mark. */
      ticket?: InboxTicket;
      /** "Placing the order...": shown, but the move is not marked told (its outcome will be). */
      progress?: boolean;
    } = {},
  ): Promise<void> {
    const channel = this.deps.channelFor(address.platform);
    const tell = (text: string) =>
      options.privateTo !== undefined
        ? channel.notify(address, options.privateTo, text)
        : channel.send(address, { kind: 'text', text });
    if (update.kind === 'notice') {
      if (options.recipient) await channel.notify(address, options.recipient.sender, update.text);
      else await tell(update.text);
      return;
    }
    // The pressed message is the requester's card, except on four-eyes intents (it may be the
    // approval card): then both ids come from the intent.
    const stored =
      options.cardMessageId === undefined || update.approvalCard !== undefined
        ? await this.deps.prisma.tradeIntent.findUnique({
            where: { id: update.intentId },
            select: { cardMessageId: true, approvalMessageId: true },
          })
        : null;
    const cardMessageId =
      update.approvalCard !== undefined
        ? stored?.cardMessageId
        : (options.cardMessageId ?? stored?.cardMessageId);
    const requesterCard = { kind: 'card', card: update.card, audience: 'requester' } as const;
    if (cardMessageId) await channel.edit(address, cardMessageId, requesterCard);
    if (update.approvalCard === undefined && update.cardMessageId && update.cardMessageId !== cardMessageId)
      await channel.edit(address, update.cardMessageId, requesterCard);
    if (update.approvalCard !== undefined) {
      const approval = { kind: 'card', card: update.approvalCard, audience: 'chat' } as const;
      if (stored?.approvalMessageId) {
        await channel.edit(address, stored.approvalMessageId, approval);
      } else {
        const sent = await channel.send(address, approval);
        await this.deps.prisma.tradeIntent.update({
          where: { id: update.intentId },
          data: { approvalMessageId: sent.messageId, updatedAt: this.clock() },
        });
      }
    }
    // The card shows the outcome: the outbox flag goes now, before the sentence. A crash before
    // this line tells it again (the edit repeats harmlessly); after it, the card has told it.
    if (options.progress !== true)
      await this.deps.intents.markTold(update.intentId, update.status, options.ticket);
    if (update.text) await tell(update.text);
  }
}
