/**
 * The Telegram webhook route on the shared fastify server. Telegram sends each update as a JSON
 * POST with the secret we gave setWebhook in `X-Telegram-Bot-Api-Secret-Token`. We check the secret
 * before the body is even parsed (401, nothing delivered), check the body's shape (400), have the
 * inbox record the update and only then answer 200: the core's work runs on the inbound queue,
 * never on Telegram's request (which it would resend after a timeout). An update that could not
 * be recorded is answered 503, and Telegram sends it again later.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { Update } from 'grammy/types';
import { webhookUpdateSchema } from './inbound.js';

export const TELEGRAM_WEBHOOK_PATH = '/webhooks/telegram';
const SECRET_HEADER = 'x-telegram-bot-api-secret-token';

export interface TelegramWebhookRouteOptions {
  readonly secretToken: string;
  /** False before start and after stop: Telegram is told to retry later (503). */
  readonly accepting: () => boolean;
  /** Records the update; resolves once it is durable (not handled), throws when it could not be. */
  readonly handOver: (update: Update) => Promise<void>;
}

/** Compares digests so neither the length nor the content of the secret leaks through timing. */
function secretMatches(expected: string, given: string | string[] | undefined): boolean {
  if (typeof given !== 'string') return false;
  const digest = (value: string) => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(expected), digest(given));
}

export function registerTelegramWebhook(app: FastifyInstance, options: TelegramWebhookRouteOptions): void {
  app.post(
    TELEGRAM_WEBHOOK_PATH,
    {
      onRequest: async (request, reply) => {
        if (!secretMatches(options.secretToken, request.headers[SECRET_HEADER]))
          return reply.code(401).send({ ok: false, error: 'unauthorized' });
        if (!options.accepting()) return reply.code(503).send({ ok: false, error: 'not receiving' });
        return undefined;
      },
    },
    async (request, reply) => {
      const parsed = webhookUpdateSchema.safeParse(request.body);
      if (!parsed.success) return reply.code(400).send({ ok: false, error: 'malformed update' });
      // The schema checked every field the adapter reads; grammy's type describes the rest.
      try {
        await options.handOver(parsed.data as unknown as Update);
      } catch (error) {
        request.log.warn({ reason: (error as Error).message }, 'could not record a telegram update');
        return reply.code(503).send({ ok: false, error: 'try again later' });
      }
      return reply.code(200).send({ ok: true });
    },
  );
}
