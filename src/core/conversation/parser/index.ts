/**
 * The deterministic fast-path parser: `parseMessage(text, { symbols, now })` -> `Command`.
 * See docs/parse.md for what it understands and the JSON it produces.
 */
export { FRACTION_DECIMALS } from './numbers.js';
export { MAX_NOTIONAL, MAX_QUANTITY, type ParseContext, POLITE_WORDS } from './orders.js';
export { MAX_MESSAGE_LENGTH, parseMessage } from './parse.js';
export { StaticSymbolResolver } from './static-resolver.js';
