/**
 * Reading an account's orders (`GET /v1/accounts/{key}/orders`): page after page (`count`,
 * `marker`), each order read on its own, so an order we cannot read is skipped and logged while
 * every other order is still found.
 */
import type { Logger } from '../../core/logging/logger.js';
import { idField, parseList } from '../http/parse-list.js';
import type { EtradeCall } from './etrade-session.js';
import { type EtradeListedOrder, listedOrderSchema, ordersSchema } from './schemas.js';

/** Orders per page (E*TRADE's maximum), and pages we follow at most. */
const ORDERS_PAGE_SIZE = '100';
const MAX_ORDER_PAGES = 20;

/** What `GET .../orders` is narrowed to: an E*TRADE status, and days as MMDDYYYY (both or neither). */
export interface OrderListQuery {
  readonly status?: string;
  readonly fromDate?: string;
  readonly toDate?: string;
}

/** The API path of an account's orders. */
export function ordersPath(accountId: string): string {
  return `/v1/accounts/${encodeURIComponent(accountId)}/orders`;
}

export class EtradeOrderList {
  constructor(
    private readonly call: EtradeCall,
    private readonly logger: Logger | undefined,
  ) {}

  /** Every readable order the query lists. */
  async all(accountId: string, query: OrderListQuery = {}): Promise<EtradeListedOrder[]> {
    const all: EtradeListedOrder[] = [];
    await this.first(accountId, query, (order) => {
      all.push(order);
      return false;
    });
    return all;
  }

  /** The order with this E*TRADE id, if it is listed and readable. */
  async byId(accountId: string, orderId: string): Promise<EtradeListedOrder | undefined> {
    return this.first(accountId, {}, (order) => String(order.orderId) === orderId);
  }

  /** The first listed order that `matches`, following `marker` pages; stops early when found. */
  async first(
    accountId: string,
    query: OrderListQuery,
    matches: (order: EtradeListedOrder) => boolean,
  ): Promise<EtradeListedOrder | undefined> {
    let marker: string | undefined;
    for (let page = 0; page < MAX_ORDER_PAGES; page++) {
      const { data } = await this.call({
        method: 'GET',
        path: ordersPath(accountId),
        query: { count: ORDERS_PAGE_SIZE, ...query, marker },
        schema: ordersSchema,
      });
      const orders = parseList(data?.OrdersResponse.Order ?? [], listedOrderSchema, {
        provider: 'etrade',
        list: 'order',
        idOf: (element) => idField(element, 'orderId'),
        logger: this.logger,
        context: { accountIdKey: accountId },
      });
      const found = orders.find(matches);
      if (found !== undefined) return found;
      marker = data?.OrdersResponse.marker;
      if (marker === undefined || marker === '') return undefined;
    }
    return undefined;
  }
}
