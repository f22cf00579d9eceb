/** Alpaca's client for a connection linked with API keys (paper or live keys). */
import type { BrokerFactory } from '../broker-factory.js';
import { AlpacaBroker } from './alpaca-broker.js';

export const alpacaFactory: BrokerFactory = ({ credentials, brokers, options, notSetUp }) => {
  if (credentials?.kind !== 'keys') throw notSetUp();
  const environment = credentials.values.environment === 'live' ? 'live' : 'paper';
  const broker = new AlpacaBroker({
    ...options,
    keyId: credentials.values.keyId ?? '',
    secretKey: credentials.values.secretKey ?? '',
    environment,
    baseUrl: environment === 'live' ? brokers.alpaca.liveApiBase : brokers.alpaca.paperApiBase,
  });
  return {
    broker,
    http: broker.http,
    realMoney: environment === 'live',
    listAccounts: async () => {
      const account = await broker.getAccount();
      return [
        {
          externalId: account.account_number,
          displayNumber: account.account_number.slice(-4),
          accountType: environment,
        },
      ];
    },
  };
};
