/**
 * Reads one streamed chat completion into its text and tool calls, checking every chunk against
 * the documented `chat.completion.chunk` shape. A 200 whose body is not such a stream (not JSON,
 * no choices, wrong types, or no finish_reason before it ends) is a broken answer, reported as
 * the assistant being unavailable: it is never taken for an empty reply.
 */
import { z } from 'zod';

/** The parts of a chunk this reader uses; other fields are allowed (OpenAI adds some over time). */
const chunkSchema = z.object({
  choices: z.array(
    z.object({
      index: z.number().int().min(0),
      delta: z.object({
        content: z.string().nullish(),
        refusal: z.string().nullish(),
        tool_calls: z
          .array(
            z.object({
              index: z.number().int().min(0),
              id: z.string().nullish(),
              function: z.object({ name: z.string().nullish(), arguments: z.string().nullish() }).nullish(),
            }),
          )
          .nullish(),
      }),
      finish_reason: z.string().nullish(),
    }),
  ),
  usage: z
    .object({
      prompt_tokens: z.number().int().min(0),
      completion_tokens: z.number().int().min(0),
      total_tokens: z.number().int().min(0),
    })
    .nullish(),
});

/** A 200 from the model whose body is not a readable completion. */
export class MalformedCompletionError extends Error {
  override readonly name = 'MalformedCompletionError';
}

export interface StreamedToolCall {
  id: string;
  name: string;
  arguments: string;
}

export interface StreamedReply {
  text: string;
  toolCalls: StreamedToolCall[];
}

export interface StreamedUsage {
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
}

/**
 * Joins the chunks: text deltas in order, tool-call deltas by index. Usage is added to `usage` as
 * it arrives. Throws `MalformedCompletionError` on a chunk of the wrong shape or a stream that
 * ends without saying why it finished.
 */
export async function readCompletionStream(
  stream: AsyncIterable<unknown>,
  usage: StreamedUsage,
): Promise<StreamedReply> {
  let text = '';
  let finished = false;
  const calls = new Map<number, StreamedToolCall>();
  for await (const raw of stream) {
    const parsed = chunkSchema.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new MalformedCompletionError(
        `a chunk is malformed at ${issue?.path.join('.') || '(chunk)'}: ${issue?.message ?? 'invalid'}`,
      );
    }
    const chunk = parsed.data;
    if (chunk.usage) {
      usage.promptTokens += chunk.usage.prompt_tokens;
      usage.completionTokens += chunk.usage.completion_tokens;
      usage.totalTokens += chunk.usage.total_tokens;
    }
    // parallel choices are never asked for (n = 1): only the first counts.
    const choice = chunk.choices.find((candidate) => candidate.index === 0);
    if (choice === undefined) continue;
    if (choice.finish_reason) finished = true;
    text += (choice.delta.content ?? '') + (choice.delta.refusal ?? '');
    for (const callDelta of choice.delta.tool_calls ?? []) {
      const entry = calls.get(callDelta.index) ?? { id: '', name: '', arguments: '' };
      if (callDelta.id) entry.id = callDelta.id;
      if (callDelta.function?.name) entry.name += callDelta.function.name;
      if (callDelta.function?.arguments) entry.arguments += callDelta.function.arguments;
      calls.set(callDelta.index, entry);
    }
  }
  if (!finished) throw new MalformedCompletionError('the stream ended without a finish_reason');
  const toolCalls = [...calls.entries()]
    .sort(([a], [b]) => a - b)
    .map(([index, call]) => ({ ...call, id: call.id === '' ? `call_arbion_${index}` : call.id }));
  return { text, toolCalls };
}
