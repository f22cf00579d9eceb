/**
 * What E*TRADE's error answers mean: its JSON errors as chat sentences and codes, the OAuth
 * `oauth_problem` of a refused signature or token, the duplicate-client-order-id refusal, and its
 * "too many requests" page (HTTP 400 with HTML), which is a rate limit, not a refusal.
 */
import { BrokerRequestRejectedError } from '../http/errors.js';
import { etradeErrorSchema } from './schemas.js';

/** The longest pause after consecutive rate-limit pages, as a multiple of the first one. */
const MAX_RATE_LIMIT_PAUSE_FACTOR = 8;

/**
 * E*TRADE's "too many requests" answer is HTTP 400 with an HTML page (its own error answers are
 * JSON, its OAuth refusals form-encoded). It means the request was not processed: it becomes a
 * 429 with a `Retry-After`, which the HTTP client waits out like any other rate limit (never a
 * refusal of the order, never parsed as JSON). The pause doubles with each consecutive page
 * (1 s, 2 s, 4 s, 8 s for `pauseSeconds` 1) and starts over after any other answer: E*TRADE's
 * quota is per second, but another process of ours may share it.
 */
export function recogniseRateLimitPage(inner: typeof fetch, pauseSeconds: number): typeof fetch {
  let consecutive = 0;
  return async (input, init) => {
    const response = await inner(input, init);
    if (!(await isRateLimitPage(response))) {
      consecutive = 0;
      return response;
    }
    await response.body?.cancel();
    const factor = Math.min(2 ** consecutive, MAX_RATE_LIMIT_PAUSE_FACTOR);
    consecutive += 1;
    return new Response(null, {
      status: 429,
      statusText: 'Too Many Requests',
      headers: { 'retry-after': String(Math.max(0, Math.round(pauseSeconds * factor))) },
    });
  };
}

/** A 400 whose body is an HTML page (by its content type, or by its first characters when it has none). */
async function isRateLimitPage(response: Response): Promise<boolean> {
  if (response.status !== 400) return false;
  const contentType = (response.headers.get('content-type') ?? '').toLowerCase();
  if (contentType.includes('html')) return true;
  if (contentType.includes('json') || contentType.includes('x-www-form-urlencoded')) return false;
  const start = (await response.clone().text()).trimStart().slice(0, 15).toLowerCase();
  return start.startsWith('<!doctype html') || start.startsWith('<html');
}

/** E*TRADE error body → a sentence for the chat. */
export function describeEtradeError(status: number, body: unknown): string {
  const parsed = etradeErrorSchema.safeParse(body);
  if (parsed.success && parsed.data.Error.message.trim() !== '') return parsed.data.Error.message;
  const problem = oauthProblem(body);
  if (problem !== undefined) return `E*TRADE did not accept the sign-in (${problem})`;
  if (status === 401) return 'E*TRADE did not accept the sign-in';
  if (status === 404) return 'E*TRADE does not know it';
  return `E*TRADE answered HTTP ${status}`;
}

/** E*TRADE's error code, or the `oauth_problem` of a refused signature or token. */
export function etradeErrorCode(_status: number, body: unknown): string | undefined {
  const parsed = etradeErrorSchema.safeParse(body);
  if (parsed.success) return parsed.data.Error.code;
  return oauthProblem(body);
}

function oauthProblem(body: unknown): string | undefined {
  if (typeof body !== 'string') return undefined;
  return /oauth_problem=([A-Za-z_]{1,64})/.exec(body)?.[1];
}

/**
 * E*TRADE's refusal of a client order id it has seen: an order with this id exists (or existed)
 * in the account, so this placement's outcome is not "nothing placed".
 */
export function isDuplicateClientOrderId(error: unknown): boolean {
  return (
    error instanceof BrokerRequestRejectedError &&
    error.status === 400 &&
    /client\s*order\s*id/i.test(error.reason) &&
    /duplicate|already|unique/i.test(error.reason)
  );
}
