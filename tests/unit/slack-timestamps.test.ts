/** Slack's replay window, judged against an injected clock: five minutes either way, and numbers only. */
import { describe, expect, it } from 'vitest';
import {
  SLACK_TIMESTAMP_TOLERANCE_SECONDS,
  timestampProblem,
} from '../../src/channels/slack/http-receiver.js';

const NOW_MS = Date.parse('2031-03-14T15:09:26.500Z');
const NOW_S = Math.floor(NOW_MS / 1000);

describe('Slack request timestamps', () => {
  it('takes a timestamp within five minutes either side of the clock', () => {
    expect(SLACK_TIMESTAMP_TOLERANCE_SECONDS).toBe(300);
    for (const skew of [-299, 0, 1, 299])
      expect(timestampProblem(String(NOW_S + skew), NOW_MS)).toBeUndefined();
  });

  it('refuses one further away, in the past and in the future', () => {
    expect(timestampProblem(String(NOW_S - 301), NOW_MS)).toBe('the request timestamp is too old');
    expect(timestampProblem(String(NOW_S + 301), NOW_MS)).toBe('the request timestamp is in the future');
    expect(timestampProblem(String(NOW_S + 6 * 60), NOW_MS)).toBe('the request timestamp is in the future');
  });

  it('refuses a timestamp that is not a plain number of seconds', () => {
    for (const header of ['', 'soon', '1.5e9', '-5', `${NOW_S} `, '0x10'])
      expect(timestampProblem(header, NOW_MS), JSON.stringify(header)).toBe(
        'the request timestamp is not a number of seconds',
      );
  });
});
