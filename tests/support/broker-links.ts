/**
 * A chat user linking Schwab, E*TRADE, Alpaca or Coinbase as the linking page does (OAuth 2.0 at
 * the fake provider, OAuth 1.0a with the verifier the fake shows, API keys tried at the fake) and
 * switching to it with "go live" and its confirmation: the steps a test needs before trading
 * through a broker's fake from chat.
 */
import type { KeyObject } from 'node:crypto';
import type { OAuth2Linking } from '../../src/core/linking/providers.js';
import type { FakeAlpaca, FakeAlpacaKey } from '../fakes/alpaca/fake-alpaca.js';
import type { FakeCoinbase } from '../fakes/coinbase/fake-coinbase.js';
import type { FakeOAuth1Provider } from '../fakes/oauth1-provider/fake-oauth1-provider.js';
import type { FakeOAuth2Provider } from '../fakes/oauth2-provider/fake-oauth2-provider.js';
import { ADDRESS, type Harness } from './arbion-harness.js';

function services(h: Harness) {
  const linking = h.arbion.linking;
  if (linking === undefined) throw new Error('linking is not wired');
  return linking.services;
}

/** The user's id, after a first message makes them known. */
export async function userIdOf(h: Harness, user: string): Promise<string> {
  await h.say(user, 'balance');
  const identity = await h.test.database.prisma.channelIdentity.findFirstOrThrow({
    where: { platformUserId: user },
  });
  return identity.userId;
}

/** A linking-page session for the user, as opening their chat link creates. */
async function webSession(h: Harness, user: string): Promise<{ id: string; userId: string }> {
  const userId = await userIdOf(h, user);
  const { url } = await services(h).linkTokens.issue(userId, ADDRESS);
  const redeemed = await services(h).linkTokens.redeem(url.split('/').pop() ?? '');
  if (redeemed.kind !== 'redeemed') throw new Error(`link not redeemed: ${redeemed.kind}`);
  const { token } = await services(h).sessions.open(userId, redeemed.linkTokenId);
  const session = await services(h).sessions.authenticate(token);
  if (session === undefined) throw new Error('no session');
  return { id: session.id, userId };
}

export async function linkSchwab(h: Harness, oauth: FakeOAuth2Provider, user: string): Promise<void> {
  const session = await webSession(h, user);
  const provider = services(h).catalog.get('schwab');
  const flow = services(h).oauth2('schwab');
  if (provider === undefined || flow === undefined) throw new Error('schwab is not configured');
  const redirectUri = (provider.linking as OAuth2Linking).spec.redirectUris[0] ?? '';
  const authorize = await flow.start({ userId: session.userId, webSessionId: session.id, redirectUri });
  const callbackUrl = await oauth.approve(authorize);
  const { tokens } = await flow.complete({ callbackUrl, webSessionId: session.id });
  await services(h).connections.storeOAuth2(session.userId, provider, tokens);
}

export async function linkEtrade(h: Harness, etrade: FakeOAuth1Provider, user: string): Promise<void> {
  const session = await webSession(h, user);
  const provider = services(h).catalog.get('etrade');
  const flow = services(h).oauth1('etrade');
  if (provider === undefined || flow === undefined) throw new Error('etrade is not configured');
  const { state, authorizeUrl } = await flow.begin({ userId: session.userId, webSessionId: session.id });
  const verifier = etrade.authorize(authorizeUrl.searchParams.get('token') ?? '');
  const { tokens } = await flow.complete({ state, webSessionId: session.id, verifier });
  await services(h).connections.storeOAuth1(session.userId, provider, tokens, undefined);
}

/** Links Alpaca paper keys, registered at the fake first. */
export async function linkAlpaca(
  h: Harness,
  alpaca: FakeAlpaca,
  user: string,
  key: FakeAlpacaKey,
): Promise<void> {
  alpaca.addKey(key);
  const outcome = await services(h).connections.saveKeys({
    userId: await userIdOf(h, user),
    provider: 'alpaca',
    values: { environment: 'paper', keyId: key.keyId, secretKey: key.secretKey },
  });
  if (outcome.kind !== 'saved') throw new Error(`alpaca keys not saved: ${JSON.stringify(outcome)}`);
}

/**
 * Links a Coinbase CDP key, registered at the fake first. The linking page tries the key with a
 * JWT signed on the wall clock, so the fake must be on it (its default) until this returns.
 */
export async function linkCoinbase(
  h: Harness,
  coinbase: FakeCoinbase,
  user: string,
  key: { readonly name: string; readonly privateKey: KeyObject },
): Promise<void> {
  coinbase.addKey(key.name, key.privateKey);
  const outcome = await services(h).connections.saveKeys({
    userId: await userIdOf(h, user),
    provider: 'coinbase',
    values: {
      keyName: key.name,
      privateKey: key.privateKey.export({ type: 'sec1', format: 'pem' }).toString(),
    },
  });
  if (outcome.kind !== 'saved') throw new Error(`coinbase key not saved: ${JSON.stringify(outcome)}`);
}

/** "go live on X" and "confirm live X"; returns what the chat said. */
export async function goLive(h: Harness, user: string, provider: string): Promise<string[]> {
  const before = h.channel.texts().length;
  await h.say(user, `go live on ${provider}`);
  await h.say(user, `confirm live ${provider}`);
  return h.channel.texts().slice(before);
}
