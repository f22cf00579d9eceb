/**
 * The factory of every broker that is linked through a connection, by provider. Adding a broker
 * means writing its `src/brokers/<name>/factory.ts` and one line here; the paper broker is built
 * once by the runtime, not from a connection.
 */
import type { BrokerProvider } from '../core/brokers/broker.js';
import { alpacaFactory } from './alpaca/factory.js';
import type { BrokerFactory } from './broker-factory.js';
import { cdpWalletFactory } from './cdp-wallet/factory.js';
import { coinbaseFactory } from './coinbase/factory.js';
import { etradeFactory } from './etrade/factory.js';
import { schwabFactory } from './schwab/factory.js';

/** The providers whose clients are built from a linked connection. */
export type LinkedProvider = Exclude<BrokerProvider, 'paper'>;

export const brokerFactories: Readonly<Record<LinkedProvider, BrokerFactory>> = {
  schwab: schwabFactory,
  etrade: etradeFactory,
  alpaca: alpacaFactory,
  coinbase: coinbaseFactory,
  cdp_wallet: cdpWalletFactory,
};

/**
 * Providers whose accounts are token wallets: swaps go there, whatever account orders go to. The
 * core asks for this list (`AccountDefaults.walletProviders`), never for a provider by name.
 */
export const TOKEN_WALLET_PROVIDERS: readonly LinkedProvider[] = ['cdp_wallet'];

/** The factory for a provider; undefined for the paper broker (and any provider without one). */
export function brokerFactoryFor(provider: BrokerProvider): BrokerFactory | undefined {
  return Object.hasOwn(brokerFactories, provider) ? brokerFactories[provider as LinkedProvider] : undefined;
}
