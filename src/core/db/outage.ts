/**
 * Whether an error means the database could not be reached (refused, dropped, shutting down), as
 * opposed to a statement that failed: work that met an outage is waited out and tried again, work
 * that failed is not (handling is not idempotent). Looks through `cause` chains, since drivers
 * and Prisma wrap what the socket said.
 */
import { DatabaseUnavailableError } from '../errors.js';

/** Socket errors and PostgreSQL's connection classes (08: connection exception; 57P0x: shutdown). */
const OUTAGE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  '57P01',
  '57P02',
  '57P03',
  '08000',
  '08001',
  '08003',
  '08004',
  '08006',
  // Prisma: cannot reach the server; closed the connection; timed out fetching a connection.
  'P1001',
  'P1017',
  'P2024',
]);

const OUTAGE_MESSAGES = [
  /connection terminated/i,
  /connection (?:was )?(?:closed|refused|reset)/i,
  /timeout exceeded when trying to connect/i,
  /server closed the connection/i,
  /the database system is (?:shutting down|starting up)/i,
  /client has encountered a connection error/i,
];

export function isDatabaseOutage(error: unknown): boolean {
  const seen = new Set<unknown>();
  let current: unknown = error;
  while (typeof current === 'object' && current !== null && !seen.has(current)) {
    seen.add(current);
    if (current instanceof DatabaseUnavailableError) return true;
    const { code, message, cause } = current as { code?: unknown; message?: unknown; cause?: unknown };
    if (typeof code === 'string' && OUTAGE_CODES.has(code)) return true;
    if (typeof message === 'string' && OUTAGE_MESSAGES.some((pattern) => pattern.test(message))) return true;
    current = cause;
  }
  return false;
}
