/**
 * The Discord channel with real discord.js against the fake Discord (REST + gateway): login,
 * slash command registration, a DM trade end to end, guild commands answered ephemerally,
 * autocomplete, the signed HTTP interactions endpoint, 429s, and button ids round-tripping.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import {
  createDiscordChannel,
  type DiscordChannel,
  INTERACTIONS_PATH,
} from '../../src/channels/discord/index.js';
import { INBOX_UNAVAILABLE_TEXT } from '../../src/core/conversation/inbox.js';
import { type ContractHarness, createContractHarness } from '../contract/contract-harness.js';
import {
  DISCORD_TEST_APPLICATION_ID,
  DISCORD_TEST_TOKEN,
  discordDriver,
  displayed,
  quietDiscordLogger,
  WatchedSink,
} from '../contract/drivers/discord.js';
import { buttonIds, type FakeMessage, messageText } from '../fakes/discord/chat-model.js';
import { FakeDiscord } from '../fakes/discord/fake-discord.js';
import { type FakeGuild, type FakeRole, type FakeUser, PERMISSIONS } from '../fakes/discord/payloads.js';
import { generateInteractionKeys, type InteractionKeys } from '../fakes/discord/signing.js';
import { createHarness, type Harness } from '../support/arbion-harness.js';
import { RefusingSink } from '../support/refusing-sink.js';

const INTENTS = { Guilds: 1, DirectMessages: 1 << 12, MessageContent: 1 << 15 };

describe('Discord channel against the fake Discord', () => {
  let h: Harness;
  let fake: FakeDiscord;
  let adapter: DiscordChannel;
  let sink: WatchedSink;
  /** Between the adapter's sink and the queue: refuses like an inbox whose database is away. */
  let refusing: RefusingSink;
  let web: FastifyInstance;
  let webUrl: string;
  let keys: InteractionKeys;
  let guild: FakeGuild;
  let channelId: string;
  let traderRole: FakeRole;
  let adminRole: FakeRole;
  let alice: FakeUser;
  let bob: FakeUser;
  let carol: FakeUser;

  beforeAll(async () => {
    h = await createHarness('server');
    fake = await FakeDiscord.start({ token: DISCORD_TEST_TOKEN, applicationId: DISCORD_TEST_APPLICATION_ID });
    const owner = fake.createUser('owner');
    guild = fake.createGuild('Desk', ['trading'], owner);
    channelId = guild.channelIds[0] as string;
    adminRole = fake.createRole(guild, 'Admin', PERMISSIONS.ADMINISTRATOR);
    traderRole = fake.createRole(guild, 'Trader', 0n);
    alice = fake.createUser('alice');
    bob = fake.createUser('bob');
    carol = fake.createUser('carol');
    fake.setMember(guild, alice, [traderRole.id]);
    fake.setMember(guild, bob, [adminRole.id]);
    fake.setMember(guild, carol, []);

    keys = generateInteractionKeys();
    const logger = quietDiscordLogger();
    refusing = new RefusingSink(h.arbion.inbound.queue);
    sink = new WatchedSink(refusing);
    adapter = createDiscordChannel({
      token: DISCORD_TEST_TOKEN,
      applicationId: DISCORD_TEST_APPLICATION_ID,
      publicKey: keys.publicKeyHex,
      apiUrl: fake.apiUrl,
      traderRoleIds: [traderRole.id],
      sink,
      logger,
      symbols: h.arbion.symbols,
      clock: () => fake.now(),
    });
    h.arbion.channels.register('discord', adapter);
    web = Fastify();
    await adapter.mount(web);
    webUrl = await web.listen({ host: '127.0.0.1', port: 0 });
    await adapter.start();
  });

  afterAll(async () => {
    await adapter?.stop();
    await web?.close();
    await fake?.close();
    await h?.destroy();
  });

  /** Dispatches an interaction over the gateway and waits until the core has handled it. */
  async function dispatch(payload: Record<string, unknown>): Promise<string> {
    const id = String(payload.id);
    const occurrence = sink.count(id) + 1;
    fake.dispatchInteraction(payload);
    await sink.handled(id, occurrence);
    await adapter.idle();
    return id;
  }

  const botMessages = (channel: string, user: FakeUser): FakeMessage[] =>
    fake.model.visibleTo(user.id, channel).filter((message) => message.authorId === fake.bot.id);

  it('logs in: gateway/bot, IDENTIFY with our intents, READY', () => {
    expect(fake.callsTo('GET /gateway/bot').map((call) => call.status)).toEqual([200]);
    const session = fake.gateway.ready[0];
    expect(session?.sessionId).toBeDefined();
    const intents = session?.intents ?? 0;
    expect(intents & INTENTS.Guilds).toBe(INTENTS.Guilds);
    expect(intents & INTENTS.DirectMessages).toBe(INTENTS.DirectMessages);
    expect(intents & INTENTS.MessageContent).toBe(INTENTS.MessageContent);
  });

  it('refuses a wrong token: the REST check fails login, the gateway closes with 4004', async () => {
    const wrong = createDiscordChannel({
      token: 'not-the-token',
      applicationId: DISCORD_TEST_APPLICATION_ID,
      apiUrl: fake.apiUrl,
      traderRoleIds: [],
      sink,
      logger: quietDiscordLogger(),
    });
    await expect(wrong.start()).rejects.toThrow(/token/i);
    expect(fake.callsTo('GET /gateway/bot').at(-1)?.status).toBe(401);
    await wrong.stop();

    const socket = new WebSocket(`${fake.gatewayUrl}/?v=10&encoding=json`);
    const closed = new Promise<number>((resolve) => socket.on('close', (code) => resolve(code)));
    socket.on('message', (data) => {
      const payload = JSON.parse(data.toString()) as { op: number };
      if (payload.op === 10) {
        socket.send(
          JSON.stringify({
            op: 2,
            d: { token: 'not-the-token', intents: 1, properties: { os: 'linux', browser: 'x', device: 'x' } },
          }),
        );
      }
    });
    expect(await closed).toBe(4004);
  });

  it('registers the slash commands with a valid payload', () => {
    const put = fake.callsTo('PUT /applications/:app/commands');
    expect(put.map((call) => call.status)).toEqual([200]);
    expect(fake.commands.map((command) => command.name)).toEqual([
      'trade',
      'quote',
      'positions',
      'balance',
      'orders',
      'link',
      'help',
    ]);
    const trade = fake.commands.find((command) => command.name === 'trade');
    expect(trade?.options?.[0]).toMatchObject({ name: 'text', type: 3, required: true });
    const quote = fake.commands.find((command) => command.name === 'quote');
    expect(quote?.options?.[0]).toMatchObject({ name: 'symbol', autocomplete: true });
  });

  it('trades in a DM: card with buttons -> Confirm -> card without buttons -> filled text', async () => {
    const dm = fake.directMessage(alice, 'buy 10 AAPL');
    await sink.handled(dm.id);
    await adapter.idle();
    const dmChannel = fake.dmChannel(alice).id;
    const card = botMessages(dmChannel, alice).find((message) => message.embeds.length > 0);
    expect(card).toBeDefined();
    if (card === undefined) return;
    expect(card.ephemeralFor).toBeUndefined();
    expect(displayed(messageText(card))).toMatch(/PAPER/);
    expect(displayed(messageText(card))).toMatch(/BUY 10 AAPL/);
    const confirm = buttonIds(card).find((id) => id.startsWith('confirm:'));
    expect(confirm).toBeDefined();
    expect(buttonIds(card).some((id) => id.startsWith('cancel:'))).toBe(true);

    const inboundText = sink.messages.find((message) => message.deliveryId === dm.id);
    expect(inboundText).toMatchObject({
      kind: 'text',
      text: 'buy 10 AAPL',
      chatType: 'direct',
      address: { platform: 'discord', workspaceId: '', chatId: dmChannel },
      sender: { platformUserId: alice.id },
    });
    expect(inboundText?.sender.platformRole).toBeUndefined();

    const press = await dispatch(fake.buttonInteraction(alice, card.id, confirm ?? ''));
    expect(fake.callbackOf(press)?.type).toBe(6);
    const edited = fake.model.get(card.id);
    expect(edited?.edits).toBeGreaterThan(0);
    expect(buttonIds(edited as FakeMessage)).toEqual([]);
    const texts = botMessages(dmChannel, alice).map((message) => displayed(message.content));
    expect(texts.join('\n')).toMatch(/Filled \(PAPER\): bought 10 AAPL/);
    const intent = await h.test.database.prisma.tradeIntent.findFirstOrThrow({ where: { symbol: 'AAPL' } });
    expect(intent.status).toBe('filled');
  });

  it('defers a guild command ephemerally and follows up privately', async () => {
    const id = await dispatch(
      fake.commandInteraction({ user: alice, guildId: guild.id, channelId }, 'balance'),
    );
    expect(fake.callbackOf(id)).toEqual({ type: 5, data: { flags: 64 } });
    const [reply] = fake.responsesTo(id);
    expect(reply?.ephemeralFor).toBe(alice.id);
    expect(displayed(reply?.content ?? '')).toMatch(/Cash/);
    expect(botMessages(channelId, carol).some((message) => message.id === reply?.id)).toBe(false);
    const message = sink.messages.find((candidate) => candidate.deliveryId === id);
    expect(message).toMatchObject({
      kind: 'text',
      text: 'balance',
      chatType: 'group',
      address: { workspaceId: guild.id, chatId: channelId, replyHandle: id },
      sender: { platformUserId: alice.id, platformRole: 'trader' },
    });
  });

  it('after the 15-minute token lifetime: every intent still expires, each card edit is refused, nothing crashes', async () => {
    const trade = (text: string) =>
      dispatch(fake.commandInteraction({ user: alice, guildId: guild.id, channelId }, 'trade', { text }));
    await trade('buy 1 AAPL');
    await trade('buy 1 MSFT');
    const open = await h.test.database.prisma.tradeIntent.findMany({
      where: { platform: 'discord', status: 'proposed', workspaceExternalId: guild.id },
    });
    expect(open.length).toBeGreaterThanOrEqual(2);
    const callsBefore = fake.calls.length;
    fake.advance(16 * 60_000);
    const saved = h.clock.now;
    h.clock.now = new Date(saved.getTime() + 16 * 60_000);
    try {
      // Neither card can be edited any more; the pass still expires every intent and returns.
      await h.arbion.runBackgroundPass();
      await adapter.idle();
    } finally {
      h.clock.now = saved;
    }
    for (const intent of open) {
      const now = await h.test.database.prisma.tradeIntent.findUniqueOrThrow({ where: { id: intent.id } });
      expect(now.status).toBe('expired');
    }
    const attempts = fake.calls
      .slice(callsBefore)
      .filter(
        (call) =>
          call.method === 'PATCH' && open.some((intent) => call.path.includes(intent.cardMessageId ?? '-')),
      );
    // One attempt per card, each refused by Discord: no expired token was used successfully.
    expect(attempts).toHaveLength(open.length);
    for (const attempt of attempts) expect(attempt.status).toBeGreaterThanOrEqual(400);
  });

  it('maps guild roles: Administrator -> admin, no trader role -> viewer', async () => {
    const admin = await dispatch(
      fake.commandInteraction({ user: bob, guildId: guild.id, channelId }, 'help'),
    );
    const viewer = await dispatch(
      fake.commandInteraction({ user: carol, guildId: guild.id, channelId }, 'help'),
    );
    expect(sink.messages.find((m) => m.deliveryId === admin)?.sender.platformRole).toBe('admin');
    expect(sink.messages.find((m) => m.deliveryId === viewer)?.sender.platformRole).toBe('viewer');
  });

  it('answers /quote autocomplete with tickers and delivers nothing to the core', async () => {
    const payload = fake.autocompleteInteraction(
      { user: alice, guildId: guild.id, channelId },
      'quote',
      'symbol',
      'AAP',
    );
    const before = sink.messages.length;
    fake.dispatchInteraction(payload);
    const id = String(payload.id);
    while (fake.choicesFor(id) === undefined) await new Promise((resolve) => setTimeout(resolve, 20));
    const choices = fake.choicesFor(id) ?? [];
    expect(choices.length).toBeGreaterThan(0);
    expect(choices.length).toBeLessThanOrEqual(25);
    expect(choices[0]?.value).toBe('AAPL');
    expect(sink.messages.length).toBe(before);
  });

  it('HTTP endpoint: PING -> PONG, a bad signature -> 401 with nothing recorded', async () => {
    const url = `${webUrl}${INTERACTIONS_PATH}`;
    const pong = await fake.postInteraction(url, fake.pingInteraction(), { keys });
    expect(pong).toEqual({ status: 200, body: { type: 1 } });

    const deliveries = await h.test.database.prisma.inboundEvent.count();
    const before = sink.messages.length;
    const forged = fake.commandInteraction({ user: alice, guildId: guild.id, channelId }, 'trade', {
      text: 'buy 1 AAPL',
    });
    expect((await fake.postInteraction(url, forged, { keys, forge: true })).status).toBe(401);
    const unsigned = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(fake.pingInteraction()),
    });
    expect(unsigned.status).toBe(401);
    expect((await fake.postInteraction(url, '{"type":', { keys })).status).toBe(400);
    await adapter.idle();
    expect(sink.messages.length).toBe(before);
    expect(await h.test.database.prisma.inboundEvent.count()).toBe(deliveries);
  });

  it('HTTP endpoint: a signed command is deferred in the response and answered by webhook', async () => {
    const payload = fake.commandInteraction({ user: alice, guildId: guild.id, channelId }, 'quote', {
      symbol: 'MSFT',
    });
    const answer = await fake.postInteraction(`${webUrl}${INTERACTIONS_PATH}`, payload, { keys });
    expect(answer).toEqual({ status: 200, body: { type: 5, data: { flags: 64 } } });
    const id = String(payload.id);
    await sink.handled(id);
    await adapter.idle();
    expect(
      fake.callsTo('POST /interactions/:id/:token/callback').some((call) => call.path.includes(id)),
    ).toBe(false);
    const [reply] = fake.responsesTo(id);
    expect(reply?.ephemeralFor).toBe(alice.id);
    expect(displayed(reply?.content ?? '')).toMatch(/MSFT \(Microsoft Corporation\): bid/);
  });

  it('HTTP endpoint: an interaction the inbox could not record is answered ephemerally, nothing done', async () => {
    const url = `${webUrl}${INTERACTIONS_PATH}`;
    const prisma = h.test.database.prisma;
    const rows = await prisma.inboundEvent.count();
    const payload = fake.commandInteraction({ user: alice, guildId: guild.id, channelId }, 'trade', {
      text: 'buy 3 TSLA',
    });
    const id = String(payload.id);
    refusing.refuseNext();
    const answer = await fake.postInteraction(url, payload, { keys });
    expect(answer).toEqual({
      status: 200,
      body: { type: 4, data: { content: INBOX_UNAVAILABLE_TEXT, flags: 64 } },
    });
    await sink.handled(id);
    await adapter.idle();
    // The adapter did hand it over; the refusal left no row and no trade behind, and the answer
    // is all alice sees (only she does).
    expect(refusing.refused.map((message) => message.deliveryId)).toEqual([id]);
    expect(await prisma.inboundEvent.count()).toBe(rows);
    expect(await prisma.tradeIntent.count({ where: { symbol: 'TSLA' } })).toBe(0);
    expect(
      fake.responsesTo(id).map((reply) => ({ content: reply.content, ephemeralFor: reply.ephemeralFor })),
    ).toEqual([{ content: INBOX_UNAVAILABLE_TEXT, ephemeralFor: alice.id }]);

    // The person tries again (a new interaction) once the database is back: it is taken and handled.
    const retry = fake.commandInteraction({ user: alice, guildId: guild.id, channelId }, 'trade', {
      text: 'buy 3 TSLA',
    });
    const again = await fake.postInteraction(url, retry, { keys });
    expect(again).toEqual({ status: 200, body: { type: 5, data: { flags: 64 } } });
    await sink.handled(String(retry.id));
    await adapter.idle();
    expect(
      await prisma.inboundEvent.count({ where: { deliveryId: String(retry.id), handledAt: { not: null } } }),
    ).toBe(1);
    expect(await prisma.tradeIntent.count({ where: { symbol: 'TSLA' } })).toBe(1);
  });

  it('gateway: an interaction the inbox could not record is answered ephemerally, nothing done', async () => {
    const prisma = h.test.database.prisma;
    const rows = await prisma.inboundEvent.count();
    refusing.refuseNext();
    const id = await dispatch(
      fake.commandInteraction({ user: alice, guildId: guild.id, channelId }, 'trade', { text: 'buy 4 NFLX' }),
    );
    expect(refusing.refused.map((message) => message.deliveryId)).toContain(id);
    expect(fake.callbackOf(id)).toEqual({ type: 4, data: { content: INBOX_UNAVAILABLE_TEXT, flags: 64 } });
    expect(
      fake.responsesTo(id).map((reply) => ({ content: reply.content, ephemeralFor: reply.ephemeralFor })),
    ).toEqual([{ content: INBOX_UNAVAILABLE_TEXT, ephemeralFor: alice.id }]);
    expect(await prisma.inboundEvent.count()).toBe(rows);
    expect(await prisma.tradeIntent.count({ where: { symbol: 'NFLX' } })).toBe(0);
  });

  it('waits out a 429 and still delivers the reply', async () => {
    fake.rateLimitNext({ retryAfter: 1 });
    const dm = fake.directMessage(alice, 'quote NVDA');
    await sink.handled(dm.id);
    await adapter.idle();
    const posts = fake.callsTo('POST /channels/:channel/messages').filter((call) => call.at >= dm.createdAt);
    expect(posts.map((call) => call.status)).toEqual([429, 200]);
    const texts = botMessages(fake.dmChannel(alice).id, alice).map((message) => displayed(message.content));
    expect(texts.at(-1)).toMatch(/NVDA/);
  });

  it('round-trips button custom_ids: the card carries the intent id, a press hands it back untouched', async () => {
    await dispatch(
      fake.commandInteraction({ user: alice, guildId: guild.id, channelId }, 'trade', { text: 'buy 2 MSFT' }),
    );
    // The clock is pinned, so createdAt ties with the MSFT intent of the token-lifetime test
    // (expired since): this one is the MSFT intent still open.
    const intent = await h.test.database.prisma.tradeIntent.findFirstOrThrow({
      where: { symbol: 'MSFT', status: 'proposed' },
    });
    expect(intent.quantity?.toNumber()).toBe(2);
    const card = fake.model.all().find((message) => buttonIds(message).includes(`confirm:${intent.id}`));
    expect(card?.ephemeralFor).toBe(alice.id);
    expect(buttonIds(card as FakeMessage)).toEqual([`confirm:${intent.id}`, `cancel:${intent.id}`]);

    const forged = `confirm:00000000-0000-4000-8000-000000000000`;
    const press = await dispatch(fake.buttonInteraction(alice, card?.id ?? '', forged));
    const action = sink.messages.find((message) => message.deliveryId === press);
    expect(action).toMatchObject({ kind: 'action', actionId: forged, messageId: card?.id });
    const [notice] = fake.responsesTo(press);
    expect(notice?.ephemeralFor).toBe(alice.id);
    expect(notice?.content).not.toBe('');

    const cancel = await dispatch(fake.buttonInteraction(alice, card?.id ?? '', `cancel:${intent.id}`));
    expect(sink.messages.find((message) => message.deliveryId === cancel)).toMatchObject({
      actionId: `cancel:${intent.id}`,
    });
    expect(buttonIds(fake.model.get(card?.id ?? '') as FakeMessage)).toEqual([]);
    const status = (await h.test.database.prisma.tradeIntent.findUniqueOrThrow({ where: { id: intent.id } }))
      .status;
    expect(status).toBe('cancelled');
  });

  it('treats a redelivered interaction as the same delivery', async () => {
    const payload = fake.commandInteraction({ user: alice, guildId: guild.id, channelId }, 'trade', {
      text: 'buy 1 AMZN',
    });
    await dispatch(payload);
    await dispatch(payload);
    const callbacks = fake
      .callsTo('POST /interactions/:id/:token/callback')
      .filter((call) => call.path.includes(String(payload.id)));
    expect(callbacks.map((call) => call.status)).toEqual([204, 400]);
    expect(await h.test.database.prisma.tradeIntent.count({ where: { symbol: 'AMZN' } })).toBe(1);
  });
});

describe('the fake Discord enforces what Discord enforces', () => {
  let fake: FakeDiscord;
  let user: FakeUser;
  let guild: FakeGuild;
  let channelId: string;

  beforeAll(async () => {
    fake = await FakeDiscord.start({ token: DISCORD_TEST_TOKEN, applicationId: DISCORD_TEST_APPLICATION_ID });
    user = fake.createUser('dana');
    guild = fake.createGuild('Rules', ['general'], user);
    channelId = guild.channelIds[0] as string;
  });
  afterAll(async () => {
    await fake?.close();
  });

  const api = (path: string, init: { method: string; body?: unknown; auth?: string | null }) =>
    fetch(`${fake.apiUrl}/v10${path}`, {
      method: init.method,
      headers: {
        'content-type': 'application/json',
        ...(init.auth === null ? {} : { authorization: init.auth ?? `Bot ${DISCORD_TEST_TOKEN}` }),
      },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    });

  it('requires the bot token on bot routes', async () => {
    const none = await api(`/channels/${channelId}/messages`, {
      method: 'POST',
      body: { content: 'x' },
      auth: null,
    });
    expect(none.status).toBe(401);
    expect(await none.json()).toEqual({ message: '401: Unauthorized', code: 0 });
    const wrong = await api('/users/@me', { method: 'GET', auth: 'Bot wrong' });
    expect(wrong.status).toBe(401);
    expect((await api('/users/@me', { method: 'GET' })).status).toBe(200);
  });

  it('validates messages: empty, custom_id length, buttons per row, embed limits', async () => {
    const post = (body: unknown) => api(`/channels/${channelId}/messages`, { method: 'POST', body });
    const empty = await post({ content: '' });
    expect(empty.status).toBe(400);
    expect(((await empty.json()) as { code: number }).code).toBe(50006);
    const button = (id: string) => ({ type: 2, style: 1, label: 'Go', custom_id: id });
    expect((await post({ components: [{ type: 1, components: [button('x'.repeat(101))] }] })).status).toBe(
      400,
    );
    expect(
      (await post({ components: [{ type: 1, components: ['a', 'b', 'c', 'd', 'e', 'f'].map(button) }] }))
        .status,
    ).toBe(400);
    expect((await post({ components: [{ type: 1, components: [button('a'), button('a')] }] })).status).toBe(
      400,
    );
    expect((await post({ embeds: [{ title: 't'.repeat(257) }] })).status).toBe(400);
    expect((await post({ content: 'x'.repeat(2001) })).status).toBe(400);
    expect((await post({ content: 'ok', components: [{ type: 1, components: [button('a')] }] })).status).toBe(
      200,
    );
    expect(
      (await api('/channels/1234567890123456/messages', { method: 'POST', body: { content: 'x' } })).status,
    ).toBe(404);
  });

  it('validates command registration', async () => {
    const put = (body: unknown) =>
      api(`/applications/${DISCORD_TEST_APPLICATION_ID}/commands`, { method: 'PUT', body });
    expect((await put([{ name: 'Trade', description: 'x' }])).status).toBe(400);
    expect((await put([{ name: 'trade', description: '' }])).status).toBe(400);
    expect((await put([{ name: 'trade', description: 'd'.repeat(101) }])).status).toBe(400);
    expect(
      (
        await put([
          {
            name: 'trade',
            description: 'x',
            options: [
              { type: 3, name: 'a', description: 'a' },
              { type: 3, name: 'b', description: 'b', required: true },
            ],
          },
        ])
      ).status,
    ).toBe(400);
    expect((await put([{ name: 'trade', description: 'x' }])).status).toBe(200);
  });

  it('answers an interaction once, within 3 seconds, with its own token; webhooks for 15 minutes', async () => {
    const callback = (payload: Record<string, unknown>, token: unknown, body: unknown) =>
      api(`/interactions/${String(payload.id)}/${String(token)}/callback`, {
        method: 'POST',
        body,
        auth: null,
      });
    const first = fake.commandInteraction({ user, guildId: guild.id, channelId }, 'help');
    fake.dispatchInteraction(first);
    const wrongToken = await callback(first, 'nope', { type: 5 });
    expect(wrongToken.status).toBe(404);
    expect(await wrongToken.json()).toEqual({ code: 10062, message: 'Unknown interaction' });
    expect((await callback(first, first.token, { type: 6 })).status).toBe(400); // not for a command
    expect((await callback(first, first.token, { type: 5, data: { flags: 64 } })).status).toBe(204);
    const again = await callback(first, first.token, { type: 5 });
    expect(again.status).toBe(400);
    expect(((await again.json()) as { code: number }).code).toBe(40060);

    const webhook = `/webhooks/${DISCORD_TEST_APPLICATION_ID}/${String(first.token)}/messages/@original`;
    expect((await api(webhook, { method: 'PATCH', body: { content: 'done' }, auth: null })).status).toBe(200);
    expect(fake.responsesTo(String(first.id))[0]?.content).toBe('done');

    const late = fake.commandInteraction({ user, guildId: guild.id, channelId }, 'help');
    fake.dispatchInteraction(late);
    fake.advance(3_001);
    const tooLate = await callback(late, late.token, { type: 5 });
    expect(tooLate.status).toBe(404);
    expect(((await tooLate.json()) as { code: number }).code).toBe(10062);

    fake.advance(15 * 60_000);
    const expired = await api(webhook, { method: 'PATCH', body: { content: 'later' }, auth: null });
    expect(expired.status).toBe(401);
    expect(((await expired.json()) as { code: number }).code).toBe(50027);
  });

  it('injects a 429 with Discord rate-limit headers on the next call only', async () => {
    fake.rateLimitNext({ retryAfter: 2 });
    const limited = await api('/users/@me', { method: 'GET' });
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('2');
    expect(limited.headers.get('x-ratelimit-remaining')).toBe('0');
    expect(limited.headers.get('x-ratelimit-reset-after')).toBe('2');
    expect(limited.headers.get('x-ratelimit-bucket')).not.toBeNull();
    expect(limited.headers.get('x-ratelimit-scope')).toBe('user');
    expect(await limited.json()).toMatchObject({ retry_after: 2, global: false });
    expect((await api('/users/@me', { method: 'GET' })).status).toBe(200);
  });
});

describe('Discord server trading with roles and four-eyes approval', () => {
  let c: ContractHarness;

  beforeAll(async () => {
    c = await createContractHarness('server', discordDriver);
    await c.driver.join('alice', 'admin');
    await c.driver.join('bob', 'trader');
  });
  afterAll(async () => {
    await c?.destroy();
  });

  it('a trader proposes above the threshold, confirms; the admin approves on a card everyone sees', async () => {
    const prisma = c.test.database.prisma;
    await c.driver.say('alice', 'approval above 1000');
    await c.driver.settle();
    expect(c.driver.textsFor('alice').join('\n')).toMatch(/above \$1,000\.00/);

    const cardsBefore = c.driver.cards().length;
    await c.driver.say('bob', 'buy 10 AAPL');
    await c.driver.settle();
    expect(c.driver.cards().length).toBe(cardsBefore + 1);
    const card = c.driver.cards().at(-1);
    const intent = await prisma.tradeIntent.findFirstOrThrow({
      where: { platform: 'discord', status: 'proposed' },
      orderBy: { createdAt: 'desc' },
    });
    expect(intent.requiresApproval).toBe(true);

    await c.driver.press('bob', card?.messageId ?? '', `confirm:${intent.id}`);
    await c.driver.settle();
    const waiting = await prisma.tradeIntent.findUniqueOrThrow({ where: { id: intent.id } });
    expect(waiting.status).toBe('awaiting_approval');
    const approval = c.driver.cards().find((shown) => shown.messageId === waiting.approvalMessageId);
    expect(approval?.actionIds).toEqual([`approve:${intent.id}`, `decline:${intent.id}`]);

    await c.driver.press('bob', approval?.messageId ?? '', `approve:${intent.id}`);
    await c.driver.settle();
    expect(c.driver.textsFor('bob').join('\n')).toMatch(/cannot approve your own/);
    expect(await prisma.order.count({ where: { intentId: intent.id } })).toBe(0);

    await c.driver.press('alice', approval?.messageId ?? '', `approve:${intent.id}`);
    await c.driver.settle();
    const done = await prisma.tradeIntent.findUniqueOrThrow({ where: { id: intent.id } });
    expect(done.status).toBe('filled');
    expect(await prisma.order.count({ where: { intentId: intent.id } })).toBe(1);
    expect(
      c.driver.cards().find((shown) => shown.messageId === waiting.approvalMessageId)?.actionIds,
    ).toEqual([]);
  });
});
