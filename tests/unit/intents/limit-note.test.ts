/**
 * What a card says about a limit price against the touch it was quoted at: a limit through the
 * market fills now (and a far one is a likely typo), a limit far on the other side may wait.
 */
import { describe, expect, it } from 'vitest';
import { Prisma } from '../../../src/core/db/database.js';
import { limitNote } from '../../../src/core/intents/confirmation-card.js';

/** An intent's limit and the touch it was quoted at (the ask for a buy, the bid for a sale). */
const note = (
  side: 'buy' | 'sell',
  limit: string,
  touch: string,
  orderType: 'limit' | 'stop_limit' = 'limit',
) =>
  limitNote({
    side,
    orderType,
    limitPrice: new Prisma.Decimal(limit),
    quotedPrice: new Prisma.Decimal(touch),
  });

describe('limitNote', () => {
  it('a buy at or above the ask will likely fill now at about the ask', () => {
    expect(note('buy', '250', '196.50')).toBe(
      'Note: this will likely fill now at about $196.50. The limit $250.00 is 27% above the ask: check it.',
    );
    expect(note('buy', '197', '196.50')).toBe('Note: this will likely fill now at about $196.50.');
    expect(note('buy', '196.50', '196.50')).toBe('Note: this will likely fill now at about $196.50.');
  });

  it('a sale at or below the bid will likely fill now at about the bid', () => {
    expect(note('sell', '150', '196.40')).toBe(
      'Note: this will likely fill now at about $196.40. The limit $150.00 is 24% below the bid: check it.',
    );
    expect(note('sell', '196.40', '196.40')).toBe('Note: this will likely fill now at about $196.40.');
  });

  it('a limit far on the resting side may not fill soon; a near one says nothing', () => {
    expect(note('buy', '150', '196.50')).toBe('Note: the limit is 24% below the ask and may not fill soon.');
    expect(note('sell', '250', '196.40')).toBe('Note: the limit is 27% above the bid and may not fill soon.');
    expect(note('buy', '190', '196.50')).toBeUndefined();
    expect(note('sell', '200', '196.40')).toBeUndefined();
  });

  it('says nothing of a stop-limit, whose limit waits for its stop', () => {
    expect(note('buy', '250', '196.50', 'stop_limit')).toBeUndefined();
    expect(note('buy', '150', '196.50', 'stop_limit')).toBeUndefined();
  });
});
