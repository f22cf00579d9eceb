/** A Coinbase smart wallet (CDP v2) in Arbion's CDP project, one per user. */
import type { BrokerFactory } from '../broker-factory.js';

export const cdpWalletFactory: BrokerFactory = async ({
  connection,
  credentials,
  wallets,
  options,
  logger,
  notSetUp,
}) => {
  // The registry built the wallets first; they stay unbuilt without a wallet secret.
  if (wallets === undefined || credentials?.kind !== 'keys') throw notSetUp();
  // Imported here, not at the top: the broker pulls in viem, which a server without wallets never needs.
  const { CdpWalletBroker } = await import('./cdp-wallet-broker.js');
  const broker = new CdpWalletBroker({
    wallets,
    userId: connection.userId,
    defaultNetwork: credentials.values.network ?? 'base',
    logger: options.logger ?? logger,
  });
  return {
    broker,
    http: broker,
    realMoney: true,
    // Linking creates the smart account at Coinbase (or finds it again after a re-link).
    listAccounts: async () => {
      const address = await broker.accountAddress();
      return [{ externalId: address, displayNumber: address.slice(-4), accountType: 'smart_wallet' }];
    },
  };
};
