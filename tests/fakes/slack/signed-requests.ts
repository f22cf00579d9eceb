/**
 * Inbound requests as Slack sends them to our server, built from the fake's model (response_urls
 * point at the fake) and signed with the app's signing secret: `v0=hex(HMAC-SHA256(secret,
 * "v0:" + timestamp + ":" + body))`. Forged signatures and stale timestamps on request.
 */
import { createHmac, randomUUID } from 'node:crypto';
import type { FakeSlackServer } from './fake-slack-server.js';

/** A request body ready to post to the Request URL. */
export interface SlackRequest {
  readonly body: string;
  readonly contentType: 'application/json' | 'application/x-www-form-urlencoded';
}

export interface SigningOptions {
  readonly signingSecret: string;
  /** Unix seconds; defaults to now (set it 6 minutes back for a stale request). */
  readonly timestamp?: number;
  /** Sign with a wrong secret. */
  readonly forge?: boolean;
  /** Marks a redelivery (`x-slack-retry-num`). */
  readonly retryNum?: number;
}

export function slackSignature(signingSecret: string, timestamp: number, body: string): string {
  return `v0=${createHmac('sha256', signingSecret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
}

/** Posts a signed request; returns our server's status and body. */
export async function postSigned(
  url: string,
  request: SlackRequest,
  options: SigningOptions,
): Promise<{ status: number; text: string }> {
  const timestamp = options.timestamp ?? Math.floor(Date.now() / 1000);
  const secret = options.forge ? `${options.signingSecret}-forged` : options.signingSecret;
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': request.contentType,
      'x-slack-request-timestamp': String(timestamp),
      'x-slack-signature': slackSignature(secret, timestamp, request.body),
      ...(options.retryNum !== undefined
        ? { 'x-slack-retry-num': String(options.retryNum), 'x-slack-retry-reason': 'http_timeout' }
        : {}),
    },
    body: request.body,
  });
  return { status: response.status, text: await response.text() };
}

let triggerCounter = 0;
function newTriggerId(): string {
  triggerCounter++;
  return `${Date.now()}.${triggerCounter}.${randomUUID().slice(0, 12)}`;
}

/** `/arbion <text>` typed by `user` in `channel`, with a fresh response_url. */
export function slashCommandRequest(
  fake: FakeSlackServer,
  input: { user: string; userName?: string; channel: string; text: string; command?: string },
): SlackRequest & { readonly triggerId: string } {
  const triggerId = newTriggerId();
  const form = new URLSearchParams({
    token: 'deprecated-verification-token',
    team_id: fake.options.teamId,
    team_domain: 'fake',
    channel_id: input.channel,
    channel_name: input.channel.startsWith('D') ? 'directmessage' : 'trading',
    user_id: input.user,
    user_name: input.userName ?? input.user.toLowerCase(),
    command: input.command ?? '/arbion',
    text: input.text,
    api_app_id: 'A1',
    is_enterprise_install: 'false',
    response_url: fake.issueResponseUrl(input.user, input.channel),
    trigger_id: triggerId,
  });
  return { body: form.toString(), contentType: 'application/x-www-form-urlencoded', triggerId };
}

/** An Events API callback around `event`. */
export function eventCallbackRequest(
  fake: FakeSlackServer,
  event: Record<string, unknown>,
  eventId: string = `Ev${randomUUID().replace(/-/g, '').slice(0, 10).toUpperCase()}`,
): SlackRequest & { readonly eventId: string } {
  const body = {
    token: 'deprecated-verification-token',
    team_id: fake.options.teamId,
    api_app_id: 'A1',
    event: { ...event, event_ts: event.ts },
    type: 'event_callback',
    event_id: eventId,
    event_time: Math.floor(Date.now() / 1000),
    authorizations: [
      {
        team_id: fake.options.teamId,
        user_id: fake.options.botUserId,
        is_bot: true,
        is_enterprise_install: false,
      },
    ],
  };
  return { body: JSON.stringify(body), contentType: 'application/json', eventId };
}

let userTsCounter = 0;
/** A ts for a message a user wrote. */
export function userMessageTs(): string {
  userTsCounter++;
  return `${Math.floor(Date.now() / 1000)}.${String(500000 + userTsCounter).padStart(6, '0')}`;
}

/** A DM from `user` to the bot (`message.im`). */
export function directMessageEvent(input: {
  user: string;
  channel: string;
  text: string;
}): Record<string, unknown> {
  return {
    type: 'message',
    channel: input.channel,
    channel_type: 'im',
    user: input.user,
    text: input.text,
    ts: userMessageTs(),
  };
}

/** `@arbion <text>` in a channel (`app_mention`). */
export function mentionEvent(
  fake: FakeSlackServer,
  input: { user: string; channel: string; text: string },
): Record<string, unknown> {
  return {
    type: 'app_mention',
    channel: input.channel,
    user: input.user,
    text: `<@${fake.options.botUserId}> ${input.text}`,
    ts: userMessageTs(),
  };
}

export function urlVerificationRequest(challenge: string): SlackRequest {
  return {
    body: JSON.stringify({ token: 'deprecated', challenge, type: 'url_verification' }),
    contentType: 'application/json',
  };
}

/**
 * `user` presses the button `actionId` on a message of the fake's model: a channel message (by ts)
 * or an ephemeral one (by the fake's id). The response_url replaces that message.
 */
export function blockActionsRequest(
  fake: FakeSlackServer,
  input: {
    user: string;
    channel: string;
    actionId: string;
    /** The button's block id when it is no longer on the message (a stale screen). */
    staleBlockId?: string;
  } & ({ ts: string } | { ephemeralId: string }),
): SlackRequest {
  const shown =
    'ts' in input ? fake.model.message(input.channel, input.ts) : fake.model.ephemeral(input.ephemeralId);
  const actionsBlock = shown?.blocks.find(
    (block) =>
      block.type === 'actions' && block.elements.some((element) => element.action_id === input.actionId),
  );
  const button =
    actionsBlock?.type === 'actions'
      ? actionsBlock.elements.find((element) => element.action_id === input.actionId)
      : undefined;
  const actionTs = `${Math.floor(Date.now() / 1000)}.${String(++userTsCounter).padStart(6, '0')}`;
  const ephemeral = !('ts' in input);
  const responseUrl = fake.issueResponseUrl(
    input.user,
    input.channel,
    'ts' in input
      ? { kind: 'message', channel: input.channel, ts: input.ts }
      : { kind: 'ephemeral', id: input.ephemeralId },
  );
  const payload = {
    type: 'block_actions',
    user: {
      id: input.user,
      username: input.user.toLowerCase(),
      name: input.user.toLowerCase(),
      team_id: fake.options.teamId,
    },
    api_app_id: 'A1',
    token: 'deprecated-verification-token',
    container: {
      type: 'message',
      message_ts: 'ts' in input ? input.ts : actionTs,
      channel_id: input.channel,
      is_ephemeral: ephemeral,
    },
    trigger_id: newTriggerId(),
    team: { id: fake.options.teamId, domain: 'fake' },
    channel: { id: input.channel, name: 'trading' },
    // Slack omits the message of an ephemeral.
    ...('ts' in input && shown
      ? { message: { type: 'message', ts: input.ts, text: shown.text, blocks: shown.blocks } }
      : {}),
    response_url: responseUrl,
    actions: [
      {
        type: 'button',
        action_id: input.actionId,
        block_id: actionsBlock?.block_id ?? input.staleBlockId ?? 'unknown',
        text: button?.text ?? { type: 'plain_text', text: 'Button' },
        value: button?.value ?? input.actionId,
        action_ts: actionTs,
      },
    ],
  };
  return {
    body: new URLSearchParams({ payload: JSON.stringify(payload) }).toString(),
    contentType: 'application/x-www-form-urlencoded',
  };
}
