/**
 * Trading through linked brokers from chat, against the local fakes of Schwab, E*TRADE and Alpaca:
 * accounts synced at link time, "go live on X" + "confirm live X", orders routed to the trading
 * account's broker, fills reported, cards that cannot follow an account switch, broker failures
 * told plainly, and unclear placements settled in the background without a second order.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BrokerConnections } from '../../src/core/linking/connections.js';
import type { OAuth2Linking } from '../../src/core/linking/providers.js';
import { Vault } from '../../src/core/vault/index.js';
import { contractLogger } from '../contract/contract-harness.js';
import { FakeAlpaca, type FakeAlpacaKey } from '../fakes/alpaca/fake-alpaca.js';
import { FakeCoinbase } from '../fakes/coinbase/fake-coinbase.js';
import { FAKE_ETRADE_ACCOUNT, FakeOAuth1Provider } from '../fakes/oauth1-provider/fake-oauth1-provider.js';
import { FakeOAuth2Provider } from '../fakes/oauth2-provider/fake-oauth2-provider.js';
import { FakeSchwab } from '../fakes/schwab/fake-schwab.js';
import { ADDRESS, createHarness, type Harness, MARKET_OPEN } from '../support/arbion-harness.js';

const SITE = 'http://127.0.0.1:8787';
const SCHWAB_CLIENT = { id: 'schwab-live-app', secret: 'schwab-live-secret' };
const ETRADE_CONSUMER = { key: 'etrade-live-key', secret: 'etrade-live-secret' };
const SCHWAB_ACCOUNT = '12345678';

let oauth: FakeOAuth2Provider;
let schwab: FakeSchwab;
let etrade: FakeOAuth1Provider;
let alpaca: FakeAlpaca;
let coinbase: FakeCoinbase;
let h: Harness;
const cdpKey = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const CDP_KEY_NAME =
  'organizations/3f1c7a52-2d2e-4c43-9a55-0d6f5b1c9e01/apiKeys/9b2f8a0e-6f5c-4d3b-8a1e-7c2d4e5f6a7b';
let alpacaKeys = 0;
const vault = new Vault([{ id: 'k1', key: randomBytes(32) }]);

/** Arbion's test clock, shared with the fakes so signatures, token lifetimes and order times agree. */
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
  schwab = await FakeSchwab.start({
    oauth,
    accounts: [{ accountNumber: SCHWAB_ACCOUNT, cash: '250000' }],
    now,
  });
  etrade = await FakeOAuth1Provider.start({
    now,
    consumerKey: ETRADE_CONSUMER.key,
    consumerSecret: ETRADE_CONSUMER.secret,
  });
  alpaca = await FakeAlpaca.start([]);
  coinbase = await FakeCoinbase.start();
  coinbase.addKey(CDP_KEY_NAME, cdpKey.privateKey);
  coinbase.setBalance('USD', '10000');
  coinbase.setBestBidAsk('BTC-USD', '64999.99', '65000.01');
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
      COINBASE_API_BASE: coinbase.baseUrl,
    },
    linking: { vault, publicBaseUrl: () => SITE },
    brokers: {
      brokerClientOptions: {
        now,
        // Schwab looks again 3 s after an unclear placement: no need to really wait here.
        sleep: async () => undefined,
        http: {
          timeoutMs: 1_500,
          retry: { maxAttempts: 2, baseDelayMs: 10, maxDelayMs: 50 },
          breaker: { consecutiveFailures: 3, halfOpenAfterMs: 300 },
        },
      },
      orderTracking: { pollIntervalMs: 0, reconcileAfterMs: 0, reconcileForMs: 60_000 },
    },
  });
  h.market.override('AAPL', { bid: '189.99', ask: '190.01', last: '190.00' });
});

afterAll(async () => {
  await h?.destroy();
  await Promise.all([schwab?.close(), oauth?.close(), etrade?.close(), alpaca?.close(), coinbase?.close()]);
});

// ------------------------------------------------------------------ helpers

function linkingOf() {
  const linking = h.arbion.linking;
  if (linking === undefined) throw new Error('linking is not wired');
  return linking;
}

function services() {
  return linkingOf().services;
}

async function userIdOf(user: string): Promise<string> {
  await h.say(user, 'balance');
  const identity = await h.test.database.prisma.channelIdentity.findFirstOrThrow({
    where: { platformUserId: user },
  });
  return identity.userId;
}

/** A linking-page session for the user, as opening their chat link creates. */
async function webSession(user: string): Promise<{ id: string; userId: string }> {
  const userId = await userIdOf(user);
  const { url } = await services().linkTokens.issue(userId, ADDRESS);
  const redeemed = await services().linkTokens.redeem(url.split('/').pop() ?? '');
  if (redeemed.kind !== 'redeemed') throw new Error(`link not redeemed: ${redeemed.kind}`);
  const { token } = await services().sessions.open(userId, redeemed.linkTokenId);
  const session = await services().sessions.authenticate(token);
  if (session === undefined) throw new Error('no session');
  return { id: session.id, userId };
}

async function linkSchwab(user: string): Promise<void> {
  const session = await webSession(user);
  const provider = services().catalog.get('schwab');
  const flow = services().oauth2('schwab');
  if (provider === undefined || flow === undefined) throw new Error('schwab is not configured');
  const redirectUri = (provider.linking as OAuth2Linking).spec.redirectUris[0] ?? '';
  const authorize = await flow.start({ userId: session.userId, webSessionId: session.id, redirectUri });
  const callbackUrl = await oauth.approve(authorize);
  const { tokens } = await flow.complete({ callbackUrl, webSessionId: session.id });
  await services().connections.storeOAuth2(session.userId, provider, tokens);
}

async function linkEtrade(user: string): Promise<void> {
  const session = await webSession(user);
  const provider = services().catalog.get('etrade');
  const flow = services().oauth1('etrade');
  if (provider === undefined || flow === undefined) throw new Error('etrade is not configured');
  const { state, authorizeUrl } = await flow.begin({ userId: session.userId, webSessionId: session.id });
  const verifier = etrade.authorize(authorizeUrl.searchParams.get('token') ?? '');
  const { tokens } = await flow.complete({ state, webSessionId: session.id, verifier });
  await services().connections.storeOAuth1(session.userId, provider, tokens, undefined);
}

async function linkAlpaca(user: string): Promise<FakeAlpacaKey> {
  alpacaKeys += 1;
  const key: FakeAlpacaKey = {
    keyId: `PKLIVETEST${String(alpacaKeys).padStart(10, '0')}`,
    secretKey: `liveTestSecret${alpacaKeys}abcdefghijklmnopqrstuvwx`,
    accountNumber: `PA00LIVE${String(alpacaKeys).padStart(4, '0')}`,
  };
  alpaca.addKey(key);
  const userId = await userIdOf(user);
  const outcome = await services().connections.saveKeys({
    userId,
    provider: 'alpaca',
    values: { environment: 'paper', keyId: key.keyId, secretKey: key.secretKey },
  });
  if (outcome.kind !== 'saved') throw new Error(`alpaca keys not saved: ${JSON.stringify(outcome)}`);
  return key;
}

async function goLive(user: string, provider: string): Promise<string[]> {
  const before = h.channel.texts().length;
  await h.say(user, `go live on ${provider}`);
  await h.say(user, `confirm live ${provider}`);
  return h.channel.texts().slice(before);
}

/** "buy ..." then Confirm on the card; returns what the chat said after the press. */
async function buyAndConfirm(user: string, text: string): Promise<{ intentId: string; said: string[] }> {
  await h.say(user, text);
  const card = h.channel.lastCard();
  if (card?.message?.kind !== 'card') throw new Error(`no card: ${h.channel.texts().at(-1)}`);
  const confirm = card.message.card.actions.find((action) => action.id.startsWith('confirm:'));
  if (confirm === undefined) throw new Error(`the card has no confirm button: ${h.channel.texts().at(-1)}`);
  const before = h.channel.texts().length;
  await h.press(user, confirm.id, card.messageId);
  return { intentId: confirm.id.slice('confirm:'.length), said: h.channel.texts().slice(before) };
}

async function ordersOf(userId: string) {
  return h.test.database.prisma.order.findMany({
    where: { intent: { userId } },
    orderBy: { createdAt: 'asc' },
  });
}

// ------------------------------------------------------------------ tests

describe('live trading through linked brokers', () => {
  it('syncs the accounts a link opens: Schwab hash, E*TRADE accountIdKey, Alpaca account number', async () => {
    await linkSchwab('sync-user');
    await linkEtrade('sync-user');
    const key = await linkAlpaca('sync-user');
    const accounts = await h.test.database.prisma.brokerAccount.findMany({
      where: { connection: { user: { identities: { some: { platformUserId: 'sync-user' } } } } },
      include: { connection: true },
    });
    const byProvider = new Map(accounts.map((account) => [account.connection.provider, account]));
    expect(byProvider.get('schwab')).toMatchObject({
      externalId: schwab.hashOf(SCHWAB_ACCOUNT),
      displayNumber: SCHWAB_ACCOUNT.slice(-4),
      isDefault: true,
    });
    expect(byProvider.get('etrade')).toMatchObject({
      externalId: FAKE_ETRADE_ACCOUNT.accountIdKey,
      displayNumber: FAKE_ETRADE_ACCOUNT.accountId.slice(-4),
      isDefault: true,
    });
    expect(byProvider.get('alpaca')).toMatchObject({ externalId: key.accountNumber, isDefault: true });
    // Nobody is live just by linking: orders still go to the built-in paper account.
    const trader = await h.arbion.accounts.traderById(await userIdOf('sync-user'));
    expect(trader.account.provider).toBe('paper');
  });

  it('buys 10 AAPL on Schwab after "go live" and its confirmation, and reports the fill', async () => {
    await linkSchwab('sam');
    const userId = await userIdOf('sam');
    const before = schwab.orders(schwab.hashOf(SCHWAB_ACCOUNT)).length;
    const said = await goLive('sam', 'schwab');
    expect(said[0]).toContain('REAL money');
    expect(said[0]).toContain(`••${SCHWAB_ACCOUNT.slice(-4)}`);
    expect(said[0]).toContain('confirm live schwab');
    expect(said[1]).toMatch(/^LIVE: your orders now go to Charles Schwab account/);

    const { said: afterPress } = await buyAndConfirm('sam', 'buy 10 AAPL');
    expect(afterPress.join('\n')).toMatch(/Filled \(LIVE\): bought 10 AAPL at \$190\.0\d/);
    const placed = schwab.orders(schwab.hashOf(SCHWAB_ACCOUNT)).slice(before);
    expect(placed).toHaveLength(1);
    const [order] = await ordersOf(userId);
    expect(order).toMatchObject({ provider: 'schwab', status: 'filled', symbol: 'AAPL' });
    expect(order?.brokerOrderId).toBe(String(placed[0]?.orderId));
  });

  it('sends "sell 1 AAPL put 190 May 21 at 1.00" to Schwab with the padded OCC symbol, and reports the fill later', async () => {
    const userId = await userIdOf('sam');
    const hash = schwab.hashOf(SCHWAB_ACCOUNT);
    const before = schwab.orders(hash).length;
    const { said } = await buyAndConfirm('sam', 'sell 1 AAPL put 190 May 21 at 1.00');
    expect(said.join('\n')).not.toContain('rejected');
    const placed = schwab.orders(hash).slice(before);
    expect(placed).toHaveLength(1);
    type Leg = { instruction: string; instrument: { symbol: string; assetType: string } };
    const leg = ((placed[0]?.orderLegCollection ?? []) as Leg[])[0];
    expect(leg?.instrument).toMatchObject({ symbol: 'AAPL  270521P00190000', assetType: 'OPTION' });
    expect(leg?.instruction).toBe('SELL_TO_OPEN');
    expect(placed[0]).toMatchObject({ orderType: 'LIMIT' });

    const option = (await ordersOf(userId)).find((order) => order.assetClass === 'option');
    if (option?.status !== 'filled') {
      // It rests at the broker: the background pass follows it and tells the fill.
      schwab.fillOrder(hash, Number(option?.brokerOrderId), { price: '1.00' });
      const beforePass = h.channel.texts().length;
      h.clock.now = new Date(h.clock.now.getTime() + 1_000);
      await h.arbion.runBackgroundPass();
      expect(h.channel.texts().slice(beforePass).join('\n')).toMatch(/Filled \(LIVE\): sold 1 AAPL/);
    }
    const settled = await h.test.database.prisma.order.findUniqueOrThrow({ where: { id: option?.id ?? '' } });
    expect(settled.status).toBe('filled');
  });

  it('buys 10 AAPL on E*TRADE (preview, then place) and reports the fill', async () => {
    await linkEtrade('erin');
    const userId = await userIdOf('erin');
    const before = etrade.orders().length;
    const said = await goLive('erin', 'etrade');
    expect(said[0]).toContain('REAL money');
    const { intentId, said: afterPress } = await buyAndConfirm('erin', 'buy 10 AAPL');
    expect(afterPress.join('\n')).toMatch(/Filled \(LIVE\): bought 10 AAPL/);
    const placed = etrade.orders().slice(before);
    expect(placed).toHaveLength(1);
    const intent = await h.test.database.prisma.tradeIntent.findUniqueOrThrow({ where: { id: intentId } });
    expect(JSON.stringify(placed[0])).toContain(
      intent.clientOrderId.replace(/[^A-Za-z0-9]/g, '').slice(0, 20),
    );
    expect((await ordersOf(userId))[0]).toMatchObject({ provider: 'etrade', status: 'filled' });
  });

  it('buys 10 AAPL on Alpaca paper keys: the switch says no real money, the card says PAPER', async () => {
    const key = await linkAlpaca('ada');
    const userId = await userIdOf('ada');
    const said = await goLive('ada', 'alpaca');
    expect(said[0]).toContain('paper environment');
    expect(said[0]).not.toContain('REAL money');
    expect(said[1]).toContain("Alpaca's paper account");
    const { intentId, said: afterPress } = await buyAndConfirm('ada', 'buy 10 AAPL');
    expect(afterPress.join('\n')).toMatch(/Filled \(PAPER\): bought 10 AAPL at \$190/);
    const placed = alpaca.orders(key.accountNumber);
    expect(placed).toHaveLength(1);
    const intent = await h.test.database.prisma.tradeIntent.findUniqueOrThrow({ where: { id: intentId } });
    expect(placed[0]?.client_order_id).toBe(intent.clientOrderId);
    expect((await ordersOf(userId))[0]).toMatchObject({ provider: 'alpaca', status: 'filled' });
  });

  it('"confirm live" needs a fresh request of its own; "paper mode" goes back to the paper broker', async () => {
    await linkSchwab('pat');
    const userId = await userIdOf('pat');
    await h.say('pat', 'confirm live schwab');
    expect(h.channel.texts().at(-1)).toContain('There is no request to go live on Charles Schwab waiting');
    await h.say('pat', 'go live on schwab');
    h.clock.now = new Date(h.clock.now.getTime() + 6 * 60_000);
    try {
      await h.say('pat', 'confirm live schwab');
    } finally {
      h.clock.now = new Date(h.clock.now.getTime() - 6 * 60_000);
    }
    expect(h.channel.texts().at(-1)).toContain('There is no request');
    expect((await h.arbion.accounts.traderById(userId)).account.provider).toBe('paper');

    await goLive('pat', 'schwab');
    expect((await h.arbion.accounts.traderById(userId)).account).toMatchObject({
      provider: 'schwab',
      mode: 'live',
    });
    await h.say('pat', 'paper mode');
    expect(h.channel.texts().at(-1)).toContain('Back on your paper account');
    const trader = await h.arbion.accounts.traderById(userId);
    expect(trader.account.provider).toBe('paper');
    const connection = await h.test.database.prisma.brokerConnection.findFirstOrThrow({
      where: { userId, provider: 'schwab' },
    });
    expect(connection.mode).toBe('paper');
    const schwabBefore = schwab.orders(schwab.hashOf(SCHWAB_ACCOUNT)).length;
    await buyAndConfirm('pat', 'buy 1 AAPL');
    expect(schwab.orders(schwab.hashOf(SCHWAB_ACCOUNT))).toHaveLength(schwabBefore);
    expect((await ordersOf(userId)).at(-1)).toMatchObject({ provider: 'paper', status: 'filled' });
  });

  it('never sends a card shown on paper to the live account chosen after it', async () => {
    await linkSchwab('carl');
    const userId = await userIdOf('carl');
    await h.say('carl', 'buy 2 AAPL');
    const card = h.channel.lastCard();
    const confirm = card?.message?.kind === 'card' ? card.message.card.actions[0]?.id : undefined;
    await goLive('carl', 'schwab');
    const schwabBefore = schwab.orders(schwab.hashOf(SCHWAB_ACCOUNT)).length;
    const before = h.channel.texts().length;
    await h.press('carl', confirm ?? '', card?.messageId);
    expect(h.channel.texts().slice(before).join('\n')).toContain(
      'your trading account changed after this card was shown',
    );
    expect(schwab.orders(schwab.hashOf(SCHWAB_ACCOUNT))).toHaveLength(schwabBefore);
    expect(await ordersOf(userId)).toHaveLength(0);
    const intent = await h.test.database.prisma.tradeIntent.findFirstOrThrow({ where: { userId } });
    expect(intent.status).toBe('rejected');
  });

  it('says plainly when the broker is down, opens the circuit, and trades again once it is back', async () => {
    await linkSchwab('dora');
    await goLive('dora', 'schwab');
    schwab.down();
    try {
      await h.say('dora', 'buy 1 AAPL');
      expect(h.channel.texts().at(-1)).toMatch(
        /Charles Schwab (did not answer in time|is not answering right now)/,
      );
      expect(h.channel.texts().at(-1)).toContain('Nothing was changed');
      for (let attempt = 0; attempt < 3; attempt++) await h.say('dora', 'balance');
      expect(h.channel.texts().at(-1)).toContain('Charles Schwab is not answering right now');
      await h.arbion.runBackgroundPass();
      const connection = await h.test.database.prisma.brokerConnection.findFirstOrThrow({
        where: { user: { identities: { some: { platformUserId: 'dora' } } }, provider: 'schwab' },
      });
      expect(connection.healthStatus).toBe('down');
    } finally {
      schwab.up();
    }
    await new Promise((resolve) => setTimeout(resolve, 350));
    const { said } = await buyAndConfirm('dora', 'buy 1 AAPL');
    expect(said.join('\n')).toMatch(/Filled \(LIVE\): bought 1 AAPL/);
    await h.arbion.runBackgroundPass();
    const healed = await h.test.database.prisma.brokerConnection.findFirstOrThrow({
      where: { user: { identities: { some: { platformUserId: 'dora' } } }, provider: 'schwab' },
    });
    expect(healed.healthStatus).toBe('healthy');
  });

  it('settles an Alpaca placement whose answer was lost: found by client order id, one order', async () => {
    const key = await linkAlpaca('lou');
    const userId = await userIdOf('lou');
    await goLive('lou', 'alpaca');
    // The order is accepted, the answer never arrives, and the lookups right after fail too.
    alpaca.acceptThenTimeout('reset');
    alpaca.failNext('GET /v2/orders:by_client_order_id', { status: 503, times: 2 });
    const { said } = await buyAndConfirm('lou', 'buy 3 AAPL');
    expect(said.join('\n')).toContain('will not send it twice');
    expect(alpaca.orders(key.accountNumber)).toHaveLength(1);
    const before = h.channel.texts().length;
    expect((await ordersOf(userId))[0]).toMatchObject({ status: 'pending', brokerOrderId: null });
    // The lost answer and two failed lookups opened the circuit: the next look waits for its trial request.
    await new Promise((resolve) => setTimeout(resolve, 350));
    h.clock.now = new Date(h.clock.now.getTime() + 1_000);
    await h.arbion.runBackgroundPass();
    expect(h.channel.texts().slice(before).join('\n')).toMatch(/Filled \(PAPER\): bought 3 AAPL/);
    expect(alpaca.orders(key.accountNumber)).toHaveLength(1);
    expect((await ordersOf(userId))[0]).toMatchObject({ provider: 'alpaca', status: 'filled' });
  });

  it('tells the user a Schwab order that never showed up is unclear (never "not placed"), and never resends it', async () => {
    await linkSchwab('sid');
    const userId = await userIdOf('sid');
    await goLive('sid', 'schwab');
    const hash = schwab.hashOf(SCHWAB_ACCOUNT);
    const before = schwab.orders(hash).length;
    // A gateway error on the order POST: Schwab did not take it, but we cannot know that.
    schwab.failNext({ method: 'POST', path: /\/orders$/ }, { status: 502 });
    const { said } = await buyAndConfirm('sid', 'buy 4 AAPL');
    expect(said.join('\n')).toContain('will not send it twice');
    h.clock.now = new Date(h.clock.now.getTime() + 1_000);
    await h.arbion.runBackgroundPass();
    expect((await ordersOf(userId))[0]).toMatchObject({ status: 'pending', brokerOrderId: null });
    const beforeGiveUp = h.channel.texts().length;
    h.clock.now = new Date(h.clock.now.getTime() + 61_000);
    await h.arbion.runBackgroundPass();
    const told = h.channel.texts().slice(beforeGiveUp).join('\n');
    expect(told).toContain('I could not confirm whether your order to buy AAPL reached Charles Schwab');
    expect(told).toContain('Check your Charles Schwab orders before placing it again');
    expect(told).not.toMatch(/not placed/);
    expect(schwab.orders(hash)).toHaveLength(before);
    expect((await ordersOf(userId))[0]).toMatchObject({ status: 'rejected' });
    const intent = await h.test.database.prisma.tradeIntent.findFirstOrThrow({ where: { userId } });
    expect(intent.status).toBe('failed');
  });

  it('refreshes an expired Schwab access token between messages without the user noticing', async () => {
    await linkSchwab('tess');
    const userId = await userIdOf('tess');
    await goLive('tess', 'schwab');
    const refreshesBefore = oauth.tokenCalls('refresh_token').length;
    h.clock.now = new Date(h.clock.now.getTime() + 31 * 60_000);
    try {
      const { said } = await buyAndConfirm('tess', 'buy 1 AAPL');
      expect(said.join('\n')).toMatch(/Filled \(LIVE\): bought 1 AAPL/);
    } finally {
      h.clock.now = new Date(h.clock.now.getTime() - 31 * 60_000);
    }
    expect(oauth.tokenCalls('refresh_token').length).toBe(refreshesBefore + 1);
    expect((await ordersOf(userId))[0]).toMatchObject({ provider: 'schwab', status: 'filled' });
  });

  it('marks a link whose keys the broker stopped accepting, and says how to fix it', async () => {
    const key = await linkAlpaca('kim');
    const userId = await userIdOf('kim');
    await goLive('kim', 'alpaca');
    alpaca.revokeKey(key.keyId);
    await h.say('kim', 'buy 1 AAPL');
    expect(h.channel.texts().at(-1)).toContain(
      'Alpaca did not accept our sign-in. Say "link" to sign in again.',
    );
    const connection = await h.test.database.prisma.brokerConnection.findFirstOrThrow({
      where: { userId, provider: 'alpaca' },
    });
    expect(connection).toMatchObject({ status: 'needs_reauth', healthStatus: 'down' });
    await h.say('kim', 'buy 1 AAPL');
    expect(h.channel.texts().at(-1)).toContain('Your Alpaca sign-in has expired. Say "link"');
    expect(alpaca.orders(key.accountNumber)).toHaveLength(0);
    expect(await ordersOf(userId)).toHaveLength(0);
  });

  it('buys $50 of BTC on Coinbase: sized before the card, one order on a double confirm', async () => {
    const userId = await userIdOf('cory');
    const saved = await services().connections.saveKeys({
      userId,
      provider: 'coinbase',
      values: {
        keyName: CDP_KEY_NAME,
        privateKey: cdpKey.privateKey.export({ type: 'sec1', format: 'pem' }).toString(),
      },
    });
    expect(saved.kind).toBe('saved');
    // The key test on the linking page signs with the wall clock; the trading client with Arbion's.
    coinbase.now = now;
    const said = await goLive('cory', 'coinbase');
    expect(said[0]).toContain('REAL money');
    expect(said[1]).toMatch(/^LIVE: your orders now go to Coinbase/);

    // Below Coinbase's minimum: refused before any card, nothing sent.
    const before = coinbase.orders().length;
    await h.say('cory', 'buy $0.50 of BTC');
    expect(h.channel.texts().at(-1)).toMatch(/^I can't place that\. .*Coinbase/);
    expect(coinbase.orders()).toHaveLength(before);

    // Coinbase's preview prices the card: its order total, fees included (0.001 BTC at the ask is
    // $65.00; with a 1% taker fee Coinbase says $65.65).
    coinbase.setFeeRates('0.01', '0.006');
    await h.say('cory', 'buy 0.001 BTC');
    const previewed = h.channel.lastCard();
    const fields = previewed?.message?.kind === 'card' ? previewed.message.card.fields : [];
    expect(fields.find((field) => field.label === 'Est. cost')?.value).toBe('$65.65');
    // Coinbase runs market orders immediate-or-cancel: the card says so (the broker is asked).
    expect(fields.find((field) => field.label === 'Type')?.value).toBe('Market, immediate or cancel');
    // A limit that rests is estimated at quantity x limit, plus the previewed fee (1% of $59).
    await h.say('cory', 'buy 0.001 BTC limit 59000');
    const limitCard = h.channel.lastCard();
    const limitFields = limitCard?.message?.kind === 'card' ? limitCard.message.card.fields : [];
    expect(limitFields.find((field) => field.label === 'Est. cost')?.value).toBe('$59.59');
    expect(limitFields.find((field) => field.label === 'Type')?.value).toBe(
      'Limit (limit $59,000.00), good till cancelled',
    );

    await h.say('cory', 'buy $50 of BTC');
    const card = h.channel.lastCard();
    const confirm = card?.message?.kind === 'card' ? card.message.card.actions[0]?.id : undefined;
    expect(confirm).toMatch(/^confirm:/);
    const beforePress = h.channel.texts().length;
    await Promise.all([
      h.press('cory', confirm ?? '', card?.messageId),
      h.press('cory', confirm ?? '', card?.messageId),
    ]);
    expect(h.channel.texts().slice(beforePress).join('\n')).toMatch(/Filled \(LIVE\): bought 0\.000\d+ BTC/);
    expect(coinbase.orders()).toHaveLength(before + 1);
    const orders = await ordersOf(userId);
    expect(orders).toHaveLength(1);
    expect(orders[0]).toMatchObject({ provider: 'coinbase', status: 'filled', symbol: 'BTC' });
  });

  it('uses keys rotated by another process at the next order (the client is rebuilt, not stale)', async () => {
    const old = await linkAlpaca('rita');
    const userId = await userIdOf('rita');
    await goLive('rita', 'alpaca');
    await buyAndConfirm('rita', 'buy 1 AAPL');
    expect(alpaca.orders(old.accountNumber)).toHaveLength(1);
    // Another process (its own BrokerConnections, no hook into this one) rotates the keys.
    const fresh: FakeAlpacaKey = {
      ...old,
      keyId: `${old.keyId.slice(0, -1)}Z`,
      secretKey: `${old.secretKey}Z`,
    };
    alpaca.addKey(fresh);
    alpaca.revokeKey(old.keyId);
    const elsewhere = new BrokerConnections({
      prisma: h.test.database.prisma,
      vault,
      catalog: services().catalog,
      oauth: { oauth2: () => undefined, oauth1: () => undefined, tokens: linkingOf().tokens },
      logger: contractLogger(),
    });
    const connection = await h.test.database.prisma.brokerConnection.findFirstOrThrow({
      where: { userId, provider: 'alpaca' },
    });
    const rotated = await elsewhere.saveKeys({
      userId,
      provider: 'alpaca',
      values: { environment: 'paper', keyId: fresh.keyId, secretKey: fresh.secretKey },
      rotateConnectionId: connection.id,
    });
    expect(rotated.kind).toBe('saved');
    const { said } = await buyAndConfirm('rita', 'buy 1 AAPL');
    expect(said.join('\n')).toMatch(/Filled \(PAPER\): bought 1 AAPL/);
    expect(alpaca.orders(old.accountNumber)).toHaveLength(2);
  });

  it('asks which broker when "go live" names none and several are linked', async () => {
    await linkSchwab('wes');
    await linkAlpaca('wes');
    await h.say('wes', 'go live');
    expect(h.channel.texts().at(-1)).toMatch(
      /^Which broker\? Say "go live on (alpaca|schwab)" or "go live on (alpaca|schwab)"\. Nothing was changed\.$/,
    );
    const userId = await userIdOf('wes');
    expect((await h.arbion.accounts.traderById(userId)).account.provider).toBe('paper');
  });

  it('unlinking the live broker puts the user back on paper', async () => {
    await linkSchwab('una');
    const userId = await userIdOf('una');
    await goLive('una', 'schwab');
    const connection = await h.test.database.prisma.brokerConnection.findFirstOrThrow({
      where: { userId, provider: 'schwab', status: 'active' },
    });
    await services().connections.unlink(userId, connection.id);
    expect((await h.arbion.accounts.traderById(userId)).account.provider).toBe('paper');
  });
});
