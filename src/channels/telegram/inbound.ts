/**
 * Telegram updates into the core's inbound messages: pure functions, no I/O.
 *
 * Text: in a private chat everything is for us. In a group only what is addressed to the bot is:
 * a command (`/buy 10 AAPL`, `/buy@our_bot ...`, but not `/buy@other_bot`), a message starting
 * with `@our_bot`, or a reply to one of our messages; the command's slash and the bot's name are
 * stripped, so the core sees `buy 10 AAPL`. `/start` (what Telegram sends when someone opens the
 * bot) becomes `help`, which introduces the bot and makes the core create the user; a deep link's
 * payload (`/start CODE`) becomes `join CODE`.
 */
import type { Chat, Message, Update, User, UserFromGetMe } from 'grammy/types';
import { z } from 'zod';
import type { InboundMessage, Sender } from '../../core/messages.js';

/**
 * The parts of a webhook body we read, checked before grammy sees it; other fields and update
 * kinds pass through untouched (an update kind we do not handle is acknowledged and ignored).
 */
const userSchema = z.looseObject({
  id: z.number().int(),
  is_bot: z.boolean(),
  first_name: z.string(),
  last_name: z.string().optional(),
  username: z.string().optional(),
});
const chatSchema = z.looseObject({
  id: z.number().int(),
  type: z.enum(['private', 'group', 'supergroup', 'channel']),
});
const messageSchema = z.looseObject({
  message_id: z.number().int(),
  date: z.number().int(),
  chat: chatSchema,
  from: userSchema.optional(),
  text: z.string().optional(),
  reply_to_message: z.looseObject({ from: userSchema.optional() }).optional(),
});
export const webhookUpdateSchema = z.looseObject({
  update_id: z.number().int().nonnegative(),
  message: messageSchema.optional(),
  callback_query: z
    .looseObject({
      id: z.string().min(1),
      from: userSchema,
      message: z.looseObject({ message_id: z.number().int(), chat: chatSchema }).optional(),
      data: z.string().optional(),
      chat_instance: z.string(),
    })
    .optional(),
});

const COMMAND = /^\/([A-Za-z0-9_]{1,32})(?:@([A-Za-z0-9_]{3,32}))?(?=\s|$)/;
const LEADING_MENTION = /^@([A-Za-z0-9_]{3,32})(?=[\s,:]|$)[\s,:]*/;

/** `private` is a one-to-one chat with the bot; groups (and supergroups) are shared. */
export function chatTypeOf(chat: Pick<Chat, 'type'>): 'direct' | 'group' | undefined {
  if (chat.type === 'private') return 'direct';
  if (chat.type === 'group' || chat.type === 'supergroup') return 'group';
  return undefined; // Channels: the bot does not converse there.
}

/** The text the core should see, or undefined when the message is not for the bot. */
export function textForCore(
  message: Message,
  bot: Pick<UserFromGetMe, 'id' | 'username'>,
): string | undefined {
  const raw = message.text;
  if (raw === undefined) return undefined;
  const text = raw.trim();
  const ours = (name: string | undefined) =>
    name === undefined || name.toLowerCase() === bot.username.toLowerCase();
  const command = COMMAND.exec(text);
  if (command) {
    const [whole, name = '', target] = command;
    if (!ours(target)) return undefined; // Meant for another bot in the group.
    const rest = text.slice(whole.length).trim();
    if (name.toLowerCase() === 'start') return rest === '' ? 'help' : `join ${rest}`;
    return rest === '' ? name.toLowerCase() : `${name.toLowerCase()} ${rest}`;
  }
  if (message.chat.type === 'private') return text === '' ? undefined : text;
  const mention = LEADING_MENTION.exec(text);
  if (mention && mention[1]?.toLowerCase() === bot.username.toLowerCase()) {
    const rest = text.slice(mention[0].length).trim();
    return rest === '' ? 'help' : rest;
  }
  if (message.reply_to_message?.from?.id === bot.id && text !== '') return text;
  return undefined;
}

export function senderOf(user: User): Sender {
  const name = [user.first_name, user.last_name].filter(Boolean).join(' ') || user.username;
  return { platformUserId: String(user.id), ...(name ? { displayName: name } : {}) };
}

/**
 * The core's message for an update, or undefined when it is not for the core (other update kinds,
 * bots, channels, messages in groups not addressed to us, presses on inline-mode messages).
 * `replyHandle` of a press is its callback query id, so `notify` can answer that press.
 */
export function toInboundMessage(
  update: Update,
  bot: Pick<UserFromGetMe, 'id' | 'username'>,
  receivedAt: Date,
): InboundMessage | undefined {
  const deliveryId = String(update.update_id);
  const message = update.message;
  if (message !== undefined) {
    const chatType = chatTypeOf(message.chat);
    if (chatType === undefined || message.from === undefined || message.from.is_bot) return undefined;
    const text = textForCore(message, bot);
    if (text === undefined) return undefined;
    return {
      kind: 'text',
      deliveryId,
      address: { platform: 'telegram', workspaceId: '', chatId: String(message.chat.id) },
      sender: senderOf(message.from),
      receivedAt,
      chatType,
      messageId: String(message.message_id),
      text,
    };
  }
  const query = update.callback_query;
  if (query?.message !== undefined && query.data !== undefined) {
    const chatType = chatTypeOf(query.message.chat);
    if (chatType === undefined) return undefined;
    return {
      kind: 'action',
      deliveryId,
      address: {
        platform: 'telegram',
        workspaceId: '',
        chatId: String(query.message.chat.id),
        replyHandle: query.id,
      },
      sender: senderOf(query.from),
      receivedAt,
      chatType,
      messageId: String(query.message.message_id),
      actionId: query.data,
    };
  }
  return undefined;
}
