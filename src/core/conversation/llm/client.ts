/**
 * Builds the OpenAI client. The API key goes here and only here: the interpreter receives a ready
 * client and never sees configuration, so no secret can drift into a prompt.
 *
 * The SDK is imported on the first request, not at start: a server without a model never loads
 * it, and one with a model pays for it when the model is first asked.
 */
import type OpenAI from 'openai';

export interface OpenAIClientOptions {
  apiKey: string;
  /** OPENAI_BASE_URL: any OpenAI-compatible server, or a local fake in tests. */
  baseURL?: string;
  /** Bounded SDK retries for 408/409/429/5xx and connection errors; they honour retry-after. */
  maxRetries?: number;
  /** Per-attempt time limit until response headers arrive. */
  timeoutMs?: number;
}

/** The OpenAI client, built (and its SDK imported) on the first call; the same one after. */
export type LlmClient = () => Promise<OpenAI>;

export function createOpenAIClient(options: OpenAIClientOptions): LlmClient {
  let client: Promise<OpenAI> | undefined;
  return () => {
    client ??= import('openai').then(
      ({ default: OpenAI }) =>
        new OpenAI({
          apiKey: options.apiKey,
          ...(options.baseURL === undefined ? {} : { baseURL: options.baseURL }),
          maxRetries: options.maxRetries ?? 2,
          timeout: options.timeoutMs ?? 30_000,
          // The SDK logs through console by default; the app logs through pino instead.
          logLevel: 'off',
        }),
    );
    return client;
  };
}
