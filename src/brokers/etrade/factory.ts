/** E*TRADE's client for a connection linked by OAuth 1.0a. */
import type { BrokerFactory } from '../broker-factory.js';
import { EtradeBroker } from './etrade-broker.js';

export const etradeFactory: BrokerFactory = ({
  connection,
  credentials,
  brokers,
  prisma,
  options,
  notSetUp,
}) => {
  if (brokers.etrade === undefined || credentials?.kind !== 'oauth1') throw notSetUp();
  const broker = new EtradeBroker({
    ...options,
    apiBase: brokers.etrade.apiBase,
    consumerKey: brokers.etrade.consumerKey,
    consumerSecret: brokers.etrade.consumerSecret,
    tokens: async () => ({ token: credentials.token, tokenSecret: credentials.tokenSecret }),
    // Orders already attributed to intents are never claimed by a reconciliation.
    knownOrderIds: async (accountId) => {
      const rows = await prisma.order.findMany({
        where: {
          provider: 'etrade',
          brokerOrderId: { not: null },
          brokerAccount: { externalId: accountId, connectionId: connection.connectionId },
        },
        select: { brokerOrderId: true },
      });
      return new Set(rows.flatMap((row) => (row.brokerOrderId === null ? [] : [row.brokerOrderId])));
    },
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
