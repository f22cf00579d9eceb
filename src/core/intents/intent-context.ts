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

/** Placements running in this process, counted (concurrent presses of one card each enter). */
export class RunningPlacements {
  private readonly running = new Map<string, number>();

  enter(intentId: string): void {
    this.running.set(intentId, (this.running.get(intentId) ?? 0) + 1);
  }

  leave(intentId: string): void {
    const left = (this.running.get(intentId) ?? 1) - 1;
    if (left <= 0) this.running.delete(intentId);
    else this.running.set(intentId, left);
  }

  has(intentId: string): boolean {
    return this.running.has(intentId);
  }
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
  /** This process (core/processes): the work it holds carries this id. */
  readonly processId: string;
  /**
   * Intents whose placement is running in this process right now. A placement this process holds
   * that is not among them was cut short (a database outage, an unclear answer) and is resumed at
   * once, not after a minute.
   */
  readonly placing: RunningPlacements;
  /** "Now" for every decision: never the wall clock or the database's now(). */
  readonly clock: () => Date;
}

/** A card's deadline from `now`. */
export function expiryFrom(context: Pick<IntentContext, 'settings'>, now: Date): Date {
  return new Date(now.getTime() + context.settings.confirmationTtlSeconds * 1000);
}
