/**
 * Automation sentences on the fast path: each becomes one exact command, ordinary orders and
 * queries are not taken over, and what does not fit is left alone.
 */
import { describe, expect, it } from 'vitest';
import { type Command, commandSchema } from '../../src/core/conversation/commands.js';
import { amountOf } from '../../src/core/conversation/parser/automation.js';
import { parseMessage, StaticSymbolResolver } from '../../src/core/conversation/parser/index.js';
import type { Instrument } from '../../src/core/market-data/instruments.js';

function instrument(symbol: string, name: string, assetClass: 'equity' | 'crypto' = 'equity'): Instrument {
  return {
    symbol,
    name,
    assetClass,
    kind: assetClass === 'crypto' ? 'crypto' : 'stock',
    aliases: [name.toLowerCase()],
    indexes: [],
  };
}

const symbols = new StaticSymbolResolver([
  instrument('SOFI', 'SoFi Technologies'),
  instrument('AAPL', 'Apple Inc.'),
  instrument('TSLA', 'Tesla'),
  instrument('NVDA', 'NVIDIA'),
  instrument('ALL', 'Allstate'),
  instrument('ETH', 'Ethereum', 'crypto'),
]);
const parse = (text: string): Command =>
  parseMessage(text, { symbols, now: new Date('2026-11-24T15:00:00Z') });

describe('automation commands', () => {
  it.each<[string, Command]>([
    [
      'run the wheel on SOFI, 2 contracts max, paper',
      {
        kind: 'automation',
        action: 'create',
        strategy: 'wheel',
        symbol: 'SOFI',
        params: { maxContracts: 2 },
        mode: 'paper',
        execution: 'ask',
        limits: {},
      },
    ],
    [
      'Run the wheel on sofi 1 contract max 0.25 delta live auto, max $5k per order, $12,000 per day, max drawdown 10%',
      {
        kind: 'automation',
        action: 'create',
        strategy: 'wheel',
        symbol: 'SOFI',
        params: { maxContracts: 1, targetDelta: 0.25 },
        mode: 'live',
        execution: 'auto',
        limits: { maxNotionalPerOrder: '5000', maxNotionalPerDay: '12000', maxDrawdown: '0.1' },
      },
    ],
    [
      'start a collar on AAPL',
      {
        kind: 'automation',
        action: 'create',
        strategy: 'collar',
        symbol: 'AAPL',
        params: {},
        mode: 'paper',
        execution: 'ask',
        limits: {},
      },
    ],
    [
      'run ai on NVDA, max position 50',
      {
        kind: 'automation',
        action: 'create',
        strategy: 'ai_driven',
        symbol: 'NVDA',
        params: {},
        mode: 'paper',
        execution: 'ask',
        limits: { maxPosition: '50' },
      },
    ],
    ['my strategies', { kind: 'automation', action: 'list' }],
    ['list my alerts', { kind: 'automation', action: 'list' }],
    ['stop everything', { kind: 'automation', action: 'stop_everything' }],
    ['Kill switch!', { kind: 'automation', action: 'stop_everything' }],
    [
      'pause the wheel on SOFI',
      { kind: 'automation', action: 'pause', target: { kind: 'wheel', symbol: 'SOFI' } },
    ],
    ['resume SOFI', { kind: 'automation', action: 'resume', target: { symbol: 'SOFI' } }],
    ['stop strategy 3f2a1b9c', { kind: 'automation', action: 'stop', target: { id: '3f2a1b9c' } }],
    [
      'cancel the alert on AAPL',
      { kind: 'automation', action: 'stop', target: { kind: 'alert', symbol: 'AAPL' } },
    ],
    ['confirm auto 3f2a1b9c', { kind: 'automation', action: 'confirm_auto', target: { id: '3f2a1b9c' } }],
    [
      'alert me if AAPL goes above 250',
      {
        kind: 'automation',
        action: 'monitor',
        monitor: 'price_above',
        symbol: 'AAPL',
        threshold: '250',
        closePosition: false,
      },
    ],
    [
      'sell half my ETH if it drops under 3k',
      {
        kind: 'automation',
        action: 'monitor',
        monitor: 'stop_loss',
        symbol: 'ETH',
        threshold: '3000',
        fractionOfPosition: '0.5',
        closePosition: true,
      },
    ],
    [
      'set a stop loss on TSLA at $300',
      {
        kind: 'automation',
        action: 'monitor',
        monitor: 'stop_loss',
        symbol: 'TSLA',
        threshold: '300',
        closePosition: true,
      },
    ],
    [
      'trailing stop 10% on NVDA',
      {
        kind: 'automation',
        action: 'monitor',
        monitor: 'trailing_stop',
        symbol: 'NVDA',
        trailFraction: '0.1',
        closePosition: true,
      },
    ],
    [
      'backtest the wheel on SOFI for 6 months',
      { kind: 'automation', action: 'backtest', strategy: 'wheel', symbol: 'SOFI', params: {}, days: 180 },
    ],
    [
      'backtest the collar on AAPL',
      { kind: 'automation', action: 'backtest', strategy: 'collar', symbol: 'AAPL', params: {}, days: 180 },
    ],
  ])('%s', (text, expected) => {
    const command = parse(text);
    expect(command).toEqual(expected);
    expect(commandSchema.safeParse(command).success).toBe(true);
  });

  it.each([
    ['cancel all', 'action'],
    ['sell 10 AAPL', 'order'],
    ['stop', 'unknown'],
    ['run the wheel on ZZZZ', 'unknown'],
    ['alert me if AAPL goes above lots', 'unknown'],
    ['trailing stop 150% on NVDA', 'unknown'],
    ['positions', 'query'],
  ])('leaves "%s" to the others (%s)', (text, kind) => {
    expect(parse(text).kind).toBe(kind);
  });

  it('never reads live or auto where the sentence denies them', () => {
    expect(parse('run the wheel on SOFI, paper, not live')).toMatchObject({
      mode: 'paper',
      execution: 'ask',
    });
    expect(parse("run the wheel on SOFI, no auto, don't go live")).toMatchObject({
      mode: 'paper',
      execution: 'ask',
    });
    expect(parse('run the wheel on SOFI live, not auto')).toMatchObject({ mode: 'live', execution: 'ask' });
  });

  it('reads a contract count whole: "12,020 contracts" is not 20', () => {
    expect(parse('run the wheel on SOFI, 12,020 contracts max')).toMatchObject({
      params: { maxContracts: 12020 },
    });
    expect(parse('run the wheel on SOFI, max 3 contracts')).toMatchObject({ params: { maxContracts: 3 } });
  });

  it('reads amounts with thousands and separators exactly', () => {
    expect(amountOf('3k')).toBe('3000');
    expect(amountOf('2.5k')).toBe('2500');
    expect(amountOf('1.2345k')).toBe('1234.5');
    expect(amountOf('$12,000')).toBe('12000');
    expect(amountOf('abc')).toBeUndefined();
  });
});
