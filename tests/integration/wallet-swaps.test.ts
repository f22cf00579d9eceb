/**
 * Token swaps on the Coinbase smart wallet from chat, with the real @coinbase/cdp-sdk against the
 * local CDP fake (bearer JWT and X-Wallet-Auth verified, user operations with a lifecycle): link ->
 * "swap 0.1 ETH to USDC on base" -> a card with rate, minimum received, slippage and gas -> Confirm
 * -> one user operation -> followed to complete and told in chat. Also: an ERC-20 swap that needs a
 * Permit2 approval (batched into the same operation), a failed operation, refusals before the card,
 * a double confirm, and rejected credentials.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OperatorSecrets, Vault } from '../../src/core/vault/index.js';
import { type CdpTestCredentials, cdpTestCredentials } from '../fakes/cdp/credentials.js';
import { FakeCdp, NATIVE_TOKEN } from '../fakes/cdp/fake-cdp.js';
import { createHarness, type Harness } from '../support/arbion-harness.js';

const SITE = 'http://127.0.0.1:8787';
const USDC = { contractAddress: '0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913', symbol: 'USDC', decimals: 6 };
const ETH = { contractAddress: NATIVE_TOKEN, symbol: 'ETH', decimals: 18 };
const ONE_ETH = 10n ** 18n;

let credentials: CdpTestCredentials;
let cdp: FakeCdp;
let h: Harness;
const vault = new Vault([{ id: 'k1', key: randomBytes(32) }]);

beforeAll(async () => {
  credentials = cdpTestCredentials();
  cdp = await FakeCdp.start({ credentials });
  cdp.addToken('base', USDC);
  cdp.setRate('base', NATIVE_TOKEN, USDC.contractAddress, '3000');
  cdp.setRate('base', USDC.contractAddress, NATIVE_TOKEN, '0.00033');
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
  // The operator's wallet secret lives in the vault, as `arbion secrets set cdp-wallet-secret` stores it.
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
  const linking = h.arbion.linking;
  if (linking === undefined) throw new Error('linking is not wired');
  const userId = await userIdOf(user);
  const outcome = await linking.services.connections.saveKeys({
    userId,
    provider: 'cdp_wallet',
    values: { network: 'base' },
  });
  if (outcome.kind !== 'saved') throw new Error(`wallet not linked: ${JSON.stringify(outcome)}`);
  const account = await h.test.database.prisma.brokerAccount.findFirstOrThrow({
    where: { connection: { userId, provider: 'cdp_wallet', status: 'active' } },
  });
  return account.externalId;
}

function cardFields(): Record<string, string> {
  const card = h.channel.lastCard();
  if (card?.message?.kind !== 'card') throw new Error(`no card: ${h.channel.texts().at(-1)}`);
  return Object.fromEntries(card.message.card.fields.map((field) => [field.label, field.value]));
}

/** Presses Confirm on the last card (twice when asked); returns what the chat said after. */
async function confirmLastCard(user: string, presses = 1): Promise<string[]> {
  const card = h.channel.lastCard();
  if (card?.message?.kind !== 'card') throw new Error(`no card: ${h.channel.texts().at(-1)}`);
  const confirm = card.message.card.actions.find((action) => action.id.startsWith('confirm:'));
  if (confirm === undefined) throw new Error('the card has no confirm button');
  const before = h.channel.texts().length;
  await Promise.all(Array.from({ length: presses }, () => h.press(user, confirm.id, card.messageId)));
  return h.channel.texts().slice(before);
}

/** Background passes until the chat says `pattern` (the fake lands an operation after a poll). */
async function followUntil(pattern: RegExp): Promise<string> {
  const before = h.channel.texts().length;
  for (let pass = 0; pass < 5; pass++) {
    h.clock.now = new Date(h.clock.now.getTime() + 1_000);
    await h.arbion.runBackgroundPass();
    const said = h.channel.texts().slice(before).join('\n');
    if (pattern.test(said)) return said;
  }
  throw new Error(`never said ${pattern}: ${h.channel.texts().slice(before).join(' | ')}`);
}

describe('swaps on the Coinbase smart wallet', () => {
  it('asks for a wallet first', async () => {
    await h.say('nora', 'swap 0.1 ETH to USDC on base');
    expect(h.channel.texts().at(-1)).toMatch(/no smart wallet yet.*link wallet/);
    await h.say('nora', 'my wallet');
    expect(h.channel.texts().at(-1)).toMatch(/no smart wallet yet/);
    expect(cdp.userOperations()).toHaveLength(0);
  });

  it('swaps 0.1 ETH to USDC on base: card, one user operation on a double confirm, completion told', async () => {
    const first = await linkWallet('sam');
    expect(first).toMatch(/^0x[0-9a-fA-F]{40}$/);
    // Unlinked and linked again, the same wallet comes back (its names derive from the user id).
    const linked = await h.test.database.prisma.brokerConnection.findFirstOrThrow({
      where: { userId: await userIdOf('sam'), provider: 'cdp_wallet', status: 'active' },
    });
    await h.arbion.linking?.services.connections.unlink(linked.userId, linked.id);
    const smart = await linkWallet('sam');
    expect(smart).toBe(first);
    cdp.setBalance('base', smart, ETH, ONE_ETH.toString());

    await h.say('sam', 'swap 0.1 ETH to USDC on base');
    const fields = cardFields();
    expect(fields).toMatchObject({
      Swap: '0.1 ETH → USDC on Base',
      Rate: '1 ETH = 3000 USDC',
      'You receive': '≈ 300 USDC',
      'Minimum received': '297 USDC (slippage 1%)',
      Gas: 'Sponsored: you pay no gas',
      Value: '≈ $300.00',
    });
    expect(cdp.userOperations()).toHaveLength(0);

    const said = await confirmLastCard('sam', 2);
    expect(said.join('\n')).toMatch(/Swap sent on Base: 0\.1 ETH → USDC/);
    expect(cdp.userOperations()).toHaveLength(1);
    const [operation] = cdp.userOperations();
    expect(operation).toMatchObject({ network: 'base', smartAccount: smart, sponsored: true });
    // Native ETH needs no approval: one call, the swap.
    expect(operation?.calls).toHaveLength(1);

    expect(await followUntil(/Swap complete/)).toMatch(
      /Swap complete on Base: 0\.1 ETH for at least 297 USDC/,
    );
    expect(cdp.balance('base', smart, USDC.contractAddress)).toBe((300n * 10n ** 6n).toString());
    expect(cdp.balance('base', smart, NATIVE_TOKEN)).toBe(((ONE_ETH * 9n) / 10n).toString());
    await h.say('sam', 'wallet');
    const shown = h.channel.texts().at(-1) ?? '';
    expect(shown).toContain(`Smart wallet ${smart}`);
    expect(shown).toContain('  base: 0.9 ETH, 300 USDC');
    expect(shown).toContain('  ethereum: empty');
    expect(shown).toMatch(/ {2}arbitrum: not listed by Coinbase/);
    const userId = await userIdOf('sam');
    const orders = await h.test.database.prisma.order.findMany({ where: { intent: { userId } } });
    expect(orders).toHaveLength(1);
    expect(orders[0]).toMatchObject({
      provider: 'cdp_wallet',
      status: 'filled',
      brokerOrderId: operation?.userOpHash,
    });
    expect(cdp.userOperations()).toHaveLength(1);
  });

  it('batches the Permit2 approval with an ERC-20 swap into one user operation', async () => {
    const smart = await linkWallet('uma');
    cdp.setBalance('base', smart, USDC, (500n * 10n ** 6n).toString());
    const before = cdp.userOperations().length;
    // No network named: the one chosen when linking (base).
    await h.say('uma', 'swap 100 USDC to ETH with 0.5% slippage');
    expect(cardFields()).toMatchObject({
      Swap: '100 USDC → ETH on Base',
      'Minimum received': expect.stringMatching(/ ETH \(slippage 0\.5%\)$/),
    });
    await confirmLastCard('uma');
    const operation = cdp.userOperations()[before];
    expect(operation?.calls).toHaveLength(2);
    expect(operation?.calls[0]?.to.toLowerCase()).toBe(USDC.contractAddress.toLowerCase());
    await followUntil(/Swap complete/);
    expect(cdp.balance('base', smart, USDC.contractAddress)).toBe((400n * 10n ** 6n).toString());
  });

  it('reports a failed user operation and keeps the tokens', async () => {
    const smart = await linkWallet('finn');
    cdp.setBalance('base', smart, ETH, ONE_ETH.toString());
    await h.say('finn', 'swap 0.2 ETH to USDC');
    cdp.failNextUserOperation('execution reverted: too little received');
    await confirmLastCard('finn');
    const said = await followUntil(/swap failed/);
    expect(said).toMatch(/The swap failed: the operation failed on chain.*Your ETH stayed in your wallet/);
    expect(cdp.balance('base', smart, NATIVE_TOKEN)).toBe(ONE_ETH.toString());
    const userId = await userIdOf('finn');
    const intent = await h.test.database.prisma.tradeIntent.findFirstOrThrow({ where: { userId } });
    expect(intent.status).toBe('rejected');
  });

  it('refuses before any card: more than the wallet holds, an unknown token, no swaps on a testnet', async () => {
    const smart = await linkWallet('ivy');
    cdp.setBalance('base', smart, ETH, (ONE_ETH / 2n).toString());
    const before = cdp.userOperations().length;
    await h.say('ivy', 'swap 5 ETH to USDC on base');
    expect(h.channel.texts().at(-1)).toMatch(/^I can't swap that: .*Your wallet holds 0\.5 ETH on Base\./);
    await h.say('ivy', 'swap 0.1 ETH to SHIB on base');
    expect(h.channel.texts().at(-1)).toMatch(/SHIB is not a token I swap on base/);
    await h.say('ivy', 'swap 0.1 ETH to USDC on base-sepolia');
    expect(h.channel.texts().at(-1)).toMatch(/no swaps on base-sepolia/);
    expect(
      h.channel
        .texts()
        .slice(-3)
        .every((text) => text.endsWith('Nothing was sent.')),
    ).toBe(true);
    expect(cdp.userOperations()).toHaveLength(before);
  });

  it('lists the balances it can read: a zero one is no holding, a malformed one is skipped', async () => {
    const smart = await linkWallet('lena');
    cdp.setBalance('base', smart, ETH, (ONE_ETH / 2n).toString());
    // A token once held is listed at "0"; CDP's documentation allows no null amount.
    cdp.setBalance('base', smart, USDC, '0');
    cdp.listRawBalance('base', smart, {
      amount: { amount: null, decimals: 18 },
      token: { network: 'base', contractAddress: '0x4200000000000000000000000000000000000006' },
    });
    cdp.listRawBalance('base', smart, { amount: { amount: '5', decimals: 0 }, token: null });
    await h.say('lena', 'wallet');
    const shown = h.channel.texts().at(-1) ?? '';
    expect(shown).toContain('  base: 0.5 ETH\n');
    await h.say('lena', 'swap 0.1 ETH to USDC on base');
    expect(cardFields()).toMatchObject({ Swap: '0.1 ETH → USDC on Base' });
  });

  it('says so plainly when Coinbase refuses our credentials, and sends nothing', async () => {
    await linkWallet('rex');
    const before = cdp.userOperations().length;
    cdp.revokeKey(credentials.apiKeyId);
    await h.say('rex', 'swap 0.1 ETH to USDC on base');
    expect(h.channel.texts().at(-1)).toBe(
      "I can't swap that: Coinbase's wallet service refused this server's credentials (the operator must check the CDP API key). Nothing was sent.",
    );
    expect(cdp.requests().some((request) => request.auth === 'rejected')).toBe(true);
    expect(cdp.userOperations()).toHaveLength(before);
  });
});
