/**
 * Slack's inbound payloads (slash commands, Events API callbacks, block_actions) validated with
 * zod and translated into the core's `InboundMessage`s. Pure apart from `handleFor`, which the
 * adapter uses to keep the response_url of this delivery under an opaque key.
 */
import { z } from 'zod';
import type { InboundMessage } from '../../core/messages.js';
import { ACTIONS_BLOCK_PREFIX, unescapeSlackText } from './blocks.js';

/** Form fields of a slash command (only those we use; Slack sends more). */
export const slashCommandSchema = z.object({
  command: z.string().startsWith('/'),
  text: z.string().default(''),
  team_id: z.string().min(1),
  channel_id: z.string().min(1),
  user_id: z.string().min(1),
  user_name: z.string().optional(),
  response_url: z.url(),
  trigger_id: z.string().min(1),
});
export type SlashCommand = z.infer<typeof slashCommandSchema>;

/** The Events API envelope. */
export const eventCallbackSchema = z.object({
  type: z.literal('event_callback'),
  team_id: z.string().min(1),
  event_id: z.string().min(1),
  event: z.looseObject({ type: z.string() }),
});
export type EventCallback = z.infer<typeof eventCallbackSchema>;

export const urlVerificationSchema = z.object({
  type: z.literal('url_verification'),
  challenge: z.string(),
});

/** A user's message: DMs (`message.im`) and mentions (`app_mention`). Bot messages have bot_id. */
const userMessageEventSchema = z.object({
  type: z.enum(['message', 'app_mention']),
  subtype: z.string().optional(),
  bot_id: z.string().optional(),
  user: z.string().min(1),
  text: z.string().default(''),
  ts: z.string().min(1),
  thread_ts: z.string().optional(),
  channel: z.string().min(1),
  channel_type: z.string().optional(),
});

/** A button press on one of our messages. */
export const blockActionsSchema = z.object({
  type: z.literal('block_actions'),
  user: z.object({ id: z.string().min(1), username: z.string().optional(), name: z.string().optional() }),
  team: z.object({ id: z.string().min(1) }).nullable(),
  channel: z.object({ id: z.string().min(1) }).optional(),
  container: z.looseObject({
    type: z.string(),
    message_ts: z.string().optional(),
    channel_id: z.string().optional(),
    is_ephemeral: z.boolean().optional(),
  }),
  message: z.looseObject({ ts: z.string().min(1), thread_ts: z.string().optional() }).optional(),
  actions: z
    .array(
      z.object({
        type: z.string(),
        action_id: z.string().min(1),
        block_id: z.string().optional(),
        action_ts: z.string().min(1),
      }),
    )
    .min(1),
  response_url: z.url(),
});
export type BlockActions = z.infer<typeof blockActionsSchema>;

/** Any interactivity payload (`payload` form field): only block_actions is translated. */
export const interactivePayloadSchema = z.looseObject({ type: z.string() });

/** What the adapter keeps to answer one delivery (behind `address.replyHandle`). */
export interface ReplyContext {
  /** The delivery's response_url (slash commands, button presses). */
  readonly responseUrl?: string;
  readonly userId: string;
  readonly channelId: string;
  /** Texts answering this delivery go to the sender only (slash commands, presses on ephemerals). */
  readonly privateReplies: boolean;
  /** The ephemeral card the press came from: its response_url can now replace it. */
  readonly ephemeralCardId?: string;
}

export type HandleFor = (context: ReplyContext) => string;

/** DM channel ids start with D; everything else (C, G) is shared with others. */
export function chatTypeOf(channelId: string): 'direct' | 'group' {
  return channelId.startsWith('D') ? 'direct' : 'group';
}

export function translateSlashCommand(
  command: SlashCommand,
  handleFor: HandleFor,
  receivedAt: Date,
): InboundMessage {
  const text = unescapeSlackText(command.text).trim();
  return {
    kind: 'text',
    // A slash command has no message; its trigger_id is unique per invocation.
    deliveryId: command.trigger_id,
    messageId: command.trigger_id,
    text: text === '' ? 'help' : text,
    address: {
      platform: 'slack',
      workspaceId: command.team_id,
      chatId: command.channel_id,
      replyHandle: handleFor({
        responseUrl: command.response_url,
        userId: command.user_id,
        channelId: command.channel_id,
        privateReplies: true,
      }),
    },
    sender: {
      platformUserId: command.user_id,
      ...(command.user_name ? { displayName: command.user_name } : {}),
    },
    receivedAt,
    chatType: chatTypeOf(command.channel_id),
  };
}

/** Removes mentions of the bot (`<@U123>` or `<@U123|name>`) from a message. */
export function stripBotMention(text: string, botUserId: string | undefined): string {
  if (botUserId === undefined) return text.replace(/^\s*<@[A-Z0-9]+(\|[^>]*)?>/, '').trim();
  return text.replace(new RegExp(`<@${botUserId}(\\|[^>]*)?>`, 'g'), '').trim();
}

/**
 * A DM to the bot or a mention of it; undefined for everything else (bot messages, edits, joins,
 * messages in channels without a mention).
 */
export function translateMessageEvent(
  envelope: EventCallback,
  botUserId: string | undefined,
  handleFor: HandleFor,
  receivedAt: Date,
): InboundMessage | undefined {
  const parsed = userMessageEventSchema.safeParse(envelope.event);
  if (!parsed.success) return undefined;
  const event = parsed.data;
  if (event.subtype !== undefined || event.bot_id !== undefined) return undefined;
  if (botUserId !== undefined && event.user === botUserId) return undefined;
  const direct = event.channel_type === 'im' || chatTypeOf(event.channel) === 'direct';
  if (event.type === 'message' && !direct) return undefined; // Channel chatter is not for us.
  const text = unescapeSlackText(
    event.type === 'app_mention' ? stripBotMention(event.text, botUserId) : event.text,
  ).trim();
  return {
    kind: 'text',
    deliveryId: envelope.event_id,
    messageId: event.ts,
    text: text === '' ? 'help' : text,
    address: {
      platform: 'slack',
      workspaceId: envelope.team_id,
      chatId: event.channel,
      ...(event.thread_ts ? { threadId: event.thread_ts } : {}),
      replyHandle: handleFor({ userId: event.user, channelId: event.channel, privateReplies: false }),
    },
    sender: { platformUserId: event.user },
    receivedAt,
    chatType: direct ? 'direct' : 'group',
  };
}

/** The card id a press came from: ours from the block id for ephemerals, else the message ts. */
function cardMessageId(payload: BlockActions, blockId: string | undefined): string | undefined {
  if (payload.container.is_ephemeral === true) {
    return blockId?.startsWith(ACTIONS_BLOCK_PREFIX) ? blockId.slice(ACTIONS_BLOCK_PREFIX.length) : undefined;
  }
  return payload.message?.ts ?? payload.container.message_ts;
}

export function translateBlockActions(
  payload: BlockActions,
  handleFor: HandleFor,
  receivedAt: Date,
): InboundMessage | undefined {
  const action = payload.actions[0];
  const channelId = payload.channel?.id ?? payload.container.channel_id;
  const teamId = payload.team?.id;
  if (action === undefined || channelId === undefined || teamId === undefined) return undefined;
  const messageId = cardMessageId(payload, action.block_id);
  if (messageId === undefined) return undefined;
  const ephemeral = payload.container.is_ephemeral === true;
  return {
    kind: 'action',
    // Slack does not retry interactions; action_ts and the user identify this press.
    deliveryId: `${action.action_ts}:${payload.user.id}`,
    messageId,
    actionId: action.action_id,
    address: {
      platform: 'slack',
      workspaceId: teamId,
      chatId: channelId,
      ...(payload.message?.thread_ts ? { threadId: payload.message.thread_ts } : {}),
      replyHandle: handleFor({
        responseUrl: payload.response_url,
        userId: payload.user.id,
        channelId,
        privateReplies: ephemeral,
        ...(ephemeral ? { ephemeralCardId: messageId } : {}),
      }),
    },
    sender: {
      platformUserId: payload.user.id,
      ...(payload.user.name || payload.user.username
        ? { displayName: payload.user.name ?? payload.user.username }
        : {}),
    },
    receivedAt,
    chatType: chatTypeOf(channelId),
  };
}
