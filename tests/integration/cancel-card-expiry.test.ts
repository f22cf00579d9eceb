/**
 * "Cancel open orders" cards nobody answers are closed by the background pass, as order cards are:
 * once past its expiry an open card is edited once (its orders still listed, no buttons, "Expired
 * at 10:02 EST; nothing was cancelled." on its requester's clock) and nothing is cancelled, however
 * many passes run, at once or one after the other. A card already answered is left as it is; one
 * whose message id was never recorded is marked expired with no edit. Real databases, injected clock.
 */
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CancelCardExpiry } from '../../src/core/conversation/cancel-expiry.js';
import { createLogger } from '../../src/core/logging/logger.js';
import type { Card } from '../../src/core/messages.js';
import { createHarness, type Harness, MARKET_OPEN } from '../support/arbion-harness.js';
import { type Backend, backends } from '../support/databases.js';

/** The confirmation TTL (CONFIRMATION_TTL_SECONDS' default): every card here expires at 10:02 New York time. */
const TTL_MS = 120_000;
const PAST_EXPIRY = new Date(MARKET_OPEN.getTime() + TTL_MS + 1000);

// Both backends: `arbion start` on the embedded database runs this pass too (a PGlite statement
// binds parameters its own way).
describe.each(backends)(
  'the background pass expires unanswered cancel cards on %s PostgreSQL',
  (backend: Backend) => {
    let h: Harness;

    beforeAll(async () => {
      h = await createHarness(backend);
      h.market.override('AMD', { bid: '149.99', ask: '150.01', last: '150.00' });
    });
    afterAll(async () => {
      await h?.destroy();
    });

    const prisma = () => h.test.database.prisma;

    /** Says a resting limit order and confirms its card; returns the intent id. */
    async function place(user: string, text: string): Promise<string> {
      await h.say(user, text);
      const sent = h.channel.lastCard();
      const confirm =
        sent?.message?.kind === 'card'
          ? sent.message.card.actions.find((action) => action.id.startsWith('confirm:'))
          : undefined;
      if (sent === undefined || confirm === undefined) throw new Error(`no card for "${text}"`);
      await h.press(user, confirm.id, sent.messageId);
      return confirm.id.slice('confirm:'.length);
    }

    /** Says "cancel all"; returns the card's message id, its request id and its button ids. */
    async function cancelAll(user: string) {
      const before = h.channel.log.length;
      await h.say(user, 'cancel all');
      const sent = h.channel.log
        .slice(before)
        .find((entry) => entry.kind === 'send' && entry.message?.kind === 'card');
      const [confirm, keep] = sent?.message?.kind === 'card' ? sent.message.card.actions : [];
      if (sent === undefined || confirm === undefined || keep === undefined)
        throw new Error('no cancel card');
      return {
        messageId: sent.messageId,
        requestId: confirm.id.split(':')[1] ?? '',
        confirm: confirm.id,
        keep: keep.id,
      };
    }

    /** The cards each message was edited to since log entry `from`. */
    const editsOf = (messageId: string, from = 0): Card[] =>
      h.channel.log
        .slice(from)
        .flatMap((entry) =>
          entry.kind === 'edit' && entry.messageId === messageId && entry.message?.kind === 'card'
            ? [entry.message.card]
            : [],
        );
    const requestOf = (id: string) => prisma().cancelRequest.findUniqueOrThrow({ where: { id } });
    const orderStatus = async (intentId: string) =>
      (await prisma().order.findFirstOrThrow({ where: { intentId } })).status;
    const expiredAudits = (requestId: string) =>
      prisma().auditEvent.count({
        where: { type: 'orders.cancel_expired', data: { path: ['cancelRequestId'], equals: requestId } },
      });

    /** Another process's pass over the same database and chat. */
    const otherProcess = () =>
      new CancelCardExpiry({
        prisma: prisma(),
        channelFor: () => h.channel,
        logger: createLogger({
          level: 'silent',
          format: 'json',
          secretValues: [],
          destination: new Writable({ write: (_chunk, _encoding, callback) => callback() }),
        }),
        clock: () => h.clock.now,
      });

    async function atTime<T>(now: Date, run: () => Promise<T>): Promise<T> {
      h.clock.now = now;
      try {
        return await run();
      } finally {
        h.clock.now = MARKET_OPEN;
      }
    }

    it('edits an unanswered card once past its expiry: orders listed, no buttons, nothing cancelled', async () => {
      const resting = await place('ann', 'buy 3 AMD limit 120');
      const shown = await cancelAll('ann');
      const from = h.channel.log.length;

      // Not yet: a card still open at its last second keeps its buttons.
      await atTime(new Date(MARKET_OPEN.getTime() + TTL_MS - 1000), () => h.arbion.runBackgroundPass());
      expect(editsOf(shown.messageId, from)).toEqual([]);
      expect((await requestOf(shown.requestId)).status).toBe('open');

      await atTime(PAST_EXPIRY, () => h.arbion.runBackgroundPass());
      const [edited, ...more] = editsOf(shown.messageId, from);
      expect(more).toEqual([]);
      expect(edited).toMatchObject({
        actions: [],
        fields: [{ label: resting.slice(0, 8), value: 'BUY 3 AMD, limit $120.00' }],
        notice: 'Expired at 10:02 EST; nothing was cancelled.',
      });
      expect(edited?.title).toMatch(/^Card #\d+ · Cancel 1 open order$/);
      // The edited card is the telling: no message follows it, to the chat or to the requester.
      expect(h.channel.log.slice(from).filter((entry) => entry.kind !== 'edit')).toEqual([]);
      expect(await requestOf(shown.requestId)).toMatchObject({ status: 'expired', decidedAt: PAST_EXPIRY });
      expect(await expiredAudits(shown.requestId)).toBe(1);
      expect(await orderStatus(resting)).toBe('accepted');

      // The next pass finds nothing to do.
      await atTime(new Date(PAST_EXPIRY.getTime() + 60_000), () => h.arbion.runBackgroundPass());
      expect(editsOf(shown.messageId, from)).toHaveLength(1);
      expect(await expiredAudits(shown.requestId)).toBe(1);

      // A stale button pressed later still cancels nothing.
      const beforePress = h.channel.log.length;
      await atTime(PAST_EXPIRY, () => h.press('ann', shown.confirm, shown.messageId));
      expect(h.channel.log.slice(beforePress).flatMap((entry) => entry.text ?? [])).toEqual([
        'That card expired: nothing was cancelled.',
      ]);
      // The press shows the card's state again (in case the pass's edit did not reach the chat).
      expect(editsOf(shown.messageId, beforePress).map((card) => [card.actions, card.notice])).toEqual([
        [[], 'Expired at 10:02 EST; nothing was cancelled.'],
      ]);
      expect(await orderStatus(resting)).toBe('accepted');

      // A typed answer to it says when it expired, on the requester's clock.
      const number = Number(edited?.title?.match(/#(\d+)/)?.[1]);
      const beforeTyped = h.channel.log.length;
      await atTime(PAST_EXPIRY, () => h.say('ann', `confirm ${number}`));
      const typed = h.channel.log.slice(beforeTyped);
      expect(
        typed.map((entry) => (entry.message?.kind === 'text' ? entry.message.text : entry.kind)),
      ).toEqual([
        `Card #${number} (cancel 1 open order) expired at 10:02 EST: nothing was cancelled. Nothing more was done.`,
      ]);
      // With no card open, a bare "confirm" tells what became of the newest card: this one.
      const beforeBare = h.channel.log.length;
      await atTime(PAST_EXPIRY, () => h.say('ann', 'confirm'));
      expect(
        h.channel.log
          .slice(beforeBare)
          .map((entry) => (entry.message?.kind === 'text' ? entry.message.text : entry.kind)),
      ).toEqual([
        `Card #${number} (cancel 1 open order) expired at 10:02 EST: nothing was cancelled. Nothing more was done.`,
      ]);
      expect(await orderStatus(resting)).toBe('accepted');
    });

    it("says the expiry on the requester's own clock", async () => {
      await place('bea', 'buy 2 AMD limit 121');
      const user = await prisma().channelIdentity.findFirstOrThrow({ where: { platformUserId: 'bea' } });
      await prisma().user.update({ where: { id: user.userId }, data: { timezone: 'Europe/Berlin' } });
      const shown = await cancelAll('bea');
      const from = h.channel.log.length;
      await atTime(PAST_EXPIRY, () => h.arbion.runBackgroundPass());
      expect(editsOf(shown.messageId, from).map((card) => card.notice)).toEqual([
        'Expired at 16:02 GMT+1; nothing was cancelled.',
      ]);
    });

    it('passes running at once, in this process and others, edit each card once', async () => {
      await place('cal', 'buy 2 AMD limit 122');
      await place('dan', 'buy 2 AMD limit 123');
      const cards = [
        await cancelAll('cal'),
        await cancelAll('cal'),
        await cancelAll('dan'),
        await cancelAll('dan'),
      ];
      const from = h.channel.log.length;
      const [, ...claimed] = await atTime(PAST_EXPIRY, () =>
        Promise.all([
          h.arbion.runBackgroundPass(),
          otherProcess().pass(['console']),
          otherProcess().pass(['console']),
          otherProcess().pass(['console']),
        ]),
      );
      // What the other processes claimed, this process's pass did not (it claimed the rest).
      expect(claimed.reduce((sum, count) => sum + count, 0)).toBeLessThanOrEqual(cards.length);
      for (const card of cards) {
        expect(editsOf(card.messageId, from).map((edited) => edited.actions)).toEqual([[]]);
        expect((await requestOf(card.requestId)).status).toBe('expired');
        expect(await expiredAudits(card.requestId)).toBe(1);
      }
    });

    it('leaves answered cards as they are', async () => {
      const keptOrder = await place('eve', 'buy 2 AMD limit 124');
      const kept = await cancelAll('eve');
      await h.press('eve', kept.keep, kept.messageId);
      const confirmedOrder = await place('fay', 'buy 2 AMD limit 125');
      const confirmed = await cancelAll('fay');
      await h.press('fay', confirmed.confirm, confirmed.messageId);
      const from = h.channel.log.length;

      await atTime(PAST_EXPIRY, () => h.arbion.runBackgroundPass());
      expect(editsOf(kept.messageId, from)).toEqual([]);
      expect(editsOf(confirmed.messageId, from)).toEqual([]);
      expect((await requestOf(kept.requestId)).status).toBe('kept');
      expect((await requestOf(confirmed.requestId)).status).toBe('confirmed');
      expect(await expiredAudits(kept.requestId)).toBe(0);
      expect(await orderStatus(keptOrder)).toBe('accepted');
      expect(await orderStatus(confirmedOrder)).toBe('cancelled');
    });

    it('marks a card whose message id was never recorded expired, and edits nothing', async () => {
      await place('gus', 'buy 2 AMD limit 126');
      const shown = await cancelAll('gus');
      // A crash between the card's sending and the write of its message id.
      await prisma().cancelRequest.update({ where: { id: shown.requestId }, data: { cardMessageId: null } });
      const from = h.channel.log.length;

      await atTime(PAST_EXPIRY, () => h.arbion.runBackgroundPass());
      expect(h.channel.log.slice(from)).toEqual([]);
      expect(await requestOf(shown.requestId)).toMatchObject({ status: 'expired', decidedAt: PAST_EXPIRY });
      expect(await expiredAudits(shown.requestId)).toBe(1);
    });

    it('leaves cards of chats this process does not run to a process that does', async () => {
      await place('hal', 'buy 2 AMD limit 127');
      const shown = await cancelAll('hal');
      const from = h.channel.log.length;
      expect(await atTime(PAST_EXPIRY, () => otherProcess().pass(['telegram']))).toBe(0);
      expect((await requestOf(shown.requestId)).status).toBe('open');
      expect(await atTime(PAST_EXPIRY, () => otherProcess().pass([]))).toBe(0);
      expect((await requestOf(shown.requestId)).status).toBe('open');
      expect(await atTime(PAST_EXPIRY, () => otherProcess().pass(['console']))).toBe(1);
      expect(editsOf(shown.messageId, from)).toHaveLength(1);
    });
  },
);
