/**
 * The Slack adapter with real @slack/bolt against the fake Slack: a whole Arbion on a test
 * database, signed requests posted to the product's web server, answers read from the fake's model.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { InboundSink } from '../../src/channels/channel.js';
import { createSlackChannel } from '../../src/channels/slack/slack-channel.js';
import { INBOX_UNAVAILABLE_TEXT } from '../../src/core/conversation/inbox.js';
import type { InboundMessage } from '../../src/core/messages.js';
import { type ContractHarness, createContractHarness } from '../contract/contract-harness.js';
import {
  createSlackDriverFactory,
  displayed,
  isCard,
  quietSlackLogger,
  SLACK_BOT,
  SLACK_CHANNEL,
  SLACK_PEOPLE,
  SLACK_TEST_APP_TOKEN,
  SLACK_TEST_BOT_TOKEN,
  SLACK_TEST_SIGNING_SECRET,
  type SlackContractDriver,
  slackDriverFactory,
} from '../contract/drivers/slack.js';
import { blocksActionIds, blocksText } from '../fakes/slack/block-kit.js';
import {
  blockActionsRequest,
  directMessageEvent,
  eventCallbackRequest,
  mentionEvent,
  postSigned,
  type SlackRequest,
  slashCommandRequest,
  urlVerificationRequest,
} from '../fakes/slack/signed-requests.js';
import { RefusingSink } from '../support/refusing-sink.js';

const ALICE = SLACK_PEOPLE.alice.id;
const BOB = SLACK_PEOPLE.bob.id;
const ALICE_DM = 'D0ALICE';

let harness: ContractHarness | undefined;

afterEach(async () => {
  await harness?.destroy();
  harness = undefined;
});

async function start(
  factory = slackDriverFactory,
): Promise<{ driver: SlackContractDriver; h: ContractHarness }> {
  harness = await createContractHarness('server', factory);
  const driver = harness.driver as SlackContractDriver;
  driver.fake.addDirectChannel(ALICE_DM, ALICE);
  return { driver, h: harness };
}

async function post(driver: SlackContractDriver, request: SlackRequest, timestamp?: number) {
  return postSigned(driver.url, request, {
    signingSecret: SLACK_TEST_SIGNING_SECRET,
    ...(timestamp !== undefined ? { timestamp } : {}),
  });
}

async function countRows(h: ContractHarness): Promise<{ deliveries: number; audit: number }> {
  const prisma = h.test.database.prisma;
  const [deliveries, audit] = await Promise.all([prisma.inboundEvent.count(), prisma.auditEvent.count()]);
  return { deliveries, audit };
}

function dmShown(driver: SlackContractDriver) {
  return driver.fake.model.visibleIn(ALICE_DM, ALICE);
}

describe('Slack channel (bolt against the fake Slack)', () => {
  it('trades end to end in a DM: card, confirm, card without buttons, filled text', async () => {
    const { driver } = await start();
    const message = eventCallbackRequest(
      driver.fake,
      directMessageEvent({ user: ALICE, channel: ALICE_DM, text: 'buy 10 AAPL' }),
    );
    expect((await post(driver, message)).status).toBe(200);
    await driver.settle();

    const cards = dmShown(driver).filter(isCard);
    expect(cards).toHaveLength(1);
    const card = cards[0];
    if (card?.kind !== 'message') throw new Error('the DM card is a normal message');
    expect(blocksText(card.blocks)).toContain('AAPL');
    expect(blocksText(card.blocks)).toContain('*PAPER*');
    const confirm = blocksActionIds(card.blocks).find((id) => id.startsWith('confirm:'));
    expect(confirm).toBeDefined();
    // The Confirm button asks again before sending the press.
    const actions = card.blocks.find((block) => block.type === 'actions');
    const confirmButton =
      actions?.type === 'actions' ? actions.elements.find((b) => b.action_id === confirm) : undefined;
    expect(confirmButton?.style).toBe('primary');
    expect(confirmButton?.confirm?.title.text).toBeTruthy();

    const press = blockActionsRequest(driver.fake, {
      user: ALICE,
      channel: ALICE_DM,
      actionId: confirm ?? '',
      ts: card.ts,
    });
    expect((await post(driver, press)).status).toBe(200);
    await driver.settle();

    const updated = driver.fake.model.message(ALICE_DM, card.ts);
    expect(updated && blocksActionIds(updated.blocks)).toEqual([]);
    expect(updated && blocksText(updated.blocks)).toMatch(/Filled/);
    // Two edits: "placing the order" (buttons gone at once), then the fill.
    const updates = driver.fake.accepted('chat.update');
    expect(updates).toHaveLength(2);
    expect(String(updates[0]?.params.text ?? '') + JSON.stringify(updates[0]?.params.blocks)).toMatch(
      /Placing the order/,
    );
    const texts = dmShown(driver)
      .filter((shown) => !isCard(shown))
      .map((shown) => displayed(shown.text));
    expect(texts.some((text) => /^Filled \(paper\): .*AAPL/i.test(text))).toBe(true);
  });

  it('rejects a forged signature and a stale timestamp with 401, recording nothing', async () => {
    const { driver, h } = await start();
    expect(await driver.forged()).toBe(401);
    const request = eventCallbackRequest(
      driver.fake,
      directMessageEvent({ user: ALICE, channel: ALICE_DM, text: 'buy 10 AAPL' }),
    );
    const sixMinutesAgo = Math.floor(Date.now() / 1000) - 6 * 60;
    expect((await post(driver, request, sixMinutesAgo)).status).toBe(401);
    await driver.settle();
    expect(await countRows(h)).toEqual({ deliveries: 0, audit: 0 });
    expect(driver.fake.calls).toEqual([]);
    // The same request, fresh and correctly signed, is taken: the rejection was the signature's doing.
    expect((await post(driver, request)).status).toBe(200);
    await driver.settle();
    expect((await countRows(h)).deliveries).toBe(1);
  });

  it('refuses a request stamped more than five minutes from its clock, in the past or in the future', async () => {
    // A fixed clock far from the wall clock: only the adapter's own clock decides.
    const now = Date.parse('2031-03-14T15:09:26Z');
    const { driver, h } = await start(createSlackDriverFactory({ now: () => now }));
    const seconds = Math.floor(now / 1000);
    const hello = () =>
      eventCallbackRequest(driver.fake, directMessageEvent({ user: ALICE, channel: ALICE_DM, text: 'help' }));
    for (const skew of [6 * 60, 301, -301, -6 * 60]) {
      expect((await post(driver, hello(), seconds + skew)).status, `skew ${skew} s`).toBe(401);
    }
    // The wall clock's own time is years away from the adapter's: refused as well.
    expect((await post(driver, hello())).status).toBe(401);
    await driver.settle();
    expect(await countRows(h)).toEqual({ deliveries: 0, audit: 0 });
    expect(driver.fake.calls).toEqual([]);
    // At the edge of the window, either side, the request is taken.
    for (const skew of [300, -300, 0]) {
      expect((await post(driver, hello(), seconds + skew)).status, `skew ${skew} s`).toBe(200);
    }
    await driver.settle();
    expect((await countRows(h)).deliveries).toBe(3);
  });

  it('answers url_verification with the challenge and a malformed body with 400', async () => {
    const { driver, h } = await start();
    const answer = await post(
      driver,
      urlVerificationRequest('3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P'),
    );
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.text)).toEqual({
      challenge: '3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P',
    });
    expect(await driver.malformed()).toBe(400);
    const incompletePress = {
      body: `payload=${encodeURIComponent('{"type":"block_actions","actions":[]}')}`,
      contentType: 'application/x-www-form-urlencoded' as const,
    };
    expect((await post(driver, incompletePress)).status).toBe(400);
    await driver.settle();
    expect(await countRows(h)).toEqual({ deliveries: 0, audit: 0 });
  });

  it('acks a slash command once it is recorded, before the core has handled it', async () => {
    const held: InboundMessage[] = [];
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const factory = createSlackDriverFactory({
      // The core starts on a message only once the test opens the gate.
      wrapSink: (inner): InboundSink => ({
        accept(message, options) {
          held.push(message);
          return inner.accept(message, { handleAfter: Promise.all([options?.handleAfter, gate]) });
        },
      }),
    });
    const { driver, h } = await start(factory);
    const command = slashCommandRequest(driver.fake, { user: ALICE, channel: ALICE_DM, text: 'buy 10 AAPL' });
    const answer = await post(driver, command);
    // The HTTP answer is back: the command is in the inbox, and the core has not touched it.
    expect(answer.status).toBe(200);
    expect(held.map((message) => message.deliveryId)).toEqual([command.triggerId]);
    expect(driver.fake.calls).toEqual([]);
    const row = () =>
      h.test.database.prisma.inboundEvent.findUniqueOrThrow({
        where: { platform_deliveryId: { platform: 'slack', deliveryId: command.triggerId } },
      });
    expect((await row()).handledAt).toBeNull();
    expect(await h.test.database.prisma.tradeIntent.count()).toBe(0);
    release();
    await driver.settle();
    expect(dmShown(driver).filter(isCard)).toHaveLength(1);
    expect((await row()).handledAt).not.toBeNull();
    expect((await countRows(h)).deliveries).toBe(1);
  });

  it('answers 503 to an event it could not record, and takes it when Slack sends it again', async () => {
    let refusing: RefusingSink | undefined;
    const factory = createSlackDriverFactory({
      wrapSink: (inner) => {
        refusing = new RefusingSink(inner);
        return refusing;
      },
    });
    const { driver, h } = await start(factory);
    const request = eventCallbackRequest(
      driver.fake,
      directMessageEvent({ user: ALICE, channel: ALICE_DM, text: 'buy 10 AAPL' }),
    );
    refusing?.refuseNext();
    expect((await post(driver, request)).status).toBe(503);
    await driver.settle();
    expect(refusing?.refused.map((message) => message.deliveryId)).toEqual([request.eventId]);
    expect(await countRows(h)).toEqual({ deliveries: 0, audit: 0 });
    expect(driver.fake.calls).toEqual([]);

    // Slack retries a failed event (same event_id): now it is recorded and handled.
    const retry = await postSigned(driver.url, request, {
      signingSecret: SLACK_TEST_SIGNING_SECRET,
      retryNum: 1,
    });
    expect(retry.status).toBe(200);
    await driver.settle();
    expect(dmShown(driver).filter(isCard)).toHaveLength(1);
    expect(
      await h.test.database.prisma.inboundEvent.count({
        where: { deliveryId: request.eventId, handledAt: { not: null } },
      }),
    ).toBe(1);
  });

  it('answers a slash command it could not record with an ephemeral "nothing was done"', async () => {
    let refusing: RefusingSink | undefined;
    const factory = createSlackDriverFactory({
      wrapSink: (inner) => {
        refusing = new RefusingSink(inner);
        return refusing;
      },
    });
    const { driver, h } = await start(factory);
    const command = slashCommandRequest(driver.fake, { user: ALICE, channel: ALICE_DM, text: 'buy 10 AAPL' });
    refusing?.refuseNext();
    const answer = await post(driver, command);
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.text)).toEqual({ response_type: 'ephemeral', text: INBOX_UNAVAILABLE_TEXT });
    await driver.settle();
    expect(refusing?.refused.map((message) => message.deliveryId)).toEqual([command.triggerId]);
    expect(await countRows(h)).toEqual({ deliveries: 0, audit: 0 });
    expect(await h.test.database.prisma.tradeIntent.count()).toBe(0);
    expect(driver.fake.calls).toEqual([]);
  });

  it('shows a card in a channel only to its requester, and edits it through the response_url', async () => {
    const { driver } = await start();
    await driver.say('alice', 'buy 10 AAPL');
    const forAlice = driver.fake.model.visibleIn(SLACK_CHANNEL, ALICE).filter(isCard);
    expect(forAlice).toHaveLength(1);
    expect(forAlice[0]?.kind).toBe('ephemeral');
    expect(driver.fake.model.visibleIn(SLACK_CHANNEL, BOB).filter(isCard)).toEqual([]);
    expect(driver.fake.accepted('chat.postMessage')).toEqual([]);

    const [seen] = driver.cards();
    const confirm = seen?.actionIds.find((id) => id.startsWith('confirm:'));
    if (seen === undefined || confirm === undefined) throw new Error('no confirm button');
    await driver.press('alice', seen.messageId, confirm);

    const after = driver.fake.model.visibleIn(SLACK_CHANNEL, ALICE).filter(isCard);
    expect(after).toHaveLength(1); // replaced, not re-posted
    expect(after[0] && blocksActionIds(after[0].blocks)).toEqual([]);
    expect(driver.cards()[0]?.text).toMatch(/Filled/);
    expect(driver.textsFor('alice').some((text) => /^Filled \(paper\)/i.test(text))).toBe(true);
    expect(driver.textsFor('bob').some((text) => /^Filled/i.test(text))).toBe(false);
  });

  it('handles a redelivered event (x-slack-retry-num, same event_id) once', async () => {
    const { driver, h } = await start();
    const request = eventCallbackRequest(
      driver.fake,
      directMessageEvent({ user: ALICE, channel: ALICE_DM, text: 'buy 10 AAPL' }),
    );
    expect((await post(driver, request)).status).toBe(200);
    await driver.settle();
    const retry = await postSigned(driver.url, request, {
      signingSecret: SLACK_TEST_SIGNING_SECRET,
      retryNum: 1,
    });
    expect(retry.status).toBe(200);
    await driver.settle();
    expect(dmShown(driver).filter(isCard)).toHaveLength(1);
    expect(await h.test.database.prisma.inboundEvent.count({ where: { deliveryId: request.eventId } })).toBe(
      1,
    );

    // A slash command posted twice (same trigger_id) is handled once too.
    await driver.say('alice', 'buy 5 MSFT');
    await driver.redeliverLast();
    expect(driver.cards().filter((card) => card.text.includes('MSFT'))).toHaveLength(1);
  });

  it('waits out a 429 (Retry-After) on the Web API and on a response_url without losing the message', async () => {
    const { driver } = await start();
    driver.fake.rateLimitNextCall(1);
    const dm = eventCallbackRequest(
      driver.fake,
      directMessageEvent({ user: ALICE, channel: ALICE_DM, text: 'help' }),
    );
    await post(driver, dm);
    await driver.settle();
    const posts = driver.fake.calls.filter((call) => call.method === 'chat.postMessage');
    expect(posts.map((call) => call.status)).toEqual([429, 200]);
    expect(
      dmShown(driver)
        .map((shown) => shown.text)
        .join('\n'),
    ).toContain('I place orders after you confirm them');

    driver.fake.rateLimitNextCall(1);
    await driver.say('bob', 'help');
    const responses = driver.fake.calls.filter((call) => call.method === 'response_url');
    expect(responses.map((call) => call.status)).toEqual([429, 200]);
    expect(driver.textsFor('bob').join('\n')).toContain('I place orders after you confirm them');
  });

  it('escapes &, < and > in texts and card fields (no mentions or links injected)', async () => {
    const { driver } = await start();
    const address = { platform: 'slack' as const, workspaceId: 'T1', chatId: ALICE_DM };
    await driver.adapter.send(address, { kind: 'text', text: 'a <@U999> & <!channel> > b' });
    const card = {
      title: 'Buy <AAPL>',
      badge: 'PAPER' as const,
      fields: [{ label: 'Note', value: '<https://evil.example|click> & more' }],
      actions: [],
    };
    await driver.adapter.send(address, { kind: 'card', card, audience: 'chat' });
    const [text, shownCard] = dmShown(driver);
    expect(text?.text).toBe('a &lt;@U999&gt; &amp; &lt;!channel&gt; &gt; b');
    expect(shownCard && blocksText(shownCard.blocks)).toContain(
      '&lt;https://evil.example|click&gt; &amp; more',
    );
    expect(shownCard?.blocks[0]).toMatchObject({
      type: 'header',
      text: { type: 'plain_text', text: 'Buy <AAPL>' },
    });
  });

  it('answers a mention in a channel with the bot mention stripped, and logs ok:false without crashing', async () => {
    const { driver } = await start();
    const mention = eventCallbackRequest(
      driver.fake,
      mentionEvent(driver.fake, { user: ALICE, channel: SLACK_CHANNEL, text: 'quote AAPL' }),
    );
    expect((await post(driver, mention)).status).toBe(200);
    await driver.settle();
    expect(driver.textsFor('bob').some((text) => text.startsWith('AAPL (Apple'))).toBe(true);

    const nowhere = { platform: 'slack' as const, workspaceId: 'T1', chatId: 'C0NOWHERE' };
    await expect(driver.adapter.send(nowhere, { kind: 'text', text: 'hi' })).rejects.toMatchObject({
      code: 'channel_not_found',
    });
  });

  it('works over Socket Mode: apps.connections.open with the app token, hello, envelopes acked', async () => {
    const { driver, h } = await start();
    const socket = createSlackChannel({
      botToken: SLACK_TEST_BOT_TOKEN,
      appToken: SLACK_TEST_APP_TOKEN,
      socketMode: true,
      apiUrl: driver.fake.apiUrl,
      sink: driver.inbound,
      logger: quietSlackLogger(),
      botId: SLACK_BOT.botId,
      botUserId: SLACK_BOT.userId,
    });
    // The core now answers through the Socket Mode adapter.
    h.arbion.channels.register('slack', socket);
    try {
      await socket.start();
      await driver.fake.connected();
      expect(driver.fake.accepted('apps.connections.open')).toHaveLength(1);

      const command = slashCommandRequest(driver.fake, {
        user: ALICE,
        channel: ALICE_DM,
        text: 'buy 10 AAPL',
      });
      const sent = driver.fake.sendEnvelope(
        'slash_commands',
        Object.fromEntries(new URLSearchParams(command.body)),
      );
      expect((await sent.acked).envelope_id).toBe(sent.envelopeId);
      await socket.idle();
      await h.driver.settle();
      const card = dmShown(driver).filter(isCard)[0];
      if (card?.kind !== 'message') throw new Error('no card in the DM');
      const confirm = blocksActionIds(card.blocks).find((id) => id.startsWith('confirm:')) ?? '';

      const press = blockActionsRequest(driver.fake, {
        user: ALICE,
        channel: ALICE_DM,
        actionId: confirm,
        ts: card.ts,
      });
      const payload = JSON.parse(new URLSearchParams(press.body).get('payload') ?? '{}') as Record<
        string,
        unknown
      >;
      const pressed = driver.fake.sendEnvelope('interactive', payload);
      expect((await pressed.acked).envelope_id).toBe(pressed.envelopeId);
      await socket.idle();
      await h.driver.settle();
      expect(blocksActionIds(driver.fake.model.message(ALICE_DM, card.ts)?.blocks ?? [])).toEqual([]);

      const event = eventCallbackRequest(
        driver.fake,
        directMessageEvent({ user: ALICE, channel: ALICE_DM, text: 'positions' }),
      );
      const delivered = driver.fake.sendEnvelope(
        'events_api',
        JSON.parse(event.body) as Record<string, unknown>,
      );
      expect((await delivered.acked).envelope_id).toBe(delivered.envelopeId);
      await socket.idle();
      await h.driver.settle();
      expect(dmShown(driver).at(-1)?.text).toMatch(/AAPL/);
    } finally {
      await socket.stop();
    }
  });

  it('has a fake Slack that enforces auth, Block Kit limits, known messages, membership and response_url budgets', async () => {
    const { driver } = await start();
    const fake = driver.fake;
    const call = async (method: string, body: Record<string, unknown>, token?: string) => {
      const response = await fetch(`${fake.apiUrl}${method}`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json; charset=utf-8',
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
        body: JSON.stringify(body),
      });
      return (await response.json()) as { ok: boolean; error?: string };
    };
    expect(await call('chat.postMessage', { channel: SLACK_CHANNEL, text: 'hi' })).toEqual({
      ok: false,
      error: 'not_authed',
    });
    expect(await call('chat.postMessage', { channel: SLACK_CHANNEL, text: 'hi' }, 'xoxb-wrong')).toEqual({
      ok: false,
      error: 'invalid_auth',
    });
    const longButton = [
      {
        type: 'actions',
        elements: [{ type: 'button', text: { type: 'plain_text', text: 'x'.repeat(76) }, action_id: 'a' }],
      },
    ];
    expect(
      (await call('chat.postMessage', { channel: SLACK_CHANNEL, blocks: longButton }, SLACK_TEST_BOT_TOKEN))
        .error,
    ).toBe('invalid_blocks');
    expect(
      (await call('chat.update', { channel: SLACK_CHANNEL, ts: '1.000001', text: 'x' }, SLACK_TEST_BOT_TOKEN))
        .error,
    ).toBe('message_not_found');
    expect(
      (
        await call(
          'chat.postEphemeral',
          { channel: SLACK_CHANNEL, user: 'USTRANGER', text: 'x' },
          SLACK_TEST_BOT_TOKEN,
        )
      ).error,
    ).toBe('user_not_in_channel');
    expect((await call('apps.connections.open', {}, SLACK_TEST_BOT_TOKEN)).error).toBe(
      'not_allowed_token_type',
    );

    const url = fake.issueResponseUrl(ALICE, SLACK_CHANNEL);
    const respond = async () =>
      (
        await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: '{"text":"hi"}',
        })
      ).status;
    for (let use = 0; use < 5; use++) expect(await respond()).toBe(200);
    expect(await respond()).toBe(404);
    const fresh = fake.issueResponseUrl(ALICE, SLACK_CHANNEL);
    fake.advanceTime(31 * 60 * 1000);
    expect((await fetch(fresh, { method: 'POST', body: '{"text":"late"}' })).status).toBe(404);
  });
});
