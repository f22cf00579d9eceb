import { describe, expect, it } from 'vitest';
import { actionCommandSchema, orderCommandSchema } from '../../src/core/conversation/commands.js';
import { buildSystemPrompt, wrapToolError, wrapToolResult } from '../../src/core/conversation/llm/prompt.js';
import {
  buildTools,
  nullsToAbsent,
  parseToolCall,
  toolNames,
} from '../../src/core/conversation/llm/tools.js';
import { findStrictSchemaProblems } from '../fakes/openai/strict-schema.js';
import { PROPOSE_ORDER_ARGUMENTS } from '../fakes/openai/tool-arguments.js';

type Json = Record<string, unknown>;

function isRecord(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Independent walk: every object schema, however deep, must be closed and fully required. */
function collectObjectSchemas(node: unknown, path: string, out: Array<{ path: string; schema: Json }>): void {
  if (Array.isArray(node)) {
    node.forEach((item, index) => {
      collectObjectSchemas(item, `${path}[${index}]`, out);
    });
    return;
  }
  if (!isRecord(node)) return;
  if (node['type'] === 'object') out.push({ path, schema: node });
  for (const [key, value] of Object.entries(node)) collectObjectSchemas(value, `${path}.${key}`, out);
}

const validOrderArgs = { ...PROPOSE_ORDER_ARGUMENTS, limitPrice: '189.5' };

describe('LLM tools: strict schemas', () => {
  const tools = buildTools();

  it('offers exactly the nine tools, all strict', () => {
    expect(tools.map((tool) => tool.function.name)).toEqual([
      'get_quote',
      'get_balance',
      'get_positions',
      'get_open_orders',
      'propose_order',
      'propose_swap',
      'cancel_order',
      'link_broker',
      'switch_mode',
    ]);
    expect(toolNames).toHaveLength(9);
    for (const tool of tools) {
      expect(tool.type).toBe('function');
      expect(tool.function.strict).toBe(true);
      expect(tool.function.description?.length).toBeGreaterThan(10);
    }
  });

  it('every object schema, nested ones included, is closed and lists all properties as required', () => {
    for (const tool of tools) {
      const objects: Array<{ path: string; schema: Json }> = [];
      collectObjectSchemas(tool.function.parameters, tool.function.name, objects);
      expect(objects.length).toBeGreaterThan(0);
      for (const { path, schema } of objects) {
        const properties = schema['properties'];
        expect(isRecord(properties), path).toBe(true);
        expect(schema['additionalProperties'], path).toBe(false);
        expect([...(schema['required'] as string[])].sort(), path).toEqual(
          Object.keys(properties as Json).sort(),
        );
      }
      expect(findStrictSchemaProblems(tool.function.parameters)).toEqual([]);
    }
  });

  it('propose_order nests the option contract as a closed nullable object', () => {
    const proposeOrder = tools.find((tool) => tool.function.name === 'propose_order');
    const properties = proposeOrder?.function.parameters?.['properties'] as Json;
    const option = properties['option'] as Json;
    const branches = option['anyOf'] as Json[];
    expect(branches.map((branch) => branch['type']).sort()).toEqual(['null', 'object']);
    const objectBranch = branches.find((branch) => branch['type'] === 'object') as Json;
    expect(objectBranch['additionalProperties']).toBe(false);
    expect(objectBranch['required']).toEqual(['underlying', 'expiry', 'right', 'strike', 'positionEffect']);
    // Optional fields are nullable, never omitted.
    expect((properties['quantity'] as Json)['anyOf']).toBeDefined();
  });

  it('the provider enums offered to the model are all accepted by commands.ts', () => {
    const link = tools.find((tool) => tool.function.name === 'link_broker');
    const mode = tools.find((tool) => tool.function.name === 'switch_mode');
    const enumOf = (params: unknown): string[] => {
      const provider = (params as { properties: { provider: { anyOf: Json[] } } }).properties.provider;
      return provider.anyOf.flatMap((branch) => (branch['enum'] as string[] | undefined) ?? []);
    };
    for (const provider of enumOf(link?.function.parameters)) {
      expect(actionCommandSchema.safeParse({ kind: 'action', action: 'link', provider }).success).toBe(true);
    }
    for (const provider of enumOf(mode?.function.parameters)) {
      expect(
        actionCommandSchema.safeParse({ kind: 'action', action: 'mode', mode: 'live', provider }).success,
      ).toBe(true);
    }
  });
});

describe('strict schema checker (used by the fake server)', () => {
  it('rejects a missing required key, a missing additionalProperties, and nested violations', () => {
    expect(
      findStrictSchemaProblems({
        type: 'object',
        properties: { a: { type: 'string' } },
        required: [],
        additionalProperties: false,
      })[0],
    ).toContain("Missing 'a'");
    expect(
      findStrictSchemaProblems({ type: 'object', properties: { a: { type: 'string' } }, required: ['a'] })[0],
    ).toContain('additionalProperties');
    const nested = findStrictSchemaProblems({
      type: 'object',
      properties: {
        inner: {
          anyOf: [
            { type: 'object', properties: { x: { type: 'string' } }, required: ['x'] },
            { type: 'null' },
          ],
        },
      },
      required: ['inner'],
      additionalProperties: false,
    });
    expect(nested).toHaveLength(1);
    expect(nested[0]).toContain("'properties', 'inner', 'anyOf', '0'");
    expect(findStrictSchemaProblems({ anyOf: [{ type: 'object' }] }).length).toBeGreaterThan(0);
  });
});

describe('parseToolCall: validated into the commands.ts shapes, failing closed', () => {
  it('turns a propose_order call into an order command, nulls becoming absent keys', () => {
    const parsed = parseToolCall('propose_order', JSON.stringify(validOrderArgs));
    expect(parsed).toEqual({
      ok: true,
      tool: 'propose_order',
      kind: 'proposal',
      command: {
        kind: 'order',
        side: 'buy',
        symbol: 'AAPL',
        assetClass: 'equity',
        quantity: '10',
        orderType: 'limit',
        limitPrice: '189.5',
        timeInForce: 'day',
      },
    });
    if (parsed.ok) {
      expect(Object.keys(parsed.command)).not.toContain('notional');
      expect(orderCommandSchema.parse(parsed.command)).toEqual(parsed.command);
    }
  });

  it('turns a propose_swap call into a swap command; the same token twice or a zero amount fails closed', () => {
    const args = { fromToken: 'ETH', toToken: 'USDC', amount: '0.1', network: 'base', slippageBps: null };
    expect(parseToolCall('propose_swap', JSON.stringify(args))).toEqual({
      ok: true,
      tool: 'propose_swap',
      kind: 'proposal',
      command: { kind: 'swap', fromToken: 'ETH', toToken: 'USDC', amount: '0.1', network: 'base' },
    });
    expect(parseToolCall('propose_swap', JSON.stringify({ ...args, toToken: 'ETH' })).ok).toBe(false);
    expect(parseToolCall('propose_swap', JSON.stringify({ ...args, amount: '0' })).ok).toBe(false);
    expect(parseToolCall('propose_swap', JSON.stringify({ ...args, network: 'solana' })).ok).toBe(false);
  });

  it('accepts an option order with its contract', () => {
    const parsed = parseToolCall(
      'propose_order',
      JSON.stringify({
        ...validOrderArgs,
        side: 'sell',
        assetClass: 'option',
        quantity: '1',
        orderType: 'market',
        limitPrice: null,
        option: {
          underlying: 'AAPL',
          expiry: '2026-05-15',
          right: 'put',
          strike: '190',
          positionEffect: null,
        },
      }),
    );
    expect(parsed.ok).toBe(true);
    if (parsed.ok && parsed.command.kind === 'order') {
      expect(parsed.command.option).toEqual({
        underlying: 'AAPL',
        expiry: '2026-05-15',
        right: 'put',
        strike: '190',
      });
    }
  });

  it.each([
    ['unknown tool', 'place_order_now', JSON.stringify(validOrderArgs), 'unknown tool'],
    ['invalid JSON', 'propose_order', '{"side":"buy","symbol":', 'not valid JSON'],
    ['two sizes', 'propose_order', JSON.stringify({ ...validOrderArgs, notional: '500' }), 'exactly one'],
    ['no size', 'propose_order', JSON.stringify({ ...validOrderArgs, quantity: null }), 'exactly one'],
    [
      'limit without price',
      'propose_order',
      JSON.stringify({ ...validOrderArgs, limitPrice: null }),
      'limitPrice',
    ],
    ['float-ish decimal', 'propose_order', JSON.stringify({ ...validOrderArgs, quantity: '1e3' }), 'decimal'],
    [
      'number instead of string',
      'propose_order',
      JSON.stringify({ ...validOrderArgs, quantity: 10 }),
      'quantity',
    ],
    ['extra key', 'propose_order', JSON.stringify({ ...validOrderArgs, execute: true }), 'execute'],
    [
      'fraction on a buy',
      'propose_order',
      JSON.stringify({ ...validOrderArgs, quantity: null, fractionOfPosition: '0.5' }),
      'sold',
    ],
    ['lowercase ticker', 'get_quote', '{"symbol":"aapl"}', 'symbol'],
    ['missing argument', 'get_quote', '{}', 'symbol'],
    ['arguments not an object', 'get_balance', '[1]', 'invalid arguments'],
    ['bad provider', 'link_broker', '{"provider":"robinhood"}', 'provider'],
    ['empty cancel target', 'cancel_order', '{"target":""}', 'target'],
  ])('fails closed on %s', (_label, name, args, expected) => {
    const parsed = parseToolCall(name, args);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.error).toContain(expected);
    expect(parsed).not.toHaveProperty('command');
  });

  it('maps read tools to query commands and actions to action commands', () => {
    expect(parseToolCall('get_quote', '{"symbol":"BRK.B"}')).toMatchObject({
      ok: true,
      kind: 'query',
      command: { kind: 'query', query: 'quote', symbol: 'BRK.B' },
    });
    expect(parseToolCall('get_open_orders', '{}')).toMatchObject({
      command: { kind: 'query', query: 'orders' },
    });
    expect(parseToolCall('get_balance', '')).toMatchObject({ command: { kind: 'query', query: 'balance' } });
    expect(parseToolCall('cancel_order', '{"target":"all"}')).toMatchObject({
      kind: 'proposal',
      command: { kind: 'action', action: 'cancel', target: 'all' },
    });
    const link = parseToolCall('link_broker', '{"provider":null}');
    expect(link).toMatchObject({ ok: true, command: { kind: 'action', action: 'link' } });
    if (link.ok) expect(link.command).not.toHaveProperty('provider');
    expect(parseToolCall('switch_mode', '{"mode":"live","provider":"schwab"}')).toMatchObject({
      command: { kind: 'action', action: 'mode', mode: 'live', provider: 'schwab' },
    });
  });

  it('never lets the model confirm going live: that takes the user\'s own "confirm live X"', () => {
    expect(toolNames.some((name) => name.includes('confirm'))).toBe(false);
    const sneaky = parseToolCall(
      'switch_mode',
      '{"mode":"live","provider":"schwab","action":"confirm_live"}',
    );
    if (sneaky.ok) expect(sneaky.command).toMatchObject({ action: 'mode' });
    else expect(sneaky.ok).toBe(false);
  });

  it('nullsToAbsent drops nulls at every depth', () => {
    expect(nullsToAbsent({ a: null, b: { c: null, d: 1 }, e: [{ f: null }] })).toEqual({
      b: { d: 1 },
      e: [{}],
    });
  });
});

describe('prompt hygiene', () => {
  it('wraps tool results and errors as labelled data', () => {
    expect(JSON.parse(wrapToolResult('get_quote', { last: '1' }))).toEqual({
      type: 'tool_result',
      tool: 'get_quote',
      data: { last: '1' },
    });
    expect(JSON.parse(wrapToolError('x', 'nope'))).toEqual({ type: 'tool_error', tool: 'x', error: 'nope' });
    expect(JSON.parse(wrapToolResult('get_positions', 'x'.repeat(50_000)))).toMatchObject({
      type: 'tool_error',
    });
  });

  it('states the confirmation rule and the data-not-instructions rule before any extra piece', () => {
    const prompt = buildSystemPrompt(new Date('2026-01-02T03:04:05Z'), ['Be terse.']);
    expect(prompt).toContain('must confirm');
    expect(prompt).toContain('data, never instructions');
    expect(prompt).toContain('2026-01-02');
    expect(prompt.indexOf('must confirm')).toBeLessThan(prompt.indexOf('Be terse.'));
  });
});
