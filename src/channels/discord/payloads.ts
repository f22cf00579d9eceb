/**
 * The Discord payloads the adapter reads, validated at the edge (gateway dispatches and HTTP
 * interaction bodies alike): interactions (ping, slash command, button, autocomplete) and
 * MESSAGE_CREATE. Only the fields we use; everything else passes through unread.
 */
import { z } from 'zod';

const snowflake = z.string().regex(/^\d{1,25}$/);

const userSchema = z.object({
  id: snowflake,
  username: z.string(),
  global_name: z.string().nullish(),
  bot: z.boolean().optional(),
});

const memberSchema = z.object({
  user: userSchema,
  nick: z.string().nullish(),
  roles: z.array(snowflake),
  /** Total permissions of the member in the channel (a decimal bitfield), sent with interactions. */
  permissions: z
    .string()
    .regex(/^\d{1,25}$/)
    .optional(),
});

const optionSchema = z.object({
  name: z.string(),
  type: z.number().int(),
  value: z.union([z.string(), z.number(), z.boolean()]).optional(),
  focused: z.boolean().optional(),
});

const commandDataSchema = z.object({ name: z.string(), options: z.array(optionSchema).optional() });

/** Who, where: shared by every interaction that comes from a user in a channel. */
const contextFields = {
  id: snowflake,
  application_id: snowflake,
  token: z.string().min(1).max(500),
  guild_id: snowflake.optional(),
  channel_id: snowflake,
  member: memberSchema.optional(),
  user: userSchema.optional(),
};

export const interactionSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal(1), id: snowflake, application_id: snowflake, token: z.string().min(1) }),
  z.object({ type: z.literal(2), ...contextFields, data: commandDataSchema }),
  z.object({
    type: z.literal(3),
    ...contextFields,
    data: z.object({ custom_id: z.string().max(100), component_type: z.number().int() }),
    message: z.object({ id: snowflake, flags: z.number().int().optional() }),
  }),
  z.object({ type: z.literal(4), ...contextFields, data: commandDataSchema }),
]);

export type Interaction = z.infer<typeof interactionSchema>;
/** An interaction from a user in a channel (everything but PING). */
export type UserInteraction = Exclude<Interaction, { type: 1 }>;
export type DiscordMember = z.infer<typeof memberSchema>;
export type DiscordUser = z.infer<typeof userSchema>;
export type CommandOption = z.infer<typeof optionSchema>;

/** MESSAGE_CREATE: the fields a DM to the bot needs. */
export const messageCreateSchema = z.object({
  id: snowflake,
  channel_id: snowflake,
  guild_id: snowflake.optional(),
  author: userSchema,
  content: z.string(),
  webhook_id: snowflake.optional(),
});

export type MessageCreate = z.infer<typeof messageCreateSchema>;

/** A gateway dispatch as discord.js hands it to `raw` listeners. */
export const dispatchSchema = z.object({ t: z.string().nullable(), d: z.unknown() });

/** What message create/edit endpoints answer: we only need the id. */
export const createdMessageSchema = z.object({ id: snowflake });

/** Interaction callback types we send. */
export const CALLBACK = {
  PONG: 1,
  CHANNEL_MESSAGE: 4,
  DEFERRED_CHANNEL_MESSAGE: 5,
  DEFERRED_UPDATE_MESSAGE: 6,
  AUTOCOMPLETE_RESULT: 8,
} as const;

/** Message flag: only the interaction's user sees the message. */
export const EPHEMERAL_FLAG = 64;

/** The body of an interaction callback. */
export interface InteractionResponse {
  readonly type: (typeof CALLBACK)[keyof typeof CALLBACK];
  readonly data?: Record<string, unknown>;
}
