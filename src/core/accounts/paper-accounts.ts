/**
 * Opening paper accounts: the port the built-in paper broker implements for `Accounts`, so that
 * core creates every new user's paper account without knowing the paper broker's ledger.
 */
import type { Prisma } from '../db/database.js';

/** A new paper account's ledger, as the user's first message creates it. */
export interface NewPaperAccount {
  /** The ledger's id; it is also the `BrokerAccount`'s `externalId`. */
  readonly ledgerId: string;
  /** The `BrokerAccount` row it belongs to. */
  readonly brokerAccountId: string;
  /** Simulated cash to start with, in dollars. */
  readonly startingCash: string;
}

export interface PaperAccounts {
  /** Opens the ledger inside `tx`, the transaction that creates the user: both exist or neither. */
  open(tx: Prisma.TransactionClient, account: NewPaperAccount): Promise<void>;
}
