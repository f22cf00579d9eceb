/**
 * The LLM path through the whole conversation: the real openai client against the fake OpenAI
 * server, ending in confirmation cards that pass the same risk checks as plain commands. A scripted
 * hostile model tries to act by itself, claims deeds the core did not do and answers with broken
 * bodies: nothing changes without a card or typed confirmation, and no false claim reaches the user.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Card } from '../../src/core/messages.js';
import { FakeOpenAIServer, sseBody } from '../fakes/openai/fake-openai-server.js';
import { proposeOrderArguments } from '../fakes/openai/tool-arguments.js';
import { createHarness, type Harness } from '../support/arbion-harness.js';

const API_KEY = 'sk-fake-conversation-key-0123456789';

function orderArgs(overrides: Record<string, unknown> = {}): string {
  return proposeOrderArguments({ orderType: 'market', limitPrice: null, ...overrides });
}

describe('natural language through the LLM, on the paper account', () => {
  let fake: FakeOpenAIServer;
  let h: Harness;

  beforeAll(async () => {
    fake = await FakeOpenAIServer.start({ apiKey: API_KEY });
    h = await createHarness('server', {
      env: {
        OPENAI_API_KEY: API_KEY,
        OPENAI_BASE_URL: fake.baseURL,
        OPENAI_MODEL: 'gpt-test',
        OPENAI_TIMEOUT_MS: '5000',
      },
      fallback: 'configured',
    });
  });
  afterAll(async () => {
    await h?.destroy();
    await fake?.close();
  });
  beforeEach(() => {
    h.channel.log.length = 0;
    fake.clearScript();
  });

  const intents = () => h.test.database.prisma.tradeIntent.count();

  it('multi-turn tool use ends in a confirmation card; memory and token usage are recorded', async () => {
    fake.enqueue(
      {
        type: 'tool_calls',
        calls: [{ name: 'get_quote', arguments: '{"symbol":"AAPL"}' }],
        usage: { prompt_tokens: 120, completion_tokens: 12 },
      },
      {
        type: 'tool_calls',
        text: 'I prepared a market buy of 10 AAPL. Please confirm it on the card.',
        calls: [{ name: 'propose_order', arguments: orderArgs() }],
        usage: { prompt_tokens: 160, completion_tokens: 24 },
      },
    );
    const requests = fake.completionRequests.length;
    await h.say('nina', "I'd like to pick up ten shares of Apple at whatever the market is");
    // The round that held the proposal was the last: the card needed no second round trip.
    expect(fake.completionRequests.length - requests).toBe(2);
    const card = h.channel.lastCard();
    expect(card?.message?.kind === 'card' && card.message.card.fields[0]?.value).toBe('BUY 10 AAPL');
    expect(h.channel.texts()).toContain('I prepared a market buy of 10 AAPL. Please confirm it on the card.');
    const intent = await h.test.database.prisma.tradeIntent.findFirstOrThrow({
      where: { symbol: 'AAPL' },
      orderBy: { createdAt: 'desc' },
    });
    expect(intent.status).toBe('proposed');
    expect(await h.test.database.prisma.order.count({ where: { intentId: intent.id } })).toBe(0);

    // The quote the model saw came from our market data, wrapped as data.
    const second = fake.completionRequests[1]?.body as { messages: { role: string; content: string }[] };
    const toolMessage = second.messages.find((message) => message.role === 'tool');
    expect(JSON.parse(toolMessage?.content ?? '{}')).toMatchObject({
      type: 'tool_result',
      tool: 'get_quote',
      data: { symbol: 'AAPL', source: 'simulated' },
    });

    const turns = await h.test.database.prisma.conversationTurn.findMany({
      where: { userId: intent.userId },
      orderBy: { createdAt: 'asc' },
    });
    expect(turns.map((turn) => turn.role)).toEqual(['user', 'assistant']);
    // What the user was shown, and what the core did: the model learns it next time.
    expect(turns[1]?.content).toBe(
      `I prepared a market buy of 10 AAPL. Please confirm it on the card.\n(Arbion: card #${intent.cardNumber} shown; nothing happens unless the user confirms it)`,
    );
    expect(turns[1]?.promptTokens).toBe(280);
    expect(turns[1]?.completionTokens).toBe(36);
    expect(
      await h.test.database.prisma.auditEvent.count({
        where: { userId: intent.userId, type: 'llm.tool_call' },
      }),
    ).toBe(2);
  });

  it('sends the previous turns as memory on the next message', async () => {
    fake.enqueue({ type: 'text', text: 'You asked about Apple earlier.' });
    await h.say('nina', 'what did I ask you before?');
    const body = fake.completionRequests.at(-1)?.body as { messages: { role: string; content: string }[] };
    expect(body.messages.slice(1, 3).map((message) => message.role)).toEqual(['user', 'assistant']);
    expect(body.messages[1]?.content).toContain('ten shares of Apple');
    expect(body.messages[2]?.content).toContain('I prepared a market buy of 10 AAPL');
    expect(h.channel.texts()).toContain('You asked about Apple earlier.');
  });

  it('the model requests, risk disposes: an oversized proposal is refused before any card', async () => {
    const before = await intents();
    fake.enqueue(
      {
        type: 'tool_calls',
        text: 'Prepared. Please check the card.',
        calls: [{ name: 'propose_order', arguments: orderArgs({ quantity: '50000' }) }],
      },
      { type: 'text', text: 'Prepared. Please check the card.' },
    );
    const requests = fake.completionRequests.length;
    await h.say('olga', 'go all in on apple, fifty thousand shares');
    expect(h.channel.lastCard()).toBeUndefined();
    expect(h.channel.texts()).toHaveLength(1);
    expect(h.channel.texts()[0]).toContain('per-order limit');
    expect(await intents()).toBe(before);
    // Refused: the model is not asked again, so it never says "check the card".
    expect(fake.completionRequests.length - requests).toBe(1);
  });

  it.each([
    [
      'an unknown tool',
      { type: 'tool_calls' as const, calls: [{ name: 'place_order_now', arguments: orderArgs() }] },
    ],
    [
      'invalid JSON arguments',
      { type: 'tool_calls' as const, calls: [{ name: 'propose_order', arguments: '{"side":"buy",' }] },
    ],
  ])('%s ends safely with a clear message and no intent', async (_name, turn) => {
    const before = await intents();
    fake.enqueue(turn, turn, turn, turn, turn, { type: 'text', text: 'done' });
    await h.say('pete', 'do the thing with my apple shares');
    expect(await intents()).toBe(before);
    expect(h.channel.lastCard()).toBeUndefined();
    expect(h.channel.texts().join('\n')).toMatch(/Nothing was done|could not|didn't/i);
  });

  it('a 429 storm ends with a clear message and no intent', async () => {
    const before = await intents();
    fake.enqueue({ type: 'error', status: 429, times: Number.POSITIVE_INFINITY, retryAfter: '0' });
    await h.say('quinn', 'buy me something nice');
    expect(await intents()).toBe(before);
    expect(h.channel.texts().join('\n')).toMatch(/busy|rate/i);
  });

  /** Says an order on the fast path and confirms its card; returns the intent id. */
  async function place(user: string, text: string): Promise<string> {
    await h.say(user, text);
    const sent = h.channel.lastCard();
    const confirm =
      sent?.message?.kind === 'card'
        ? sent.message.card.actions.find((action) => action.id.startsWith('confirm:'))
        : undefined;
    if (sent === undefined || confirm === undefined) throw new Error(`no card for "${text}"`);
    await h.press(user, confirm.id, sent.messageId);
    return confirm.id.slice('confirm:'.length);
  }

  const orderStatus = async (intentId: string) =>
    (await h.test.database.prisma.order.findFirstOrThrow({ where: { intentId } })).status;
  const cardsSent = () =>
    h.channel.log.flatMap((entry) =>
      entry.kind === 'send' && entry.message?.kind === 'card'
        ? [{ id: entry.messageId, card: entry.message.card }]
        : [],
    );

  it("the model's cancel_order all cancels nothing: a card lists the orders, and only its Confirm cancels", async () => {
    h.market.override('AMD', { bid: '149.99', ask: '150.01', last: '150.00' });
    await place('hank', 'buy 5 AMD');
    const limit = await place('hank', 'buy 3 AMD limit 120');
    const stop = await place('hank', 'sell 5 AMD stop 140');
    h.channel.log.length = 0;

    fake.enqueue({
      type: 'tool_calls',
      text: "Done! I've cancelled all your open orders, stops included.",
      calls: [{ name: 'cancel_order', arguments: '{"target":"all"}' }],
    });
    const requests = fake.completionRequests.length;
    await h.say('hank', 'get rid of everything I have working');
    expect(fake.completionRequests.length - requests).toBe(1);
    expect(await orderStatus(limit)).toBe('accepted');
    expect(await orderStatus(stop)).toBe('accepted');
    const [shown] = cardsSent();
    expect(shown?.card.title).toMatch(/^Card #\d+ · Cancel 2 open orders\?$/);
    expect(shown?.card.fields.map((field) => field.value)).toEqual([
      'BUY 3 AMD, limit $120.00',
      'SELL 5 AMD, stop $140.00 (protective stop)',
    ]);
    expect(h.channel.texts().join('\n')).not.toContain('cancelled all');
    expect(h.channel.texts()).toEqual([
      'Nothing was placed, filled or cancelled: the card above waits for your confirmation. Say "orders" or "positions" to see your account as it is.',
    ]);

    // A single order by id, asked by the model, is a card too (typed, it would be direct).
    fake.enqueue({
      type: 'tool_calls',
      calls: [{ name: 'cancel_order', arguments: JSON.stringify({ target: stop.slice(0, 8) }) }],
    });
    await h.say('hank', 'drop that stop of mine');
    expect(await orderStatus(stop)).toBe('accepted');
    const single = cardsSent().at(-1);
    expect(single?.card.fields).toEqual([
      { label: stop.slice(0, 8), value: 'SELL 5 AMD, stop $140.00 (protective stop)' },
    ]);

    const confirm = (card: Card | undefined) =>
      card?.actions.find((action) => action.id.startsWith('cancelorders:'))?.id ?? '';
    await h.press('hank', confirm(shown?.card), shown?.id);
    expect(await orderStatus(limit)).toBe('cancelled');
    expect(await orderStatus(stop)).toBe('cancelled');
  });

  it('prose claiming an order or a fill never reaches the user, nor the history as such', async () => {
    const before = await intents();
    fake.enqueue({
      type: 'text',
      text: 'Order placed! I bought 10 AAPL at $189.20 and it filled instantly.',
    });
    await h.say('ivan', 'grab me some apple');
    expect(h.channel.texts()).toEqual([
      'Nothing was placed, filled or cancelled. Say "orders" or "positions" to see your account as it is.',
    ]);
    expect(await intents()).toBe(before);
    const user = await h.test.database.prisma.channelIdentity.findFirstOrThrow({
      where: { platformUserId: 'ivan' },
    });
    const stored = await h.test.database.prisma.conversationTurn.findMany({
      where: { userId: user.userId, role: 'assistant' },
    });
    expect(stored.map((turn) => turn.content)).toEqual(h.channel.texts());
  });

  it("the model's switch to paper asks for the user's own words and switches nothing", async () => {
    fake.enqueue({
      type: 'tool_calls',
      calls: [{ name: 'switch_mode', arguments: '{"mode":"paper","provider":null}' }],
    });
    await h.say('jude', 'take me back to fake money');
    expect(h.channel.texts()).toEqual([
      'To switch to your paper account, say "paper mode". Nothing was changed.',
    ]);
  });

  it('a malformed 200 from the model: "unavailable, nothing was done", never "no answer"', async () => {
    const before = await intents();
    fake.enqueue({
      type: 'raw',
      body: sseBody([{ id: 'chatcmpl-x', object: 'chat.completion.chunk', created: 1, model: 'gpt-test' }]),
    });
    await h.say('kim', 'buy apple please');
    expect(h.channel.texts()).toHaveLength(1);
    expect(h.channel.texts()[0]).toMatch(/^The assistant is unavailable right now\. Nothing was done\./);
    expect(await intents()).toBe(before);
  });

  it('history goes to the model in the order it was written, questions before their answers', async () => {
    await h.say('lena', 'balance');
    const user = await h.test.database.prisma.channelIdentity.findFirstOrThrow({
      where: { platformUserId: 'lena' },
    });
    // Each question and its answer are one statement: they share their createdAt.
    const at = new Date('2026-11-24T14:00:00Z');
    await h.test.database.prisma.conversationTurn.createMany({
      data: ['q1', 'a1', 'q2', 'a2', 'q3', 'a3'].map((content) => ({
        userId: user.userId,
        platform: 'console' as const,
        chatId: 'chat-1',
        role: content.startsWith('q') ? ('user' as const) : ('assistant' as const),
        content,
        createdAt: at,
      })),
    });
    fake.enqueue({ type: 'text', text: 'ok' });
    await h.say('lena', 'and what about before?');
    const body = fake.completionRequests.at(-1)?.body as { messages: { role: string; content: string }[] };
    expect(body.messages.slice(1).map((message) => message.content)).toEqual([
      'q1',
      'a1',
      'q2',
      'a2',
      'q3',
      'a3',
      'and what about before?',
    ]);
  });

  it('the API key and broker secrets never enter a request body', () => {
    for (const request of fake.completionRequests) expect(request.rawBody).not.toContain(API_KEY);
  });
});
