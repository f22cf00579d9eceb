/**
 * "history" and "fills": the orders a user placed and what became of them, and the executions,
 * newest first, ten to a page, on every account the user traded (PAPER and linked brokers), in
 * the user's time zone.
 */
import { brokerName } from '../brokers/broker.js';
import type { Prisma, PrismaClient } from '../db/database.js';
import { type CalendarPeriod, knownTimeZone, periodStart, shortDateTime } from '../domain/time-zones.js';
import { formatDecimal, formatUsd } from '../domain/values.js';
import { instrumentLabel } from '../intents/instrument-label.js';
import type { QueryCommand } from './commands.js';

export const HISTORY_PAGE_SIZE = 10;

type OrderWithIntent = Prisma.OrderGetPayload<{ include: { intent: true } }>;
type FillWithOrder = Prisma.FillGetPayload<{ include: { order: { include: { intent: true } } } }>;

const PERIOD_WORDS: Record<CalendarPeriod, string> = {
  today: 'today',
  week: 'this week',
  month: 'this month',
};

/** "PAPER", "Charles Schwab LIVE", "Alpaca paper". */
function accountLabel(order: OrderWithIntent): string {
  if (order.provider === 'paper') return 'PAPER';
  return `${brokerName(order.provider)} ${order.intent.mode === 'live' ? 'LIVE' : 'paper'}`;
}

/** What became of an order, in a few words. */
function outcome(order: OrderWithIntent): string {
  const filled = order.filledQuantity.toString();
  const average =
    order.averageFillPrice === null ? '' : ` at ${formatUsd(order.averageFillPrice.toString())}`;
  const partly = order.filledQuantity.isZero() ? '' : `, ${formatDecimal(filled)} filled${average}`;
  switch (order.status) {
    case 'pending':
      return 'being placed';
    case 'accepted':
      return 'working';
    case 'partially_filled':
      return `working${partly}`;
    case 'filled':
      return `filled${average}`;
    case 'cancel_requested':
      return `cancel requested${partly}`;
    case 'cancelled':
      return `cancelled${partly}`;
    case 'expired':
      return `expired${partly}`;
    case 'rejected':
      return `refused${order.rejectReason ? `: ${order.rejectReason}` : ''}`;
    case 'unknown':
      return 'outcome unclear: check it at the broker';
  }
}

function orderSize(order: OrderWithIntent): string {
  if (order.quantity !== null) {
    const unit = order.assetClass === 'option' ? (order.quantity.equals(1) ? ' contract' : ' contracts') : '';
    return `${formatDecimal(order.quantity.toString())}${unit}`;
  }
  return `${formatUsd(order.notional?.toString() ?? '0')} of`;
}

function orderPrices(order: OrderWithIntent): string {
  const prices = [
    order.stopPrice === null ? '' : `stop ${formatUsd(order.stopPrice.toString())}`,
    order.limitPrice === null ? '' : `limit ${formatUsd(order.limitPrice.toString())}`,
  ].filter(Boolean);
  return prices.length === 0 ? ' market' : ` ${prices.join(' ')}`;
}

export class TradeHistory {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly clock: () => Date,
  ) {}

  /** The answer to a `history` or `fills` query. */
  async answer(query: QueryCommand, userId: string): Promise<string> {
    const user = await this.prisma.user.findUnique({ where: { id: userId }, select: { timezone: true } });
    const timeZone = knownTimeZone(user?.timezone);
    const now = this.clock();
    const since = query.period === undefined ? undefined : periodStart(query.period, now, timeZone);
    const page = query.page ?? 1;
    const skip = (page - 1) * HISTORY_PAGE_SIZE;
    const intent = { userId, ...(query.symbol === undefined ? {} : { symbol: query.symbol }) };
    const when = (at: Date) => shortDateTime(at, now, timeZone);
    if (query.query === 'fills') {
      const where: Prisma.FillWhereInput = {
        order: { intent },
        ...(since === undefined ? {} : { filledAt: { gte: since } }),
      };
      const [total, fills] = await Promise.all([
        this.prisma.fill.count({ where }),
        this.prisma.fill.findMany({
          where,
          include: { order: { include: { intent: true } } },
          orderBy: [{ filledAt: 'desc' }, { id: 'desc' }],
          skip,
          take: HISTORY_PAGE_SIZE,
        }),
      ]);
      return this.page(
        query,
        total,
        fills.map((fill) => this.fillLine(fill, when)),
      );
    }
    const where: Prisma.OrderWhereInput = {
      intent,
      ...(since === undefined ? {} : { createdAt: { gte: since } }),
    };
    const [total, orders] = await Promise.all([
      this.prisma.order.count({ where }),
      this.prisma.order.findMany({
        where,
        include: { intent: true },
        orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
        skip,
        take: HISTORY_PAGE_SIZE,
      }),
    ]);
    return this.page(
      query,
      total,
      orders.map((order) => this.orderLine(order, when)),
    );
  }

  private fillLine(fill: FillWithOrder, when: (at: Date) => string): string {
    const order = fill.order;
    const verb = order.side === 'buy' ? 'bought' : 'sold';
    const unit = order.assetClass === 'option' ? (fill.quantity.equals(1) ? ' contract' : ' contracts') : '';
    const fee = fill.fee.isZero() ? '' : `, fee ${formatUsd(fill.fee.toString())}`;
    return `  ${when(fill.filledAt)}  ${verb} ${formatDecimal(fill.quantity.toString())}${unit} ${instrumentLabel(order.intent)} at ${formatUsd(fill.price.toString())}${fee} · ${accountLabel(order)}`;
  }

  private orderLine(order: OrderWithIntent, when: (at: Date) => string): string {
    const what = `${order.side.toUpperCase()} ${orderSize(order)} ${instrumentLabel(order.intent)}${orderPrices(order)}`;
    return `  ${when(order.createdAt)}  ${what}: ${outcome(order)} · ${accountLabel(order)}`;
  }

  /** The page's lines under a title, and how to see the next page. */
  private page(query: QueryCommand, total: number, lines: readonly string[]): string {
    const noun = query.query === 'fills' ? 'fills' : 'orders';
    const scope = [query.symbol, query.period === undefined ? undefined : PERIOD_WORDS[query.period]]
      .filter(Boolean)
      .join(', ');
    const scoped = scope === '' ? '' : ` (${scope})`;
    const command = [query.query, query.symbol, query.period].filter(Boolean).join(' ');
    const pages = Math.max(1, Math.ceil(total / HISTORY_PAGE_SIZE));
    const page = query.page ?? 1;
    if (total === 0) return `No ${noun}${scoped}${scoped === '' ? ' yet' : ''}.`;
    if (lines.length === 0)
      return `There is no page ${page}: ${total} ${noun}${scoped} make ${pages} page${pages === 1 ? '' : 's'}. Say "${command}" for the newest.`;
    const title = `${noun === 'fills' ? 'Fills' : 'Orders'}${scoped}, newest first (page ${page} of ${pages}, ${total} in all):`;
    const more = page < pages ? [`Older ones: "${command} page ${page + 1}".`] : [];
    return [title, ...lines, ...more].join('\n');
  }
}
