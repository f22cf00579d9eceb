/**
 * The card of a cancelled intent says whether anything had been sent: a card cancelled before its
 * order was placed says "Nothing was sent"; a working order cancelled at the broker says so, and
 * how much had filled.
 */
import { describe, expect, it } from 'vitest';
import { Decimal } from '../../../src/core/domain/values.js';
import { renderIntentCard } from '../../../src/core/intents/confirmation-card.js';
import type { IntentRow } from '../../../src/core/intents/intent-row.js';
import { cardUpdate } from '../../../src/core/intents/intent-updates.js';

const NOW = new Date('2026-11-24T15:00:00Z');
const CONFIRMED = new Date('2026-11-24T14:59:00Z');

function cancelled(fields: Partial<IntentRow> = {}): IntentRow {
  return {
    id: '3f2a9c1e-7b4d-4c1a-9a57-1f0c1d2e3f40',
    status: 'cancelled',
    mode: 'paper',
    side: 'buy',
    assetClass: 'equity',
    symbol: 'AMD',
    quantity: new Decimal(10),
    notional: null,
    orderType: 'limit',
    limitPrice: new Decimal(120),
    stopPrice: null,
    timeInForce: 'day',
    quotedPrice: new Decimal(150),
    estimatedCost: new Decimal(1200),
    swap: null,
    statusReason: null,
    requiresApproval: false,
    confirmedAt: CONFIRMED,
    approvedAt: null,
    expiresAt: new Date('2026-11-24T15:01:00Z'),
    cardMessageId: 'm1',
    ...fields,
  } as IntentRow;
}

const notice = (intent: IntentRow, filledQuantity?: Decimal) =>
  renderIntentCard(intent, filledQuantity === undefined ? { now: NOW } : { now: NOW, filledQuantity }).notice;

describe('the card of a cancelled intent', () => {
  it('says nothing was sent when the card was cancelled before anything was placed', () => {
    expect(notice(cancelled({ confirmedAt: null }))).toBe('Cancelled. Nothing was sent.');
    // Four-eyes: the requester confirmed, no admin approved: nothing reached a broker.
    expect(notice(cancelled({ requiresApproval: true, approvedAt: null }))).toBe(
      'Cancelled. Nothing was sent.',
    );
  });

  it('says a working order was cancelled at the broker, never that nothing was sent', () => {
    expect(notice(cancelled())).toBe('Cancelled at the broker.');
    expect(notice(cancelled(), new Decimal(0))).toBe('Cancelled at the broker.');
    expect(notice(cancelled({ requiresApproval: true, approvedAt: CONFIRMED }))).toBe(
      'Cancelled at the broker.',
    );
  });

  it('says how much had filled when part of it had', () => {
    expect(notice(cancelled(), new Decimal(3))).toBe('Cancelled; 3 of 10 had filled.');
    expect(notice(cancelled({ quantity: null, notional: new Decimal(500) }), new Decimal('0.5'))).toBe(
      'Cancelled; 0.5 had filled.',
    );
    expect(cardUpdate(cancelled(), NOW, undefined, new Decimal(3)).card.notice).toBe(
      'Cancelled; 3 of 10 had filled.',
    );
  });

  it('keeps the other statuses as they were', () => {
    expect(notice(cancelled({ status: 'filled' }), new Decimal(10))).toBe('Filled.');
    expect(notice(cancelled({ status: 'expired', confirmedAt: null, statusReason: null }))).toBe(
      'Expired: not confirmed in time. Nothing was sent.',
    );
  });
});
