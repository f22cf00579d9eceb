/**
 * The two ids that make "exactly once" hold:
 * - the client order id, derived from the intent id, is the broker-side idempotency key;
 * - the order hash pins the exact order shown on the card, so a confirmation is for that order only.
 */
import { createHash } from 'node:crypto';

/** 20 alphanumerics (E*TRADE's limit), deterministic per intent: retries reuse it. */
export function clientOrderIdFor(intentId: string): string {
  return `A${createHash('sha256').update(`arbion-order:${intentId}`).digest('hex').slice(0, 19).toUpperCase()}`;
}

/** The fields a confirmation covers. Decimal values as canonical strings. */
export interface HashedOrder {
  readonly brokerAccountId: string;
  readonly mode: string;
  readonly side: string;
  readonly assetClass: string;
  readonly symbol: string;
  readonly quantity: string | null;
  readonly notional: string | null;
  readonly orderType: string;
  readonly limitPrice: string | null;
  readonly stopPrice: string | null;
  readonly timeInForce: string;
  readonly option: string | null;
  /** A swap's network, token received, slippage and minimum received; absent for orders. */
  readonly swap?: string | null;
}

/** SHA-256 over the order's fields in a fixed order. */
export function orderHash(order: HashedOrder): string {
  const canonical = JSON.stringify([
    order.brokerAccountId,
    order.mode,
    order.side,
    order.assetClass,
    order.symbol,
    order.quantity,
    order.notional,
    order.orderType,
    order.limitPrice,
    order.stopPrice,
    order.timeInForce,
    order.option,
    // Appended only for swaps, so the hashes of orders stay what they were.
    ...(order.swap ? [order.swap] : []),
  ]);
  return createHash('sha256').update(canonical).digest('hex');
}
