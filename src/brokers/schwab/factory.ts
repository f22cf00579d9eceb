/** Schwab's client for a connection linked by signing in (OAuth 2.0). */
import type { BrokerFactory } from '../broker-factory.js';
import { SchwabBroker } from './schwab-broker.js';

export const schwabFactory: BrokerFactory = ({ connection, brokers, tokens, prisma, options, notSetUp }) => {
  if (brokers.schwab === undefined || tokens === undefined) throw notSetUp();
  const broker = new SchwabBroker({
    ...options,
    apiBase: brokers.schwab.apiBase,
    accessToken: () => tokens.accessToken(connection.connectionId),
    // Schwab refused this token before its expiry: one refresh, shared by everyone it refused.
    refreshAccessToken: (refused) => tokens.accessToken(connection.connectionId, { refused }),
    // Orders already attributed to intents are never claimed by a reconciliation.
    knownOrderIds: async (accountId) => {
      const rows = await prisma.order.findMany({
        where: {
          provider: 'schwab',
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
      (await broker.listAccounts()).map((account) => ({
        externalId: account.hashValue,
        displayNumber: account.accountNumber.slice(-4),
        accountType: undefined,
      })),
  };
};
