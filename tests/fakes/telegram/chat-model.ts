/**
 * What the fake Telegram knows about chats: every message in each chat as it looks now (text,
 * entities, inline buttons after edits), the callback queries users raised by pressing buttons and
 * how the bot answered them. Drivers read cards and texts from here, never from our adapter.
 */
import type { TextEntity } from './telegram-html.js';

export interface FakeUser {
  readonly id: number;
  readonly is_bot: boolean;
  readonly first_name: string;
  readonly last_name?: string;
  readonly username?: string;
}

export interface FakeChat {
  readonly id: number;
  readonly type: 'private' | 'group' | 'supergroup';
  readonly title?: string;
  readonly first_name?: string;
  readonly username?: string;
}

export interface FakeButton {
  readonly text: string;
  readonly callback_data?: string;
  readonly url?: string;
}

export interface FakeMessage {
  readonly chatId: number;
  readonly messageId: number;
  readonly from: FakeUser;
  readonly date: number;
  /** Order of appearance across all chats and alerts (for "oldest first" across sources). */
  readonly seq: number;
  /** Visible text, after entity parsing. */
  text: string;
  entities: readonly TextEntity[];
  /** What the bot sent (its HTML source), for assertions on escaping. */
  source: string;
  buttons: readonly (readonly FakeButton[])[];
  edits: number;
  readonly replyToMessageId?: number;
}

export interface FakeCallbackQuery {
  readonly id: string;
  readonly from: FakeUser;
  readonly chatId: number;
  readonly messageId: number;
  readonly data: string;
  /** Set once the bot answered it; a second answer is refused. */
  answer?: { readonly seq: number; readonly text?: string; readonly showAlert: boolean };
}

export class FakeChatModel {
  private readonly chats = new Map<number, FakeChat>();
  private readonly messages = new Map<number, FakeMessage[]>();
  private readonly nextMessageId = new Map<number, number>();
  readonly queries = new Map<string, FakeCallbackQuery>();
  private seq = 0;

  nextSeq(): number {
    return ++this.seq;
  }

  addChat(chat: FakeChat): void {
    if (!this.chats.has(chat.id)) this.chats.set(chat.id, chat);
  }

  chat(chatId: number): FakeChat | undefined {
    return this.chats.get(chatId);
  }

  addMessage(
    chatId: number,
    from: FakeUser,
    content: Pick<FakeMessage, 'text' | 'entities' | 'source' | 'buttons'> & { replyToMessageId?: number },
  ): FakeMessage {
    const messageId = this.nextMessageId.get(chatId) ?? 1;
    this.nextMessageId.set(chatId, messageId + 1);
    const message: FakeMessage = {
      chatId,
      messageId,
      from,
      date: Math.floor(Date.now() / 1000),
      seq: this.nextSeq(),
      edits: 0,
      ...content,
    };
    const list = this.messages.get(chatId) ?? [];
    list.push(message);
    this.messages.set(chatId, list);
    return message;
  }

  message(chatId: number, messageId: number): FakeMessage | undefined {
    return this.messages.get(chatId)?.find((message) => message.messageId === messageId);
  }

  /** Every message in the chat, oldest first. */
  messagesIn(chatId: number): readonly FakeMessage[] {
    return this.messages.get(chatId) ?? [];
  }

  /** The bot's messages in the chat, oldest first. */
  botMessagesIn(chatId: number): FakeMessage[] {
    return this.messagesIn(chatId).filter((message) => message.from.is_bot);
  }

  /** Callback queries the bot answered with text for this user (alerts and toasts), oldest first. */
  answersFor(userId: number): { seq: number; text: string; showAlert: boolean }[] {
    return [...this.queries.values()]
      .filter((query) => query.from.id === userId && query.answer?.text)
      .map((query) => ({
        seq: query.answer?.seq ?? 0,
        text: query.answer?.text ?? '',
        showAlert: query.answer?.showAlert ?? false,
      }))
      .sort((a, b) => a.seq - b.seq);
  }
}
