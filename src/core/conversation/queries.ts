/**
 * The read-only answers: help, quotes, balances, positions, open orders and the smart wallet.
 * Nothing here changes state.
 */
import type { TradingAccount } from '../accounts/accounts.js';
import { brokerName, type Position } from '../brokers/broker.js';
import type { Prisma } from '../db/database.js';
import { formatDecimal, formatUsd } from '../domain/values.js';
import {
  contractLabel,
  contractOfSymbol,
  instrumentLabel,
  premiumLabel,
} from '../intents/instrument-label.js';
import { pendingSwaps } from '../intents/pending-swaps.js';
import type { QueryCommand } from './commands.js';
import type { ConversationDependencies } from './conversation.js';
import { HELP_TEXT } from './help.js';
import { OptionAnswers } from './option-answers.js';
import { TradeHistory } from './trade-history.js';

/** "PAPER", "LIVE Charles Schwab", "Alpaca PAPER": which account an answer is about. */
function accountTitle(account: TradingAccount): string {
  if (account.provider === 'paper') return 'PAPER';
  return `${account.mode === 'live' ? 'LIVE' : 'PAPER'} ${brokerName(account.provider)}`;
}

type OpenOrder = Prisma.OrderGetPayload<{ include: { intent: true } }>;

export type QueryDependencies = Pick<
  ConversationDependencies,
  'accounts' | 'brokerFor' | 'market' | 'symbols' | 'prisma' | 'logger'
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
        if (query.option !== undefined && query.symbol !== undefined)
          return this.options(userId).quote(query.symbol, query.option);
        return this.describeQuote(query.symbol);
      case 'chain':
        if (query.symbol === undefined) return 'Which underlying? For example: chain AAPL May 2027';
        return this.options(userId).chain(query.symbol, query.expiry);
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

  /** Option quotes and chains, listed by the user's broker where it publishes expiries. */
  private options(userId: string): OptionAnswers {
    return new OptionAnswers({
      market: this.deps.market,
      clock: this.clock,
      broker: async () => this.deps.brokerFor(await this.deps.accounts.tradingAccount(userId)),
    });
  }

  private async describeWallet(userId: string): Promise<string> {
    const wallet = await this.deps.accounts.walletAccount(userId);
    if (wallet === undefined) return 'You have no smart wallet yet. Say "link wallet" to create one.';
    const broker = await this.deps.brokerFor(wallet);
    // Before the balances (pending-swaps.ts): a swap landing in between is shown twice, never missed.
    const pending = await pendingSwaps(this.deps, {
      userId,
      walletExternalId: wallet.externalId,
      broker,
    });
    const networks = (await broker.walletBalances?.(wallet.externalId)) ?? [];
    const lines = networks.map(({ network, tokens }) =>
      tokens === undefined
        ? `  ${network}: not listed by Coinbase (swaps there still check the balance)`
        : `  ${network}: ${tokens.length === 0 ? 'empty' : tokens.map((token) => `${formatDecimal(token.quantity)} ${token.symbol}`).join(', ')}`,
    );
    // What swaps not yet complete will still take: the balances above include it.
    const reserved =
      pending.holds.length === 0
        ? []
        : [
            `  Reserved for pending swaps: ${pending.holds.map((hold) => `${formatDecimal(hold.quantity)} ${hold.token} on ${hold.network}`).join(', ')}`,
          ];
    return [`Smart wallet ${wallet.externalId}`, ...lines, ...reserved].join('\n');
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
    const broker = await this.deps.brokerFor(account);
    const balances = await broker.getBalances(account.externalId);
    // What working orders (and short puts, where the broker sells them) hold: why buying power is below cash.
    const holders = broker.sellsOptionsToOpen ? 'working orders, cash-secured puts' : 'working orders';
    const reserved =
      balances.reserved === undefined ? [] : [`  Reserved      ${formatUsd(balances.reserved)} (${holders})`];
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
    const lines = positions.map((position) => `  ${positionLine(position)}`);
    return [`Positions (${accountTitle(account)}):`, ...lines].join('\n');
  }

  private async describeOrders(userId: string): Promise<string> {
    const open = await this.deps.prisma.order.findMany({
      where: { intent: { userId }, status: { in: ['pending', 'accepted', 'partially_filled'] } },
      include: { intent: true },
      orderBy: { createdAt: 'asc' },
    });
    if (open.length === 0) return 'No open orders.';
    const lines = open.map((order) => `  ${order.intentId.slice(0, 8)}  ${openOrderLine(order)}`);
    return ['Open orders (cancel with "cancel <id>" or "cancel all"):', ...lines].join('\n');
  }
}

/**
 * "10 AAPL at $214.57 avg, value ..."; an option held names its contract and its price per share
 * and per contract: "short 1 AAPL 21 May 2027 $190 put, sold at $8.45 a share ($845 a contract), ...".
 */
function positionLine(position: Position): string {
  const value = position.marketValue ? `, value ${formatUsd(position.marketValue)}` : '';
  const pnl = position.unrealizedPnl ? `, unrealized ${formatUsd(position.unrealizedPnl)}` : '';
  const contract = position.assetClass === 'option' ? contractOfSymbol(position.symbol) : undefined;
  if (contract === undefined) {
    return `${formatDecimal(position.quantity)} ${position.symbol} at ${formatUsd(position.averageCost)} avg${value}${pnl}`;
  }
  const short = position.quantity.isNegative();
  const size = `${short ? 'short ' : ''}${formatDecimal(position.quantity.abs())}`;
  const price = `${short ? 'sold' : 'bought'} at ${premiumLabel(position.averageCost, 'brackets')} avg`;
  return `${size} ${contractLabel(contract)}, ${price}${value}${pnl}`;
}

/** "sell 10 AAPL limit $250.00 (accepted)"; "sell to open 1 F 18 Dec 2026 $11 put limit $0.26 a share ($26 a contract) (accepted)". */
function openOrderLine(order: OpenOrder): string {
  const option = order.assetClass === 'option';
  const size = order.quantity
    ? formatDecimal(order.quantity.toString())
    : formatUsd(order.notional?.toString() ?? '0');
  const money = (value: { toString(): string }) =>
    option ? premiumLabel(value.toString(), 'brackets') : formatUsd(value.toString());
  const price = order.limitPrice
    ? ` limit ${money(order.limitPrice)}`
    : order.stopPrice
      ? ` stop ${money(order.stopPrice)}`
      : '';
  const effect = option && order.intent.positionEffect !== null ? ` to ${order.intent.positionEffect}` : '';
  const what = option ? instrumentLabel(order.intent) : order.symbol;
  return `${order.side}${effect} ${size} ${what}${price} (${order.status.replace('_', ' ')})`;
}
