/** How chat messages name each broker. */
import type { BrokerProvider } from '../db/generated/enums.js';

const BROKER_NAMES: Record<BrokerProvider, string> = {
  paper: 'the paper broker',
  schwab: 'Charles Schwab',
  etrade: 'E*TRADE',
  alpaca: 'Alpaca',
  coinbase: 'Coinbase',
  cdp_wallet: 'the Coinbase smart wallet',
};

/** The broker's name as chat messages say it. */
export function brokerName(provider: BrokerProvider): string {
  return BROKER_NAMES[provider];
}
