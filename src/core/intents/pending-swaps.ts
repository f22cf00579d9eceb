/**
 * What the user's swaps still in flight will take from the smart wallet. A swap confirmed, being
 * placed or placed holds the tokens it gives up until its user operation lands; the wallet's
 * balance shows nothing of it before then, so a second swap checked against the balance alone
 * could spend the same tokens twice.
 *
 * Once the operation lands, the balance already shows it, though our intent may still read placed
 * until the order tracker follows it: so each placed swap is asked about at the wallet, and only
 * those not landed are counted. A swap with no broker order id yet (being placed) is counted.
 * Read this before the wallet's balance: a swap that lands in between is then counted twice (the
 * new swap refused, to be safe), never missed.
 */
import type { Broker, OrderStatus } from '../brokers/broker.js';
import { Prisma } from '../db/database.js';
import type { IntentStatus } from '../db/generated/enums.js';
import { Decimal } from '../domain/values.js';
import type { Logger } from '../logging/logger.js';
import { swapOf } from './swaps.js';

/** A swap's intent in these statuses may still take its tokens: confirmed, being placed, placed. */
const IN_FLIGHT: readonly IntentStatus[] = ['confirmed', 'submitting', 'submitted', 'partially_filled'];

/** Order statuses after which a swap takes nothing more: landed (the balance shows it) or not at all. */
const SETTLED: readonly OrderStatus[] = ['filled', 'rejected', 'cancelled', 'expired'];

/** What pending swaps hold of one token on one network. */
export interface SwapHold {
  readonly network: string;
  /** The token given up (upper case). */
  readonly token: string;
  /** Whole tokens the pending swaps will take. */
  readonly quantity: Decimal;
  /** How many pending swaps hold it. */
  readonly swaps: number;
}

/** The user's pending swaps, summed per network and token. */
export class PendingSwaps {
  constructor(
    /** One entry per network and token, in the order first met. */
    readonly holds: readonly SwapHold[],
  ) {}

  /** What pending swaps hold of `token` on `network` (nothing: a zero quantity and no swaps). */
  of(network: string, token: string): SwapHold {
    const wanted = token.toUpperCase();
    return (
      this.holds.find((hold) => hold.network === network && hold.token === wanted) ?? {
        network,
        token: wanted,
        quantity: new Decimal(0),
        swaps: 0,
      }
    );
  }
}

export interface PendingSwapsRequest {
  readonly userId: string;
  /** The wallet's address at the broker: where its operations are asked about. */
  readonly walletExternalId: string;
  readonly broker: Pick<Broker, 'getOrder'>;
  /** The intent being checked (at execution): never a hold on itself. */
  readonly excludingIntentId?: string;
}

/**
 * The user's pending swaps: one query (most users have none, and then nothing is asked of the
 * wallet), then one status question per placed swap whose order row is not settled yet.
 */
export async function pendingSwaps(
  deps: { readonly prisma: Prisma.TransactionClient; readonly logger: Logger },
  request: PendingSwapsRequest,
): Promise<PendingSwaps> {
  const intents = await deps.prisma.tradeIntent.findMany({
    where: {
      userId: request.userId,
      status: { in: [...IN_FLIGHT] },
      swap: { not: Prisma.DbNull },
      ...(request.excludingIntentId === undefined ? {} : { id: { not: request.excludingIntentId } }),
    },
    select: {
      id: true,
      symbol: true,
      quantity: true,
      swap: true,
      orders: {
        select: { brokerOrderId: true, status: true, brokerAccount: { select: { externalId: true } } },
        orderBy: { createdAt: 'desc' },
        take: 1,
      },
    },
  });
  if (intents.length === 0) return new PendingSwaps([]);
  const holding = await Promise.all(
    intents.map(async (intent) => ((await stillHolds(deps, request, intent)) ? intent : undefined)),
  );
  return new PendingSwaps(sumByNetworkAndToken(holding.flatMap((intent) => intent ?? [])));
}

type PendingIntent = {
  readonly id: string;
  readonly symbol: string;
  readonly quantity: { toString(): string } | null;
  readonly swap: Prisma.JsonValue;
  readonly orders: readonly {
    readonly brokerOrderId: string | null;
    readonly status: OrderStatus;
    readonly brokerAccount: { readonly externalId: string } | null;
  }[];
};

/**
 * Whether a pending swap still holds its tokens: yes until the wallet says it landed or failed.
 * A question the wallet cannot answer counts it (fails closed).
 */
async function stillHolds(
  deps: { readonly logger: Logger },
  request: PendingSwapsRequest,
  intent: PendingIntent,
): Promise<boolean> {
  const order = intent.orders[0];
  if (order === undefined || order.brokerOrderId === null) return true;
  if (SETTLED.includes(order.status)) return false;
  const account = order.brokerAccount?.externalId ?? request.walletExternalId;
  try {
    const reported = await request.broker.getOrder(account, order.brokerOrderId);
    return reported === undefined || !SETTLED.includes(reported.status);
  } catch (error) {
    deps.logger.warn(
      { err: error, intentId: intent.id },
      'could not ask the wallet about a pending swap; counting it as pending',
    );
    return true;
  }
}

function sumByNetworkAndToken(intents: readonly PendingIntent[]): SwapHold[] {
  const holds = new Map<string, SwapHold>();
  for (const intent of intents) {
    const swap = swapOf(intent);
    if (swap === undefined) continue;
    const token = intent.symbol.toUpperCase();
    const key = `${swap.network}|${token}`;
    const before = holds.get(key);
    const quantity = new Decimal(intent.quantity?.toString() ?? '0');
    holds.set(key, {
      network: swap.network,
      token,
      quantity: (before?.quantity ?? new Decimal(0)).add(quantity),
      swaps: (before?.swaps ?? 0) + 1,
    });
  }
  return [...holds.values()];
}
