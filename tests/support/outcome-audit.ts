/**
 * The verdict of a fault test: for every conversation the test played (one private chat, one
 * "buy <unique quantity> btc" message, at most one Confirm press, sometimes pressed twice), what
 * the user saw in the fake Telegram and what the database holds. Each message must end answered
 * (exactly one card, a reply, or its sender told it could not be handled), and each confirmed card
 * filled exactly once (one order row, one fill, one paper order, one paper fill) or refused with a
 * reason, its card edited to show that, and exactly one outcome sentence in the chat.
 */
import type { FakeChat, FakeUser } from '../fakes/telegram/chat-model.js';
import type { Ledger } from './ledger.js';
import { cardNotice, type Delivery, type TelegramPlayer } from './telegram-player.js';

/** One chat's story as the test played it. */
export interface Conversation {
  readonly label: string;
  /** The user and their private chat with the bot. */
  readonly who: { readonly user: FakeUser; readonly chat: FakeChat };
  readonly chatId: number;
  /** The quantity in the message ("0.010051"), unique across the test. */
  readonly quantity: string;
  readonly message: Delivery;
  /** The card's message id, once the test saw it. */
  cardMessageId?: number;
  /** The intent id from the card's Confirm button. */
  intentId?: string;
  /** Confirm presses sent (0 when the card never came or was not pressed). */
  readonly presses: Delivery[];
}

/** Sentences that tell the outcome of a confirmed order (intent-updates.ts, outcome-recovery.ts, executor.ts). */
const OUTCOME_SENTENCES = [
  /^Filled \((PAPER|LIVE)\)/,
  /^Partially filled \(/,
  /^Order placed \(/,
  /^The broker rejected the order/,
  /^Order cancelled \(/,
  /^Order expired unfilled/,
  /^Refused/,
  /^Not placed:/,
  /^Your order to .* was not placed/,
  /^I could not get a fresh price/,
  /^The price moved from/,
  /^This confirmation expired/,
  /^Cancelled\. Nothing was sent\./,
];
/** Whether `text` tells the outcome of a confirmed order (progress notes such as "did not answer clearly" do not). */
export function isOutcomeSentence(text: string): boolean {
  return OUTCOME_SENTENCES.some((pattern) => pattern.test(text));
}

/** What the inbound queue says when it gives a recorded message up (inbound-queue.ts). */
export const HANDLING_FAILED = /^Sorry, I could not handle that message because of an internal error/;
/** What the inbound queue says once while the database is away (inbound-queue.ts). */
export const HANDLING_DELAYED = /^Arbion is having trouble reaching its database/;
/** What a channel says when it could not even record a message (inbox.ts). */
export const INBOX_UNAVAILABLE = /^Arbion is having trouble; nothing was done/;

/** What tells a presser their press changed nothing and may be repeated. */
export const PRESS_NOT_HANDLED = [HANDLING_FAILED, INBOX_UNAVAILABLE, /Press Confirm again/];

/** The card notice each final status shows (confirmation-card.ts). */
const FINAL_NOTICE: Record<string, RegExp> = {
  filled: /^Filled\.$/,
  rejected: /^Refused\./,
  failed: /^Failed\. Nothing was sent\./,
  cancelled: /^Cancelled\. Nothing was sent\./,
  expired: /^Expired: not confirmed in time/,
};

export interface AuditSummary {
  conversations: number;
  cards: number;
  /** Conversations answered by a reply instead of a card. */
  replies: number;
  /** Conversations whose sender was told the message could not be handled. */
  toldNotHandled: number;
  presses: number;
  confirmedCards: number;
  filled: number;
  /** Refused, failed or expired, with the reason. */
  notPlaced: string[];
  /**
   * Presses not handled, their sender told so ("could not handle", "press Confirm again"), the
   * card left open: what each was told.
   */
  pressesNotHandled: string[];
  /** Confirmed cards whose user saw the final card and exactly one outcome sentence. */
  told: number;
  /** Intents written for a message whose card was never sent (a crash in between); they expire unseen. */
  unseenIntents: number;
  /** Waiting texts ("your message is kept") seen, across chats. */
  delayedNotices: number;
  /**
   * Messages whose one intent's card was shown twice: a kill between Telegram's answer to
   * sendMessage and the write of its id (no platform lets a send be made idempotent).
   */
  duplicateCards: number;
  /**
   * Confirmed cards told by the final card alone: a kill between the told mark and the sentence
   * (the sentence is sent at most once; the card edit is the telling that always happens).
   */
  toldByCardOnly: number;
  problems: string[];
}

function sentenceCounts(sentences: string[]) {
  return {
    outcomes: sentences.filter(isOutcomeSentence),
    givenUp: sentences.filter((text) => HANDLING_FAILED.test(text)).length,
    delayed: sentences.filter((text) => HANDLING_DELAYED.test(text)).length,
    unavailable: sentences.filter((text) => INBOX_UNAVAILABLE.test(text)).length,
  };
}

/** Checks every conversation against the chat and the ledger; `problems` lists every broken promise. */
export function auditOutcomes(
  player: TelegramPlayer,
  ledger: Ledger,
  conversations: Conversation[],
): AuditSummary {
  const summary: AuditSummary = {
    conversations: conversations.length,
    cards: 0,
    replies: 0,
    toldNotHandled: 0,
    presses: 0,
    confirmedCards: 0,
    filled: 0,
    notPlaced: [],
    pressesNotHandled: [],
    told: 0,
    unseenIntents: 0,
    delayedNotices: 0,
    duplicateCards: 0,
    toldByCardOnly: 0,
    problems: [],
  };
  const problem = (conversation: Conversation, text: string) =>
    summary.problems.push(
      `${conversation.label} (chat ${conversation.chatId}, qty ${conversation.quantity}): ${text}`,
    );
  const intentsByChat = new Map<string, Ledger['intents']>();
  for (const intent of ledger.intents)
    intentsByChat.set(intent.chatId, [...(intentsByChat.get(intent.chatId) ?? []), intent]);

  for (const conversation of conversations) {
    const cards = player.cardsIn(conversation.chatId);
    const sentences = player.sentencesIn(conversation.chatId);
    const counted = sentenceCounts(sentences);
    const intents = intentsByChat.get(String(conversation.chatId)) ?? [];
    summary.delayedNotices += counted.delayed;
    summary.presses += conversation.presses.length;
    if (conversation.message.acknowledgedBy === undefined)
      problem(conversation, 'message never acknowledged');
    if (conversation.presses.some((press) => press.acknowledgedBy === undefined))
      problem(conversation, 'a press was never acknowledged');
    // A crash after the intent was written but before its card was sent leaves a proposed intent
    // nobody saw (it expires unseen); a second intent shown or placed breaks the promise. The one
    // intent's card may be shown twice (a kill between Telegram's answer and our write), not more.
    const shown = intents.filter((intent) => intent.cardMessageId !== null || intent.paperOrders > 0);
    summary.unseenIntents += intents.length - shown.length;
    if (shown.length > 1) problem(conversation, `${shown.length} intents shown or placed for one message`);
    if (cards.length === 2 && shown.length <= 1) summary.duplicateCards++;
    else if (cards.length > 1)
      problem(
        conversation,
        `${cards.length} cards for one message (intents ${intents.map((i) => `${i.id}:${i.status}`).join(', ')})`,
      );
    if (cards.length === 0) {
      if (counted.givenUp > 0 || counted.unavailable > 0) summary.toldNotHandled++;
      else if (sentences.length > 0) summary.replies++;
      else problem(conversation, 'message never answered (no card, no reply)');
      continue;
    }
    summary.cards++;
    const card = cards.find((candidate) => candidate.messageId === conversation.cardMessageId);
    if (card === undefined || conversation.presses.length === 0) continue;
    summary.confirmedCards++;
    const intent = intents.find((candidate) => candidate.id === conversation.intentId);
    if (intent === undefined) {
      problem(conversation, `no intent ${conversation.intentId} in the database`);
      continue;
    }
    // The card the intent's row names is the one kept up to date (the pressed one may be a copy).
    const attached = cards.find((candidate) => String(candidate.messageId) === intent.cardMessageId) ?? card;
    const notice = cardNotice(attached);
    // The intent's outbox as the database has it, for the problems below.
    const row = `intent ${intent.id}: cardMessageId ${intent.cardMessageId}, toldStatus ${intent.toldStatus}, tellPending ${intent.tellPending}`;
    const finalNotice = FINAL_NOTICE[intent.status];
    const toldNotHandled = [...player.answersIn(conversation.chatId), ...sentences].filter((text) =>
      PRESS_NOT_HANDLED.some((pattern) => pattern.test(text)),
    );
    if (intent.status === 'proposed' && intent.orders === 0 && toldNotHandled.length > 0) {
      // The press was not handled and its sender was told nothing was sent: the card stays open.
      summary.pressesNotHandled.push(...toldNotHandled);
      continue;
    }
    if (intent.status === 'filled') {
      summary.filled++;
      if (intent.orders !== 1 || intent.fills !== 1 || intent.paperOrders !== 1 || intent.paperFills !== 1)
        problem(
          conversation,
          `filled with ${intent.orders} order rows, ${intent.fills} fills, ${intent.paperOrders} paper orders, ${intent.paperFills} paper fills (want 1 each)`,
        );
      if (
        intent.paperFilledQuantity !== conversation.quantity &&
        Number(intent.paperFilledQuantity) !== Number(conversation.quantity)
      )
        problem(conversation, `paper ledger filled ${intent.paperFilledQuantity}`);
    } else if (finalNotice !== undefined) {
      summary.notPlaced.push(`${intent.status}: ${intent.statusReason ?? '(no reason)'}`);
      if (intent.paperFills > 0)
        problem(conversation, `${intent.status} but the paper ledger has ${intent.paperFills} fills`);
      if (intent.statusReason === null && intent.status !== 'cancelled')
        problem(conversation, `${intent.status} without a reason`);
    } else {
      problem(
        conversation,
        `confirmed card ended ${intent.status} (orders ${intent.orders}, paper fills ${intent.paperFills}; card says "${notice}")`,
      );
      continue;
    }
    let told = true;
    if (intent.tellPending) {
      told = false;
      problem(conversation, `intent ${intent.status} still has tellPending set`);
    }
    if (finalNotice !== undefined && (!finalNotice.test(notice) || attached.buttons.length > 0)) {
      told = false;
      problem(
        conversation,
        `card #${attached.messageId} not updated to ${intent.status}: says "${notice}"${attached.buttons.length > 0 ? ' with buttons' : ''} (${row})`,
      );
    }
    const expected =
      intent.status === 'filled'
        ? new RegExp(`^Filled \\(PAPER\\): bought ${conversation.quantity.replace('.', '\\.')} BTC`)
        : undefined;
    if (counted.outcomes.length === 0 && told && finalNotice !== undefined) {
      summary.toldByCardOnly++;
    } else if (counted.outcomes.length !== 1) {
      told = false;
      problem(
        conversation,
        `${counted.outcomes.length} outcome sentences for a ${intent.status} card: ${JSON.stringify(counted.outcomes)} (${row})`,
      );
    } else if (expected !== undefined && !expected.test(counted.outcomes[0] ?? '')) {
      told = false;
      problem(conversation, `outcome sentence does not match the fill: ${JSON.stringify(counted.outcomes)}`);
    }
    if (told) summary.told++;
  }
  // Intents in these chats the conversations do not account for: doubles that reached the broker.
  const tracked = new Set(conversations.map((conversation) => conversation.intentId));
  const chats = new Set(conversations.map((conversation) => String(conversation.chatId)));
  for (const intent of ledger.intents) {
    if (chats.has(intent.chatId) && !tracked.has(intent.id) && intent.paperOrders > 0)
      summary.problems.push(
        `intent ${intent.id} (chat ${intent.chatId}) reached the paper broker but was never confirmed by the test`,
      );
  }
  return summary;
}

/** One line for the test's output. */
export function describeSummary(name: string, summary: AuditSummary): string {
  const reasons = [...new Set(summary.notPlaced)].join('; ');
  return (
    `${name}: ${summary.conversations} messages, ${summary.cards} cards, ${summary.replies} replies, ` +
    `${summary.toldNotHandled} told not handled; ${summary.presses} presses on ${summary.confirmedCards} cards -> ` +
    `${summary.filled} filled, ${summary.notPlaced.length} not placed${reasons ? ` (${reasons})` : ''}, ` +
    `${summary.pressesNotHandled.length} presses not handled${summary.pressesNotHandled.length > 0 ? ` (${[...new Set(summary.pressesNotHandled)].join('; ')})` : ''}; ${summary.told} told once; ${summary.unseenIntents} unseen intents; ` +
    `${summary.delayedNotices} "kept" notices; ${summary.duplicateCards} cards shown twice; ` +
    `${summary.toldByCardOnly} told by the card alone; ` +
    `${summary.problems.length} problems`
  );
}
