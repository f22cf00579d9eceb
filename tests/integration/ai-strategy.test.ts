/**
 * The AI-driven strategy against a fake OpenAI server that enforces the API key and strict tool
 * schemas: the model requests, deterministic sizing and the risk checks dispose. A model that is
 * down, or answers nonsense, makes the strategy hold.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeOpenAIServer } from '../fakes/openai/fake-openai-server.js';
import { createHarness, type Harness, MARKET_OPEN } from '../support/arbion-harness.js';

const API_KEY = 'sk-test-ai-strategy';
const day = (count: number) => new Date(MARKET_OPEN.getTime() + count * 86_400_000);

describe('the AI-driven strategy', () => {
  let fake: FakeOpenAIServer;
  let h: Harness;

  beforeAll(async () => {
    fake = await FakeOpenAIServer.start({ apiKey: API_KEY });
    h = await createHarness('server', {
      env: {
        OPENAI_API_KEY: API_KEY,
        OPENAI_BASE_URL: fake.baseURL,
        OPENAI_MODEL: 'gpt-test',
        OPENAI_TIMEOUT_MS: '3000',
      },
    });
    h.arbion.automation.queue.startWorkers([h.arbion.automation.deliver]);
    h.market.override('NVDA', { bid: '179.99', ask: '180.01', last: '180.00' });
  });
  afterAll(async () => {
    await h?.destroy();
    await fake?.close();
  });

  const advise = (args: Record<string, unknown>) =>
    fake.enqueue({ type: 'tool_calls', calls: [{ name: 'advise', arguments: JSON.stringify(args) }] });

  it('a buy the model asks for is sized by the rules, capped by the max position, and shown as a card', async () => {
    await h.say('ann', 'run ai on NVDA, max position 20');
    expect(h.channel.texts().at(-1)).toMatch(
      /^The AI-advised strategy on NVDA \([0-9a-f]{8}\) on your paper account/,
    );
    const strategy = await h.test.database.prisma.strategy.findFirstOrThrow({ where: { kind: 'ai_driven' } });

    advise({ action: 'buy', confidence: 0.9, reason: 'Momentum is strong after earnings.' });
    const outcome = await h.arbion.automation.strategies.evaluate(strategy.id, MARKET_OPEN);
    expect(outcome).toEqual({ kind: 'evaluated', orders: 1, halted: false });
    const intent = await h.test.database.prisma.tradeIntent.findFirstOrThrow({
      where: { strategyId: strategy.id },
    });
    // 5% of $100,000 at $180 is 27 shares; the confirmed maximum is 20.
    expect(intent).toMatchObject({ side: 'buy', symbol: 'NVDA', status: 'proposed' });
    expect(Number(intent.quantity)).toBe(20);

    const request = fake.requests.at(-1)?.body as {
      tool_choice?: { function?: { name?: string } };
      model?: string;
    };
    expect(request.model).toBe('gpt-test');
    expect(request.tool_choice?.function?.name).toBe('advise');
    const told = await new Promise<string | undefined>((resolve) => {
      const started = Date.now();
      const poll = () => {
        const text = h.channel
          .texts()
          .find((candidate) => candidate.startsWith('The AI-advised strategy on NVDA: '));
        if (text !== undefined || Date.now() - started > 10_000) resolve(text);
        else setTimeout(poll, 20);
      };
      poll();
    });
    expect(told).toContain('Momentum is strong after earnings');
  });

  it('holds when the model is down, and when its answer is out of bounds', async () => {
    const strategy = await h.test.database.prisma.strategy.findFirstOrThrow({ where: { kind: 'ai_driven' } });
    // The first card is declined, so nothing is pending: only the model's answer decides below.
    const first = await h.test.database.prisma.tradeIntent.findFirstOrThrow({
      where: { strategyId: strategy.id },
    });
    expect((await h.arbion.intents.cancel(first.id, first.userId)).kind).toBe('updated');
    const before = await h.test.database.prisma.tradeIntent.count();
    fake.clearScript();
    fake.enqueue({ type: 'error', status: 500, times: Number.POSITIVE_INFINITY, message: 'overloaded' });
    expect(await h.arbion.automation.strategies.evaluate(strategy.id, day(1))).toEqual({
      kind: 'evaluated',
      orders: 0,
      halted: false,
    });
    fake.clearScript();
    advise({ action: 'buy', confidence: 7, reason: 'Certain.' });
    expect(fake.remaining).toBe(1);
    // Monday the 30th (the 26th is Thanksgiving: no session, so no question to the model).
    expect(await h.arbion.automation.strategies.evaluate(strategy.id, day(6))).toEqual({
      kind: 'evaluated',
      orders: 0,
      halted: false,
    });
    expect(await h.test.database.prisma.tradeIntent.count()).toBe(before);
    // The same strategy with sound advice does propose: the holds above were the model's doing.
    advise({ action: 'buy', confidence: 0.8, reason: 'Trend resumed.' });
    expect(fake.remaining).toBe(1);
    expect(await h.arbion.automation.strategies.evaluate(strategy.id, day(7))).toEqual({
      kind: 'evaluated',
      orders: 1,
      halted: false,
    });
  });
});
