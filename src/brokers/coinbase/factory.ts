/** Coinbase's client for a connection linked by signing in (OAuth 2.0) or with a CDP API key. */
import type { BrokerFactory } from '../broker-factory.js';
import { CoinbaseBroker } from './coinbase-broker.js';

export const coinbaseFactory: BrokerFactory = ({
  connection,
  credentials,
  brokers,
  tokens,
  options,
  notSetUp,
}) => {
  // Linked by signing in: the access token is asked for on every request, so a refresh
  // (under the connection's lock: Coinbase's refresh tokens are single use) never makes
  // this client stale.
  if (credentials?.kind === 'oauth2') {
    if (brokers.coinbase.oauth === undefined || tokens === undefined) throw notSetUp();
    const broker = new CoinbaseBroker({
      ...options,
      apiBase: brokers.coinbase.apiBase,
      accessToken: () => tokens.accessToken(connection.connectionId),
    });
    return {
      broker,
      http: broker.http,
      realMoney: true,
      // A sign-in opens the user's default portfolio: it stands for it, as a key for its own.
      listAccounts: async () => {
        await broker.getBalances('portfolio');
        return [{ externalId: 'portfolio', displayNumber: '', accountType: 'crypto' }];
      },
    };
  }
  if (credentials?.kind !== 'keys') throw notSetUp();
  const keyName = credentials.values.keyName ?? '';
  const broker = new CoinbaseBroker({
    ...options,
    apiBase: brokers.coinbase.apiBase,
    credentials: { keyName, privateKey: credentials.values.privateKey ?? '' },
  });
  return {
    broker,
    http: broker.http,
    realMoney: true,
    // A CDP key opens one portfolio: the key stands for it.
    listAccounts: async () => {
      await broker.getBalances('portfolio');
      return [{ externalId: 'portfolio', displayNumber: keyName.slice(-4), accountType: 'crypto' }];
    },
  };
};
