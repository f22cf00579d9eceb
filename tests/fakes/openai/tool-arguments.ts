/** The JSON arguments a model sends to `propose_order` (strict mode: every key present, null = absent). */
export function proposeOrderArguments(overrides: Record<string, unknown> = {}): string {
  return JSON.stringify({
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
    ...overrides,
  });
}
