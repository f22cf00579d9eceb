/**
 * Option quotes and chains in chat: "quote AAPL 190 put May 2027" (the contract's bid/ask/last per
 * share and per contract, its expiry in words, the underlying's price) and "chain AAPL May 2027"
 * (the expiries listed that month and, for the monthly, strikes around the money with call and put
 * bid/ask). Prices come from the market data layer; listed expiries from the linked broker where it
 * publishes them, else the calendar rule. Read-only.
 */
import type { Broker } from '../brokers/broker.js';
import { Decimal, formatUsd } from '../domain/values.js';
import {
  contractLabel,
  expiryDayLabel,
  expiryLabel,
  monthLabel,
  premiumLabel,
} from '../intents/instrument-label.js';
import { expiryProblem, listedExpiries } from '../intents/option-listing.js';
import type { MarketDataProvider, OptionContract, Quote } from '../market-data/market-data.js';
import { expiryKind, isLive, monthlyExpiry } from '../market-data/option-expiries.js';
import { strikeStep } from '../market-data/providers/simulated-market.js';
import { addDays, newYorkTime } from '../market-data/providers/us-market-calendar.js';
import type { OptionQuote } from './commands.js';

/** Strikes listed on each side of the money in a chain's table. */
const STRIKES_EACH_SIDE = 4;

export interface OptionAnswerDependencies {
  readonly market: MarketDataProvider;
  readonly clock: () => Date;
  /** The user's broker, for its own listing of expiries (`Broker.optionExpiries`), if any. */
  readonly broker: () => Promise<Pick<Broker, 'optionExpiries'> | undefined>;
}

/** Calendar days from New York's today to `expiry`. */
function daysUntil(expiry: string, now: Date): number {
  const today = newYorkTime(now).date;
  return Math.round((Date.parse(`${expiry}T00:00:00Z`) - Date.parse(`${today}T00:00:00Z`)) / 86_400_000);
}

/** "21 May 2027 (Fri, the May monthly)". */
function expiryWords(expiry: string): string {
  const label = expiryDayLabel(expiry);
  return expiryKind(expiry) === 'monthly' ? label.replace(/\)$/, ', monthly)') : label;
}

function yearMonth(value: string): [number, number] {
  const [year = 0, month = 1] = value.split('-').map(Number);
  return [year, month];
}

export class OptionAnswers {
  constructor(private readonly deps: OptionAnswerDependencies) {}

  /** "AAPL 21 May 2027 $190 put: bid $8.45, ask $8.55, last $8.50 a share ($850 a contract) ...". */
  async quote(underlying: string, asked: OptionQuote): Promise<string> {
    const now = this.deps.clock();
    const expiry = asked.expiry.length === 7 ? monthlyExpiry(...yearMonth(asked.expiry)) : asked.expiry;
    const contract: OptionContract = {
      underlying,
      expiry,
      right: asked.right,
      strike: new Decimal(asked.strike),
    };
    const problem = await expiryProblem(contract, {
      broker: (await this.deps.broker()) ?? {},
      now,
      held: async () => false,
    });
    if (problem !== undefined) return problem;
    const [option, stock] = await Promise.all([
      this.deps.market.quote({ assetClass: 'option', contract }),
      this.deps.market.quote({ assetClass: 'equity', symbol: underlying }),
    ]);
    const session = this.deps.market.session('option', now);
    return [
      `${contractLabel(contract)}: bid ${formatUsd(option.bid)}, ask ${formatUsd(option.ask)}, last ${premiumLabel(option.last, 'brackets')} (${option.source})`,
      `Expires ${expiryWords(expiry)}, in ${daysUntil(expiry, now)} days.`,
      `${underlying} is at ${formatUsd(stock.last)} (bid ${formatUsd(stock.bid)}, ask ${formatUsd(stock.ask)}).`,
      ...(session.open ? [] : [session.description]),
    ].join('\n');
  }

  /** The expiries listed in a month and, for its monthly (or the day asked), a table of strikes. */
  async chain(underlying: string, asked: string | undefined): Promise<string> {
    const now = this.deps.clock();
    const today = newYorkTime(now).date;
    const [year, month] = yearMonth(asked ?? this.nextMonthly(now));
    const first = `${year}-${String(month).padStart(2, '0')}-01`;
    const listing = await listedExpiries(await this.deps.broker(), underlying, {
      from: today,
      to: addDays(first, 31),
    });
    const inMonth = listing.expiries.filter(
      (expiry) => expiry.startsWith(first.slice(0, 8)) && isLive(expiry, now),
    );
    const monthName = monthLabel(year, month);
    if (inMonth.length === 0)
      return `No ${underlying} options are listed to expire in ${monthName} from now on.`;
    const day = asked !== undefined && asked.length === 10 ? asked : undefined;
    if (day !== undefined && !inMonth.includes(day)) {
      const problem = await expiryProblem(
        { underlying, expiry: day, right: 'call', strike: new Decimal(1) },
        { broker: (await this.deps.broker()) ?? {}, now, held: async () => false },
      );
      return problem ?? `No ${underlying} options expire on ${expiryDayLabel(day)}.`;
    }
    const shown = day ?? inMonth.find((expiry) => expiryKind(expiry) === 'monthly') ?? inMonth.at(-1) ?? '';
    const stock = await this.deps.market.quote({ assetClass: 'equity', symbol: underlying });
    const rows = await this.rows(underlying, shown, stock);
    return [
      `${underlying} options expiring in ${monthName} (${underlying} at ${formatUsd(stock.last)}):`,
      `  ${inMonth.map((expiry) => expiryWords(expiry)).join(', ')}`,
      `${expiryLabel(shown)}${expiryKind(shown) === 'monthly' ? ' (monthly)' : ''}, ${daysUntil(shown, now)} days; bid/ask a share (x100 a contract):`,
      '  Strike    Call bid/ask    Put bid/ask',
      ...rows,
    ].join('\n');
  }

  /** YYYY-MM of the next monthly expiry still trading. */
  private nextMonthly(now: Date): string {
    let [year, month] = yearMonth(newYorkTime(now).date);
    if (!isLive(monthlyExpiry(year, month), now))
      [year, month] = month === 12 ? [year + 1, 1] : [year, month + 1];
    return `${year}-${String(month).padStart(2, '0')}`;
  }

  /** One line per strike around the money: strike, call bid/ask, put bid/ask. */
  private async rows(underlying: string, expiry: string, stock: Quote): Promise<string[]> {
    const spot = stock.last.toNumber();
    const step = new Decimal(strikeStep(spot));
    const atm = new Decimal(spot).dividedBy(step).toDecimalPlaces(0).mul(step);
    const strikes: Decimal[] = [];
    for (let i = -STRIKES_EACH_SIDE; i <= STRIKES_EACH_SIDE; i += 1) {
      const strike = atm.plus(step.mul(i));
      if (strike.greaterThan(0)) strikes.push(strike);
    }
    const quote = (right: 'call' | 'put', strike: Decimal) =>
      this.deps.market.quote({ assetClass: 'option', contract: { underlying, expiry, right, strike } });
    const quotes = await Promise.all(
      strikes.map(
        async (strike) => [strike, await quote('call', strike), await quote('put', strike)] as const,
      ),
    );
    const pair = (q: Quote) => `${q.bid.toFixed(2)}/${q.ask.toFixed(2)}`;
    return quotes.map(
      ([strike, call, put]) => `  ${`$${strike.toFixed()}`.padEnd(10)}${pair(call).padEnd(16)}${pair(put)}`,
    );
  }
}
