/**
 * Contracts in words: the one place options are named (instrument-label.ts), and what an option
 * order does to a position when the user did not say (option-listing.ts).
 */
import { describe, expect, it } from 'vitest';
import { Decimal } from '../../../src/core/domain/values.js';
import {
  contractLabel,
  contractsLabel,
  expiryDayLabel,
  instrumentLabel,
  premiumLabel,
  securedCash,
  symbolLabel,
} from '../../../src/core/intents/instrument-label.js';
import { inferredPositionEffect } from '../../../src/core/intents/option-listing.js';

describe('instrument labels', () => {
  it('names a contract in words, from columns, parts or an OCC symbol', () => {
    const words = 'AAPL 21 May 2027 $190 put';
    expect(
      instrumentLabel({
        assetClass: 'option',
        symbol: 'AAPL',
        optionUnderlying: 'AAPL',
        optionExpiry: new Date('2027-05-21T00:00:00Z'),
        optionRight: 'put',
        optionStrike: new Decimal(190),
      }),
    ).toBe(words);
    expect(contractLabel({ underlying: 'AAPL', expiry: '2027-05-21', right: 'put', strike: '190' })).toBe(
      words,
    );
    expect(symbolLabel('AAPL  270521P00190000')).toBe(words);
    expect(symbolLabel('AAPL270521P00192500')).toBe('AAPL 21 May 2027 $192.50 put');
    expect(symbolLabel('AAPL')).toBe('AAPL');
    expect(instrumentLabel({ assetClass: 'equity', symbol: 'AAPL' })).toBe('AAPL');
  });

  it('says premiums per share and per contract, and what a short put secures', () => {
    expect(premiumLabel('8.45')).toBe('$8.45 a share, $845 a contract');
    expect(premiumLabel('0.26', 'brackets')).toBe('$0.26 a share ($26 a contract)');
    expect(premiumLabel('1.255')).toBe('$1.26 a share, $125.50 a contract');
    expect(securedCash('190', '2').toFixed()).toBe('38000');
    expect(contractsLabel('1')).toBe('1 contract');
    expect(contractsLabel('3')).toBe('3 contracts');
    expect(expiryDayLabel('2026-04-02')).toBe('2 Apr 2026 (Thu)');
  });
});

describe('inferred position effect', () => {
  const d = (value: number) => new Decimal(value);
  it('opens a sale with nothing held and closes one within what is held', () => {
    expect(inferredPositionEffect('sell', d(0), d(1))).toBe('open');
    expect(inferredPositionEffect('sell', d(-1), d(1))).toBe('open');
    expect(inferredPositionEffect('sell', d(2), d(2))).toBe('close');
    expect(inferredPositionEffect('sell', d(1), d(3))).toBeUndefined();
  });
  it('opens a buy with no short and closes one within the short', () => {
    expect(inferredPositionEffect('buy', d(0), d(1))).toBe('open');
    expect(inferredPositionEffect('buy', d(3), d(1))).toBe('open');
    expect(inferredPositionEffect('buy', d(-2), d(1))).toBe('close');
    expect(inferredPositionEffect('buy', d(-1), d(2))).toBeUndefined();
    expect(inferredPositionEffect('buy', d(0), undefined)).toBeUndefined();
  });
});
