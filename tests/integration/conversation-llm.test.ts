/**
 * The LLM path through the whole conversation: the real openai client against the fake OpenAI
 * server, ending in confirmation cards that pass the same risk checks as plain commands.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FakeOpenAIServer } from '../fakes/openai/fake-openai-server.js';
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
        calls: [{ name: 'propose_order', arguments: orderArgs() }],
        usage: { prompt_tokens: 160, completion_tokens: 24 },
      },
      {
        type: 'text',
        text: 'I prepared a market buy of 10 AAPL. Please confirm it on the card.',
        usage: { prompt_tokens: 200, completion_tokens: 18 },
      },
    );
    await h.say('nina', "I'd like to pick up ten shares of Apple at whatever the market is");
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
    expect(turns[1]?.promptTokens).toBe(480);
    expect(turns[1]?.completionTokens).toBe(54);
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
    expect(
      body.messages.some(
        (message) => message.role === 'user' && message.content.includes('ten shares of Apple'),
      ),
    ).toBe(true);
    expect(h.channel.texts()).toContain('You asked about Apple earlier.');
  });

  it('the model requests, risk disposes: an oversized proposal is refused before any card', async () => {
    const before = await intents();
    fake.enqueue(
      { type: 'tool_calls', calls: [{ name: 'propose_order', arguments: orderArgs({ quantity: '50000' }) }] },
      { type: 'text', text: 'Prepared.' },
    );
    await h.say('olga', 'go all in on apple, fifty thousand shares');
    expect(h.channel.lastCard()).toBeUndefined();
    expect(h.channel.texts().some((text) => text.includes('per-order limit'))).toBe(true);
    expect(await intents()).toBe(before);
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
