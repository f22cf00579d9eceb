/**
 * The channel contract through the model: every channel, with the product's LLM path talking to
 * the fake OpenAI server, scripted per test. What the fast-path contract pins for cards answered
 * by number, the model that can only ask, and honest numbers (issue 20, points 1-3) holds when the
 * model is the one proposing: its cards are numbered and answered like typed ones, its cancel is a
 * card, its false claims never reach the chat, and it learns only what the core did.
 *
 * One Arbion per channel, its scenarios in order on one account of 10,000 USD (the honest-numbers
 * ones first, while nothing else is bought), with limits that leave buying power as the check
 * that decides.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  FakeOpenAIServer,
  type RecordedRequest,
  type ScriptedTurn,
} from '../fakes/openai/fake-openai-server.js';
import { proposeOrderArguments } from '../fakes/openai/tool-arguments.js';
import { CHANNEL_FACTORIES } from './channels.js';
import { type ContractHarness, createContractHarness } from './contract-harness.js';
import type { Person, SeenCard } from './driver.js';

const API_KEY = 'sk-fake-contract-key-0123456789';

const ENV = {
  PAPER_STARTING_CASH: '10000',
  RISK_MAX_POSITION_FRACTION: '1',
  RISK_DAILY_LOSS_LIMIT: '100000',
};

/** What the model sent in a completion request: the messages, as far as these tests read them. */
const requestSchema = z.object({
  messages: z.array(
    z.object({
      role: z.string(),
      content: z.string().nullable().optional(),
      tool_call_id: z.string().optional(),
    }),
  ),
});

function messagesOf(request: RecordedRequest | undefined) {
  return requestSchema.parse(request?.body).messages;
}

/** The tool message answering call `callId` in a request, parsed. */
function toolResult(request: RecordedRequest | undefined, callId: string): unknown {
  const message = messagesOf(request).find((entry) => entry.role === 'tool' && entry.tool_call_id === callId);
  return JSON.parse(message?.content ?? 'null');
}

/** A market order for `propose_order` (strict: every key present). */
function marketOrder(overrides: Record<string, unknown>): string {
  return proposeOrderArguments({ orderType: 'market', limitPrice: null, ...overrides });
}

/** The model answers with one proposal and these words beside it. */
function proposing(args: string, words?: string): ScriptedTurn {
  return {
    type: 'tool_calls',
    ...(words === undefined ? {} : { text: words }),
    calls: [{ name: 'propose_order', arguments: args }],
  };
}

/** What the core says in place of prose that claimed a deed. */
const NOTHING_DONE =
  'Nothing was placed, filled or cancelled. Say "orders" or "positions" to see your account as it is.';
const CARD_WAITS =
  'Nothing was placed, filled or cancelled: the card above waits for your confirmation. Say "orders" or "positions" to see your account as it is.';

describe.each(CHANNEL_FACTORIES)('$platform channel contract through the model', (factory) => {
  let fake: FakeOpenAIServer;
  let h: ContractHarness;

  beforeAll(async () => {
    fake = await FakeOpenAIServer.start({ apiKey: API_KEY });
    h = await createContractHarness('server', factory, ENV, { baseURL: fake.baseURL, apiKey: API_KEY });
    await h.driver.join('alice', 'admin');
  });
  afterAll(async () => {
    await h?.destroy();
    await fake?.close();
  });
  beforeEach(() => {
    fake.clearScript();
  });

  const prisma = () => h.test.database.prisma;
  const userOf = async (person: Person) =>
    (
      await prisma().channelIdentity.findFirstOrThrow({
        where: { platform: factory.platform, platformUserId: h.driver.platformUserId(person) },
      })
    ).userId;
  const cardNow = (messageId: string) => h.driver.cards().find((card) => card.messageId === messageId);
  const intentOf = (intentId: string) => prisma().tradeIntent.findUniqueOrThrow({ where: { id: intentId } });
  const status = async (intentId: string) => (await intentOf(intentId)).status;
  const orders = (intentId: string) => prisma().order.count({ where: { intentId } });
  const orderStatus = async (intentId: string) =>
    (await prisma().order.findFirstOrThrow({ where: { intentId } })).status;
  const newTexts = (person: Person, before: number) => h.driver.textsFor(person).slice(before).join('\n');

  async function say(text: string): Promise<void> {
    await h.driver.say('alice', text);
    await h.driver.settle();
  }

  /** Alice writes `text`, the model answers with `turns`; returns the completion requests it made. */
  async function throughModel(text: string, ...turns: ScriptedTurn[]): Promise<RecordedRequest[]> {
    const before = fake.completionRequests.length;
    fake.enqueue(...turns);
    await say(text);
    expect(fake.remaining).toBe(0);
    return fake.completionRequests.slice(before);
  }

  /** Alice's newest card: the platform's view of it and its intent (her highest card number). */
  async function newestCard(cardsBefore: number) {
    const cards = h.driver.cards();
    expect(cards.length).toBe(cardsBefore + 1);
    const card = cards.at(-1) as SeenCard;
    const confirm = card.actionIds.find((id) => id.startsWith('confirm')) ?? '';
    expect(confirm).not.toBe('');
    const intent = await prisma().tradeIntent.findFirstOrThrow({
      where: { userId: await userOf('alice') },
      orderBy: { cardNumber: 'desc' },
    });
    expect(intent.status).toBe('proposed');
    return { card, confirm, intentId: intent.id, number: intent.cardNumber ?? 0 };
  }

  /** The model proposes `args` for `text`, nothing else: its card, out after one completion. */
  async function modelProposal(text: string, args: string, words?: string) {
    const before = h.driver.cards().length;
    const requests = await throughModel(text, proposing(args, words));
    // Proposals alone are the answer: no second round trip before (or after) the card.
    expect(requests).toHaveLength(1);
    return { ...(await newestCard(before)), requests };
  }

  /** A typed order (the fast path), confirmed on its card; returns its intent id. */
  async function placed(text: string): Promise<string> {
    const before = h.driver.cards().length;
    await say(text);
    const { card, confirm, intentId } = await newestCard(before);
    await h.driver.press('alice', card.messageId, confirm);
    await h.driver.settle();
    return intentId;
  }

  it("honest numbers: the model's limit through the market is flagged on its card", async () => {
    h.market.override('INTC', { bid: '19.99', ask: '20.01', last: '20.00' });
    const through = await modelProposal(
      'see what intel trades at and get me five under 21',
      proposeOrderArguments({ symbol: 'INTC', quantity: '5', limitPrice: '21.00' }),
    );
    expect(through.card.text).toMatch(/BUY 5 INTC/);
    expect(through.card.text).toMatch(/will likely fill now at about \$20\.01/);
    expect(through.card.text).not.toMatch(/may not fill soon/);
    await say(`cancel ${through.number}`);
    expect(await status(through.intentId)).toBe('cancelled');
    expect(await orders(through.intentId)).toBe(0);
  });

  it("honest numbers: a working buy holds its cash, in what the model reads and in the core's refusal of a buy beyond it", async () => {
    h.market.override('KO', { bid: '59.99', ask: '60.00', last: '60.00' });
    h.market.override('AAPL', { bid: '196.40', ask: '196.50', last: '196.45' });
    // 40 x $50.00, below the market: it rests at the broker and holds $2,000.00.
    const working = await placed('buy 40 KO limit 50 gtc');
    expect(await status(working)).toBe('submitted');

    const cards = h.driver.cards().length;
    const intents = await prisma().tradeIntent.count();
    const before = h.driver.textsFor('alice').length;
    const requests = await throughModel(
      'put most of my money into apple',
      { type: 'tool_calls', calls: [{ id: 'call_balance', name: 'get_balance', arguments: '{}' }] },
      // 45 x $196.50 = $8,842.50: inside the cash, beyond what the working buy leaves.
      proposing(marketOrder({ quantity: '45' }), 'Prepared: 45 AAPL at the market. Please check the card.'),
    );
    expect(requests).toHaveLength(2);
    expect(toolResult(requests[1], 'call_balance')).toMatchObject({
      type: 'tool_result',
      tool: 'get_balance',
      data: { cash: '10000.00', buyingPower: '8000.00' },
    });
    const refusal =
      "I can't place that: needs $8,842.50, buying power is $8,000.00 ($2,000.00 is reserved for working orders and cash-secured puts).";
    const said = newTexts('alice', before);
    expect(said).toContain(refusal);
    // The words beside the proposal were written before the core refused it: they are dropped.
    expect(said).not.toContain('check the card');
    expect(h.driver.cards()).toHaveLength(cards);
    expect(await prisma().tradeIntent.count()).toBe(intents);

    // What fits is a card; the model's memory holds the refusal as the core said it.
    const fits = await modelProposal('ok, then make it forty', marketOrder({ quantity: '40' }));
    expect(fits.card.text).toMatch(/BUY 40 AAPL/);
    expect(messagesOf(fits.requests[0])).toContainEqual({
      role: 'assistant',
      content: `(Arbion: refused: ${refusal})`,
    });
    await say(`cancel ${fits.number}`);
    expect(await status(fits.intentId)).toBe('cancelled');
    // "cancel #N" of the working buy's card cancels the order at the broker.
    await say(`cancel #${(await intentOf(working)).cardNumber}`);
    expect(await orderStatus(working)).toBe('cancelled');
  });

  it("addressed cards: the model's two proposals are cards #N and #N+1; a bare confirm lists them and places nothing, 'confirm #N' places that one only", async () => {
    const apple = await modelProposal(
      'pick up a share of apple for me',
      marketOrder({ quantity: '1' }),
      'I prepared a market buy of 1 AAPL. Please confirm it on the card.',
    );
    const tesla = await modelProposal(
      'and a couple of tesla shares too, please',
      marketOrder({ symbol: 'TSLA', quantity: '2' }),
    );
    expect(tesla.number).toBe(apple.number + 1);
    expect(apple.card.text).toContain(`Card #${apple.number}`);
    expect(tesla.card.text).toContain(`Card #${tesla.number}`);
    // The model learnt what the core did with the first message, in the core's words.
    expect(messagesOf(tesla.requests[0])).toContainEqual({
      role: 'assistant',
      content: `I prepared a market buy of 1 AAPL. Please confirm it on the card.\n(Arbion: card #${apple.number} shown; nothing happens unless the user confirms it)`,
    });

    const requests = fake.completionRequests.length;
    const before = h.driver.textsFor('alice').length;
    await h.driver.say('alice', 'confirm');
    await h.driver.say('alice', 'yes');
    await h.driver.settle();
    const asked = newTexts('alice', before);
    expect(asked.match(/Which card\?/g)).toHaveLength(2);
    expect(asked).toContain(`#${apple.number} BUY 1 AAPL`);
    expect(asked).toContain(`#${tesla.number} BUY 2 TSLA`);
    // Answers to cards are the core's: the model is never asked.
    expect(fake.completionRequests).toHaveLength(requests);
    expect(await orders(apple.intentId)).toBe(0);
    expect(await orders(tesla.intentId)).toBe(0);

    await say(`confirm #${tesla.number}`);
    expect(await status(tesla.intentId)).toBe('filled');
    expect(cardNow(tesla.card.messageId)?.actionIds).toEqual([]);
    expect(await status(apple.intentId)).toBe('proposed');
    expect(await orders(apple.intentId)).toBe(0);
    await say(`cancel ${apple.number}`);
    expect(await status(apple.intentId)).toBe('cancelled');
    expect(cardNow(apple.card.messageId)?.actionIds).toEqual([]);
  });

  it("the model only asks: its cancel_order all is a card listing the orders, stops marked, and only the card's button cancels", async () => {
    h.market.override('AMD', { bid: '149.99', ask: '150.01', last: '150.00' });
    await placed('buy 5 AMD');
    const limit = await placed('buy 3 AMD limit 120');
    const stop = await placed('sell 5 AMD stop 140');
    const cards = h.driver.cards().length;
    const before = h.driver.textsFor('alice').length;
    const requests = await throughModel('get rid of everything I have working', {
      type: 'tool_calls',
      text: "Done! I've cancelled all your open orders, stops included.",
      calls: [{ name: 'cancel_order', arguments: '{"target":"all"}' }],
    });
    expect(requests).toHaveLength(1);
    expect(await orderStatus(limit)).toBe('accepted');
    expect(await orderStatus(stop)).toBe('accepted');
    expect(h.driver.cards()).toHaveLength(cards + 1);
    const shown = h.driver.cards().at(-1) as SeenCard;
    expect(shown.text).toMatch(/Card #\d+ · Cancel 2 open orders\?/);
    expect(shown.text).toContain('BUY 3 AMD, limit $120.00');
    expect(shown.text).toContain('SELL 5 AMD, stop $140.00 (protective stop)');
    expect(newTexts('alice', before)).toBe(CARD_WAITS);

    const confirm = shown.actionIds.find((id) => /^(cancelorders:|confirm)/.test(id)) ?? '';
    expect(confirm).not.toBe('');
    await h.driver.press('alice', shown.messageId, confirm);
    await h.driver.settle();
    expect(await orderStatus(limit)).toBe('cancelled');
    expect(await orderStatus(stop)).toBe('cancelled');
    expect(cardNow(shown.messageId)?.actionIds).toEqual([]);
  });

  it('the model only asks: prose claiming an order with no tool call never reaches the chat', async () => {
    const cards = h.driver.cards().length;
    const intents = await prisma().tradeIntent.count();
    const before = h.driver.textsFor('alice').length;
    const requests = await throughModel('grab me some apple', {
      type: 'text',
      text: 'Order placed! I bought 10 AAPL at $189.20 and it filled instantly.',
    });
    expect(requests).toHaveLength(1);
    expect(newTexts('alice', before)).toBe(NOTHING_DONE);
    expect(h.driver.cards()).toHaveLength(cards);
    expect(await prisma().tradeIntent.count()).toBe(intents);
  });

  it('the model only asks: a proposal among reads is a card, the model is told only that, and its claim of a fill is replaced', async () => {
    const cards = h.driver.cards().length;
    const before = h.driver.textsFor('alice').length;
    const requests = await throughModel(
      'check microsoft and get me one',
      {
        type: 'tool_calls',
        calls: [
          { id: 'call_quote', name: 'get_quote', arguments: '{"symbol":"MSFT"}' },
          {
            id: 'call_order',
            name: 'propose_order',
            arguments: marketOrder({ symbol: 'MSFT', quantity: '1' }),
          },
        ],
      },
      { type: 'text', text: 'All done: I bought 1 MSFT at the market.' },
    );
    expect(requests).toHaveLength(2);
    const card = await newestCard(cards);
    expect(card.card.text).toMatch(/BUY 1 MSFT/);
    expect(toolResult(requests[1], 'call_quote')).toMatchObject({
      type: 'tool_result',
      tool: 'get_quote',
      data: { symbol: 'MSFT', source: 'simulated' },
    });
    expect(toolResult(requests[1], 'call_order')).toEqual({
      type: 'tool_result',
      tool: 'propose_order',
      data: { outcome: `card #${card.number} shown; nothing happens unless the user confirms it` },
    });
    expect(newTexts('alice', before)).toBe(CARD_WAITS);
    expect(await orders(card.intentId)).toBe(0);
    await say(`cancel ${card.number}`);
    expect(await status(card.intentId)).toBe('cancelled');
  });
});
