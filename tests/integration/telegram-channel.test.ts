/**
 * The Telegram adapter with the real grammy against the fake Bot API, on a whole Arbion with a test
 * database: long polling and webhook, escaping, splitting, flood control, button answers.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HANDLING_FAILED_TEXT } from '../../src/channels/inbound-queue.js';
import { textForCore } from '../../src/channels/telegram/inbound.js';
import { createTelegramChannel, type TelegramChannel } from '../../src/channels/telegram/index.js';
import { splitText } from '../../src/channels/telegram/render.js';
import type { InboundMessage } from '../../src/core/messages.js';
import type { ContractHarness } from '../contract/contract-harness.js';
import { createContractHarness } from '../contract/contract-harness.js';
import type { DriverFactory } from '../contract/driver.js';
import {
  createTelegramDriverFactory,
  isCard,
  quietLogger,
  TELEGRAM_CAPABILITIES,
  TELEGRAM_TEST_SECRET,
  TELEGRAM_TEST_TOKEN,
  TelegramContractDriver,
} from '../contract/drivers/telegram.js';
import type { FakeChat, FakeMessage, FakeUser } from '../fakes/telegram/chat-model.js';
import {
  type FakePoll,
  FakeTelegramServer,
  type RecordedCall,
} from '../fakes/telegram/fake-telegram-server.js';
import { RefusingSink } from '../support/refusing-sink.js';

const ALICE: FakeUser = { id: 1_001, is_bot: false, first_name: 'Alice', username: 'alice_trades' };
const ALICE_CHAT: FakeChat = { id: ALICE.id, type: 'private', first_name: 'Alice' };

/** Resolves when `condition` holds, checked after each call the fake records (the test timeout bounds it). */
function waitFor(fake: FakeTelegramServer, condition: () => boolean): Promise<void> {
  if (condition()) return Promise.resolve();
  return new Promise((resolve) => {
    const stop = fake.onCall(() => {
      if (!condition()) return;
      stop();
      resolve();
    });
  });
}

function lastCard(fake: FakeTelegramServer, chatId: number): FakeMessage | undefined {
  return fake.model.botMessagesIn(chatId).filter(isCard).at(-1);
}

function actionIds(message: FakeMessage | undefined): string[] {
  return (message?.buttons ?? [])
    .flat()
    .flatMap((button) => (button.callback_data ? [button.callback_data] : []));
}

function texts(fake: FakeTelegramServer, chatId: number): string[] {
  return fake.model
    .botMessagesIn(chatId)
    .filter((message) => !isCard(message))
    .map((message) => message.text);
}

function failed(calls: readonly RecordedCall[]): RecordedCall[] {
  return calls.filter((call) => call.status !== 200);
}

describe('the fake Bot API refuses what Telegram refuses', () => {
  let fake: FakeTelegramServer;
  const call = async (method: string, body: unknown, token = TELEGRAM_TEST_TOKEN) => {
    const response = await fetch(`${fake.apiRoot}/bot${token}/${method}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };

  beforeAll(async () => {
    fake = await FakeTelegramServer.start({ token: TELEGRAM_TEST_TOKEN });
    fake.textUpdate({ from: ALICE, chat: ALICE_CHAT, text: '/start' });
  });
  afterAll(async () => {
    await fake?.close();
  });

  it('checks the token and the method', async () => {
    expect(await call('getMe', {}, '123:wrong')).toEqual({
      status: 401,
      body: { ok: false, error_code: 401, description: 'Unauthorized' },
    });
    expect((await call('sendCarrierPigeon', {})).status).toBe(404);
    expect((await call('getMe', {})).body.ok).toBe(true);
  });

  it('checks HTML, text length, keyboards, callback answers and commands', async () => {
    const send = (text: string, extra: Record<string, unknown> = {}) =>
      call('sendMessage', { chat_id: ALICE.id, text, parse_mode: 'HTML', ...extra });
    for (const broken of ['a < b', 'AT&T', '<b>bold', '<blink>x</blink>', '<b><i>x</b></i>'])
      expect((await send(broken)).body.description).toMatch(/^Bad Request: can't parse entities/);
    expect((await send('&lt;b&gt; &amp; <b>ok</b>')).status).toBe(200);
    expect((await send('x'.repeat(4097))).body.description).toBe('Bad Request: message is too long');
    expect((await send('<b> </b>')).body.description).toBe('Bad Request: message text is empty');
    expect((await call('sendMessage', { chat_id: 42, text: 'hi' })).body.description).toBe(
      'Bad Request: chat not found',
    );
    const keyboard = (data: string) => ({
      reply_markup: { inline_keyboard: [[{ text: 'Go', callback_data: data }]] },
    });
    expect((await send('card', keyboard('x'.repeat(65)))).body.description).toBe(
      'Bad Request: BUTTON_DATA_INVALID',
    );
    const card = await send('card', keyboard('confirm:1'));
    const messageId = Number((card.body.result as { message_id: number }).message_id);
    const edit = {
      chat_id: ALICE.id,
      message_id: messageId,
      text: 'card',
      parse_mode: 'HTML',
      ...keyboard('confirm:1'),
    };
    expect((await call('editMessageText', edit)).body.description).toMatch(
      /^Bad Request: message is not modified/,
    );
    expect((await call('editMessageText', { ...edit, message_id: 999 })).body.description).toBe(
      'Bad Request: message to edit not found',
    );

    const press = fake.callbackUpdate({ from: ALICE, chatId: ALICE.id, messageId, data: 'confirm:1' });
    const queryId = (press.callback_query as { id: string }).id;
    expect(
      (await call('answerCallbackQuery', { callback_query_id: queryId, text: 'x'.repeat(201) })).status,
    ).toBe(400);
    expect((await call('answerCallbackQuery', { callback_query_id: queryId })).status).toBe(200);
    expect((await call('answerCallbackQuery', { callback_query_id: queryId })).body.description).toMatch(
      /query is too old/,
    );

    expect(
      (await call('setMyCommands', { commands: [{ command: 'Buy-Now', description: 'x' }] })).status,
    ).toBe(400);
    expect((await call('setMyCommands', { commands: [{ command: 'buy', description: ' ' }] })).status).toBe(
      400,
    );
  });

  it('answers 429 with retry_after when told to', async () => {
    fake.rateLimitNext({ retryAfter: 3 });
    expect(await call('getMe', {})).toEqual({
      status: 429,
      body: {
        ok: false,
        error_code: 429,
        description: 'Too Many Requests: retry after 3',
        parameters: { retry_after: 3 },
      },
    });
    expect((await call('getMe', {})).status).toBe(200);
  });
});

describe('telegram updates as the core sees them', () => {
  const bot = { id: 7_000_001, username: 'arbion_test_bot' };
  const message = (text: string, type: 'private' | 'supergroup', replyToBot = false) =>
    ({
      message_id: 1,
      date: 0,
      chat: type === 'private' ? { id: 1, type, first_name: 'A' } : { id: -1, type, title: 'G' },
      text,
      ...(replyToBot
        ? { reply_to_message: { from: { id: bot.id, is_bot: true, first_name: 'Arbion' } } }
        : {}),
    }) as Parameters<typeof textForCore>[0];

  it('strips commands and the bot name, turns /start into help, ignores what is not for us', () => {
    expect(textForCore(message('/buy@Arbion_Test_Bot 10 AAPL', 'supergroup'), bot)).toBe('buy 10 AAPL');
    expect(textForCore(message('/buy@other_bot 10 AAPL', 'supergroup'), bot)).toBeUndefined();
    expect(textForCore(message('/start', 'private'), bot)).toBe('help');
    expect(textForCore(message('/start ABC123', 'private'), bot)).toBe('join ABC123');
    expect(textForCore(message('buy 10 AAPL', 'private'), bot)).toBe('buy 10 AAPL');
    expect(textForCore(message('buy 10 AAPL', 'supergroup'), bot)).toBeUndefined();
    expect(textForCore(message('@arbion_test_bot, quote NVDA', 'supergroup'), bot)).toBe('quote NVDA');
    expect(textForCore(message('@arbion_test_botty quote NVDA', 'supergroup'), bot)).toBeUndefined();
    expect(textForCore(message('positions', 'supergroup', true), bot)).toBe('positions');
  });
});

describe('telegram channel, long polling', () => {
  let harness: ContractHarness;
  let fake: FakeTelegramServer;
  let adapter: TelegramChannel;
  /** Between the adapter and the queue: refuses like an inbox whose database is away. */
  let refusing: RefusingSink;

  const pollingFactory: DriverFactory = {
    platform: 'telegram',
    capabilities: TELEGRAM_CAPABILITIES,
    async create(context) {
      fake = await FakeTelegramServer.start({ token: TELEGRAM_TEST_TOKEN });
      refusing = new RefusingSink(context.inbound);
      adapter = createTelegramChannel({
        token: TELEGRAM_TEST_TOKEN,
        apiRoot: fake.apiRoot,
        sink: refusing,
        logger: quietLogger(),
        botInfo: fake.botInfo,
        retry: { maxAttempts: 2, maxDelaySeconds: 5, networkErrors: false },
      });
      context.arbion.channels.register('telegram', adapter);
      await adapter.mount(context.web);
      await adapter.start();
      return new TelegramContractDriver(fake, adapter, context);
    },
  };

  beforeAll(async () => {
    harness = await createContractHarness('server', pollingFactory);
  });
  afterAll(async () => {
    await harness?.destroy();
  });

  it('registers the commands and deletes any webhook before polling', () => {
    expect(fake.commands.map((command) => command.command)).toEqual(
      expect.arrayContaining(['buy', 'sell', 'quote', 'positions', 'balance', 'orders', 'help', 'link']),
    );
    expect(fake.callsTo('deleteWebhook')).toHaveLength(1);
    expect(fake.callsTo('setWebhook')).toHaveLength(0);
  });

  it('buy -> card with buttons -> confirm -> card without buttons -> filled, in a private chat', async () => {
    fake.enqueueUpdate(fake.textUpdate({ from: ALICE, chat: ALICE_CHAT, text: 'buy 10 AAPL' }));
    await waitFor(fake, () => actionIds(lastCard(fake, ALICE_CHAT.id)).length === 2);
    const card = lastCard(fake, ALICE_CHAT.id);
    expect(card?.text).toMatch(/^PAPER · /);
    expect(card?.text).toContain('BUY 10 AAPL');
    const confirm = actionIds(card).find((id) => id.startsWith('confirm:'));
    expect(confirm).toBeDefined();

    const press = fake.callbackUpdate({
      from: ALICE,
      chatId: ALICE_CHAT.id,
      messageId: card?.messageId ?? 0,
      data: confirm ?? '',
    });
    const pressId = (press.callback_query as { id: string }).id;
    fake.enqueueUpdate(press);
    await waitFor(fake, () => fake.model.queries.get(pressId)?.answer !== undefined);
    await harness.driver.settle();

    const edited = fake.model.message(ALICE_CHAT.id, card?.messageId ?? 0);
    expect(edited?.buttons).toEqual([]);
    expect(edited?.text).toContain('Filled');
    expect(texts(fake, ALICE_CHAT.id).at(-1)).toMatch(/^Filled \(PAPER\): bought 10 AAPL at \$/);
    // The press was answered exactly once, without an alert (the card says it all).
    expect(fake.callsTo('answerCallbackQuery')).toHaveLength(1);
    expect(fake.model.queries.get(pressId)?.answer?.text).toBeUndefined();
    expect(failed(fake.calls.filter((call) => call.method !== 'getUpdates'))).toEqual([]);
  });

  it('confirms each delivered update (offset) so none is handled twice', async () => {
    const before = fake.callsTo('sendMessage').length;
    fake.enqueueUpdate(fake.textUpdate({ from: ALICE, chat: ALICE_CHAT, text: '/balance' }));
    await waitFor(fake, () => fake.callsTo('sendMessage').length > before && fake.pendingUpdates === 0);
    await harness.driver.settle();
    expect(texts(fake, ALICE_CHAT.id).at(-1)).toMatch(/^PAPER account\n/);
    expect(fake.callsTo('sendMessage')).toHaveLength(before + 1);
  });

  it('keeps the offset on an update the inbox could not record, and fetches it again', async () => {
    const sent = fake.callsTo('sendMessage').length;
    const update = fake.textUpdate({ from: ALICE, chat: ALICE_CHAT, text: '/balance' });
    const id = update.update_id;
    refusing.refuseNext();
    fake.enqueueUpdate(update);
    // The update is confirmed only by a poll asking for the offset past it.
    await fake.waitForPoll((poll) => poll.offset === id + 1);
    await waitFor(fake, () => fake.callsTo('sendMessage').length > sent);
    await harness.driver.settle();

    expect(refusing.refused.map((message) => message.deliveryId)).toEqual([String(id)]);
    // (The poll that first got it may have been waiting before the update existed.)
    const served = fake.polls.filter((poll) => poll.returned?.includes(id));
    // Served, refused, and asked for again at once with the same offset (not past it): served again.
    expect(served).toHaveLength(2);
    const [refusedPoll, retriedPoll] = served as [FakePoll, FakePoll];
    expect(fake.polls.indexOf(retriedPoll)).toBe(fake.polls.indexOf(refusedPoll) + 1);
    expect(retriedPoll.offset).toBe(refusedPoll.offset);
    expect(refusedPoll.offset ?? Number.NEGATIVE_INFINITY).toBeLessThanOrEqual(id);
    // Then recorded and handled once.
    expect(fake.callsTo('sendMessage')).toHaveLength(sent + 1);
    expect(texts(fake, ALICE_CHAT.id).at(-1)).toMatch(/^PAPER account\n/);
    expect(
      await harness.test.database.prisma.inboundEvent.count({
        where: { platform: 'telegram', deliveryId: String(id), handledAt: { not: null } },
      }),
    ).toBe(1);
  });

  it('stops polling on stop() and the fake refuses getUpdates while a webhook is set', async () => {
    await adapter.stop();
    const sent = fake.callsTo('sendMessage').length;
    fake.enqueueUpdate(fake.textUpdate({ from: ALICE, chat: ALICE_CHAT, text: 'balance' }));
    await harness.driver.settle();
    // Nobody polls any more: the update is never confirmed (a poll with its offset would drop it).
    expect(fake.pendingUpdates).toBe(1);
    expect(fake.callsTo('sendMessage')).toHaveLength(sent);

    const response = await fetch(`${fake.apiRoot}/bot${TELEGRAM_TEST_TOKEN}/setWebhook`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ url: 'https://arbion.example/webhooks/telegram' }),
    });
    expect(response.status).toBe(200);
    const poll = await fetch(`${fake.apiRoot}/bot${TELEGRAM_TEST_TOKEN}/getUpdates`, { method: 'POST' });
    expect(poll.status).toBe(409);
  });
});

describe('telegram channel, webhook', () => {
  let harness: ContractHarness;
  let driver: TelegramContractDriver;
  let fake: FakeTelegramServer;
  /** Between the adapter and the queue: refuses like an inbox whose database is away. */
  let refusing: RefusingSink;

  beforeAll(async () => {
    const factory = createTelegramDriverFactory({
      wrapSink: (inner) => {
        refusing = new RefusingSink(inner);
        return refusing;
      },
    });
    harness = await createContractHarness('server', factory);
    driver = harness.driver as TelegramContractDriver;
    fake = driver.fake;
  });
  afterAll(async () => {
    await harness?.destroy();
  });

  it('sets the webhook with the secret token at start', () => {
    const [call] = fake.callsTo('setWebhook');
    expect(call?.params.url).toBe('https://arbion.example/webhooks/telegram');
    expect(call?.params.secret_token).toBe(TELEGRAM_TEST_SECRET);
    expect(fake.webhook?.secretToken).toBe(TELEGRAM_TEST_SECRET);
  });

  it('refuses a wrong or missing secret (401) and delivers nothing', async () => {
    const deliveries = await harness.test.database.prisma.inboundEvent.count();
    expect(await driver.forged()).toBe(401);
    const missing = await fetch(driver.webhookUrl(), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        update_id: 5,
        message: { message_id: 1, date: 1, chat: { id: 1, type: 'private' } },
      }),
    });
    expect(missing.status).toBe(401);
    await driver.settle();
    expect(await harness.test.database.prisma.inboundEvent.count()).toBe(deliveries);
    expect(fake.callsTo('sendMessage')).toHaveLength(0);
  });

  it('answers 400 to broken JSON and to a body of the wrong shape, and keeps working', async () => {
    expect(await driver.malformed()).toBe(400);
    await driver.sayPrivately('alice', 'balance');
    expect(texts(fake, ALICE.id).at(-1)).toMatch(/^PAPER account\n/);
  });

  it('answers 503 to an update the inbox could not record, and handles it when Telegram posts it again', async () => {
    const prisma = harness.test.database.prisma;
    const rows = await prisma.inboundEvent.count();
    const sent = fake.callsTo('sendMessage').length;
    const update = fake.textUpdate({ from: ALICE, chat: ALICE_CHAT, text: 'balance' });
    refusing.refuseNext();
    expect(await driver.postUpdate(update)).toBe(503);
    await driver.settle();
    expect(refusing.refused.map((message) => message.deliveryId)).toEqual([String(update.update_id)]);
    expect(await prisma.inboundEvent.count()).toBe(rows);
    expect(fake.callsTo('sendMessage')).toHaveLength(sent);

    // Telegram sends the same update again; the database is back.
    await driver.deliver(update);
    expect(fake.callsTo('sendMessage')).toHaveLength(sent + 1);
    expect(texts(fake, ALICE.id).at(-1)).toMatch(/^PAPER account\n/);
    expect(
      await prisma.inboundEvent.count({
        where: { platform: 'telegram', deliveryId: String(update.update_id), handledAt: { not: null } },
      }),
    ).toBe(1);
  });

  it('strips /command@our_bot, ignores commands for other bots and unaddressed group chatter', async () => {
    const sent = fake.callsTo('sendMessage').length;
    await driver.deliver(
      fake.textUpdate({ from: ALICE, chat: groupChat(driver), text: '/balance@other_bot' }),
    );
    await driver.deliver(fake.textUpdate({ from: ALICE, chat: groupChat(driver), text: 'lunch anyone?' }));
    expect(fake.callsTo('sendMessage')).toHaveLength(sent);
    await driver.deliver(
      fake.textUpdate({ from: ALICE, chat: groupChat(driver), text: `/quote@${fake.botInfo.username} NVDA` }),
    );
    expect(texts(fake, driver.groupChatId).at(-1)).toMatch(/^NVDA \(NVIDIA/);
  });

  it('escapes hostile text: tags, ampersands and quotes arrive as text, never as markup', async () => {
    await driver.sayPrivately('alice', 'quote A&B');
    const echoed = fake.model.botMessagesIn(ALICE.id).at(-1);
    expect(echoed?.text).toBe("I don't know A&B. Did you mean T (AT&T Inc.)?");
    expect(echoed?.source).toContain('A&amp;B. Did you mean T (AT&amp;T Inc.)?');
    expect(echoed?.entities).toEqual([]);

    await driver.sayPrivately('alice', 'buy 10 <b>AAPL</b> & <a href="x">TSLA</a>');
    const refused = fake.model.botMessagesIn(ALICE.id).at(-1);
    expect(refused?.text).toContain('not "<"');
    expect(refused?.entities).toEqual([]);

    // A person's name with markup in it, in a group mention (a notify without a press to answer).
    const address = { platform: 'telegram' as const, workspaceId: '', chatId: String(driver.groupChatId) };
    await driver.adapter.notify(
      address,
      { platformUserId: '1003', displayName: '<i>Mallory</i> & co' },
      'a <b>note</b>',
    );
    const mention = fake.model.botMessagesIn(driver.groupChatId).at(-1);
    expect(mention?.text).toBe('<i>Mallory</i> & co: a <b>note</b>');
    expect(mention?.entities).toEqual([
      { type: 'text_link', offset: 0, length: '<i>Mallory</i> & co'.length, url: 'tg://user?id=1003' },
    ]);
    expect(failed(fake.calls)).toEqual([]);
  });

  it('answers a press on a button we never issued with an alert, and a stranger changes nothing', async () => {
    const card = await proposeInGroup(driver, 'alice', 'buy 1 AAPL');
    const stranger: FakeUser = { id: 1_003, is_bot: false, first_name: 'Mallory' };
    await driver.deliver(
      fake.callbackUpdate({
        from: stranger,
        chatId: driver.groupChatId,
        messageId: card.messageId,
        data: 'x',
      }),
    );
    expect(fake.model.answersFor(stranger.id)).toEqual([
      { seq: expect.any(Number), text: 'That button is not valid. Nothing was changed.', showAlert: true },
    ]);
    expect(actionIds(fake.model.message(driver.groupChatId, card.messageId))).toEqual(actionIds(card));
  });

  it('sends HTML the fake accepts for a card whose fields contain markup characters', async () => {
    const adapter = driver.adapter;
    const address = { platform: 'telegram' as const, workspaceId: '', chatId: String(ALICE.id) };
    const { messageId } = await adapter.send(address, {
      kind: 'card',
      card: {
        title: 'Buy <b>AT&T</b>',
        badge: 'PAPER',
        fields: [{ label: 'Symbol <x>', value: 'T & "friends" > 0' }],
        notice: '<script>alert(1)</script>',
        actions: [{ id: 'confirm:00000000-0000-4000-8000-000000000000', label: 'Confirm', style: 'primary' }],
      },
    });
    const card = fake.model.message(ALICE.id, Number(messageId));
    expect(card?.text).toBe(
      'PAPER · Buy <b>AT&T</b>\nSymbol <x>: T & "friends" > 0\n\n<script>alert(1)</script>',
    );
    expect(card?.entities.map((entity) => entity.type)).toEqual(['bold', 'bold', 'italic']);
    expect(actionIds(card)).toEqual(['confirm:00000000-0000-4000-8000-000000000000']);

    // Editing to the same content twice: the second is "not modified" at Telegram, a success for us.
    const answered = {
      kind: 'card' as const,
      card: { title: 'Done', badge: 'PAPER' as const, fields: [], notice: 'Filled.', actions: [] },
    };
    await adapter.edit(address, messageId, answered);
    await adapter.edit(address, messageId, answered);
    expect(fake.model.message(ALICE.id, Number(messageId))?.buttons).toEqual([]);
    expect(fake.callsTo('editMessageText').at(-1)?.description).toMatch(/message is not modified/);
  });

  it('splits a long text at line boundaries, each piece within 4096 characters', async () => {
    const line = `${'x'.repeat(99)}\n`;
    const text = line.repeat(100); // 10,000 characters in lines of 100
    const address = { platform: 'telegram' as const, workspaceId: '', chatId: String(ALICE.id) };
    const before = fake.model.botMessagesIn(ALICE.id).length;
    await driver.adapter.send(address, { kind: 'text', text });
    const pieces = fake.model.botMessagesIn(ALICE.id).slice(before);
    // 40 lines of 99 characters and their line breaks fit (3,999); a 41st would not.
    expect(pieces.map((piece) => piece.text.length)).toEqual([3999, 3999, 1999]);
    for (const piece of pieces) {
      expect(piece.text.length).toBeLessThanOrEqual(4096);
      expect(piece.text.split('\n').every((part) => part === 'x'.repeat(99))).toBe(true);
    }
    expect(pieces.map((piece) => piece.text).join('\n')).toBe(text.trimEnd());
    expect(splitText('a'.repeat(5000))).toEqual(['a'.repeat(4096), 'a'.repeat(904)]);
  });

  it('honours 429 retry_after: the message is sent once, after the wait', async () => {
    fake.rateLimitNext({ retryAfter: 1, method: 'sendMessage' });
    const before = fake.callsTo('sendMessage').length;
    await driver.sayPrivately('alice', 'positions');
    const calls = fake.callsTo('sendMessage').slice(before);
    expect(calls.map((call) => call.status)).toEqual([429, 200]);
    expect(texts(fake, ALICE.id).at(-1)).toMatch(/positions/i);
  });

  it('gives up after the bounded retries on a persistent 429, without hanging', async () => {
    fake.rateLimitNext({ retryAfter: 1, method: 'sendMessage', times: Number.POSITIVE_INFINITY });
    const before = fake.callsTo('sendMessage').length;
    const shown = fake.model.botMessagesIn(ALICE.id).length;
    await driver.sayPrivately('alice', 'orders');
    fake.clearRateLimits();
    // Each message the core tried (its answer, then its apology) was tried once and retried three
    // times (the driver's bound); the core then failed the message. The database is up, so the
    // inbound queue does not handle it again (that could propose a card twice): it gives it up and
    // tells the sender, which is tried four times like any message, then given up too.
    const attempts = new Map<string, number[]>();
    for (const call of fake.callsTo('sendMessage').slice(before)) {
      const text = String(call.params.text);
      attempts.set(text, [...(attempts.get(text) ?? []), call.status]);
    }
    const tries = [429, 429, 429, 429];
    expect(attempts.get(HANDLING_FAILED_TEXT)).toEqual(tries);
    const fromCore = [...attempts].filter(([text]) => text !== HANDLING_FAILED_TEXT);
    expect(fromCore.length).toBeGreaterThan(0);
    for (const [, statuses] of fromCore) expect(statuses).toEqual(tries);
    expect(fake.model.botMessagesIn(ALICE.id)).toHaveLength(shown);
    // Given up is finished: no row is left for a restart to handle again.
    expect(await harness.test.database.prisma.inboundEvent.count({ where: { handledAt: null } })).toBe(0);
    await driver.sayPrivately('alice', 'orders');
    expect(texts(fake, ALICE.id).at(-1)).toMatch(/orders/i);
  });

  it('answers every press exactly once: alert for a refused press, empty after a handled one, once on redelivery', async () => {
    await driver.join('alice', 'trader');
    const card = await proposeInGroup(driver, 'alice', 'buy 2 MSFT');
    const confirm = actionIds(card).find((id) => id.startsWith('confirm:')) ?? '';

    // Bob (unknown to the bot) presses: refused with an alert only he sees; the card keeps its buttons.
    await driver.press('bob', String(card.messageId), confirm);
    expect(fake.model.answersFor(1_002).map((answer) => answer.showAlert)).toEqual([true]);
    expect(driver.textsFor('bob').at(-1)).toMatch(/only the person who asked/i);
    expect(driver.textsFor('alice')).not.toContain(driver.textsFor('bob').at(-1));
    expect(actionIds(fake.model.message(driver.groupChatId, card.messageId))).toHaveLength(2);

    // Alice confirms; then Telegram redelivers the same update.
    const answersBefore = fake.callsTo('answerCallbackQuery').length;
    await driver.press('alice', String(card.messageId), confirm);
    await driver.redeliverLast();
    const answers = fake.callsTo('answerCallbackQuery').slice(answersBefore);
    expect(answers.map((call) => call.status)).toEqual([200]);
    expect(actionIds(fake.model.message(driver.groupChatId, card.messageId))).toEqual([]);
    const filled = texts(fake, driver.groupChatId).filter((text) =>
      text.startsWith('Filled (PAPER): bought 2 MSFT'),
    );
    expect(filled).toHaveLength(1);
    expect(await harness.test.database.prisma.order.count({ where: { symbol: 'MSFT' } })).toBe(1);
  });
});

function groupChat(driver: TelegramContractDriver): FakeChat {
  return { id: driver.groupChatId, type: 'supergroup', title: 'Trading desk' };
}

async function proposeInGroup(
  driver: TelegramContractDriver,
  person: 'alice' | 'bob',
  text: string,
): Promise<FakeMessage> {
  const before = driver.fake.model.botMessagesIn(driver.groupChatId).filter(isCard).length;
  await driver.say(person, text);
  const cards = driver.fake.model.botMessagesIn(driver.groupChatId).filter(isCard);
  const card = cards.at(-1);
  if (cards.length !== before + 1 || card === undefined)
    throw new Error(
      `no card after "${text}": ${JSON.stringify(texts(driver.fake, driver.groupChatId).at(-1))}`,
    );
  return card;
}

describe('telegram channel, request path and outbound order', () => {
  let fake: FakeTelegramServer;
  let adapter: TelegramChannel;
  let web: FastifyInstance;
  let url: string;
  const held: InboundMessage[] = [];
  let release: () => void = () => undefined;
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });

  beforeAll(async () => {
    fake = await FakeTelegramServer.start({ token: TELEGRAM_TEST_TOKEN });
    adapter = createTelegramChannel({
      token: TELEGRAM_TEST_TOKEN,
      apiRoot: fake.apiRoot,
      webhook: { publicUrl: 'https://arbion.example', secretToken: TELEGRAM_TEST_SECRET },
      // A core that takes as long as the test wants.
      sink: {
        accept: async (message) => {
          held.push(message);
          return { duplicate: false, handled: released };
        },
      },
      logger: quietLogger(),
      botInfo: fake.botInfo,
    });
    web = Fastify();
    await adapter.mount(web);
    url = `${await web.listen({ host: '127.0.0.1', port: 0 })}/webhooks/telegram`;
    await adapter.start();
  });
  afterAll(async () => {
    release();
    await adapter?.stop();
    await web?.close();
    await fake?.close();
  });

  it('answers the webhook 200 while the core is still working on the update', async () => {
    const update = fake.textUpdate({ from: ALICE, chat: ALICE_CHAT, text: 'buy 1 AAPL' });
    const response = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-telegram-bot-api-secret-token': TELEGRAM_TEST_SECRET,
      },
      body: JSON.stringify(update),
    });
    expect(response.status).toBe(200);
    // The core has the message and has not finished with it.
    expect(held.map((message) => message.deliveryId)).toEqual([String(update.update_id)]);
  });

  it('keeps one chat’s messages in order even when the first one is rate-limited', async () => {
    const address = { platform: 'telegram' as const, workspaceId: '', chatId: String(ALICE_CHAT.id) };
    fake.rateLimitNext({ retryAfter: 1, method: 'sendMessage' });
    await Promise.all([
      adapter.send(address, { kind: 'text', text: 'first' }),
      adapter.send(address, { kind: 'text', text: 'second' }),
    ]);
    const accepted = fake.callsTo('sendMessage').filter((call) => call.status === 200);
    expect(accepted.map((call) => call.params.text)).toEqual(['first', 'second']);
    expect(fake.callsTo('sendMessage').filter((call) => call.status === 429)).toHaveLength(1);
  });
});
