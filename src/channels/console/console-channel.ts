/**
 * The console channel: chat with Arbion in a terminal, on the paper account by default.
 * Cards render as text; typing "confirm"/"yes" or "cancel"/"no" answers the newest open card,
 * exactly as pressing its button would (the same authorization path as every other channel).
 */
import { randomUUID } from 'node:crypto';
import { userInfo } from 'node:os';
import { createInterface, type Interface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import type {
  ChannelAddress,
  ChannelPort,
  InboundMessage,
  OutboundMessage,
  Sender,
} from '../../core/messages.js';
import { renderMessage } from './render.js';

const CONFIRM_WORDS = new Set(['confirm', 'yes', 'y', 'ok']);
const CANCEL_WORDS = new Set(['cancel', 'no', 'n']);

export interface ConsoleChannelOptions {
  readonly input: Readable;
  readonly output: Writable;
  /** Receives each message typed; the core's Conversation.handle. */
  readonly onMessage: (message: InboundMessage) => Promise<void>;
  /** The console user; defaults to the OS user name. */
  readonly user?: Sender;
  /** Shown before input; empty for non-interactive use. */
  readonly prompt?: string;
}

export class ConsoleChannel implements ChannelPort {
  readonly address: ChannelAddress = { platform: 'console', workspaceId: '', chatId: 'console' };
  private readonly user: Sender;
  private nextMessageId = 1;
  /** Card message id -> the action ids it currently offers. */
  private readonly openCards = new Map<string, { confirm?: string; cancel?: string }>();
  private readline: Interface | undefined;
  private queue: Promise<void> = Promise.resolve();

  constructor(private readonly options: ConsoleChannelOptions) {
    this.user = options.user ?? { platformUserId: userInfo().username, displayName: userInfo().username };
  }

  /** Starts reading lines; resolves when the input ends. Lines are handled one after another. */
  run(): Promise<void> {
    const readline = createInterface({ input: this.options.input, terminal: false });
    this.readline = readline;
    this.writePrompt();
    readline.on('line', (line) => {
      this.queue = this.queue.then(() => this.handleLine(line)).then(() => this.writePrompt());
    });
    return new Promise((resolve) => readline.on('close', () => void this.queue.then(resolve)));
  }

  /** Prints a line from Arbion itself (not a card or an answer of the core). */
  say(text: string): void {
    this.write(text);
  }

  stop(): void {
    this.readline?.close();
  }

  async send(_address: ChannelAddress, message: OutboundMessage): Promise<{ messageId: string }> {
    const messageId = String(this.nextMessageId++);
    this.remember(messageId, message);
    this.write(renderMessage(message, Number(messageId)));
    return { messageId };
  }

  async edit(_address: ChannelAddress, messageId: string, message: OutboundMessage): Promise<void> {
    this.remember(messageId, message);
    this.write(`(card #${messageId} updated)\n${renderMessage(message, Number(messageId))}`);
  }

  async notify(_address: ChannelAddress, _recipient: Sender, text: string): Promise<void> {
    this.write(`(only you see this) ${text}`);
  }

  private remember(messageId: string, message: OutboundMessage): void {
    if (message.kind !== 'card') return;
    // A "cancel open orders" card answers "confirm" with its own verbs (core/messages.ts).
    const confirm = message.card.actions.find((action) => /^(confirm|cancelorders):/.test(action.id))?.id;
    const cancel = message.card.actions.find((action) => /^(cancel|keeporders):/.test(action.id))?.id;
    if (confirm || cancel) this.openCards.set(messageId, { confirm, cancel });
    else this.openCards.delete(messageId);
  }

  private async handleLine(line: string): Promise<void> {
    const text = line.trim();
    if (text === '') return;
    const word = text.toLowerCase().replace(/[.!]+$/, '');
    const newest = [...this.openCards.entries()].at(-1);
    const base = {
      deliveryId: randomUUID(),
      address: this.address,
      sender: this.user,
      receivedAt: new Date(),
      chatType: 'direct' as const,
    };
    if (newest && (CONFIRM_WORDS.has(word) || CANCEL_WORDS.has(word))) {
      const [cardId, actions] = newest;
      const actionId = CONFIRM_WORDS.has(word) ? actions.confirm : actions.cancel;
      if (actionId) {
        await this.options.onMessage({ ...base, kind: 'action', messageId: cardId, actionId });
        return;
      }
    }
    await this.options.onMessage({ ...base, kind: 'text', messageId: `in-${base.deliveryId}`, text });
  }

  private writePrompt(): void {
    if (this.options.prompt) this.options.output.write(this.options.prompt);
  }

  private write(text: string): void {
    this.options.output.write(`${text}\n`);
  }
}
