/**
 * The LLM's tools: strict OpenAI function tools generated from zod, and the fail-closed parser that
 * turns a tool call (name + JSON argument string) into exactly the command shapes of `commands.ts`.
 *
 * Strict mode means every property is required and optional ones are nullable; a null here means
 * "absent" in the command. The tool schemas only shape what the model writes: the real gate is the
 * second validation against `orderCommandSchema` / `queryCommandSchema` / `actionCommandSchema`.
 */
import { zodFunction } from 'openai/helpers/zod';
import type { ChatCompletionFunctionTool } from 'openai/resources/chat/completions';
import { type ZodType, z } from 'zod';
import {
  assetClassSchema,
  optionRightSchema,
  orderSideSchema,
  orderTypeSchema,
  timeInForceSchema,
} from '../../domain/values.js';
import {
  type ActionCommand,
  actionCommandSchema,
  type OrderCommand,
  orderCommandSchema,
  type QueryCommand,
  queryCommandSchema,
  type SwapCommand,
  swapCommandSchema,
  swapNetworkSchema,
} from '../commands.js';

/** Same ticker rule as commands.ts, so strict mode already steers the model to uppercase tickers. */
const tickerSchema = z
  .string()
  .regex(/^[A-Z][A-Z0-9.]{0,9}$/)
  .describe('Ticker, e.g. "AAPL", "BTC".');

/**
 * Decimals travel as strings (never floats); their exact format is checked by commands.ts. The
 * system prompt says once how they are written: every request carries the tools, so their
 * descriptions stay short (the bench counts the tokens).
 */
const decimal = (what: string) => z.string().describe(what);

const linkProviderSchema = z.enum(['schwab', 'etrade', 'alpaca', 'coinbase', 'cdp_wallet']);
const modeProviderSchema = z.enum(['paper', 'schwab', 'etrade', 'alpaca', 'coinbase', 'cdp_wallet']);

const optionParamsSchema = z.strictObject({
  underlying: tickerSchema.describe('Equals the order symbol.'),
  expiry: z.string().describe('Expiry date as YYYY-MM-DD.'),
  right: optionRightSchema,
  strike: decimal('Strike price'),
  positionEffect: z.enum(['open', 'close']).nullable().describe('null: decided from the position.'),
});

/** Parameter schemas, one per tool. Strict objects so unexpected keys are rejected locally too. */
export const toolParameterSchemas = {
  get_quote: z.strictObject({ symbol: tickerSchema }),
  get_balance: z.strictObject({}),
  get_positions: z.strictObject({}),
  get_open_orders: z.strictObject({}),
  propose_order: z.strictObject({
    side: orderSideSchema,
    symbol: tickerSchema.describe('Ticker of the instrument; for options the underlying ticker.'),
    assetClass: assetClassSchema,
    quantity: decimal('Number of shares, contracts or coins').nullable(),
    notional: decimal('USD amount to spend or receive').nullable(),
    fractionOfPosition: decimal('Share of the current position to sell, in (0, 1]').nullable(),
    orderType: orderTypeSchema,
    limitPrice: decimal('Limit price (limit and stop_limit orders only)').nullable(),
    stopPrice: decimal('Stop price (stop and stop_limit orders only)').nullable(),
    timeInForce: timeInForceSchema,
    option: optionParamsSchema.nullable().describe('The option contract; only for assetClass "option".'),
  }),
  propose_swap: z.strictObject({
    fromToken: tickerSchema.describe('Token given up, e.g. "ETH".'),
    toToken: tickerSchema.describe('Token received, e.g. "USDC".'),
    amount: decimal('Amount of fromToken to swap'),
    network: swapNetworkSchema.nullable().describe('Network of the smart wallet; null means base.'),
    slippageBps: z
      .number()
      .int()
      .min(1)
      .max(500)
      .nullable()
      .describe('Most the received amount may fall below the quote, in basis points; null means 100 (1%).'),
  }),
  cancel_order: z.strictObject({
    target: z.string().describe('An open order id, or "all".'),
  }),
  link_broker: z.strictObject({ provider: linkProviderSchema.nullable() }),
  switch_mode: z.strictObject({ mode: z.enum(['paper', 'live']), provider: modeProviderSchema.nullable() }),
} as const satisfies Record<string, ZodType>;

export type ToolName = keyof typeof toolParameterSchemas;
export const toolNames = Object.keys(toolParameterSchemas) as ToolName[];

const toolDescriptions: Record<ToolName, string> = {
  get_quote: 'The latest quote for one ticker.',
  get_balance: "The user's cash and buying power.",
  get_positions: "The user's positions.",
  get_open_orders: "The user's open orders.",
  propose_order:
    'Propose an order; the user confirms it on a card. Exactly one of quantity, notional, fractionOfPosition; the others null.',
  propose_swap: "Propose a token swap on the user's Coinbase smart wallet; the user confirms it on a card.",
  cancel_order: 'Ask to cancel an open order, or all; the user confirms a card listing them.',
  link_broker: 'Offer the user a one-time link to connect a broker account.',
  switch_mode: 'Ask to switch between paper and live trading; the user must type the confirmation.',
};

/** The JSON Schema dialect keyword says nothing to the model and costs tokens on every request. */
function withoutSchemaKeyword(parameters: Record<string, unknown>): Record<string, unknown> {
  const { $schema: _dialect, ...rest } = parameters;
  return rest;
}

export function isToolName(name: string): name is ToolName {
  return Object.hasOwn(toolParameterSchemas, name);
}

/**
 * The tools array for the request. `zodFunction` (openai/helpers/zod) supports zod 4 and emits
 * strict schemas (all properties required, additionalProperties false, nullable via anyOf);
 * `tests/unit/llm-tools.test.ts` re-checks that, nested objects included.
 */
export function buildTools(): ChatCompletionFunctionTool[] {
  return toolNames.map((name) => {
    const tool = zodFunction({
      name,
      parameters: toolParameterSchemas[name],
      description: toolDescriptions[name],
    });
    // A plain copy: only the wire fields, none of the helper's hidden parser hooks.
    return {
      type: 'function',
      function: {
        name: tool.function.name,
        description: toolDescriptions[name],
        parameters: withoutSchemaKeyword(tool.function.parameters ?? {}),
        strict: true,
      },
    };
  });
}

/** What a valid tool call means. Read tools become query commands, the rest proposals/actions. */
export type ParsedToolCall =
  | { ok: true; tool: ToolName; kind: 'query'; command: QueryCommand }
  | { ok: true; tool: ToolName; kind: 'proposal'; command: OrderCommand | SwapCommand | ActionCommand }
  | { ok: false; tool: string; error: string };

/** Strict-mode nulls mean "not given": drop them so the command schemas see absent keys. */
export function nullsToAbsent(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(nullsToAbsent);
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [key, inner] of Object.entries(value)) {
      if (inner !== null) out[key] = nullsToAbsent(inner);
    }
    return out;
  }
  return value;
}

/** A short, argument-free description of what was wrong, for the model to correct itself. */
function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : '(arguments)'}: ${issue.message}`)
    .join('; ');
}

/**
 * Parses and validates one tool call. Fails closed: an unknown name, unparsable JSON or any schema
 * violation gives `ok: false` and no command.
 */
export function parseToolCall(name: string, rawArguments: string): ParsedToolCall {
  if (!isToolName(name)) {
    return { ok: false, tool: name, error: `unknown tool; available tools: ${toolNames.join(', ')}` };
  }
  let json: unknown;
  try {
    json = JSON.parse(rawArguments.trim() === '' ? '{}' : rawArguments);
  } catch {
    return { ok: false, tool: name, error: 'arguments are not valid JSON' };
  }
  const params = toolParameterSchemas[name].safeParse(json);
  if (!params.success) {
    return { ok: false, tool: name, error: `invalid arguments: ${describeIssues(params.error)}` };
  }
  const args = nullsToAbsent(params.data);
  const fields = typeof args === 'object' && args !== null ? args : {};

  const asQuery = (candidate: unknown): ParsedToolCall => {
    const parsed = queryCommandSchema.safeParse(candidate);
    return parsed.success
      ? { ok: true, tool: name, kind: 'query', command: parsed.data }
      : { ok: false, tool: name, error: `invalid arguments: ${describeIssues(parsed.error)}` };
  };
  const asProposal = (
    parsed:
      | z.ZodSafeParseResult<OrderCommand>
      | z.ZodSafeParseResult<SwapCommand>
      | z.ZodSafeParseResult<ActionCommand>,
  ): ParsedToolCall =>
    parsed.success
      ? { ok: true, tool: name, kind: 'proposal', command: parsed.data }
      : { ok: false, tool: name, error: `invalid arguments: ${describeIssues(parsed.error)}` };

  switch (name) {
    case 'get_quote':
      return asQuery({ kind: 'query', query: 'quote', ...fields });
    case 'get_balance':
      return asQuery({ kind: 'query', query: 'balance' });
    case 'get_positions':
      return asQuery({ kind: 'query', query: 'positions' });
    case 'get_open_orders':
      return asQuery({ kind: 'query', query: 'orders' });
    case 'propose_order':
      return asProposal(orderCommandSchema.safeParse({ kind: 'order', ...fields }));
    case 'propose_swap':
      return asProposal(swapCommandSchema.safeParse({ kind: 'swap', ...fields }));
    case 'cancel_order':
      return asProposal(actionCommandSchema.safeParse({ kind: 'action', action: 'cancel', ...fields }));
    case 'link_broker':
      return asProposal(actionCommandSchema.safeParse({ kind: 'action', action: 'link', ...fields }));
    case 'switch_mode':
      return asProposal(actionCommandSchema.safeParse({ kind: 'action', action: 'mode', ...fields }));
  }
}
