import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseTeamCommand } from '../../src/core/conversation/team-commands.js';

describe('team commands', () => {
  it.each([
    ['role <@U123> trader', { kind: 'set-role', platformUserId: 'U123', role: 'trader' }],
    ['/arbion role <@U123|bob> admin', { kind: 'set-role', platformUserId: 'U123', role: 'admin' }],
    ['set role of <@!4242> to viewer', { kind: 'set-role', platformUserId: '4242', role: 'viewer' }],
    ['Make <@U9> an admin.', { kind: 'set-role', platformUserId: 'U9', role: 'admin' }],
    ['roles', { kind: 'list-roles' }],
    ['link chat', { kind: 'issue-link-code' }],
    ['connect telegram', { kind: 'issue-link-code' }],
    ['join abcd-efgh', { kind: 'redeem-link-code', code: 'ABCD-EFGH' }],
  ])('reads %j', (text, expected) => {
    expect(parseTeamCommand(text)).toEqual(expected);
  });

  it('reads thresholds as decimals, and "off"', () => {
    expect(parseTeamCommand('approval above $25,000.50')).toMatchObject({ kind: 'set-approval' });
    const above = parseTeamCommand('approvals over 10000');
    expect(above?.kind === 'set-approval' && above.threshold?.toFixed()).toBe('10000');
    expect(parseTeamCommand('approval off')).toEqual({ kind: 'set-approval', threshold: undefined });
  });

  it.each([
    'role @bob trader', // not a platform mention: ambiguous
    'role <@U1> owner',
    'role <@U1> trader please',
    "don't make <@U1> admin",
    'join ABCD-EFG1', // 1 is not in the code alphabet
    'approval above lots',
    'link schwab', // a broker, not a chat app
    'buy 10 AAPL',
  ])('does not guess at %j', (text) => {
    expect(parseTeamCommand(text)).toBeUndefined();
  });

  it('never throws, and never reads a role change from text without a mention', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (text) => {
        const command = parseTeamCommand(text);
        if (command?.kind === 'set-role') expect(text).toContain('<@');
      }),
      { numRuns: 2000 },
    );
  });
});
