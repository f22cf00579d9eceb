/**
 * The claim check on the model's prose: deeds reported as done are caught (no LLM turn can place,
 * fill or cancel anything), honest prose about cards, prices and what will happen passes.
 */
import { describe, expect, it } from 'vitest';
import { claimsAction, truthfulAnswer } from '../../src/core/conversation/llm/claims.js';
import { describeProposalOutcome, outcomeOf } from '../../src/core/conversation/llm/proposals.js';

describe('claimsAction', () => {
  it.each([
    'Order placed!',
    'I placed a market buy of 10 AAPL.',
    "I've bought 10 AAPL for you.",
    'We have just sold your TSLA.',
    'Done! Bought 10 AAPL at $189.20.',
    'Filled at $189.20.',
    'Your order has been filled.',
    'All your orders were cancelled.',
    'Your stop is cancelled, so the position is free to run.',
    'I successfully cancelled everything.',
    'Sold 5 TSLA for you, no problem.',
    'No problem, I bought it.',
    'Trade executed: BUY 10 AAPL.',
    'The trade went through.',
    'Your order is in.',
    "You're all set: 10 AAPL bought.",
    'Success!',
    'I switched you to live trading.',
    'Great news, I bought it.\nAnything else?',
  ])('catches "%s"', (text) => {
    expect(claimsAction(text)).toBe(true);
  });

  it.each([
    'I prepared a market buy of 10 AAPL. Please confirm it on the card.',
    'AAPL trades at 189.15.',
    'Nothing has been placed yet.',
    'Your order will be placed only when you confirm the card.',
    'The order has not been placed.',
    "I haven't placed anything.",
    'If I bought it now, it would cost about $1,890.',
    'Once you confirm, the order is sent to your paper account.',
    'Did your order fill?',
    'You bought 10 AAPL last week at $150.',
    'I can cancel your open orders if you confirm the card.',
    'Which symbol do you mean?',
    'You asked about Apple earlier.',
  ])('lets "%s" through', (text) => {
    expect(claimsAction(text)).toBe(false);
  });
});

describe('truthfulAnswer', () => {
  it('keeps honest prose and replaces a claim by what really happened', () => {
    expect(truthfulAnswer('AAPL is at 189.15.', [])).toEqual({ text: 'AAPL is at 189.15.', replaced: false });
    expect(truthfulAnswer('Bought!', [{ kind: 'card', card: '1a2b3c4d' }])).toEqual({
      text: 'Nothing was placed, filled or cancelled: the card above waits for your confirmation. Say "orders" or "positions" to see your account as it is.',
      replaced: true,
    });
    expect(truthfulAnswer('Bought!', [{ kind: 'refused', reason: 'no' }]).text).toBe(
      'Nothing was placed, filled or cancelled. Say "orders" or "positions" to see your account as it is.',
    );
  });
});

describe('what the model is told about a proposal', () => {
  const order = {
    kind: 'order',
    side: 'buy',
    symbol: 'AAPL',
    assetClass: 'equity',
    quantity: '10',
    orderType: 'market',
    timeInForce: 'day',
  } as const;

  it('a card, a refusal, or the words the user was given (never a linking URL)', () => {
    expect(describeProposalOutcome(outcomeOf(order, { kind: 'card', card: '1a2b3c4d' }))).toBe(
      'card 1a2b3c4d shown; nothing happens unless the user confirms it',
    );
    expect(describeProposalOutcome(outcomeOf(order, { kind: 'text', text: 'Refused: too big.' }))).toBe(
      'refused: Refused: too big.',
    );
    expect(describeProposalOutcome(outcomeOf(order, undefined))).toBe(
      'refused: nothing was shown to the user',
    );
    const link = { kind: 'action', action: 'link' } as const;
    expect(
      describeProposalOutcome(
        outcomeOf(link, {
          kind: 'text',
          text: 'Open this page:\nhttps://arbion.example/link/s3cr3t-token\nIt works once.',
        }),
      ),
    ).toBe('no card; the user was told: Open this page:\n[link shown to the user]\nIt works once.');
  });
});
