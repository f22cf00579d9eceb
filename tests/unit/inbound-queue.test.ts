import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { InboundQueue } from '../../src/channels/inbound-queue.js';
import { createLogger } from '../../src/core/logging/logger.js';
import type { InboundMessage } from '../../src/core/messages.js';

const logger = createLogger({
  level: 'silent',
  format: 'json',
  secretValues: [],
  destination: new Writable({ write: (_chunk, _encoding, callback) => callback() }),
});

let sequence = 0;
function message(chatId: string, text: string): InboundMessage {
  return {
    kind: 'text',
    deliveryId: `d${++sequence}`,
    messageId: `m${sequence}`,
    address: { platform: 'telegram', workspaceId: '', chatId },
    sender: { platformUserId: 'u1' },
    chatType: 'direct',
    receivedAt: new Date(0),
    text,
  };
}

/** A handler whose calls finish only when the test releases them. */
function gatedHandler() {
  const started: string[] = [];
  const finished: string[] = [];
  const gates = new Map<string, () => void>();
  let active = 0;
  let peak = 0;
  return {
    started,
    finished,
    peak: () => peak,
    release(text: string) {
      gates.get(text)?.();
    },
    handle(inbound: InboundMessage): Promise<void> {
      const text = inbound.kind === 'text' ? inbound.text : '';
      started.push(text);
      active++;
      peak = Math.max(peak, active);
      return new Promise<void>((resolve) => {
        gates.set(text, () => {
          active--;
          finished.push(text);
          resolve();
        });
      });
    },
  };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('InboundQueue', () => {
  it('handles one chat in order, one message at a time, and chats side by side', async () => {
    const handler = gatedHandler();
    const queue = new InboundQueue({ handle: (m) => handler.handle(m), logger, concurrency: 8 });
    void queue.deliver(message('A', 'a1'));
    void queue.deliver(message('A', 'a2'));
    void queue.deliver(message('B', 'b1'));
    await tick();
    expect(handler.started).toEqual(['a1', 'b1']); // a2 waits for a1
    expect(queue.size).toBe(3);
    handler.release('b1');
    await tick();
    expect(handler.started).toEqual(['a1', 'b1']);
    handler.release('a1');
    await tick();
    expect(handler.started).toEqual(['a1', 'b1', 'a2']);
    handler.release('a2');
    await queue.idle();
    expect(handler.finished).toEqual(['b1', 'a1', 'a2']);
    expect(queue.size).toBe(0);
  });

  it('runs at most `concurrency` chats at once and resolves each delivery when it is handled', async () => {
    const handler = gatedHandler();
    const queue = new InboundQueue({ handle: (m) => handler.handle(m), logger, concurrency: 2 });
    const deliveries = ['c1', 'c2', 'c3', 'c4'].map((chat) => queue.deliver(message(chat, chat)));
    let firstDone = false;
    void deliveries[0]?.then(() => {
      firstDone = true;
    });
    await tick();
    expect(handler.started).toEqual(['c1', 'c2']);
    expect(firstDone).toBe(false);
    handler.release('c1');
    await tick();
    expect(firstDone).toBe(true);
    expect(handler.started).toEqual(['c1', 'c2', 'c3']);
    for (const chat of ['c2', 'c3']) handler.release(chat);
    await tick();
    handler.release('c4');
    await Promise.all(deliveries);
    expect(handler.peak()).toBe(2);
  });

  it('keeps going after a handler fails, and the failed delivery still resolves', async () => {
    const handled: string[] = [];
    const queue = new InboundQueue({
      handle: async (m) => {
        if (m.kind === 'text' && m.text === 'boom') throw new Error('boom');
        if (m.kind === 'text') handled.push(m.text);
      },
      logger,
    });
    await Promise.all([queue.deliver(message('A', 'boom')), queue.deliver(message('A', 'after'))]);
    await queue.idle();
    expect(handled).toEqual(['after']);
  });
});
