/**
 * Placing an E*TRADE order exactly once, and finding it again when the answer was lost.
 *
 * Orders are previewed, then placed with the same body plus the preview's ids (E*TRADE refuses a
 * place without a matching preview). Failures before the place is sent mean nothing was placed.
 *
 * E*TRADE keeps our `clientOrderId` (it refuses a duplicate) but never shows it in any answer, so
 * a place with an unknown outcome (timeout after sending, reset, 5xx, an unreadable answer) cannot
 * be looked up by it. Like Schwab's, it is never sent again: we look for the order among the
 * account's recent orders by its content (./reconcile.ts): found → that is the order; not found
 * → look once more after a short wait (E*TRADE may list it late); still not found, or several
 * candidates → a `BrokerUnreachableError` (outcome unknown, nothing resent). The caller decides.
 *
 * Orders this instance placed or found are remembered (client order id ↔ E*TRADE order id), so
 * `findOrderByClientOrderId` knows them and reconciliation never claims them for another intent.
 */
import {
  type BrokerOrder,
  BrokerRejectedError,
  BrokerUnreachableError,
  type PlaceOrderRequest,
} from '../../core/brokers/broker.js';
import type { Decimal } from '../../core/domain/values.js';
import type { Logger } from '../../core/logging/logger.js';
import { occSymbol } from '../../core/market-data/providers/options.js';
import { notSentOnFailure } from '../placement-search.js';
import { isDuplicateClientOrderId } from './etrade-errors.js';
import type { EtradeBrokerOptions, EtradeCall } from './etrade-session.js';
import {
  acceptedAsSent,
  etradeOrderBody,
  optionContractOf,
  optionEffectFor,
  toBrokerOrder,
} from './order-json.js';
import { type EtradeOrderList, ordersPath } from './order-list.js';
import {
  findPlacement,
  fingerprintEitherEffect,
  fingerprintOf,
  type PlacementFingerprint,
  reconcileWindow,
} from './reconcile.js';
import {
  type EtradeListedOrder,
  type EtradeOrderBody,
  placeResponseSchema,
  previewResponseSchema,
} from './schemas.js';

/** Wait before the second look for an order that was not listed yet. */
export const RECHECK_DELAY_MS = 3_000;

export interface PlacementDependencies {
  readonly call: EtradeCall;
  readonly orders: EtradeOrderList;
  readonly sleep: (ms: number) => Promise<void>;
  readonly now: () => Date;
  readonly logger: Logger | undefined;
  readonly knownOrderIds: EtradeBrokerOptions['knownOrderIds'];
  /** The account's signed position in an option contract (our OCC symbol): opens or closes. */
  readonly heldQuantity: (accountId: string, symbol: string) => Promise<Decimal>;
}

/** A placement ready to send, or one this instance already made. */
type Prepared =
  | { readonly kind: 'known'; readonly order: BrokerOrder }
  | { readonly kind: 'ready'; readonly body: EtradeOrderBody; readonly previewIds: { previewId: number }[] };

/** Marks the "several matching orders" refusal so it is passed on as it is, not wrapped. */
const SEVERAL = Symbol('several matching orders');

export class EtradePlacements {
  /** `${accountIdKey}|${clientOrderId}` → E*TRADE order id, for orders placed or found here. */
  private readonly placed = new Map<string, string>();
  /** E*TRADE order id → our client order id (the reverse of `placed`). */
  private readonly clientOrderIds = new Map<string, string>();

  constructor(private readonly deps: PlacementDependencies) {}

  /** Previews and places `request` once; see the module comment for an unknown outcome. */
  async place(request: PlaceOrderRequest): Promise<BrokerOrder> {
    const prepared = await this.prepare(request);
    if (prepared.kind === 'known') return prepared.order;
    const { body, previewIds } = prepared;
    const sentAt = this.deps.now();
    let answer: { orderId: string; placedAt: Date };
    try {
      const { data } = await this.deps.call({
        method: 'POST',
        path: `${ordersPath(request.accountId)}/place`,
        body: { PlaceOrderRequest: { ...body, PreviewIds: previewIds } },
        schema: placeResponseSchema,
        idempotent: false,
      });
      const [first] = data.PlaceOrderResponse.OrderIds;
      answer = { orderId: String(first?.orderId), placedAt: data.PlaceOrderResponse.placedTime ?? sentAt };
    } catch (error) {
      if (isDuplicateClientOrderId(error)) throw duplicateRefusal(error);
      if (!(error instanceof BrokerUnreachableError)) throw error;
      return this.settleAmbiguous(request, fingerprintOf(body), sentAt, error);
    }
    this.remember(request.accountId, request.clientOrderId, answer.orderId);
    return this.readBack(request, body, answer.orderId, answer.placedAt);
  }

  /**
   * Our order among the account's recent orders, for a place whose outcome is unknown (from any
   * process, after a restart): one look, no wait (the caller looks again later). `sentAt` is when
   * the place was sent, by our clock. Undefined when no unattributed order matches.
   * @throws BrokerUnreachableError when several orders match (none is claimed)
   */
  async reconcile(request: PlaceOrderRequest, sentAt: Date): Promise<BrokerOrder | undefined> {
    const known = this.placed.get(placedKey(request.accountId, request.clientOrderId));
    if (known !== undefined) {
      const listed = await this.deps.orders.byId(request.accountId, known);
      if (listed !== undefined) return toBrokerOrder(listed, request.clientOrderId);
    }
    let body: EtradeOrderBody;
    try {
      body = etradeOrderBody(request, 'open');
    } catch (error) {
      // An order E*TRADE could never take was never sent (we refuse it before sending).
      if (error instanceof BrokerRejectedError) return undefined;
      throw error;
    }
    const found = await this.lookForPlacement(request, fingerprintEitherEffect(body), sentAt);
    return found === undefined ? undefined : toBrokerOrder(found, request.clientOrderId);
  }

  /**
   * Only orders this instance placed or found: E*TRADE never shows client order ids, so "not
   * known here" says nothing about whether it was placed (`reconcile` looks for it).
   */
  async findByClientOrderId(accountId: string, clientOrderId: string): Promise<BrokerOrder | undefined> {
    const orderId = this.placed.get(placedKey(accountId, clientOrderId));
    if (orderId === undefined) return undefined;
    const listed = await this.deps.orders.byId(accountId, orderId);
    return listed === undefined ? undefined : toBrokerOrder(listed, clientOrderId);
  }

  /** Our client order id for an E*TRADE order placed or found here ('' when unknown). */
  clientOrderIdOf(orderId: string): string {
    return this.clientOrderIds.get(orderId) ?? '';
  }

  // ------------------------------------------------------------------ internals

  /**
   * Everything before the place: the body (refused locally when E*TRADE would refuse it), the
   * option's effect, the preview. A failure here means nothing was placed; a duplicate client
   * order id means an order exists and its outcome is for reconciliation to tell.
   */
  private async prepare(request: PlaceOrderRequest): Promise<Prepared> {
    etradeOrderBody(request, 'open');
    const known = await this.knownPlacement(request);
    if (known !== undefined) return { kind: 'known', order: known };
    try {
      return await notSentOnFailure('etrade', 'E*TRADE', async () => {
        const effect =
          request.assetClass === 'option'
            ? optionEffectFor(
                request.side,
                await this.deps.heldQuantity(request.accountId, optionSymbolOf(request)),
              )
            : 'open';
        const body = etradeOrderBody(request, effect);
        return { kind: 'ready', body, previewIds: await this.preview(request.accountId, body) };
      });
    } catch (error) {
      if (isDuplicateClientOrderId(error)) throw duplicateRefusal(error);
      throw error;
    }
  }

  /**
   * The order this instance already placed for the client order id, read again; it is never
   * placed twice, so when it cannot be read its state is unknown (not "nothing placed").
   */
  private async knownPlacement(request: PlaceOrderRequest): Promise<BrokerOrder | undefined> {
    const orderId = this.placed.get(placedKey(request.accountId, request.clientOrderId));
    if (orderId === undefined) return undefined;
    const listed = await this.deps.orders.byId(request.accountId, orderId).catch(() => undefined);
    if (listed === undefined) {
      throw new BrokerUnreachableError(
        'etrade',
        `This order was placed before (E*TRADE order ${orderId}) and cannot be read right now; it is not sent again.`,
      );
    }
    return toBrokerOrder(listed, request.clientOrderId);
  }

  /** Previewing changes nothing at E*TRADE, so it may be repeated after an unknown outcome. */
  private async preview(accountId: string, body: EtradeOrderBody): Promise<{ previewId: number }[]> {
    const { data } = await this.deps.call({
      method: 'POST',
      path: `${ordersPath(accountId)}/preview`,
      body: { PreviewOrderRequest: body },
      schema: previewResponseSchema,
      idempotent: true,
    });
    return data.PreviewOrderResponse.PreviewIds.map(({ previewId }) => ({ previewId }));
  }

  /** After a place failed ambiguously: look, wait, look again; never place again. */
  private async settleAmbiguous(
    request: PlaceOrderRequest,
    fingerprint: PlacementFingerprint,
    sentAt: Date,
    placementError: BrokerUnreachableError,
  ): Promise<BrokerOrder> {
    const logged = { provider: 'etrade', clientOrderId: request.clientOrderId };
    for (let look = 1; look <= 2; look++) {
      if (look === 2) await this.deps.sleep(RECHECK_DELAY_MS);
      let found: EtradeListedOrder | undefined;
      try {
        found = await this.lookForPlacement(request, fingerprint, sentAt);
      } catch (lookupError) {
        if (lookupError instanceof BrokerUnreachableError && lookupError.cause === SEVERAL) throw lookupError;
        throw new BrokerUnreachableError(
          'etrade',
          'E*TRADE did not confirm the order, and looking for it failed: it may or may not have been placed. Nothing was resent.',
          { cause: new AggregateError([placementError, lookupError]) },
        );
      }
      if (found !== undefined) {
        this.deps.logger?.info(
          { ...logged, orderId: found.orderId, look },
          'found the order after an ambiguous placement',
        );
        return toBrokerOrder(found, request.clientOrderId);
      }
    }
    this.deps.logger?.warn(logged, 'ambiguous placement not listed after two looks; outcome unknown');
    throw new BrokerUnreachableError(
      'etrade',
      "E*TRADE did not confirm the order, and it is not among the account's recent orders yet (looked twice). Its outcome is unknown; nothing was resent.",
      { cause: placementError },
    );
  }

  /** The single unattributed recent order matching the placement; remembered as this intent's. */
  private async lookForPlacement(
    request: PlaceOrderRequest,
    fingerprint: PlacementFingerprint,
    sentAt: Date,
  ): Promise<EtradeListedOrder | undefined> {
    const attributed = await this.attributedElsewhere(request);
    const recent = await this.deps.orders.all(request.accountId, reconcileWindow(sentAt, this.deps.now()));
    const outcome = findPlacement(recent, fingerprint, sentAt, attributed);
    if (outcome.kind === 'none') return undefined;
    if (outcome.kind === 'several') {
      this.deps.logger?.warn(
        { provider: 'etrade', clientOrderId: request.clientOrderId, orderIds: outcome.orderIds },
        'several E*TRADE orders match an ambiguous placement; claiming none',
      );
      throw new BrokerUnreachableError(
        'etrade',
        `E*TRADE lists ${outcome.orderIds.length} orders (${outcome.orderIds.join(', ')}) that match this one; we cannot tell which is ours. Nothing was resent.`,
        { cause: SEVERAL },
      );
    }
    this.remember(request.accountId, request.clientOrderId, String(outcome.order.orderId));
    return outcome.order;
  }

  /** E*TRADE order ids that belong to other intents: the order store's, and this instance's. */
  private async attributedElsewhere(request: PlaceOrderRequest): Promise<Set<string>> {
    const attributed = new Set<string>((await this.deps.knownOrderIds?.(request.accountId)) ?? []);
    for (const [orderId, clientOrderId] of this.clientOrderIds) {
      if (clientOrderId !== request.clientOrderId) attributed.add(orderId);
    }
    // Our own order, if the store already has it, is still ours to find.
    const own = this.placed.get(placedKey(request.accountId, request.clientOrderId));
    if (own !== undefined) attributed.delete(own);
    return attributed;
  }

  /** The order just placed, as E*TRADE lists it; if it cannot be read yet, accepted as sent. */
  private async readBack(
    request: PlaceOrderRequest,
    body: EtradeOrderBody,
    orderId: string,
    placedAt: Date,
  ): Promise<BrokerOrder> {
    const listed = await this.deps.orders.byId(request.accountId, orderId).catch((error: unknown) => {
      this.deps.logger?.warn(
        { provider: 'etrade', orderId, err: error },
        'placed, but reading the order back failed; reporting it accepted',
      );
      return undefined;
    });
    if (listed !== undefined) return toBrokerOrder(listed, request.clientOrderId);
    return acceptedAsSent(request, body, orderId, placedAt);
  }

  private remember(accountId: string, clientOrderId: string, orderId: string): void {
    this.placed.set(placedKey(accountId, clientOrderId), orderId);
    this.clientOrderIds.set(orderId, clientOrderId);
  }
}

/**
 * E*TRADE refused the client order id as a duplicate: an order with it exists, placed by another
 * attempt we did not see answered. Not a rejection ("nothing placed" would be false) and nothing
 * to send again: its outcome is for reconciliation to find.
 */
function duplicateRefusal(error: unknown): BrokerUnreachableError {
  return new BrokerUnreachableError(
    'etrade',
    'E*TRADE already has an order with this client order id; it was not placed again. Look for it among the recent orders.',
    { cause: error },
  );
}

function placedKey(accountId: string, clientOrderId: string): string {
  return `${accountId}|${clientOrderId}`;
}

/** Our OCC symbol of an option order (what positions are keyed by). */
function optionSymbolOf(request: PlaceOrderRequest): string {
  return occSymbol(optionContractOf(request));
}
