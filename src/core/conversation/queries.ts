/**
 * The read-only answers: help, quotes, balances, positions, open orders and the smart wallet.
 * Nothing here changes state.
 */
import type { TradingAccount } from '../accounts/accounts.js';
import { brokerName } from '../brokers/broker.js';
import { formatDecimal, formatUsd } from '../domain/values.js';
import type { QueryCommand } from './commands.js';
import type { ConversationDependencies } from './conversation.js';
import { HELP_TEXT } from './help.js';
import { TradeHistory } from './trade-history.js';

/** "PAPER", "LIVE Charles Schwab", "Alpaca PAPER": which account an answer is about. */
function accountTitle(account: TradingAccount): string {
  if (account.provider === 'paper') return 'PAPER';
  return `${account.mode === 'live' ? 'LIVE' : 'PAPER'} ${brokerName(account.provider)}`;
}

export type QueryDependencies = Pick<
  ConversationDependencies,
  'accounts' | 'brokerFor' | 'market' | 'symbols' | 'prisma'
>;

export class Queries {
  private readonly history: TradeHistory;

  constructor(
    private readonly deps: QueryDependencies,
    private readonly clock: () => Date,
  ) {
    this.history = new TradeHistory(deps.prisma, clock);
  }

  async answer(query: QueryCommand, userId: string): Promise<string> {
    switch (query.query) {
      case 'help':
        return HELP_TEXT;
      case 'quote':
        return this.describeQuote(query.symbol);
      case 'balance':
        return this.describeBalance(userId);
      case 'positions':
        return this.describePositions(userId);
      case 'orders':
        return this.describeOrders(userId);
      case 'wallet':
        return this.describeWallet(userId);
      case 'history':
      case 'fills':
        return this.history.answer(query, userId);
    }
  }

  private async describeWallet(userId: string): Promise<string> {
    const wallet = await this.deps.accounts.walletAccount(userId);
    if (wallet === undefined) return 'You have no smart wallet yet. Say "link wallet" to create one.';
    const broker = await this.deps.brokerFor(wallet);
    const networks = (await broker.walletBalances?.(wallet.externalId)) ?? [];
    const lines = networks.map(({ network, tokens }) =>
      tokens === undefined
        ? `  ${network}: not listed by Coinbase (swaps there still check the balance)`
        : `  ${network}: ${tokens.length === 0 ? 'empty' : tokens.map((token) => `${formatDecimal(token.quantity)} ${token.symbol}`).join(', ')}`,
    );
    return [`Smart wallet ${wallet.externalId}`, ...lines].join('\n');
  }

  private async describeQuote(symbol: string | undefined): Promise<string> {
    if (symbol === undefined) return 'Which symbol? For example: quote AAPL';
    const instrument = this.deps.symbols.get(symbol);
    if (instrument === undefined) return `I don't know the symbol ${symbol}.`;
    const quote = await this.deps.market.quote({
      assetClass: instrument.assetClass,
      symbol: instrument.symbol,
    });
    const session = this.deps.market.session(instrument.assetClass, this.clock());
    return `${instrument.symbol} (${instrument.name}): bid ${formatUsd(quote.bid)}, ask ${formatUsd(quote.ask)}, last ${formatUsd(quote.last)} (${quote.source})${session.open ? '' : `\n${session.description}`}`;
  }

  private async describeBalance(userId: string): Promise<string> {
    const account = await this.deps.accounts.tradingAccount(userId);
    const balances = await (await this.deps.brokerFor(account)).getBalances(account.externalId);
    // What working orders and short puts hold, where known: why buying power is below cash.
    const reserved =
      balances.reserved === undefined
        ? []
        : [`  Reserved      ${formatUsd(balances.reserved)} (working orders, cash-secured puts)`];
    return [
      `${accountTitle(account)} account`,
      `  Cash          ${formatUsd(balances.cash)}`,
      ...reserved,
      `  Buying power  ${formatUsd(balances.buyingPower)}`,
      `  Equity        ${formatUsd(balances.equity)}`,
      `  Realized P&L today ${formatUsd(balances.realizedPnlToday)}`,
    ].join('\n');
  }

  private async describePositions(userId: string): Promise<string> {
    const account = await this.deps.accounts.tradingAccount(userId);
    const positions = await (await this.deps.brokerFor(account)).getPositions(account.externalId);
    if (positions.length === 0) return `No open positions (${accountTitle(account)} account).`;
    const lines = positions.map((position) => {
      const value = position.marketValue ? `, value ${formatUsd(position.marketValue)}` : '';
      const pnl = position.unrealizedPnl ? `, unrealized ${formatUsd(position.unrealizedPnl)}` : '';
      return `  ${formatDecimal(position.quantity)} ${position.symbol} at ${formatUsd(position.averageCost)} avg${value}${pnl}`;
    });
    return [`Positions (${accountTitle(account)}):`, ...lines].join('\n');
  }

  private async describeOrders(userId: string): Promise<string> {
    const open = await this.deps.prisma.order.findMany({
      where: { intent: { userId }, status: { in: ['pending', 'accepted', 'partially_filled'] } },
      include: { intent: true },
      orderBy: { createdAt: 'asc' },
    });
    if (open.length === 0) return 'No open orders.';
    const lines = open.map((order) => {
      const size = order.quantity
        ? formatDecimal(order.quantity.toString())
        : formatUsd(order.notional?.toString() ?? '0');
      const price = order.limitPrice
        ? ` limit ${formatUsd(order.limitPrice.toString())}`
        : order.stopPrice
          ? ` stop ${formatUsd(order.stopPrice.toString())}`
          : '';
      return `  ${order.intentId.slice(0, 8)}  ${order.side} ${size} ${order.symbol}${price} (${order.status.replace('_', ' ')})`;
    });
    return ['Open orders (cancel with "cancel <id>" or "cancel all"):', ...lines].join('\n');
  }
}
