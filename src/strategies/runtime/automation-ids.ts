/**
 * Identities that make background work exactly-once: a tick names a minute, and an order a
 * strategy emits at a tick gets an intent id derived from (strategy, tick, tag). A job that runs
 * again after a crash derives the same id, and the intent's primary key refuses a second row.
 */
import { createHash } from 'node:crypto';

/** The start of the tick `at` falls in. */
export function tickOf(at: Date, tickMs: number): Date {
  return new Date(Math.floor(at.getTime() / tickMs) * tickMs);
}

/** A UUID (version 8, RFC 9562 "custom") derived from `parts`: the same parts, the same id. */
export function derivedUuid(...parts: readonly string[]): string {
  const bytes = createHash('sha256').update(parts.join('\u0000')).digest().subarray(0, 16);
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x80;
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export function strategyIntentId(strategyId: string, tick: Date, tag: string): string {
  return derivedUuid('strategy-intent', strategyId, tick.toISOString(), tag);
}

export function monitorIntentId(alertId: string): string {
  return derivedUuid('monitor-intent', alertId);
}
