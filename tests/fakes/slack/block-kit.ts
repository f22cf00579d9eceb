/**
 * The Block Kit subset the fake Slack accepts, with Slack's documented limits: at most 50 blocks,
 * header text 150, section fields 10 (2000 chars each), actions 25 elements, button text 75,
 * action_id 255 (unique within a message), value 2000, style primary|danger, confirm dialog limits.
 * Anything else is `invalid_blocks`, as Slack answers.
 */
import { z } from 'zod';

const plainText = (max: number) =>
  z.object({
    type: z.literal('plain_text'),
    text: z.string().min(1).max(max),
    emoji: z.boolean().optional(),
  });
const textObject = (max: number) =>
  z.object({
    type: z.enum(['plain_text', 'mrkdwn']),
    text: z.string().min(1).max(max),
    emoji: z.boolean().optional(),
    verbatim: z.boolean().optional(),
  });
const blockId = z.string().min(1).max(255).optional();

const buttonSchema = z.strictObject({
  type: z.literal('button'),
  text: plainText(75),
  action_id: z.string().min(1).max(255),
  value: z.string().max(2000).optional(),
  url: z.string().max(3000).optional(),
  style: z.enum(['primary', 'danger']).optional(),
  confirm: z
    .strictObject({
      title: plainText(100),
      text: textObject(300),
      confirm: plainText(30),
      deny: plainText(30),
      style: z.enum(['primary', 'danger']).optional(),
    })
    .optional(),
});

const blockSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('header'), block_id: blockId, text: plainText(150) }),
  z
    .strictObject({
      type: z.literal('section'),
      block_id: blockId,
      text: textObject(3000).optional(),
      fields: z.array(textObject(2000)).min(1).max(10).optional(),
    })
    .refine(
      (section) => section.text !== undefined || section.fields !== undefined,
      'section needs text or fields',
    ),
  z.strictObject({
    type: z.literal('context'),
    block_id: blockId,
    elements: z.array(textObject(3000)).min(1).max(10),
  }),
  z.strictObject({
    type: z.literal('actions'),
    block_id: blockId,
    elements: z.array(buttonSchema).min(1).max(25),
  }),
  z.strictObject({ type: z.literal('divider'), block_id: blockId }),
]);

export type FakeBlock = z.infer<typeof blockSchema>;

/** Validated blocks, or the problems Slack would report. */
export function validateBlocks(
  value: unknown,
): { ok: true; blocks: FakeBlock[] } | { ok: false; problems: string[] } {
  const parsed = z.array(blockSchema).max(50).safeParse(value);
  if (!parsed.success) {
    return {
      ok: false,
      problems: parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`),
    };
  }
  const problems: string[] = [];
  const blockIds = new Set<string>();
  const actionIds = new Set<string>();
  for (const block of parsed.data) {
    if (block.block_id !== undefined) {
      if (blockIds.has(block.block_id)) problems.push(`duplicate block_id ${block.block_id}`);
      blockIds.add(block.block_id);
    }
    if (block.type !== 'actions') continue;
    for (const element of block.elements) {
      if (actionIds.has(element.action_id)) problems.push(`duplicate action_id ${element.action_id}`);
      actionIds.add(element.action_id);
    }
  }
  return problems.length > 0 ? { ok: false, problems } : { ok: true, blocks: parsed.data };
}

/** Everything a person can read on a message's blocks, flattened (header, fields, context). */
export function blocksText(blocks: readonly FakeBlock[]): string {
  const parts: string[] = [];
  for (const block of blocks) {
    if (block.type === 'header') parts.push(block.text.text);
    if (block.type === 'section') {
      if (block.text) parts.push(block.text.text);
      for (const field of block.fields ?? []) parts.push(field.text);
    }
    if (block.type === 'context') for (const element of block.elements) parts.push(element.text);
  }
  return parts.join('\n');
}

/** The action ids of the buttons still on a message. */
export function blocksActionIds(blocks: readonly FakeBlock[]): string[] {
  return blocks.flatMap((block) =>
    block.type === 'actions' ? block.elements.map((element) => element.action_id) : [],
  );
}
