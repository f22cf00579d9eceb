/** E*TRADE's client for a connection linked by OAuth 1.0a. */
import type { BrokerFactory } from '../broker-factory.js';
import { EtradeBroker } from './etrade-broker.js';

export const etradeFactory: BrokerFactory = ({ credentials, brokers, options, notSetUp }) => {
  if (brokers.etrade === undefined || credentials?.kind !== 'oauth1') throw notSetUp();
  const broker = new EtradeBroker({
    ...options,
    apiBase: brokers.etrade.apiBase,
    consumerKey: brokers.etrade.consumerKey,
    consumerSecret: brokers.etrade.consumerSecret,
    tokens: async () => ({ token: credentials.token, tokenSecret: credentials.tokenSecret }),
  });
  return {
    broker,
    http: broker.http,
    realMoney: true,
    listAccounts: async () =>
      (await broker.listAccounts())
        .filter((account) => account.accountStatus !== 'CLOSED')
        .map((account) => ({
          externalId: account.accountIdKey,
          displayNumber: account.accountId.slice(-4),
          accountType: account.accountType,
        })),
  };
};
