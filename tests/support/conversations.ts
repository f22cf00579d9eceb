/**
 * The conversations fault tests play: a new Telegram user writes "buy <unique quantity> btc",
 * waits for the card, presses Confirm (sometimes twice, as a double tap does), and waits to be
 * told. Every wait polls the fake Telegram's chat model against a deadline and returns what it
 * saw; the verdict is outcome-audit.ts's.
 */
import type { Conversation } from './outcome-audit.js';
import { HANDLING_FAILED, INBOX_UNAVAILABLE, isOutcomeSentence, PRESS_NOT_HANDLED } from './outcome-audit.js';
import { cardNotice, TelegramPlayer } from './telegram-player.js';

/** Quantities that end in 1, so they print unchanged ("0.010071") and tell conversations apart. */
export function uniqueQuantity(n: number): string {
  return `0.0${1000 + n}1`;
}

/** Starts a conversation: a new user writes an order for a unique quantity. */
export function openConversation(
  player: TelegramPlayer,
  n: number,
  label: string,
  endpoint?: string,
): Conversation {
  const who = player.newUser(`Trader ${n}`);
  const quantity = uniqueQuantity(n);
  const message = player.say(who, `buy ${quantity} btc`, endpoint);
  return { label, who, chatId: who.chat.id, quantity, message, presses: [] };
}

/** Whether the chat got something that ends the message without a card (a reply or "not handled"). */
function answeredWithoutCard(player: TelegramPlayer, conversation: Conversation): boolean {
  return player
    .sentencesIn(conversation.chatId)
    .some(
      (text) => HANDLING_FAILED.test(text) || INBOX_UNAVAILABLE.test(text) || /^Refused|^I don't/.test(text),
    );
}

/** Reads the conversation's card (its id and intent) once it is in the chat with a Confirm button. */
export function noteCard(player: TelegramPlayer, conversation: Conversation): boolean {
  if (conversation.cardMessageId !== undefined) return true;
  const card = player.cardsIn(conversation.chatId)[0];
  const data = card === undefined ? undefined : TelegramPlayer.confirmData(card);
  if (card === undefined || data === undefined) return false;
  conversation.cardMessageId = card.messageId;
  conversation.intentId = data.slice('confirm:'.length);
  return true;
}

/** Polls `done` every 25 ms until it holds or `timeoutMs` passes; returns whether it held. */
export async function pollUntil(
  done: () => boolean,
  timeoutMs: number,
  stop?: () => string | undefined,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    const reason = stop?.();
    if (reason !== undefined) throw new Error(reason);
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return true;
}

/** Waits until each conversation has its card (or was answered without one); returns those still waiting. */
export async function waitForCards(
  player: TelegramPlayer,
  conversations: Conversation[],
  timeoutMs: number,
  stop?: () => string | undefined,
): Promise<Conversation[]> {
  const open = () =>
    conversations.filter(
      (conversation) => !noteCard(player, conversation) && !answeredWithoutCard(player, conversation),
    );
  await pollUntil(() => open().length === 0, timeoutMs, stop);
  return open();
}

/** Presses Confirm on every conversation's card that has one; a second press with probability `doubleTap()`. */
export function pressConfirm(
  player: TelegramPlayer,
  conversations: Conversation[],
  doubleTap: () => boolean,
  endpointFor: (press: number) => string | undefined = () => undefined,
): number {
  let pressed = 0;
  for (const conversation of conversations) {
    if (conversation.cardMessageId === undefined || conversation.intentId === undefined) continue;
    const times = doubleTap() ? 2 : 1;
    for (let i = 0; i < times; i++) {
      conversation.presses.push(
        player.press(
          conversation.who,
          conversation.cardMessageId,
          `confirm:${conversation.intentId}`,
          endpointFor(pressed),
        ),
      );
      pressed++;
    }
  }
  return pressed;
}

/** Whether the presser was told their press changed nothing (it may be repeated). */
function toldPressNotHandled(player: TelegramPlayer, conversation: Conversation): boolean {
  return [...player.answersIn(conversation.chatId), ...player.sentencesIn(conversation.chatId)].some((text) =>
    PRESS_NOT_HANDLED.some((pattern) => pattern.test(text)),
  );
}

/** Whether a confirmed conversation's card shows a final status (or its presser was told it was not handled). */
export function cardFinal(player: TelegramPlayer, conversation: Conversation): boolean {
  if (conversation.presses.length === 0 || toldPressNotHandled(player, conversation)) return true;
  const card = player
    .cardsIn(conversation.chatId)
    .find((message) => message.messageId === conversation.cardMessageId);
  return (
    card !== undefined &&
    card.buttons.length === 0 &&
    /^(Filled\.|Refused\.|Failed\.|Cancelled\.|Expired)/.test(cardNotice(card))
  );
}

/** Whether a confirmed conversation shows its end: the card's final notice and an outcome sentence, or a press not handled. */
export function outcomeShown(player: TelegramPlayer, conversation: Conversation): boolean {
  if (conversation.presses.length === 0 || toldPressNotHandled(player, conversation)) return true;
  return cardFinal(player, conversation) && player.sentencesIn(conversation.chatId).some(isOutcomeSentence);
}

/**
 * Waits until every confirmed conversation shows its end: first every card final (up to
 * `timeoutMs`), then every outcome sentence (up to `sentenceGraceMs` more: a sentence follows its
 * card's edit at once, or after the recovery pass's 15 s grace). Returns those that do not.
 */
export async function waitForOutcomes(
  player: TelegramPlayer,
  conversations: Conversation[],
  timeoutMs: number,
  stop?: () => string | undefined,
  sentenceGraceMs = 20_000,
): Promise<Conversation[]> {
  await pollUntil(
    () => conversations.every((conversation) => cardFinal(player, conversation)),
    timeoutMs,
    stop,
  );
  const open = () => conversations.filter((conversation) => !outcomeShown(player, conversation));
  if (timeoutMs > 0) await pollUntil(() => open().length === 0, sentenceGraceMs, stop);
  return open();
}
