/**
 * Posting to a response_url (ephemeral answers and edits of ephemeral cards). These calls do not
 * go through the Web API client, so rate limits are honoured here with the same bounds.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { SlackBlock } from './blocks.js';

export interface ResponseUrlBody {
  readonly text: string;
  readonly blocks?: SlackBlock[];
  readonly response_type?: 'ephemeral' | 'in_channel';
  readonly replace_original?: boolean;
  readonly delete_original?: boolean;
}

export interface RetryBounds {
  /** Retries after a 429 (or a network error) before giving up. */
  readonly retries: number;
  /** Longest Retry-After we wait; a longer one fails the call instead of stalling the queue. */
  readonly maxRetryAfterSeconds: number;
}

/**
 * A response_url answered with an error (expired, used up, invalid blocks...). Never leaves the
 * Slack channel: `SlackChannel` turns it into a `SlackCallError`.
 */
export class ResponseUrlError extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
  ) {
    super(`response_url answered ${status}: ${body.slice(0, 200)}`);
    this.name = 'ResponseUrlError';
  }
}

export async function postToResponseUrl(
  url: string,
  body: ResponseUrlBody,
  bounds: RetryBounds,
): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8' },
      body: JSON.stringify(body),
      redirect: 'error',
    });
    const text = await response.text();
    if (response.status === 429 && attempt < bounds.retries) {
      const retryAfter = Number.parseInt(response.headers.get('retry-after') ?? '1', 10);
      const seconds = Number.isNaN(retryAfter) ? 1 : retryAfter;
      if (seconds > bounds.maxRetryAfterSeconds) throw new ResponseUrlError(429, text);
      await sleep(seconds * 1000);
      continue;
    }
    if (!response.ok) throw new ResponseUrlError(response.status, text);
    return;
  }
}
