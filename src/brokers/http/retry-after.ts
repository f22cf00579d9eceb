/** Parsing `Retry-After` (RFC 9110 §10.2.3): delay-seconds or an HTTP date. */

/**
 * Milliseconds to wait as the header asks, or undefined when it is absent or unreadable.
 * A date in the past means "now" (0).
 */
export function retryAfterMs(header: string | null, now: Date): number | undefined {
  if (header === null) return undefined;
  const value = header.trim();
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const at = Date.parse(value);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now.getTime());
}
