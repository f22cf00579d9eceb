/**
 * Discord API objects as the fake serves them (users, members, guilds, channels, messages,
 * interactions), shaped like the real v10 payloads so discord.js can parse them.
 */
import { randomBytes } from 'node:crypto';
import type { FakeMessage } from './chat-model.js';

const DISCORD_EPOCH = 1_420_070_400_000n;
let increment = 0n;

/** A fresh snowflake id (17-19 digits, time-ordered) like Discord's. */
export function snowflake(now = Date.now()): string {
  increment = (increment + 1n) % 4096n;
  return (((BigInt(now) - DISCORD_EPOCH) << 22n) | (1n << 17n) | increment).toString();
}

/** An interaction token: long, random, URL-safe. */
export function interactionToken(): string {
  return `aW50ZXJhY3Rpb246${randomBytes(48).toString('base64url')}`;
}

/** Permission bits the adapter looks at. */
export const PERMISSIONS = {
  ADMINISTRATOR: 1n << 3n,
  MANAGE_GUILD: 1n << 5n,
  VIEW_CHANNEL: 1n << 10n,
  SEND_MESSAGES: 1n << 11n,
  USE_APPLICATION_COMMANDS: 1n << 31n,
} as const;

/** What every member may do in the fake's guilds (@everyone). */
export const EVERYONE_PERMISSIONS =
  PERMISSIONS.VIEW_CHANNEL | PERMISSIONS.SEND_MESSAGES | PERMISSIONS.USE_APPLICATION_COMMANDS;
const ALL_PERMISSIONS = (1n << 50n) - 1n;

export interface FakeUser {
  readonly id: string;
  readonly username: string;
  readonly globalName: string | null;
  readonly bot: boolean;
}

export interface FakeRole {
  readonly id: string;
  readonly name: string;
  readonly permissions: bigint;
}

export interface FakeChannel {
  readonly id: string;
  /** 0 guild text, 1 DM. */
  readonly type: 0 | 1;
  readonly name?: string;
  readonly guildId?: string;
  /** DM channels: the user on the other side. */
  readonly recipientId?: string;
}

export interface FakeGuild {
  readonly id: string;
  readonly name: string;
  readonly ownerId: string;
  readonly roles: FakeRole[];
  readonly channelIds: string[];
  /** Member user id -> role ids. */
  readonly members: Map<string, string[]>;
}

export function userObject(user: FakeUser): Record<string, unknown> {
  return {
    id: user.id,
    username: user.username,
    global_name: user.globalName,
    discriminator: '0',
    avatar: null,
    bot: user.bot,
    public_flags: 0,
  };
}

/** The member's permissions: @everyone plus their roles; Administrator implies every permission. */
export function memberPermissions(guild: FakeGuild, roleIds: readonly string[]): bigint {
  let bits = EVERYONE_PERMISSIONS;
  for (const role of guild.roles)
    if (role.id === guild.id || roleIds.includes(role.id)) bits |= role.permissions;
  return (bits & PERMISSIONS.ADMINISTRATOR) !== 0n ? ALL_PERMISSIONS : bits;
}

export function memberObject(
  guild: FakeGuild,
  user: FakeUser,
  withPermissions: boolean,
): Record<string, unknown> {
  const roles = guild.members.get(user.id) ?? [];
  return {
    user: userObject(user),
    roles,
    nick: null,
    avatar: null,
    joined_at: new Date(0).toISOString(),
    premium_since: null,
    deaf: false,
    mute: false,
    flags: 0,
    pending: false,
    communication_disabled_until: null,
    ...(withPermissions ? { permissions: memberPermissions(guild, roles).toString() } : {}),
  };
}

export function channelObject(channel: FakeChannel, users: Map<string, FakeUser>): Record<string, unknown> {
  if (channel.type === 1) {
    const recipient = channel.recipientId ? users.get(channel.recipientId) : undefined;
    return {
      id: channel.id,
      type: 1,
      last_message_id: null,
      flags: 0,
      recipients: recipient ? [userObject(recipient)] : [],
    };
  }
  return {
    id: channel.id,
    type: 0,
    guild_id: channel.guildId,
    name: channel.name,
    position: 0,
    permission_overwrites: [],
    nsfw: false,
    parent_id: null,
    topic: null,
    last_message_id: null,
    rate_limit_per_user: 0,
    flags: 0,
  };
}

/** GUILD_CREATE payload: enough of a guild for discord.js to cache it. */
export function guildCreateObject(
  guild: FakeGuild,
  channels: Map<string, FakeChannel>,
  users: Map<string, FakeUser>,
  bot: FakeUser,
): Record<string, unknown> {
  return {
    id: guild.id,
    name: guild.name,
    icon: null,
    splash: null,
    discovery_splash: null,
    owner_id: guild.ownerId,
    afk_channel_id: null,
    afk_timeout: 300,
    verification_level: 0,
    default_message_notifications: 0,
    explicit_content_filter: 0,
    roles: guild.roles.map((role, position) => ({
      id: role.id,
      name: role.name,
      color: 0,
      hoist: false,
      icon: null,
      unicode_emoji: null,
      position,
      permissions: role.permissions.toString(),
      managed: false,
      mentionable: false,
      flags: 0,
    })),
    emojis: [],
    features: [],
    mfa_level: 0,
    application_id: null,
    system_channel_id: null,
    system_channel_flags: 0,
    rules_channel_id: null,
    vanity_url_code: null,
    description: null,
    banner: null,
    premium_tier: 0,
    preferred_locale: 'en-US',
    public_updates_channel_id: null,
    nsfw_level: 0,
    stickers: [],
    premium_progress_bar_enabled: false,
    joined_at: new Date(0).toISOString(),
    large: false,
    unavailable: false,
    member_count: guild.members.size + 1,
    voice_states: [],
    members: [memberObject(guild, bot, false)],
    channels: guild.channelIds.flatMap((id) => {
      const channel = channels.get(id);
      return channel ? [channelObject(channel, users)] : [];
    }),
    threads: [],
    presences: [],
    stage_instances: [],
    guild_scheduled_events: [],
    soundboard_sounds: [],
  };
}

export function messageObject(
  message: FakeMessage,
  author: FakeUser,
  interactionId?: string,
): Record<string, unknown> {
  return {
    id: message.id,
    channel_id: message.channelId,
    ...(message.guildId ? { guild_id: message.guildId } : {}),
    author: userObject(author),
    content: message.content,
    timestamp: new Date(message.createdAt).toISOString(),
    edited_timestamp: message.editedAt === undefined ? null : new Date(message.editedAt).toISOString(),
    tts: false,
    mention_everyone: false,
    mentions: [],
    mention_roles: [],
    attachments: [],
    embeds: message.embeds.map((embed) => ({ type: 'rich', ...embed })),
    components: message.components,
    pinned: false,
    type: interactionId ? 20 : 0,
    flags: message.flags,
    ...(interactionId ? { application_id: author.id, webhook_id: author.id } : {}),
  };
}
