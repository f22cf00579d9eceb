/**
 * The request-body rules of Discord's REST API that our adapter could break: message content,
 * embeds, components, interaction callbacks, and application command registration. Each rule
 * fails like Discord does: 400 `Invalid Form Body` (code 50035) naming the offending path, or
 * 50006 for an empty message.
 */
import { z } from 'zod';

/** Discord's limits (https://discord.com/developers/docs/resources/message#embed-object-embed-limits). */
export const LIMITS = {
  content: 2000,
  embeds: 10,
  embedTitle: 256,
  embedDescription: 4096,
  embedFields: 25,
  fieldName: 256,
  fieldValue: 1024,
  footerText: 2048,
  authorName: 256,
  embedTotal: 6000,
  actionRows: 5,
  buttonsPerRow: 5,
  customId: 100,
  buttonLabel: 80,
  commandName: /^[-_a-z0-9]{1,32}$/,
  commandDescription: 100,
  commandOptions: 25,
  autocompleteChoices: 25,
} as const;

/** A 400 in Discord's error format. */
export class FormError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly errors?: Record<string, unknown>,
  ) {
    super(message);
  }
}

const embedSchema = z
  .object({
    title: z.string().max(LIMITS.embedTitle).optional(),
    description: z.string().max(LIMITS.embedDescription).optional(),
    color: z.number().int().min(0).max(0xffffff).optional(),
    author: z.object({ name: z.string().min(1).max(LIMITS.authorName) }).optional(),
    footer: z.object({ text: z.string().min(1).max(LIMITS.footerText) }).optional(),
    fields: z
      .array(
        z.object({
          name: z.string().min(1).max(LIMITS.fieldName),
          value: z.string().min(1).max(LIMITS.fieldValue),
          inline: z.boolean().optional(),
        }),
      )
      .max(LIMITS.embedFields)
      .optional(),
  })
  .strict();

const buttonSchema = z
  .object({
    type: z.literal(2),
    style: z.union([z.literal(1), z.literal(2), z.literal(3), z.literal(4)]),
    label: z.string().min(1).max(LIMITS.buttonLabel),
    custom_id: z.string().min(1).max(LIMITS.customId),
    disabled: z.boolean().optional(),
  })
  .strict();

const actionRowSchema = z
  .object({ type: z.literal(1), components: z.array(buttonSchema).min(1).max(LIMITS.buttonsPerRow) })
  .strict();

export type FakeEmbed = z.infer<typeof embedSchema>;
export type FakeActionRow = z.infer<typeof actionRowSchema>;

/** A message body as create/edit endpoints accept it (the parts our adapter uses). */
export const messageBodySchema = z.object({
  content: z.string().max(LIMITS.content).optional(),
  embeds: z.array(embedSchema).max(LIMITS.embeds).optional(),
  components: z.array(actionRowSchema).max(LIMITS.actionRows).optional(),
  flags: z.number().int().min(0).optional(),
  allowed_mentions: z
    .object({ parse: z.array(z.enum(['roles', 'users', 'everyone'])).optional() })
    .optional(),
});

export type FakeMessageBody = z.infer<typeof messageBodySchema>;

/** Turns zod issues into Discord's nested `errors` object. */
function formErrors(error: z.ZodError): Record<string, unknown> {
  const errors: Record<string, unknown> = {};
  for (const issue of error.issues) {
    const key = issue.path.map(String).join('.') || '_root';
    errors[key] = { _errors: [{ code: 'BASE_TYPE_INVALID', message: issue.message }] };
  }
  return errors;
}

export function parseOrFormError<T>(schema: z.ZodType<T>, body: unknown): T {
  const parsed = schema.safeParse(body);
  if (!parsed.success) throw new FormError(50035, 'Invalid Form Body', formErrors(parsed.error));
  return parsed.data;
}

/** Validates a message body; `create` also requires something to show. */
export function validateMessageBody(body: unknown, mode: 'create' | 'edit'): FakeMessageBody {
  const message = parseOrFormError(messageBodySchema, body);
  const embeds = message.embeds ?? [];
  for (const [index, embed] of embeds.entries()) {
    const total =
      (embed.title?.length ?? 0) +
      (embed.description?.length ?? 0) +
      (embed.author?.name.length ?? 0) +
      (embed.footer?.text.length ?? 0) +
      (embed.fields ?? []).reduce((sum, field) => sum + field.name.length + field.value.length, 0);
    if (total > LIMITS.embedTotal) {
      throw new FormError(50035, 'Invalid Form Body', {
        [`embeds.${index}`]: {
          _errors: [{ code: 'BASE_TYPE_MAX_LENGTH', message: 'Embed size exceeds maximum size of 6000' }],
        },
      });
    }
  }
  const customIds = (message.components ?? []).flatMap((row) =>
    row.components.map((button) => button.custom_id),
  );
  if (new Set(customIds).size !== customIds.length) {
    throw new FormError(50035, 'Invalid Form Body', {
      components: {
        _errors: [
          { code: 'COMPONENT_CUSTOM_ID_DUPLICATED', message: 'Component custom id cannot be duplicated' },
        ],
      },
    });
  }
  const empty =
    (message.content ?? '') === '' && embeds.length === 0 && (message.components ?? []).length === 0;
  if (mode === 'create' && empty) throw new FormError(50006, 'Cannot send an empty message');
  return message;
}

const choiceSchema = z.object({
  name: z.string().min(1).max(100),
  value: z.union([z.string().max(100), z.number()]),
});

/** `POST /interactions/{id}/{token}/callback` bodies. */
export const callbackSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal(1) }),
  z.object({ type: z.literal(4), data: z.unknown() }),
  z.object({ type: z.literal(5), data: z.object({ flags: z.number().int().optional() }).optional() }),
  z.object({ type: z.literal(6) }),
  z.object({ type: z.literal(7), data: z.unknown() }),
  z.object({
    type: z.literal(8),
    data: z.object({ choices: z.array(choiceSchema).max(LIMITS.autocompleteChoices) }),
  }),
]);

export type FakeCallback = z.infer<typeof callbackSchema>;

const commandOptionSchema = z
  .object({
    type: z.number().int().min(1).max(11),
    name: z.string().regex(LIMITS.commandName),
    description: z.string().min(1).max(LIMITS.commandDescription),
    required: z.boolean().optional(),
    autocomplete: z.boolean().optional(),
    max_length: z.number().int().min(1).max(6000).optional(),
    min_length: z.number().int().min(0).max(6000).optional(),
  })
  .strict();

const commandSchema = z
  .object({
    name: z.string().regex(LIMITS.commandName),
    description: z.string().min(1).max(LIMITS.commandDescription),
    type: z.literal(1).optional(),
    options: z.array(commandOptionSchema).max(LIMITS.commandOptions).optional(),
    dm_permission: z.boolean().optional(),
    contexts: z.array(z.number().int().min(0).max(2)).optional(),
    integration_types: z.array(z.number().int().min(0).max(1)).optional(),
  })
  .strict();

export type FakeCommand = z.infer<typeof commandSchema>;

/** Validates a bulk overwrite of application commands (names unique, required options first). */
export function validateCommands(body: unknown): FakeCommand[] {
  const commands = parseOrFormError(z.array(commandSchema).max(100), body);
  const names = new Set<string>();
  for (const [index, command] of commands.entries()) {
    if (names.has(command.name)) {
      throw new FormError(50035, 'Invalid Form Body', {
        [`${index}.name`]: {
          _errors: [
            {
              code: 'APPLICATION_COMMANDS_DUPLICATE_NAME',
              message: 'Application command names must be unique',
            },
          ],
        },
      });
    }
    names.add(command.name);
    let optionalSeen = false;
    const optionNames = new Set<string>();
    for (const option of command.options ?? []) {
      if (optionNames.has(option.name)) {
        throw new FormError(50035, 'Invalid Form Body', {
          [`${index}.options`]: {
            _errors: [
              { code: 'APPLICATION_COMMAND_OPTIONS_DUPLICATE_NAME', message: 'Option names must be unique' },
            ],
          },
        });
      }
      optionNames.add(option.name);
      if (option.required && optionalSeen) {
        throw new FormError(50035, 'Invalid Form Body', {
          [`${index}.options`]: {
            _errors: [
              {
                code: 'APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID',
                message: 'Required options must be placed before non-required options',
              },
            ],
          },
        });
      }
      if (!option.required) optionalSeen = true;
      if (option.autocomplete && option.type !== 3 && option.type !== 4 && option.type !== 10) {
        throw new FormError(50035, 'Invalid Form Body', {
          [`${index}.options`]: {
            _errors: [
              {
                code: 'BASE_TYPE_INVALID',
                message: 'Autocomplete is only for string, integer and number options',
              },
            ],
          },
        });
      }
    }
  }
  return commands;
}
