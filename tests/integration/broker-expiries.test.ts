/**
 * Option expiries checked against the broker's own listing, from chat, with Schwab, E*TRADE and
 * Alpaca linked and live on their fakes (issue 20, point 4). The fakes list weeklies only six
 * weeks ahead (tests/fakes/option-expiries.ts), so from Tuesday 24 November 2026 the Friday
 * 14 May 2027 is a weekly the calendar rule accepts but no broker lists yet: it is refused with
 * the nearest listed expiries, while the May monthly gets a card. On paper, where only the
 * calendar rule applies, the same Friday gets a card.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Vault } from '../../src/core/vault/index.js';
import { FakeAlpaca } from '../fakes/alpaca/fake-alpaca.js';
import { FakeOAuth1Provider } from '../fakes/oauth1-provider/fake-oauth1-provider.js';
import { FakeOAuth2Provider } from '../fakes/oauth2-provider/fake-oauth2-provider.js';
import { FakeSchwab } from '../fakes/schwab/fake-schwab.js';
import { createHarness, type Harness, MARKET_OPEN } from '../support/arbion-harness.js';
import { goLive, linkAlpaca, linkEtrade, linkSchwab } from '../support/broker-links.js';

const SITE = 'http://127.0.0.1:8787';
const SCHWAB_CLIENT = { id: 'schwab-expiries-app', secret: 'schwab-expiries-secret' };
const ETRADE_CONSUMER = { key: 'etrade-expiries-key', secret: 'etrade-expiries-secret' };
const EXPIRATION_CHAIN = '/marketdata/v1/expirationchain';

/** What a broker that lists no 14 May 2027 expiry makes of an order for it. */
const UNLISTED =
  'Your broker lists no AAPL options expiring 14 May 2027 (Fri). Did you mean 16 Apr 2027 (Fri, monthly) or 21 May 2027 (Fri, monthly)? Nothing was sent.';

let oauth: FakeOAuth2Provider;
let schwab: FakeSchwab;
let etrade: FakeOAuth1Provider;
let alpaca: FakeAlpaca;
let h: Harness;

/** Arbion's test clock, shared with the fakes so listings, signatures and tokens agree. */
const now = () => h?.clock.now ?? MARKET_OPEN;

beforeAll(async () => {
  oauth = await FakeOAuth2Provider.start({
    now,
    clients: [
      {
        clientId: SCHWAB_CLIENT.id,
        clientSecret: SCHWAB_CLIENT.secret,
        redirectUris: [`${SITE}/oauth/schwab/callback`],
        auth: 'basic',
        requirePkce: false,
      },
    ],
    issueIdToken: true,
  });
  schwab = await FakeSchwab.start({ oauth, accounts: [{ accountNumber: '12345678', cash: '250000' }], now });
  etrade = await FakeOAuth1Provider.start({
    now,
    consumerKey: ETRADE_CONSUMER.key,
    consumerSecret: ETRADE_CONSUMER.secret,
  });
  alpaca = await FakeAlpaca.start([], { now });
  for (const fake of [schwab, etrade, alpaca]) fake.setPrice('AAPL', '190.00');
  h = await createHarness('server', {
    env: {
      PUBLIC_URL: SITE,
      SCHWAB_CLIENT_ID: SCHWAB_CLIENT.id,
      SCHWAB_CLIENT_SECRET: SCHWAB_CLIENT.secret,
      SCHWAB_AUTH_BASE: oauth.baseUrl,
      SCHWAB_API_BASE: schwab.baseUrl,
      ETRADE_CONSUMER_KEY: ETRADE_CONSUMER.key,
      ETRADE_CONSUMER_SECRET: ETRADE_CONSUMER.secret,
      ETRADE_API_BASE: etrade.baseUrl,
      ETRADE_AUTHORIZE_URL: `${etrade.baseUrl}/authorize`,
      ALPACA_PAPER_API_BASE: alpaca.baseUrl,
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
});

afterAll(async () => {
  await h?.destroy();
  await Promise.all([schwab?.close(), oauth?.close(), etrade?.close(), alpaca?.close()]);
});

/** What the chat answered to `text`. */
async function answerTo(user: string, text: string): Promise<string> {
  const before = h.channel.texts().length;
  await h.say(user, text);
  return h.channel.texts().slice(before).join('\n');
}

/** Whether `text` made a card (a new one is the last card of the chat). */
async function cardFor(user: string, text: string): Promise<string | undefined> {
  const before = h.channel.lastCard();
  await h.say(user, text);
  const card = h.channel.lastCard();
  return card === before || card?.message?.kind !== 'card' ? undefined : JSON.stringify(card.message.card);
}

describe("option expiries checked against the broker's listing", () => {
  it('Schwab: an unlisted weekly is refused with the nearest listed expiries; the monthly gets a card; one listing request', async () => {
    await linkSchwab(h, oauth, 'sol');
    await goLive(h, 'sol', 'schwab');
    const requestsBefore = schwab.requests.filter((request) => request.path === EXPIRATION_CHAIN).length;
    expect(await answerTo('sol', 'sell 1 AAPL put 190 May 14 2027 at 1.00')).toBe(UNLISTED);
    const card = await cardFor('sol', 'sell 1 AAPL put 190 May 21 2027 at 1.00');
    expect(card).toContain('SELL TO OPEN 1 AAPL 21 May 2027 $190 put');
    // The chain answer shows the broker's listing for the month: the monthly, no weeklies.
    const chain = await answerTo('sol', 'chain AAPL May 2027');
    expect(chain).toContain('AAPL options expiring in May 2027');
    expect(chain).toContain('21 May 2027 (Fri, monthly)');
    expect(chain).not.toContain('14 May 2027');
    // Two orders and a chain, one listing read: kept a few minutes.
    const requestsAfter = schwab.requests.filter((request) => request.path === EXPIRATION_CHAIN).length;
    expect(requestsAfter - requestsBefore).toBe(1);
  });

  it('E*TRADE: the same weekly is refused and the monthly gets a card', async () => {
    await linkEtrade(h, etrade, 'eve');
    await goLive(h, 'eve', 'etrade');
    expect(await answerTo('eve', 'sell 1 AAPL put 190 May 14 2027 at 1.00')).toBe(UNLISTED);
    expect(await cardFor('eve', 'sell 1 AAPL put 190 May 21 2027 at 1.00')).toContain(
      'SELL TO OPEN 1 AAPL 21 May 2027 $190 put',
    );
    expect(etrade.calls.filter((call) => call.path === '/v1/market/optionexpiredate')).toHaveLength(1);
  });

  it('Alpaca: the same weekly is refused and the monthly gets a card', async () => {
    await linkAlpaca(h, alpaca, 'al', {
      keyId: 'PKEXPIRIES0000000001',
      secretKey: 'expiriesSecret1abcdefghijklmnopqrstuvwx',
      accountNumber: 'PA00EXPIRIES1',
    });
    await goLive(h, 'al', 'alpaca');
    expect(await answerTo('al', 'buy 1 AAPL put 190 May 14 2027 at 1.00')).toBe(UNLISTED);
    expect(await cardFor('al', 'buy 1 AAPL put 190 May 21 2027 at 1.00')).toContain(
      'BUY TO OPEN 1 AAPL 21 May 2027 $190 put',
    );
  });

  it('on paper, with only the calendar rule, that weekly gets a card', async () => {
    expect(await cardFor('pat', 'sell 1 AAPL put 190 May 14 2027 at 1.00')).toContain(
      'SELL TO OPEN 1 AAPL 14 May 2027 $190 put',
    );
  });
});
