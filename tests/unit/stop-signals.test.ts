/**
 * How `arbion start` and `arbion worker` take signals (src/cli/commands/signals.ts): the first
 * stops cleanly, a stop under way is not a second signal, a forwarded copy of the first is not
 * either, and a real second signal exits at once. Signals come from an emitter and time from a
 * variable: nothing here waits.
 */
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { DUPLICATE_SIGNAL_MS, type StopReason, stopOnSignals } from '../../src/cli/commands/signals.js';
import { createLogger } from '../../src/core/logging/logger.js';

const logger = createLogger({ level: 'silent', format: 'json', secretValues: [] });

function setUp(options: { failing?: boolean } = {}) {
  const signals = new EventEmitter();
  const clock = { now: 1_000_000 };
  const shutDowns: StopReason[] = [];
  const exits: NodeJS.Signals[] = [];
  const stops: StopReason[] = [];
  let finish: () => void = () => undefined;
  const stopping = stopOnSignals({
    logger,
    signals: signals as unknown as Pick<NodeJS.Process, 'on' | 'off'>,
    now: () => clock.now,
    shutDown: (reason) => {
      shutDowns.push(reason);
      return new Promise<void>((resolve, reject) => {
        finish = options.failing ? () => reject(new Error('the database would not close')) : resolve;
      });
    },
    onStop: (reason) => stops.push(reason),
    exitNow: (signal) => exits.push(signal),
  });
  const send = (signal: NodeJS.Signals, afterMs = 0) => {
    clock.now += afterMs;
    signals.emit(signal, signal);
  };
  return { signals, stopping, shutDowns, exits, stops, send, finish: () => finish() };
}

describe('stopping on signals', () => {
  it('stops once on the first signal; asking again while stopping changes nothing; then lets go of the signals', async () => {
    const t = setUp();
    expect(t.signals.listenerCount('SIGINT')).toBe(1);
    expect(t.signals.listenerCount('SIGTERM')).toBe(1);
    t.send('SIGINT');
    expect(t.shutDowns).toEqual(['SIGINT']);
    expect(t.stops).toEqual(['SIGINT']);
    // The stop closes the console input, whose end asks for a stop: not a second signal.
    t.stopping.stop('end of console input');
    expect(t.shutDowns).toEqual(['SIGINT']);
    expect(t.exits).toEqual([]);
    t.finish();
    await t.stopping.stopped;
    expect(t.signals.listenerCount('SIGINT')).toBe(0);
    expect(t.signals.listenerCount('SIGTERM')).toBe(0);
  });

  it('takes the same signal again at once as a forwarded copy (terminal and npm both send it)', async () => {
    const t = setUp();
    t.send('SIGINT');
    t.send('SIGINT', 1);
    t.send('SIGINT', DUPLICATE_SIGNAL_MS - 2);
    expect(t.exits).toEqual([]);
    expect(t.shutDowns).toEqual(['SIGINT']);
    t.finish();
    await t.stopping.stopped;
  });

  it('exits at once on a second signal: the same one later, or another one', () => {
    const later = setUp();
    later.send('SIGINT');
    later.send('SIGINT', DUPLICATE_SIGNAL_MS);
    expect(later.exits).toEqual(['SIGINT']);

    const other = setUp();
    other.send('SIGINT');
    other.send('SIGTERM', 1);
    expect(other.exits).toEqual(['SIGTERM']);
    expect(other.shutDowns).toEqual(['SIGINT']);
  });

  it('a stop of its own under way (Ctrl-D) makes the first signal wait, and the second exit', () => {
    const t = setUp();
    t.stopping.stop('end of console input');
    expect(t.shutDowns).toEqual(['end of console input']);
    t.send('SIGTERM', 5_000);
    expect(t.exits).toEqual([]);
    expect(t.shutDowns).toEqual(['end of console input']);
    t.send('SIGTERM', 5_000);
    expect(t.exits).toEqual(['SIGTERM']);
  });

  it('is stopped even when the orderly stop fails', async () => {
    const t = setUp({ failing: true });
    t.send('SIGTERM');
    t.finish();
    await t.stopping.stopped;
    expect(t.exits).toEqual([]);
    expect(t.signals.listenerCount('SIGTERM')).toBe(0);
  });
});
