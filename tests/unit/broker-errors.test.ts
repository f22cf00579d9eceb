import { describe, expect, it } from 'vitest';
import {
  BrokerAuthError,
  BrokerCircuitOpenError,
  BrokerRateLimitedError,
  BrokerRequestRejectedError,
  BrokerUnexpectedAnswerError,
} from '../../src/brokers/http/errors.js';
import { BrokerRejectedError, BrokerUnreachableError } from '../../src/core/brokers/broker.js';
import { ArbionError, GENERIC_USER_MESSAGE, userMessageFor } from '../../src/core/errors.js';
import { describeBrokerFailure, isBrokerFailure } from '../../src/core/intents/broker-failures.js';

describe('broker error roots', () => {
  it('gives every adapter error its core kind, and words it by that kind alone', () => {
    const cases = [
      [
        new BrokerRejectedError('alpaca', 'insufficient buying power'),
        'refused',
        'Alpaca refused: insufficient buying power.',
      ],
      [
        new BrokerRequestRejectedError('alpaca', 'asset not found', 422, '40010001'),
        'refused',
        'Alpaca refused: asset not found.',
      ],
      [
        new BrokerAuthError('schwab', 'token revoked'),
        'auth',
        'Charles Schwab did not accept our sign-in. Say "link" to sign in again.',
      ],
      [
        new BrokerRateLimitedError('etrade', 'slow down'),
        'rate_limited',
        'E*TRADE asked us to slow down and did not take the request.',
      ],
      [
        new BrokerCircuitOpenError('coinbase', 'paused'),
        'circuit_open',
        'Coinbase is not answering right now, so I paused requests to it for a moment.',
      ],
      [
        new BrokerUnexpectedAnswerError('schwab', 'bad body'),
        'unexpected_answer',
        'Charles Schwab answered in a way I do not understand.',
      ],
      [
        new BrokerUnreachableError('paper', 'GET /v1/orders timed out'),
        'unreachable',
        'The paper broker did not answer in time.',
      ],
    ] as const;
    for (const [error, kind, text] of cases) {
      expect(error.kind).toBe(kind);
      expect(error).toBeInstanceOf(ArbionError);
      expect(isBrokerFailure(error)).toBe(true);
      expect(describeBrokerFailure(error)).toBe(text);
      expect(userMessageFor(error)).toBe(text);
    }
  });

  it('keeps the rejection fields callers read: reason, the broker code, the HTTP status', () => {
    const rejected = new BrokerRequestRejectedError('alpaca', 'asset not found', 422, '40010001');
    expect(rejected).toBeInstanceOf(BrokerRejectedError);
    expect(rejected).toMatchObject({
      provider: 'alpaca',
      reason: 'asset not found',
      code: '40010001',
      status: 422,
    });
    expect(rejected.name).toBe('BrokerRequestRejectedError');
    expect(new BrokerRejectedError('paper', 'no such order').code).toBe('broker_refused');
    expect(new BrokerAuthError('etrade', 'ended', 'reauth_required')).toMatchObject({
      code: 'reauth_required',
      status: 401,
    });
  });

  it('never shows what an unreachable error logs (method, path)', () => {
    const error = new BrokerUnreachableError(
      'schwab',
      'Schwab did not answer POST /accounts/abc/orders in time',
    );
    expect(error.message).toContain('/accounts/abc/orders');
    expect(error.userMessage).not.toContain('/accounts');
    expect(error.code).toBe('broker_unreachable');
  });

  it('leaves other errors to their own words, or the generic message', () => {
    expect(isBrokerFailure(new Error('boom'))).toBe(false);
    expect(describeBrokerFailure(new Error('boom'))).toBe(GENERIC_USER_MESSAGE);
  });
});
