/**
 * A steady stream of traders for fault tests: every `intervalMs` a new user writes an order, and
 * every card that appears is pressed (Confirm, sometimes twice) as soon as the test sees it. The
 * test breaks things underneath (a database restart, a killed process) while the stream runs.
 */
import { noteCard, openConversation, outcomeShown } from './conversations.js';
import type { Conversation } from './outcome-audit.js';
import type { SeededRandom } from './seeded-random.js';
import type { TelegramPlayer } from './telegram-player.js';

export interface ConversationStreamOptions {
  readonly player: TelegramPlayer;
  readonly random: SeededRandom;
  /** A name for the conversations' labels. */
  readonly label: string;
  /** The first conversation's number (quantities derive from it: keep streams apart). */
  readonly firstNumber: number;
  /** Time between two new conversations. */
  readonly intervalMs: number;
  /** Where each delivery goes first (webhook mode with several endpoints), by a running count. */
  readonly endpointFor?: (count: number) => string | undefined;
  /** Probability of a second Confirm press (a double tap). */
  readonly doubleTap?: number;
}

export class ConversationStream {
  readonly conversations: Conversation[] = [];
  /** When each pressed conversation first showed its end (watched every 25 ms until `close()`). */
  readonly settledAt = new Map<Conversation, number>();
  /** When each conversation's message was sent. */
  readonly openedAt = new Map<Conversation, number>();
  private timer: NodeJS.Timeout | undefined;
  private presser: NodeJS.Timeout | undefined;
  private next: number;
  private deliveries = 0;

  constructor(private readonly options: ConversationStreamOptions) {
    this.next = options.firstNumber;
  }

  /** Starts opening conversations and pressing their cards. */
  start(): void {
    this.open();
    this.timer = setInterval(() => this.open(), this.options.intervalMs);
    this.presser = setInterval(() => {
      this.pressNewCards();
      this.noteSettled();
    }, 25);
  }

  /** Stops opening conversations; cards that appear later are still pressed until `close()`. */
  stopOpening(): void {
    clearInterval(this.timer);
  }

  /** Stops everything (noting what settled since the last look). */
  close(): void {
    clearInterval(this.timer);
    clearInterval(this.presser);
    this.noteSettled();
  }

  /** Presses Confirm on every card the test sees for the first time. */
  pressNewCards(): void {
    const { player, random } = this.options;
    for (const conversation of this.conversations) {
      if (conversation.presses.length > 0 || !noteCard(player, conversation)) continue;
      const times = random.chance(this.options.doubleTap ?? 0.2) ? 2 : 1;
      for (let i = 0; i < times; i++) {
        conversation.presses.push(
          player.press(
            conversation.who,
            conversation.cardMessageId ?? 0,
            `confirm:${conversation.intentId}`,
            this.endpoint(),
          ),
        );
      }
    }
  }

  /** The pressed conversation that took longest from its message to its end, and how long (ms). */
  slowest(): { conversation: Conversation; ms: number } | undefined {
    let slowest: { conversation: Conversation; ms: number } | undefined;
    for (const [conversation, at] of this.settledAt) {
      const ms = at - (this.openedAt.get(conversation) ?? at);
      if (slowest === undefined || ms > slowest.ms) slowest = { conversation, ms };
    }
    return slowest;
  }

  private noteSettled(): void {
    for (const conversation of this.conversations) {
      if (conversation.presses.length === 0 || this.settledAt.has(conversation)) continue;
      if (outcomeShown(this.options.player, conversation)) this.settledAt.set(conversation, Date.now());
    }
  }

  private open(): void {
    const number = this.next++;
    const conversation = openConversation(
      this.options.player,
      number,
      `${this.options.label} user ${number}`,
      this.endpoint(),
    );
    this.openedAt.set(conversation, Date.now());
    this.conversations.push(conversation);
  }

  private endpoint(): string | undefined {
    return this.options.endpointFor?.(this.deliveries++);
  }
}
