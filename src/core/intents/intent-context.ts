/**
 * What every step of the order path shares: the database, the intent store, market data, the
 * trader's accounts, the broker lookup, the settings and the clock. Built once by `IntentService`.
 */
import type { Accounts } from '../accounts/accounts.js';
import type { BrokerLookup } from '../brokers/broker.js';
import type { Prisma } from '../db/database.js';
import type { Logger } from '../logging/logger.js';
import type { MarketDataProvider } from '../market-data/market-data.js';
import type { IntentStore } from './intent-store.js';

export interface IntentSettings {
  /** How long a card can be confirmed. */
  readonly confirmationTtlSeconds: number;
  /** How far the price may move between card and Confirm before the user is asked again. */
  readonly priceToleranceBps: number;
}

export interface IntentContext {
  /** The database, or the transaction the step runs in (see `transaction`). */
  readonly prisma: Prisma.TransactionClient;
  /**
   * Runs `work` in one database transaction, with a context whose every write is part of it
   * (inside a transaction already: in that one).
   */
  readonly transaction: <T>(work: (inner: IntentContext) => Promise<T>) => Promise<T>;
  readonly store: IntentStore;
  readonly market: MarketDataProvider;
  readonly accounts: Accounts;
  readonly brokerFor: BrokerLookup;
  readonly settings: IntentSettings;
  readonly logger: Logger;
  /** "Now" for every decision: never the wall clock or the database's now(). */
  readonly clock: () => Date;
}

/** A card's deadline from `now`. */
export function expiryFrom(context: Pick<IntentContext, 'settings'>, now: Date): Date {
  return new Date(now.getTime() + context.settings.confirmationTtlSeconds * 1000);
}
