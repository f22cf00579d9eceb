/**
 * The console channel: chat with Arbion in a terminal, on the paper account by default.
 * Cards render as text with their number ("Card #12"); every line typed goes to the core as text,
 * which understands "confirm 12", "cancel #12" and a bare "yes"/"no" as answers to cards, as in
 * every other channel.
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
  /** Ids of the messages it printed, for the core to edit them; never shown (cards show their number). */
  private nextMessageId = 1;
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
    this.write(renderMessage(message));
    return { messageId };
  }

  async edit(_address: ChannelAddress, _messageId: string, message: OutboundMessage): Promise<void> {
    const number = message.kind === 'card' ? message.card.number : undefined;
    this.write(`(${number === undefined ? 'card' : `card #${number}`} updated)\n${renderMessage(message)}`);
  }

  async notify(_address: ChannelAddress, _recipient: Sender, text: string): Promise<void> {
    this.write(`(only you see this) ${text}`);
  }

  private async handleLine(line: string): Promise<void> {
    const text = line.trim();
    if (text === '') return;
    const deliveryId = randomUUID();
    await this.options.onMessage({
      kind: 'text',
      deliveryId,
      address: this.address,
      sender: this.user,
      receivedAt: new Date(),
      chatType: 'direct',
      messageId: `in-${deliveryId}`,
      text,
    });
  }

  private writePrompt(): void {
    if (this.options.prompt) this.options.output.write(this.options.prompt);
  }

  private write(text: string): void {
    this.options.output.write(`${text}\n`);
  }
}
