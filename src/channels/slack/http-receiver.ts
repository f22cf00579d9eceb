/**
 * A bolt Receiver on the product's fastify server (bolt's custom-receiver pattern): the raw body
 * is kept for the signature; a request stamped more than five minutes from our clock, in either
 * direction, is refused (a replay), then the signature is verified with `verifySlackRequest` (v0
 * HMAC), the body parsed and checked with zod, and handed to `app.processEvent`. The HTTP answer goes out as soon as
 * bolt has run our listeners, which only translate and record (the inbox); a request that could
 * not be recorded is answered 503.
 */
import type { App, Receiver, ReceiverEvent } from '@slack/bolt';
import { verifySlackRequest } from '@slack/bolt';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from '../../core/logging/logger.js';
import {
  blockActionsSchema,
  eventCallbackSchema,
  interactivePayloadSchema,
  slashCommandSchema,
  urlVerificationSchema,
} from './inbound.js';

export interface FastifySlackReceiverOptions {
  readonly signingSecret: string;
  readonly logger: Logger;
  /** One Request URL for events, interactivity and slash commands. */
  readonly path: string;
  /** Milliseconds since the epoch; the request timestamps are judged against it. Default Date.now. */
  readonly now?: () => number;
}

/**
 * Slack's replay window: a request whose X-Slack-Request-Timestamp is further than this from our
 * clock is refused. Slack says "more than five minutes from local time"; bolt checks only the past,
 * so a request stamped in the future (a replay signed ahead) would pass it.
 */
export const SLACK_TIMESTAMP_TOLERANCE_SECONDS = 300;

/**
 * Why a request's timestamp is refused, or undefined when it is within the window. `timestamp` is
 * the header as sent (Unix seconds); `nowMs` our clock.
 */
export function timestampProblem(timestamp: string, nowMs: number): string | undefined {
  if (!/^\d{1,12}$/.test(timestamp)) return 'the request timestamp is not a number of seconds';
  const skew = Number(timestamp) - nowMs / 1000;
  if (Math.abs(skew) <= SLACK_TIMESTAMP_TOLERANCE_SECONDS) return undefined;
  return skew < 0 ? 'the request timestamp is too old' : 'the request timestamp is in the future';
}

type Parsed =
  | { readonly kind: 'bolt'; readonly body: Record<string, unknown> }
  | { readonly kind: 'answer'; readonly body: string | Record<string, unknown> }
  | { readonly kind: 'malformed'; readonly reason: string };

function malformed(reason: string): Parsed {
  return { kind: 'malformed', reason };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Turns a verified raw body into what bolt expects, or says why it is not a Slack request we take. */
export function parseSlackBody(contentType: string, rawBody: string): Parsed {
  if (contentType.startsWith('application/json')) {
    const body = parseJson(rawBody);
    const challenge = urlVerificationSchema.safeParse(body);
    if (challenge.success) return { kind: 'answer', body: { challenge: challenge.data.challenge } };
    const envelope = eventCallbackSchema.safeParse(body);
    if (envelope.success) return { kind: 'bolt', body: envelope.data };
    return malformed('not an event callback');
  }
  if (contentType.startsWith('application/x-www-form-urlencoded')) {
    const form = new URLSearchParams(rawBody);
    const payloadField = form.get('payload');
    if (payloadField !== null) {
      const payload = interactivePayloadSchema.safeParse(parseJson(payloadField));
      if (!payload.success) return malformed('unreadable interactivity payload');
      if (payload.data.type === 'block_actions' && !blockActionsSchema.safeParse(payload.data).success) {
        return malformed('incomplete block_actions payload');
      }
      return { kind: 'bolt', body: payload.data };
    }
    if (form.get('ssl_check') !== null) return { kind: 'answer', body: '' };
    const command = slashCommandSchema.safeParse(Object.fromEntries(form));
    if (command.success) return { kind: 'bolt', body: Object.fromEntries(form) };
    return malformed('not a slash command');
  }
  return malformed(`unexpected content type ${contentType}`);
}

export class FastifySlackReceiver implements Receiver {
  private app: App | undefined;

  constructor(private readonly options: FastifySlackReceiverOptions) {}

  init(app: App): void {
    this.app = app;
  }

  /** The routes live on the shared server, which the product starts and stops. */
  async start(): Promise<void> {}

  async stop(): Promise<void> {}

  /** Registers the Request URL in its own plugin scope, so only it reads bodies raw. */
  async mount(server: FastifyInstance): Promise<void> {
    await server.register(async (scope) => {
      scope.removeAllContentTypeParsers();
      scope.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => done(null, body));
      scope.post(this.options.path, (request, reply) => this.handle(request, reply));
    });
  }

  private async handle(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const rawBody = typeof request.body === 'string' ? request.body : '';
    const signature = request.headers['x-slack-signature'];
    const timestamp = request.headers['x-slack-request-timestamp'];
    if (typeof signature !== 'string' || typeof timestamp !== 'string') {
      await reply.code(401).send({ error: 'missing signature' });
      return;
    }
    const nowMs = (this.options.now ?? Date.now)();
    const stale = timestampProblem(timestamp, nowMs);
    if (stale !== undefined) {
      this.options.logger.warn(
        { reason: stale, timestamp },
        'rejected a Slack request outside the replay window',
      );
      await reply.code(401).send({ error: 'stale timestamp' });
      return;
    }
    try {
      verifySlackRequest({
        signingSecret: this.options.signingSecret,
        body: rawBody,
        headers: { 'x-slack-signature': signature, 'x-slack-request-timestamp': Number(timestamp) },
        nowMilliseconds: nowMs,
      });
    } catch (error) {
      this.options.logger.warn({ reason: (error as Error).message }, 'rejected an unverified Slack request');
      await reply.code(401).send({ error: 'invalid signature' });
      return;
    }
    const parsed = parseSlackBody(String(request.headers['content-type'] ?? ''), rawBody);
    if (parsed.kind === 'malformed') {
      this.options.logger.warn({ reason: parsed.reason }, 'rejected a malformed Slack request');
      await reply.code(400).send({ error: 'malformed request' });
      return;
    }
    if (parsed.kind === 'answer') {
      await reply.code(200).send(parsed.body);
      return;
    }
    const outcome = await this.dispatch(parsed.body, request);
    // A listener that could not have the inbox record the request fails it: Slack sends events
    // again after a non-2xx answer (and shows the user an error for a press).
    if (outcome.failed) {
      await reply.code(503).send({ error: 'try again later' });
      return;
    }
    const response = outcome.response;
    if (response === undefined || response === '') await reply.code(200).send();
    else await reply.code(200).send(response);
  }

  /**
   * Runs bolt on the request and resolves once it has finished: our listeners only translate and
   * record (the core works later, off the request), so the answer can wait for them and say
   * whether the request was recorded. `response` is the listener's ack body.
   */
  private async dispatch(
    body: Record<string, unknown>,
    request: FastifyRequest,
  ): Promise<{ failed: boolean; response: unknown }> {
    const app = this.app;
    if (app === undefined) throw new Error('the Slack receiver was mounted before bolt initialised it');
    let response: unknown;
    let acked = false;
    const retryNum = Number(request.headers['x-slack-retry-num']);
    const retryReason = request.headers['x-slack-retry-reason'];
    const event: ReceiverEvent = {
      body,
      ...(Number.isInteger(retryNum) ? { retryNum } : {}),
      ...(typeof retryReason === 'string' ? { retryReason } : {}),
      ack: async (answer?: unknown) => {
        if (acked) return; // Bolt may ack an unhandled event too; the first answer wins.
        acked = true;
        response = answer;
      },
    };
    try {
      await app.processEvent(event);
      return { failed: false, response };
    } catch (error) {
      this.options.logger.error({ err: error }, 'bolt failed on a Slack request');
      // An event bolt acked before the listener failed is still unrecorded: fail it too.
      return { failed: true, response };
    }
  }
}
