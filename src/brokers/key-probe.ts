/**
 * Trying freshly entered API keys with one read-only call, the same way for every key broker: the
 * answer becomes "accepted" (with a line about the account), "rejected" (401/403: the keys are
 * wrong) or "unreachable" (no answer, an error status, or a body we do not understand).
 */
import type { z } from 'zod';
import type { KeyTestResult } from '../core/linking/providers.js';

const REQUEST_TIMEOUT_MS = 10_000;

export interface KeyProbe<T> {
  /** The broker's name, for the messages. */
  readonly broker: string;
  readonly url: URL | string;
  readonly headers: Readonly<Record<string, string>>;
  /** The expected body of a successful answer. */
  readonly response: z.ZodType<T>;
  /** What to tell the user when the broker refuses the keys. */
  readonly rejectedMessage: string;
  /** One line about the account the keys opened. */
  describe(body: T): string;
  readonly fetch?: typeof fetch;
}

export async function probeKeys<T>(probe: KeyProbe<T>): Promise<KeyTestResult> {
  let response: Response;
  try {
    response = await (probe.fetch ?? fetch)(probe.url, {
      headers: { accept: 'application/json', ...probe.headers },
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
  } catch {
    return {
      ok: false,
      reason: 'unreachable',
      message: `${probe.broker} could not be reached. Try again in a minute.`,
    };
  }
  if (response.status === 401 || response.status === 403) {
    return { ok: false, reason: 'rejected', message: probe.rejectedMessage };
  }
  if (!response.ok) {
    return {
      ok: false,
      reason: 'unreachable',
      message: `${probe.broker} answered with an error (${response.status}). Try again later.`,
    };
  }
  const body = probe.response.safeParse(await response.json().catch(() => undefined));
  if (!body.success) {
    return {
      ok: false,
      reason: 'unreachable',
      message: `${probe.broker} answered in a way we do not understand. Nothing was saved.`,
    };
  }
  return { ok: true, detail: probe.describe(body.data) };
}
