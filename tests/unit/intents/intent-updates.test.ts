import { describe, expect, it } from 'vitest';
import type { BrokerOrder } from '../../../src/core/brokers/broker.js';
import { Decimal } from '../../../src/core/domain/values.js';
import type { IntentRow } from '../../../src/core/intents/intent-row.js';
import {
  alreadyDecided,
  describeCancel,
  describeOrder,
  refusedSentence,
} from '../../../src/core/intents/intent-updates.js';

const intent = { side: 'buy', symbol: 'AAPL', mode: 'paper', swap: null } as unknown as IntentRow;
const order = (fields: Partial<BrokerOrder>): BrokerOrder =>
  ({
    status: 'filled',
    filledQuantity: new Decimal(10),
    averageFillPrice: new Decimal('214.57'),
    quantity: new Decimal(10),
    fills: [],
    ...fields,
  }) as BrokerOrder;

describe('what the user is told', () => {
  it('says what filled, at what price, on which kind of account', () => {
    expect(describeOrder('filled', order({}), intent)).toBe('Filled (PAPER): bought 10 AAPL at $214.57.');
    expect(
      describeOrder('partially_filled', order({ filledQuantity: new Decimal(4) }), {
        ...intent,
        side: 'sell',
        mode: 'live',
      }),
    ).toBe('Partially filled (LIVE): sold 4 AAPL so far at $214.57.');
    expect(describeOrder('submitted', order({ filledQuantity: new Decimal(0) }), intent)).toBe(
      'Order placed (PAPER) and working at the broker: buy 10 AAPL.',
    );
    expect(describeOrder('rejected', order({ rejectReason: 'insufficient funds' }), intent)).toBe(
      'The broker rejected the order: insufficient funds.',
    );
  });

  it('tells a late press where the order already is, and that nothing more was done', () => {
    expect(alreadyDecided('submitting').text).toBe(
      'This order is already being placed; nothing more was done.',
    );
    expect(alreadyDecided('filled').text).toBe('This order was already filled; nothing more was done.');
    expect(alreadyDecided('proposed').text).toBe('This order is proposed; nothing more was done.');
  });

  it('ends every refusal with "Nothing was sent", once', () => {
    expect(refusedSentence('your account changed')).toBe('Refused: your account changed. Nothing was sent.');
    expect(refusedSentence('Link Schwab again.')).toBe('Link Schwab again. Nothing was sent.');
    expect(refusedSentence('Not now. Nothing was sent.')).toBe('Not now. Nothing was sent.');
  });

  it('answers a cancel with what the broker said, never more', () => {
    expect(describeCancel('1a2b3c4d', 'Charles Schwab', 'cancelled')).toBe('1a2b3c4d cancelled');
    expect(describeCancel('1a2b3c4d', 'Charles Schwab', 'cancel_requested')).toBe(
      '1a2b3c4d: cancel requested; Charles Schwab has not confirmed it yet, I will tell you when it does',
    );
    expect(describeCancel('1a2b3c4d', 'Alpaca', 'filled')).toBe(
      '1a2b3c4d not cancelled: it had already filled',
    );
    expect(describeCancel('1a2b3c4d', 'Alpaca', 'accepted')).toBe(
      '1a2b3c4d not cancelled: Alpaca reports it accepted',
    );
  });
});
