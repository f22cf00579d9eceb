/**
 * Pure translation of Discord deliveries into the core's inbound messages, and the immediate
 * answer each interaction needs (Discord wants one within 3 seconds): defer, autocomplete, pong.
 */
import type { SymbolResolver } from '../../core/market-data/instruments.js';
import type { ChannelAddress, InboundMessage, Sender, WorkspaceRole } from '../../core/messages.js';
import { commandText } from './commands.js';
import {
  CALLBACK,
  type DiscordMember,
  EPHEMERAL_FLAG,
  type Interaction,
  type InteractionResponse,
  type MessageCreate,
  type UserInteraction,
} from './payloads.js';

const ADMINISTRATOR = 1n << 3n;
const MANAGE_GUILD = 1n << 5n;
const MAX_CHOICES = 25;
const MAX_CHOICE_NAME = 100;

export interface InboundOptions {
  readonly traderRoleIds: readonly string[];
  readonly symbols?: SymbolResolver;
  readonly receivedAt: Date;
}

/** How to answer this delivery later: what the reply context needs (the token stays in memory). */
export interface ReplySeed {
  readonly interactionId: string;
  readonly token: string;
  readonly userId: string;
  /** Replies are ephemeral: a guild command, or a press on an ephemeral card. */
  readonly ephemeral: boolean;
  /** A button press: the card it was on ('@original' of the press). */
  readonly cardMessageId?: string;
  /** A deferred command: '@original' is a "thinking" placeholder until the first reply fills it. */
  readonly deferredReply: boolean;
}

export type InteractionPlan =
  | { readonly kind: 'pong' }
  /** Answered on the spot, nothing for the core (autocomplete, an unknown command). */
  | { readonly kind: 'answer'; readonly response: InteractionResponse }
  | {
      readonly kind: 'deliver';
      readonly response: InteractionResponse;
      readonly inbound: InboundMessage;
      readonly reply: ReplySeed;
    };

/** The guild role Discord vouches for: server admins are admins, configured roles are traders. */
export function platformRoleOf(member: DiscordMember, traderRoleIds: readonly string[]): WorkspaceRole {
  const permissions = BigInt(member.permissions ?? '0');
  if ((permissions & (ADMINISTRATOR | MANAGE_GUILD)) !== 0n) return 'admin';
  if (member.roles.some((role) => traderRoleIds.includes(role))) return 'trader';
  return 'viewer';
}

function senderOf(interaction: UserInteraction, traderRoleIds: readonly string[]): Sender | undefined {
  const { member } = interaction;
  const user = member?.user ?? interaction.user;
  if (user === undefined) return undefined;
  const displayName = member?.nick ?? user.global_name ?? user.username;
  if (interaction.guild_id === undefined || member === undefined)
    return { platformUserId: user.id, displayName };
  return { platformUserId: user.id, displayName, platformRole: platformRoleOf(member, traderRoleIds) };
}

/** Decides the immediate answer and the inbound message for one interaction. */
export function planInteraction(interaction: Interaction, options: InboundOptions): InteractionPlan {
  if (interaction.type === 1) return { kind: 'pong' };
  if (interaction.type === 4) return { kind: 'answer', response: autocomplete(interaction, options.symbols) };

  const sender = senderOf(interaction, options.traderRoleIds);
  const inGuild = interaction.guild_id !== undefined;
  if (sender === undefined) {
    return { kind: 'answer', response: { type: CALLBACK.DEFERRED_UPDATE_MESSAGE } };
  }
  const address: ChannelAddress = {
    platform: 'discord',
    workspaceId: interaction.guild_id ?? '',
    chatId: interaction.channel_id,
    replyHandle: interaction.id,
  };
  const base = {
    deliveryId: interaction.id,
    address,
    sender,
    receivedAt: options.receivedAt,
    chatType: inGuild ? ('group' as const) : ('direct' as const),
  };

  if (interaction.type === 2) {
    const text = commandText(interaction.data.name, interaction.data.options);
    if (text === undefined) {
      return {
        kind: 'answer',
        response: {
          type: CALLBACK.CHANNEL_MESSAGE,
          data: { content: 'I do not know that command. Try /help.', flags: EPHEMERAL_FLAG },
        },
      };
    }
    return {
      kind: 'deliver',
      // Guild commands are answered privately; in a DM everything is private anyway.
      response: {
        type: CALLBACK.DEFERRED_CHANNEL_MESSAGE,
        ...(inGuild ? { data: { flags: EPHEMERAL_FLAG } } : {}),
      },
      inbound: { ...base, kind: 'text', messageId: interaction.id, text },
      reply: {
        interactionId: interaction.id,
        token: interaction.token,
        userId: sender.platformUserId,
        ephemeral: inGuild,
        deferredReply: true,
      },
    };
  }

  // A button press. Select menus and other components are not ours: acknowledge and ignore.
  if (interaction.data.component_type !== 2) {
    return { kind: 'answer', response: { type: CALLBACK.DEFERRED_UPDATE_MESSAGE } };
  }
  const cardIsEphemeral = ((interaction.message.flags ?? 0) & EPHEMERAL_FLAG) !== 0;
  return {
    kind: 'deliver',
    response: { type: CALLBACK.DEFERRED_UPDATE_MESSAGE },
    inbound: {
      ...base,
      kind: 'action',
      messageId: interaction.message.id,
      actionId: interaction.data.custom_id,
    },
    reply: {
      interactionId: interaction.id,
      token: interaction.token,
      userId: sender.platformUserId,
      ephemeral: inGuild && cardIsEphemeral,
      cardMessageId: interaction.message.id,
      deferredReply: false,
    },
  };
}

/** Ticker suggestions for the focused option (type 8 callback, at most 25 choices). */
function autocomplete(
  interaction: Extract<Interaction, { type: 4 }>,
  symbols: SymbolResolver | undefined,
): InteractionResponse {
  const focused = interaction.data.options?.find((option) => option.focused);
  const typed = typeof focused?.value === 'string' ? focused.value : '';
  const found = symbols?.search(typed, MAX_CHOICES) ?? [];
  const choices = found.map((instrument) => ({
    name: `${instrument.symbol} · ${instrument.name}`.slice(0, MAX_CHOICE_NAME),
    value: instrument.symbol,
  }));
  return { type: CALLBACK.AUTOCOMPLETE_RESULT, data: { choices } };
}

/** A DM to the bot as an inbound text; undefined for anything else (guild chatter, bots, empty). */
export function directMessageToInbound(
  message: MessageCreate,
  botUserId: string | undefined,
  receivedAt: Date,
): InboundMessage | undefined {
  if (message.guild_id !== undefined || message.webhook_id !== undefined) return undefined;
  if (message.author.bot || message.author.id === botUserId) return undefined;
  const text = message.content.trim();
  if (text === '') return undefined;
  return {
    kind: 'text',
    deliveryId: message.id,
    messageId: message.id,
    text,
    address: { platform: 'discord', workspaceId: '', chatId: message.channel_id },
    sender: {
      platformUserId: message.author.id,
      displayName: message.author.global_name ?? message.author.username,
    },
    receivedAt,
    chatType: 'direct',
  };
}
