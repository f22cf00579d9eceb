/**
 * Buying power net of working orders at linked brokers, from chat: Alpaca and Coinbase take what
 * working orders hold off the figure they report (their fakes as strictly as the services
 * document), and Arbion's risk checks spend that figure as it is. A buy that fits only without the
 * working orders is refused before any card, nothing sent; cancelling one gives the room back.
 * Coinbase also says how much its holds set aside, and the balance answer shows it.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Vault } from '../../src/core/vault/index.js';
import { FakeAlpaca, type FakeAlpacaKey } from '../fakes/alpaca/fake-alpaca.js';
import { FakeCoinbase } from '../fakes/coinbase/fake-coinbase.js';
import { createHarness, type Harness, MARKET_OPEN } from '../support/arbion-harness.js';
import { goLive, linkAlpaca, linkCoinbase } from '../support/broker-links.js';

const SITE = 'http://127.0.0.1:8787';
const ALPACA_KEY: FakeAlpacaKey = {
  keyId: 'PKBUYPOWER0000000001',
  secretKey: 'buyingPowerSecret0123456789abcdefghijklm',
  accountNumber: 'PA0BUYPOWER1',
};
const CDP_KEY = {
  name: 'organizations/7e2d9c1b-4a3f-4b6e-8d5c-1f0a2b3c4d5e/apiKeys/6c5b4a39-2817-4f6e-9d0c-b1a2c3d4e5f6',
  privateKey: generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey,
};

let alpaca: FakeAlpaca;
let coinbase: FakeCoinbase;
let h: Harness;

/** Arbion's test clock, shared with the fakes so signatures and order times agree. */
const now = () => h?.clock.now ?? MARKET_OPEN;

beforeAll(async () => {
  alpaca = await FakeAlpaca.start([], { now });
  alpaca.setPrice('AAPL', '190.00');
  alpaca.setPrice('MSFT', '400.00');
  coinbase = await FakeCoinbase.start();
  coinbase.setBestBidAsk('BTC-USD', '64999.99', '65000.01');
  h = await createHarness('server', {
    env: {
      PUBLIC_URL: SITE,
      ALPACA_PAPER_API_BASE: alpaca.baseUrl,
      COINBASE_API_BASE: coinbase.baseUrl,
      // Limits that leave buying power as the check that decides.
      RISK_MAX_ORDER_NOTIONAL: '1000000',
      RISK_MAX_POSITION_FRACTION: '1',
      RISK_DAILY_LOSS_LIMIT: '100000',
    },
    linking: { vault: new Vault([{ id: 'k1', key: randomBytes(32) }]), publicBaseUrl: () => SITE },
    brokers: {
      brokerClientOptions: {
        now,
        sleep: async () => undefined,
        http: { timeoutMs: 1_500, retry: { maxAttempts: 2, baseDelayMs: 10, maxDelayMs: 50 } },
      },
    },
  });
  h.market.override('AAPL', { bid: '189.99', ask: '190.01', last: '190.00' });
  h.market.override('MSFT', { bid: '399.99', ask: '400.01', last: '400.00' });
});

afterAll(async () => {
  await h?.destroy();
  await Promise.all([alpaca?.close(), coinbase?.close()]);
});

/** What the chat answered to `text`. */
async function answerTo(user: string, text: string): Promise<string> {
  await h.say(user, text);
  return h.channel.texts().at(-1) ?? '';
}

/** "buy ..." then Confirm on its card; returns the intent's id. */
async function placeThroughCard(user: string, text: string): Promise<string> {
  await h.say(user, text);
  const card = h.channel.lastCard();
  if (card?.message?.kind !== 'card') throw new Error(`no card for "${text}": ${h.channel.texts().at(-1)}`);
  const confirm = card.message.card.actions.find((action) => action.id.startsWith('confirm:'));
  if (confirm === undefined) throw new Error(`the card for "${text}" has no confirm button`);
  await h.press(user, confirm.id, card.messageId);
  return confirm.id.slice('confirm:'.length);
}

/** How "cancel <id>" names an order: its 8-character prefix, or all of it when that is all digits. */
const orderRef = (id: string) => (/[a-f]/.test(id.slice(0, 8)) ? id.slice(0, 8) : id);

/** Whether the last message is a card (rather than a refusal). */
const lastIsCard = () => h.channel.log.at(-1)?.message?.kind === 'card';

describe('buying power net of working orders at linked brokers', () => {
  it("Alpaca: a buy beyond what working buy limits leave is refused on Alpaca's own figure", async () => {
    await linkAlpaca(h, alpaca, 'alba', ALPACA_KEY);
    await goLive(h, 'alba', 'alpaca');
    // Alpaca's 200,000 of buying power (100,000 of cash, Reg T): two working limits take 185,000.
    const aapl = await placeThroughCard('alba', 'buy 500 AAPL limit 180'); // 90,000
    await placeThroughCard('alba', 'buy 250 MSFT limit 380'); // 95,000
    const working = alpaca.orders(ALPACA_KEY.accountNumber);
    expect(working.map((order) => `${order.symbol} ${order.status}`)).toEqual(['AAPL new', 'MSFT new']);

    // 100 AAPL at the 190.01 ask: 19,001, inside the cash and the 200,000, beyond the 15,000 left.
    expect(await answerTo('alba', 'buy 100 AAPL')).toContain(
      "I can't place that: needs $19,001.00, buying power is $15,000.00.",
    );
    expect(alpaca.orders(ALPACA_KEY.accountNumber)).toHaveLength(2);
    await h.say('alba', 'buy 78 AAPL'); // 14,820.78
    expect(lastIsCard()).toBe(true);

    // Cancelling the AAPL limit frees its 90,000 at Alpaca, and the same buy gets its card.
    expect(await answerTo('alba', `cancel ${orderRef(aapl)}`)).toContain('cancelled');
    await h.say('alba', 'buy 100 AAPL');
    expect(lastIsCard()).toBe(true);
  });

  it('Coinbase: its hold is reserved and out of buying power; the balance shows it, a buy beyond it is refused', async () => {
    await linkCoinbase(h, coinbase, 'cora', CDP_KEY);
    // Linked: from now on the trading client signs on Arbion's clock.
    coinbase.now = now;
    await goLive(h, 'cora', 'coinbase');
    // 0.1 BTC at 50,000 rests: Coinbase holds 5,000 and the 0.6 % fee it could cost.
    await placeThroughCard('cora', 'buy 0.1 BTC limit 50000');
    expect(coinbase.balance('USD')).toEqual({ available: '4970', hold: '5030' });

    expect(await answerTo('cora', 'balance')).toContain(
      [
        '  Cash          $10,000.00',
        '  Reserved      $5,030.00 (working orders)',
        '  Buying power  $4,970.00',
      ].join('\n'),
    );
    const before = coinbase.orders().length;
    // 0.08 BTC at the 65,000.01 ask: 5,200, inside the 10,000, beyond the 4,970 available.
    expect(await answerTo('cora', 'buy 0.08 BTC')).toContain(
      'buying power is $4,970.00 ($5,030.00 is reserved for working orders and cash-secured puts).',
    );
    expect(coinbase.orders()).toHaveLength(before);
  });
});
