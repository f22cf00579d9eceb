/**
 * The HTTP interactions endpoint (the alternative to receiving interactions over the gateway):
 * `POST /discord/interactions` with the raw body kept for the signature check. It answers once
 * the inbox has recorded the interaction; the slow part runs after the answer is on its way.
 */
import type { FastifyInstance } from 'fastify';

export const INTERACTIONS_PATH = '/discord/interactions';

/** What the endpoint answers, and what to do once the answer has been sent. */
export interface HttpAnswer {
  readonly status: number;
  readonly body: unknown;
  /** Runs once the response is written or the connection closed (the core's work waits for it). */
  readonly afterResponse?: () => void;
}

export type HttpInteractionHandler = (
  rawBody: Buffer,
  signature: string | undefined,
  timestamp: string | undefined,
) => Promise<HttpAnswer>;

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** Registers the route in its own scope, so the raw-body JSON parser applies to it alone. */
export async function mountInteractionsEndpoint(
  app: FastifyInstance,
  handle: HttpInteractionHandler,
): Promise<void> {
  await app.register(async (scope) => {
    scope.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_request, body, done) => {
      done(null, body);
    });
    scope.post(INTERACTIONS_PATH, async (request, reply) => {
      const rawBody = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
      const answer = await handle(
        rawBody,
        header(request.headers['x-signature-ed25519']),
        header(request.headers['x-signature-timestamp']),
      );
      // 'close' follows 'finish', and also comes when the client went away before the answer.
      if (answer.afterResponse) reply.raw.once('close', answer.afterResponse);
      return reply.code(answer.status).send(answer.body);
    });
  });
}
