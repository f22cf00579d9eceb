/** Market data providers: the simulated market, CoinGecko and the router that combines them. */
export { type CoinGeckoOptions, CoinGeckoPrices, type CoinGeckoQuote, retryAfterMs } from './coingecko.js';
export {
  type BlackScholesInput,
  type BlackScholesOutput,
  blackScholes,
  occSymbol,
  parseOccSymbol,
} from './options.js';
export { MarketDataRouter, type MarketDataRouterOptions } from './router.js';
export {
  type OptionChain,
  type OptionChainEntry,
  type OptionChainExpiration,
  type OptionChainProvider,
  type OptionChainStrike,
  type PinnedQuote,
  SimulatedMarket,
  type SimulatedMarketOptions,
  tickSize,
} from './simulated-market.js';
export {
  cryptoSession,
  newYorkInstant,
  newYorkOffsetMinutes,
  newYorkTime,
  nextTradingDay,
  sessionFor,
  US_CALENDAR_YEARS,
  usMarketSession,
  usTradingDay,
} from './us-market-calendar.js';
