/**
 * The fake E*TRADE's API behind OAuth (the caller has checked the signature and the token):
 * routes `/v1/...` to the accounts, market (quotes, option expire dates) and order desk, answers
 * JSON when asked (`Accept: application/json` or a `.json` suffix) and XML otherwise, and can slip
 * list elements a client cannot read into its lists (`injectUnreadable`), as a real service's odd
 * record would.
 */
import { EtradeApiError, FakeEtradeAccount, FakeEtradeMarket } from './etrade-accounts.js';
import { optionExpireDatesJson } from './etrade-expiries.js';
import { FakeEtradeOrders } from './etrade-orders.js';

/** The account every access token of the fake may use (E*TRADE's sandbox shape). */
export const FAKE_ETRADE_ACCOUNT = { accountId: '84010429', accountIdKey: 'JIdOIAcSpwR1Jva7RQBraQ' } as const;

/** The lists an unreadable element can be slipped into. */
export type FakeEtradeList = 'accounts' | 'orders' | 'positions' | 'quotes' | 'expiries';

/** One HTTP answer. */
export interface FakeAnswer {
  readonly status: number;
  readonly contentType: string;
  readonly body: string;
}

export class FakeEtradeApi {
  readonly market = new FakeEtradeMarket();
  readonly desk = new FakeEtradeOrders(this.market);
  readonly accounts = new Map<string, FakeEtradeAccount>([
    [
      FAKE_ETRADE_ACCOUNT.accountIdKey,
      new FakeEtradeAccount(FAKE_ETRADE_ACCOUNT.accountId, FAKE_ETRADE_ACCOUNT.accountIdKey),
    ],
  ]);
  private readonly unreadable: Record<FakeEtradeList, unknown[]> = {
    accounts: [],
    orders: [],
    positions: [],
    quotes: [],
    expiries: [],
  };

  /**
   * Every later answer of `list` also carries `element` (first in orders, last elsewhere), e.g. an
   * order whose `OrderDetail` is a string: what a strict client would choke on.
   */
  injectUnreadable(list: FakeEtradeList, element: unknown): void {
    this.unreadable[list].push(element);
  }

  /** The answer to one authorized API request. */
  answer(
    method: string,
    path: string,
    query: ReadonlyMap<string, string>,
    payload: { contentType: string; text: string },
    accept: string,
    now: Date,
  ): FakeAnswer {
    const wantsJson = path.endsWith('.json') || accept.includes('application/json');
    const apiPath = path.replace(/\.json$/, '');
    if (apiPath === '/v1/accounts/list') {
      const list = this.accountList();
      return wantsJson
        ? { status: 200, contentType: 'application/json', body: JSON.stringify(list) }
        : { status: 200, contentType: 'application/xml', body: accountListXml(list) };
    }
    let json: unknown;
    try {
      json = this.route(method, apiPath, query, payload, now);
    } catch (error) {
      if (!(error instanceof EtradeApiError)) throw error;
      return { status: error.status, contentType: 'application/json', body: JSON.stringify(error.body) };
    }
    if (json === undefined) return { status: 204, contentType: 'application/json', body: '' };
    return wantsJson
      ? { status: 200, contentType: 'application/json', body: JSON.stringify(json) }
      : { status: 200, contentType: 'application/xml', body: toXml(json) };
  }

  private accountList() {
    const accounts = [...this.accounts.values()].map((account): unknown => account.listJson());
    return { AccountListResponse: { Accounts: { Account: [...accounts, ...this.unreadable.accounts] } } };
  }

  /** The API calls beyond the account list; undefined is an answer without a body. */
  private route(
    method: string,
    path: string,
    query: ReadonlyMap<string, string>,
    payload: { contentType: string; text: string },
    now: Date,
  ): unknown {
    const quote = /^\/v1\/market\/quote\/([^/]+)$/.exec(path);
    if (quote !== null && method === 'GET') {
      if (query.get('detailFlag') !== undefined && query.get('detailFlag') !== 'ALL') {
        throw new EtradeApiError(400, 1018, 'The fake supports detailFlag=ALL only.');
      }
      const symbols = decodeURIComponent(quote[1] ?? '')
        .split(',')
        .filter((symbol) => symbol !== '');
      return withQuotes(this.market.quoteJson(symbols, now), this.unreadable.quotes);
    }
    if (path === '/v1/market/optionexpiredate' && method === 'GET') {
      const knows = (symbol: string) => this.market.find({ securityType: 'EQ', symbol }) !== undefined;
      return optionExpireDatesJson(query, knows, now, this.unreadable.expiries);
    }
    const match = /^\/v1\/accounts\/([^/]+)\/(balance|portfolio|orders)(?:\/(preview|place|cancel))?$/.exec(
      path,
    );
    if (match === null) throw new EtradeApiError(404, 404, 'Not found');
    const [, key = '', resource, action] = match;
    const account = this.accounts.get(decodeURIComponent(key));
    if (account === undefined) throw new EtradeApiError(400, 100, 'Invalid account key.');
    const body = () => jsonBody(payload);
    const route = `${method} ${resource}${action === undefined ? '' : `/${action}`}`;
    switch (route) {
      case 'GET balance':
        if (query.get('instType') !== 'BROKERAGE') {
          throw new EtradeApiError(400, 1001, 'instType is required and must be BROKERAGE.');
        }
        return account.balanceJson(this.market);
      case 'GET portfolio':
        return withPositions(account.portfolioJson(this.market), account, this.unreadable.positions);
      case 'GET orders':
        return withOrders(this.desk.listJson(account, query), this.unreadable.orders);
      case 'POST orders/preview':
        return this.desk.preview(account, body(), now);
      case 'POST orders/place':
        return this.desk.place(account, body(), now);
      case 'PUT orders/cancel':
        return this.desk.cancel(account, body(), now);
      default:
        throw new EtradeApiError(405, 405, `${method} is not allowed here.`);
    }
  }
}

function jsonBody(payload: { contentType: string; text: string }): unknown {
  if (!payload.contentType.startsWith('application/json')) {
    throw new EtradeApiError(400, 1000, 'The request body must be JSON (Content-Type: application/json).');
  }
  try {
    return JSON.parse(payload.text) as unknown;
  } catch {
    throw new EtradeApiError(400, 1000, 'The request body is not valid JSON.');
  }
}

type Json = Record<string, unknown>;

function withOrders(answer: unknown, extra: readonly unknown[]): unknown {
  if (extra.length === 0) return answer;
  const response = ((answer as Json | undefined)?.['OrdersResponse'] ?? {}) as Json;
  const orders = (response['Order'] ?? []) as unknown[];
  return { OrdersResponse: { ...response, Order: [...extra, ...orders] } };
}

function withQuotes(answer: unknown, extra: readonly unknown[]): unknown {
  if (extra.length === 0) return answer;
  const response = (answer as Json)['QuoteResponse'] as Json;
  return {
    QuoteResponse: { ...response, QuoteData: [...((response['QuoteData'] ?? []) as unknown[]), ...extra] },
  };
}

function withPositions(answer: unknown, account: FakeEtradeAccount, extra: readonly unknown[]): unknown {
  if (extra.length === 0) return answer;
  const response = ((answer as Json | undefined)?.['PortfolioResponse'] ?? {}) as Json;
  const [first, ...rest] = (response['AccountPortfolio'] ?? [
    { accountId: account.accountId, Position: [], totalPages: 1 },
  ]) as Json[];
  const positions = [...((first?.['Position'] ?? []) as unknown[]), ...extra];
  return {
    PortfolioResponse: { ...response, AccountPortfolio: [{ ...first, Position: positions }, ...rest] },
  };
}

function accountListXml(list: { AccountListResponse: { Accounts: { Account: unknown[] } } }): string {
  const accounts = list.AccountListResponse.Accounts.Account.map(
    (account) =>
      `<Account>${Object.entries(account as Json)
        .map(([name, value]) => `<${name}>${String(value)}</${name}>`)
        .join('')}</Account>`,
  ).join('');
  return `<?xml version="1.0" encoding="UTF-8"?><AccountListResponse><Accounts>${accounts}</Accounts></AccountListResponse>`;
}

/** E*TRADE's XML form of a JSON answer: objects become elements, arrays repeat their element. */
function toXml(json: unknown): string {
  const element = (name: string, value: unknown): string => {
    if (Array.isArray(value)) return value.map((item) => element(name, item)).join('');
    if (value !== null && typeof value === 'object') {
      return `<${name}>${Object.entries(value)
        .map(([child, inner]) => element(child, inner))
        .join('')}</${name}>`;
    }
    const text = String(value).replaceAll('&', '&amp;').replaceAll('<', '&lt;');
    return `<${name}>${text}</${name}>`;
  };
  const [root, value] = Object.entries(json as Json)[0] ?? ['Response', {}];
  return `<?xml version="1.0" encoding="UTF-8"?>${element(root, value)}`;
}
