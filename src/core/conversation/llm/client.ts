/**
 * Builds the OpenAI client. The API key goes here and only here: the interpreter receives a ready
 * client and never sees configuration, so no secret can drift into a prompt.
 */
import OpenAI from 'openai';

export interface OpenAIClientOptions {
  apiKey: string;
  /** OPENAI_BASE_URL: any OpenAI-compatible server, or a local fake in tests. */
  baseURL?: string;
  /** Bounded SDK retries for 408/409/429/5xx and connection errors; they honour retry-after. */
  maxRetries?: number;
  /** Per-attempt time limit until response headers arrive. */
  timeoutMs?: number;
}

export function createOpenAIClient(options: OpenAIClientOptions): OpenAI {
  return new OpenAI({
    apiKey: options.apiKey,
    ...(options.baseURL === undefined ? {} : { baseURL: options.baseURL }),
    maxRetries: options.maxRetries ?? 2,
    timeout: options.timeoutMs ?? 30_000,
    // The SDK logs through console by default; the app logs through pino instead.
    logLevel: 'off',
  });
}
