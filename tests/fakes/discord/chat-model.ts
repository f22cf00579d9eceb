/**
 * What the fake Discord shows: every message the bot posted (channel messages, interaction
 * responses, ephemerals for one user) with its current content, embeds and buttons after edits.
 */
import type { FakeActionRow, FakeEmbed, FakeMessageBody } from './validation.js';

/** Message flag: only the interaction's user sees it. */
export const EPHEMERAL = 64;
/** Message flag: a deferred response still "thinking". */
export const LOADING = 128;

export interface FakeMessage {
  readonly id: string;
  readonly channelId: string;
  readonly guildId?: string;
  readonly authorId: string;
  /** The interaction whose token created it (originals and follow-ups). */
  readonly interactionId?: string;
  /** Set for ephemeral messages: the only user who sees them. */
  readonly ephemeralFor?: string;
  content: string;
  embeds: FakeEmbed[];
  components: FakeActionRow[];
  flags: number;
  readonly createdAt: number;
  editedAt?: number;
  /** How many times it was edited (tests assert edits happened). */
  edits: number;
  deleted: boolean;
}

/** Everything visible on a message, flattened to text: content, embed author, title, fields, footer. */
export function messageText(message: FakeMessage): string {
  const parts: string[] = [];
  if (message.content) parts.push(message.content);
  for (const embed of message.embeds) {
    if (embed.author) parts.push(embed.author.name);
    if (embed.title) parts.push(embed.title);
    if (embed.description) parts.push(embed.description);
    for (const field of embed.fields ?? []) parts.push(`${field.name}: ${field.value}`);
    if (embed.footer) parts.push(embed.footer.text);
  }
  return parts.join('\n');
}

/** The custom ids of the buttons a message still has. */
export function buttonIds(message: FakeMessage): string[] {
  return message.components.flatMap((row) => row.components.map((button) => button.custom_id));
}

export class ChatModel {
  private readonly messages = new Map<string, FakeMessage>();

  add(message: Omit<FakeMessage, 'edits' | 'deleted'>): FakeMessage {
    const stored: FakeMessage = { ...message, edits: 0, deleted: false };
    this.messages.set(stored.id, stored);
    return stored;
  }

  get(id: string): FakeMessage | undefined {
    const message = this.messages.get(id);
    return message?.deleted ? undefined : message;
  }

  /** Applies an edit body: only the fields present change (Discord's PATCH semantics). */
  edit(message: FakeMessage, body: FakeMessageBody, at: number): void {
    if (body.content !== undefined) message.content = body.content;
    if (body.embeds !== undefined) message.embeds = body.embeds;
    if (body.components !== undefined) message.components = body.components;
    message.flags &= ~LOADING;
    message.editedAt = at;
    message.edits++;
  }

  /** Every live message in a channel, oldest first (ephemerals of every user included). */
  inChannel(channelId: string): FakeMessage[] {
    return [...this.messages.values()].filter(
      (message) => message.channelId === channelId && !message.deleted,
    );
  }

  /** What one user sees in a channel: public messages and their own ephemerals. */
  visibleTo(userId: string, channelId: string): FakeMessage[] {
    return this.inChannel(channelId).filter(
      (message) => message.ephemeralFor === undefined || message.ephemeralFor === userId,
    );
  }

  all(): FakeMessage[] {
    return [...this.messages.values()].filter((message) => !message.deleted);
  }
}
