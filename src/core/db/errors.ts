/** Database errors the code reacts to, whatever driver (pg or PGlite) raised them. */
import { Prisma } from './database.js';

/** A unique-constraint violation, from a Prisma call (P2002) or a raw statement (SQLSTATE 23505). */
export function isUniqueViolation(error: unknown): boolean {
  if (!(error instanceof Prisma.PrismaClientKnownRequestError)) return false;
  if (error.code === 'P2002') return true;
  return (
    JSON.stringify(error.meta ?? {}).includes('23505') ||
    error.message.includes('23505') ||
    /unique constraint/i.test(error.message)
  );
}
