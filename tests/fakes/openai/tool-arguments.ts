/** A valid `propose_order` argument object (strict mode: every key present, null = absent). */
export const PROPOSE_ORDER_ARGUMENTS = {
  side: 'buy',
  symbol: 'AAPL',
  assetClass: 'equity',
  quantity: '10',
  notional: null,
  fractionOfPosition: null,
  orderType: 'limit',
  limitPrice: '189.00',
  stopPrice: null,
  timeInForce: 'day',
  option: null,
} as const;

/** The JSON a model sends to `propose_order`, with some fields changed. */
export function proposeOrderArguments(overrides: Record<string, unknown> = {}): string {
  return JSON.stringify({ ...PROPOSE_ORDER_ARGUMENTS, ...overrides });
}
