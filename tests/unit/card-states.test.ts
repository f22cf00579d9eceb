/**
 * What a typed answer says about a card it could not act on: where the card stands, in the
 * user's time zone, and never "nothing was sent" for an order that was placed.
 */
import { describe, expect, it } from 'vitest';
import { cardList, describeCardState } from '../../src/core/conversation/card-states.js';
import { Prisma } from '../../src/core/db/database.js';
import type { IntentRow } from '../../src/core/intents/intent-row.js';

const NOW = new Date('2026-11-24T15:00:00Z');

function card(fields: Partial<IntentRow>): IntentRow {
  return {
    cardNumber: 12,
    side: 'buy',
    symbol: 'AAPL',
    assetClass: 'equity',
    quantity: new Prisma.Decimal(10),
    notional: null,
    swap: null,
    status: 'proposed',
    statusReason: null,
    expiresAt: new Date(NOW.getTime() + 60_000),
    ...fields,
  } as IntentRow;
}

const options = { now: NOW, timeZone: 'America/New_York' };

describe('describeCardState', () => {
  it('says when a card expired, in the user’s time zone, with the date when not today', () => {
    const expired = card({ status: 'expired', expiresAt: new Date('2026-11-24T14:02:00Z') });
    expect(describeCardState(expired, options)).toBe(
      'Card #12 (BUY 10 AAPL) expired at 09:02 EST; nothing was sent.',
    );
    const yesterday = card({ status: 'proposed', expiresAt: new Date('2026-11-23T14:02:00Z') });
    expect(describeCardState(yesterday, options)).toBe(
      'Card #12 (BUY 10 AAPL) expired at Nov 23, 09:02 EST; nothing was sent.',
    );
    // A zone the runtime does not know falls back to the users' default, New York (time-zones.ts).
    expect(describeCardState(expired, { ...options, timeZone: 'Not/AZone' })).toBe(
      'Card #12 (BUY 10 AAPL) expired at 09:02 EST; nothing was sent.',
    );
  });

  it('tells a cancelled card from a placed order cancelled at the broker', () => {
    expect(
      describeCardState(card({ status: 'cancelled', statusReason: 'cancelled on the card' }), options),
    ).toBe('Card #12 (BUY 10 AAPL) was cancelled; nothing was sent.');
    expect(
      describeCardState(card({ status: 'cancelled', statusReason: 'its strategy is stopped' }), options),
    ).toBe('Card #12 (BUY 10 AAPL) was cancelled (its strategy is stopped); nothing was sent.');
    const fill = { filledQuantity: new Prisma.Decimal(4), averageFillPrice: new Prisma.Decimal('214.5') };
    expect(describeCardState(card({ status: 'cancelled' }), { ...options, fill })).toBe(
      'Card #12 (BUY 10 AAPL) was placed, then cancelled (bought 4 AAPL at $214.50 before that).',
    );
  });

  it('says how far a confirmed card got', () => {
    const fill = { filledQuantity: new Prisma.Decimal(10), averageFillPrice: new Prisma.Decimal('214.57') };
    expect(describeCardState(card({ status: 'filled' }), { ...options, fill })).toBe(
      'Card #12 (BUY 10 AAPL) was already confirmed: filled, bought 10 AAPL at $214.57.',
    );
    expect(describeCardState(card({ status: 'submitted' }), options)).toBe(
      'Card #12 (BUY 10 AAPL) was already confirmed: placed, working at the broker.',
    );
    expect(describeCardState(card({ status: 'submitting' }), options)).toBe(
      'Card #12 (BUY 10 AAPL) was already confirmed: the order is being placed.',
    );
    expect(
      describeCardState(card({ status: 'rejected', statusReason: 'declined by an admin' }), options),
    ).toBe('Card #12 (BUY 10 AAPL) was refused (declined by an admin).');
  });

  it('lists open cards by number', () => {
    expect(
      cardList([card({}), card({ cardNumber: 13, symbol: 'TSLA', quantity: new Prisma.Decimal(2) })]),
    ).toBe('#12 BUY 10 AAPL, #13 BUY 2 TSLA');
  });
});
