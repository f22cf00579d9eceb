/**
 * Read-only data the core supplies to the LLM's tools. Results must be JSON-serializable and must
 * never contain secrets (tokens, keys, account credentials): they are sent to the model.
 *
 * There is deliberately no method to place, cancel or change anything: `propose_order`,
 * `cancel_order`, `link_broker` and `switch_mode` are returned as validated commands for the core to
 * turn into confirmation cards.
 */
export interface ToolExecutor {
  /** `symbol` is already validated as an uppercase ticker. */
  quote(symbol: string): Promise<unknown>;
  balance(): Promise<unknown>;
  positions(): Promise<unknown>;
  openOrders(): Promise<unknown>;
}
