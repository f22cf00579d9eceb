/**
 * Swaps still in flight hold the tokens they give up, with the real @coinbase/cdp-sdk against the
 * CDP fake (its user operations held `broadcast` until the test lands them) and the real database:
 * a second swap that the wallet's balance alone would allow is refused, at its card and at its
 * Confirm, naming what is committed; once the first lands on chain (our intent still reads
 * submitted) the new balance alone counts, never the swap twice; another token or network is free.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OperatorSecrets, Vault } from '../../src/core/vault/index.js';
import { cdpTestCredentials } from '../fakes/cdp/credentials.js';
import { FakeCdp, NATIVE_TOKEN } from '../fakes/cdp/fake-cdp.js';
import { createHarness, type Harness } from '../support/arbion-harness.js';

const SITE = 'http://127.0.0.1:8787';
const BASE_USDC = {
  contractAddress: '0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913',
  symbol: 'USDC',
  decimals: 6,
};
const ETHEREUM_USDC = {
  contractAddress: '0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48',
  symbol: 'USDC',
  decimals: 6,
};
const ARBITRUM_USDC = {
  contractAddress: '0xaf88d065e77c8cC2239327C5EDb3A432268e5831',
  symbol: 'USDC',
  decimals: 6,
};
const ETH = { contractAddress: NATIVE_TOKEN, symbol: 'ETH', decimals: 18 };
const ONE_ETH = 10n ** 18n;

let cdp: FakeCdp;
let h: Harness;
const vault = new Vault([{ id: 'k1', key: randomBytes(32) }]);

beforeAll(async () => {
  const credentials = cdpTestCredentials();
  cdp = await FakeCdp.start({ credentials });
  for (const [network, usdc] of [
    ['base', BASE_USDC],
    ['ethereum', ETHEREUM_USDC],
    ['arbitrum', ARBITRUM_USDC],
  ] as const) {
    cdp.addToken(network, usdc);
    cdp.setRate(network, NATIVE_TOKEN, usdc.contractAddress, '3000');
    cdp.setRate(network, usdc.contractAddress, NATIVE_TOKEN, '0.00033');
  }
  // Sent operations stay `broadcast` (pending on chain) until the test calls settle().
  cdp.settleAfterPolls = Number.POSITIVE_INFINITY;
  h = await createHarness('server', {
    env: {
      PUBLIC_URL: SITE,
      CDP_API_KEY_ID: credentials.apiKeyId,
      CDP_API_KEY_SECRET: credentials.apiKeySecret,
      CDP_API_BASE: cdp.basePath,
    },
    linking: { vault, publicBaseUrl: () => SITE },
    brokers: { orderTracking: { pollIntervalMs: 0, reconcileAfterMs: 0, reconcileForMs: 60_000 } },
  });
  await new OperatorSecrets(h.test.database.prisma, vault).set('cdp-wallet-secret', credentials.walletSecret);
  h.market.override('ETH', { bid: '3000.00', ask: '3000.50', last: '3000.25' });
  h.market.override('USDC', { bid: '1.00', ask: '1.00', last: '1.00' });
});

afterAll(async () => {
  await h?.destroy();
  await cdp?.close();
});

async function userIdOf(user: string): Promise<string> {
  await h.say(user, 'balance');
  const identity = await h.test.database.prisma.channelIdentity.findFirstOrThrow({
    where: { platformUserId: user },
  });
  return identity.userId;
}

/** Links the wallet as the page does; returns the smart account's address. */
async function linkWallet(user: string): Promise<string> {
  const userId = await userIdOf(user);
  const outcome = await h.arbion.linking?.services.connections.saveKeys({
    userId,
    provider: 'cdp_wallet',
    values: { network: 'base' },
  });
  if (outcome?.kind !== 'saved') throw new Error(`wallet not linked: ${JSON.stringify(outcome)}`);
  const account = await h.test.database.prisma.brokerAccount.findFirstOrThrow({
    where: { connection: { userId, provider: 'cdp_wallet', status: 'active' } },
  });
  return account.externalId;
}

/** Says `text` and returns the card it produced (fails on anything else). */
async function cardFor(user: string, text: string): Promise<{ confirmId: string; messageId: string }> {
  await h.say(user, text);
  const card = h.channel.lastCard();
  if (card?.message?.kind !== 'card') throw new Error(`no card for "${text}": ${h.channel.texts().at(-1)}`);
  const confirm = card.message.card.actions.find((action) => action.id.startsWith('confirm:'));
  if (confirm === undefined) throw new Error('the card has no confirm button');
  return { confirmId: confirm.id, messageId: card.messageId };
}

/** Presses a card's Confirm; returns what the chat said after. */
async function confirm(user: string, card: { confirmId: string; messageId: string }): Promise<string> {
  const before = h.channel.texts().length;
  await h.press(user, card.confirmId, card.messageId);
  return h.channel.texts().slice(before).join('\n');
}

async function intentStatuses(user: string): Promise<string[]> {
  const intents = await h.test.database.prisma.tradeIntent.findMany({
    where: { userId: await userIdOf(user) },
    orderBy: { cardNumber: 'asc' },
  });
  return intents.map((intent) => intent.status);
}

describe('pending swaps hold what they give up', () => {
  it('refuses a second swap beyond what is free, at its card and at its Confirm; counts a landed swap once', async () => {
    const smart = await linkWallet('wes');
    cdp.setBalance('base', smart, ETH, ONE_ETH.toString());
    cdp.setBalance('base', smart, BASE_USDC, (500n * 10n ** 6n).toString());
    cdp.setBalance('ethereum', smart, ETH, ONE_ETH.toString());

    // Two cards shown while nothing is pending: each fits the 1 ETH alone.
    const first = await cardFor('wes', 'swap 0.8 ETH to USDC on base');
    const second = await cardFor('wes', 'swap 0.8 ETH to USDC on base');
    expect(await confirm('wes', first)).toMatch(/Swap sent on Base: 0\.8 ETH → USDC/);
    expect(cdp.userOperations().map((operation) => operation.status)).toEqual(['broadcast']);

    // The second's Confirm re-checks with the first still pending on chain.
    expect(await confirm('wes', second)).toContain(
      'Refused at execution: only 0.2 ETH is free. Your wallet holds 1 ETH on Base, 0.8 ETH of it already committed to a pending swap. Nothing was sent.',
    );
    expect(cdp.userOperations()).toHaveLength(1);
    expect(await intentStatuses('wes')).toEqual(['submitted', 'rejected']);

    // A new card is refused before it is shown.
    await h.say('wes', 'swap 0.8 ETH to USDC on base');
    expect(h.channel.texts().at(-1)).toBe(
      "I can't swap that: only 0.2 ETH is free. Your wallet holds 1 ETH on Base, 0.8 ETH of it already committed to a pending swap. Nothing was sent.",
    );
    await h.say('wes', 'my wallet');
    const shown = h.channel.texts().at(-1) ?? '';
    expect(shown).toContain('  base: 1 ETH, 500 USDC');
    expect(shown).toContain('  Reserved for pending swaps: 0.8 ETH on base');

    // What is free stays free: the rest of the ETH on base, USDC on base, ETH on Ethereum.
    await cardFor('wes', 'swap 0.2 ETH to USDC on base');
    await cardFor('wes', 'swap 100 USDC to ETH on base');
    await cardFor('wes', 'swap 0.9 ETH to USDC on ethereum');

    // The first lands on chain; our intent still reads submitted (no background pass yet).
    expect(await cdp.settle()).toBe(1);
    expect(cdp.balance('base', smart, NATIVE_TOKEN)).toBe(((ONE_ETH * 2n) / 10n).toString());
    expect((await intentStatuses('wes'))[0]).toBe('submitted');
    // The balance shows it now, so it is not counted again: 0.2 ETH is free, not nothing.
    const third = await cardFor('wes', 'swap 0.2 ETH to USDC on base');
    await h.say('wes', 'swap 0.3 ETH to USDC on base');
    expect(h.channel.texts().at(-1)).toMatch(
      /^I can't swap that: .*\. Your wallet holds 0\.2 ETH on Base\. Nothing was sent\.$/,
    );
    await h.say('wes', 'my wallet');
    expect(h.channel.texts().at(-1)).not.toContain('Reserved');
    expect(await confirm('wes', third)).toMatch(/Swap sent on Base: 0\.2 ETH → USDC/);
  });

  it('refuses where the balance is not listed and a swap of the token is pending there', async () => {
    const smart = await linkWallet('zed');
    cdp.setBalance('arbitrum', smart, ETH, (ONE_ETH * 10n).toString());
    const first = await cardFor('zed', 'swap 0.8 ETH to USDC on arbitrum');
    expect(await confirm('zed', first)).toMatch(/Swap sent on Arbitrum/);
    await h.say('zed', 'swap 0.5 ETH to USDC on arbitrum');
    expect(h.channel.texts().at(-1)).toBe(
      "I can't swap that: 0.8 ETH on Arbitrum is already committed to a pending swap, and your balance there is not listed, so I can't tell whether this swap fits too; try again once it completes. Nothing was sent.",
    );
    // Landed: the wallet says so, nothing is pending, and the swap price alone decides again.
    await cdp.settle();
    await cardFor('zed', 'swap 0.5 ETH to USDC on arbitrum');
  });
});
