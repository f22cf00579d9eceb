/**
 * E*TRADE's account answers (accounts list, balance, portfolio, quotes) to ours. Pure apart from
 * the logger that records list elements we could not read (../http/parse-list.ts).
 */
import type { Balances, Position } from '../../core/brokers/broker.js';
import { Decimal } from '../../core/domain/values.js';
import type { Logger } from '../../core/logging/logger.js';
import type { Quote } from '../../core/market-data/market-data.js';
import { firstIdField, idField, parseList } from '../http/parse-list.js';
import { symbolOf } from './order-json.js';
import {
  accountPortfolioSchema,
  accountSchema,
  type EtradeBalance,
  type EtradePortfolio,
  type EtradePortfolioAnswer,
  type EtradePortfolioPosition,
  type EtradeQuoteData,
  portfolioPositionSchema,
  quoteDataSchema,
} from './schemas.js';

/** One account as `GET /v1/accounts/list` shows it. */
export interface EtradeAccount {
  readonly accountId: string;
  /** What every other account call takes. */
  readonly accountIdKey: string;
  readonly accountMode: string | undefined;
  readonly accountType: string | undefined;
  readonly accountStatus: string | undefined;
}

/** The readable accounts of a list answer (an unreadable one is skipped and logged). */
export function readAccounts(raw: readonly unknown[], logger: Logger | undefined): EtradeAccount[] {
  return parseList(raw, accountSchema, {
    provider: 'etrade',
    list: 'account',
    // The key, not the account number: the key is what our logs already show in paths.
    idOf: (element) => idField(element, 'accountIdKey'),
    logger,
  });
}

/** The readable positions of a portfolio answer, and its day's total. */
export function readPortfolio(
  answer: EtradePortfolioAnswer,
  logger: Logger | undefined,
  accountId: string,
): EtradePortfolio {
  const context = { accountIdKey: accountId };
  const accounts = parseList(answer?.PortfolioResponse.AccountPortfolio ?? [], accountPortfolioSchema, {
    provider: 'etrade',
    list: 'account portfolio',
    // Its accountId is the account number: the key in `context` names the account instead.
    idOf: () => undefined,
    logger,
    context,
  });
  const positions = accounts.flatMap((account) =>
    parseList(account.Position, portfolioPositionSchema, {
      provider: 'etrade',
      list: 'position',
      idOf: firstIdField(['positionId'], ['Product', 'symbol']),
      logger,
      context,
    }),
  );
  return { positions, todaysGainLoss: answer?.PortfolioResponse.Totals?.todaysGainLoss };
}

/** The readable quotes of a quote answer (an unreadable one is skipped and logged). */
export function readQuotes(raw: readonly unknown[], logger: Logger | undefined): EtradeQuoteData[] {
  return parseList(raw, quoteDataSchema, {
    provider: 'etrade',
    list: 'quote',
    idOf: (element) => idField(element, 'Product', 'symbol'),
    logger,
  });
}

/** An E*TRADE quote → ours; `now` when E*TRADE gave no time. */
export function toQuote(item: EtradeQuoteData, now: Date): Quote {
  return {
    symbol: symbolOf(item.Product),
    assetClass: item.Product.securityType === 'OPTN' ? 'option' : 'equity',
    bid: item.All.bid,
    ask: item.All.ask,
    last: item.All.lastTrade,
    at: item.dateTimeUTC === undefined || item.dateTimeUTC === 0 ? now : new Date(item.dateTimeUTC * 1000),
    source: 'etrade',
  };
}

/**
 * E*TRADE reports no realized P&L for the day; its portfolio total `todaysGainLoss` also counts
 * unrealized moves, which errs on the careful side for the daily loss limit. Buying power is the
 * margin figure for margin accounts.
 */
export function toBalances(balance: EtradeBalance, portfolio: EtradePortfolio): Balances {
  const computed = balance.Computed;
  return {
    cash: computed.cashBalance ?? computed.netCash ?? computed.cashBuyingPower,
    buyingPower:
      balance.accountMode === 'MARGIN' && computed.marginBuyingPower !== undefined
        ? computed.marginBuyingPower
        : computed.cashBuyingPower,
    equity: computed.RealTimeValues.totalAccountValue,
    realizedPnlToday: portfolio.todaysGainLoss ?? new Decimal(0),
    currency: 'USD',
  };
}

export function toPositions(portfolio: EtradePortfolio): Position[] {
  return portfolio.positions.map(toPosition);
}

/** Short positions come back negative; E*TRADE reports no realized P&L per position (0 here). */
export function toPosition(position: EtradePortfolioPosition): Position {
  const quantity =
    position.positionType === 'SHORT' && position.quantity.greaterThan(0)
      ? position.quantity.neg()
      : position.quantity;
  const averageCost =
    position.costPerShare ??
    (position.totalCost !== undefined && !quantity.isZero()
      ? position.totalCost.div(quantity.abs())
      : new Decimal(0));
  return {
    symbol: symbolOf(position.Product),
    assetClass: position.Product.securityType === 'OPTN' ? 'option' : 'equity',
    quantity,
    averageCost,
    marketPrice: position.Quick?.lastTrade,
    marketValue: position.marketValue,
    unrealizedPnl: position.totalGain,
    realizedPnl: new Decimal(0),
  };
}
