/**
 * How `arbion start` and `arbion worker` stop: the first SIGINT or SIGTERM stops cleanly (work in
 * hand finished, jobs stopped, server and database closed, the data lock released); a second one
 * exits at once. Stopping is idempotent: a stop already under way (Ctrl-D in the console, or the
 * stop closing the console input) is not a signal, and asking again changes nothing.
 *
 * One Ctrl-C often arrives twice: the terminal sends SIGINT to the whole foreground process group,
 * and a runner in that group (npm, pnpm, yarn, npx) forwards its own copy to its child. The same
 * signal again within DUPLICATE_SIGNAL_MS is taken as that copy, not as a second Ctrl-C.
 */
import type { Logger } from '../../core/logging/logger.js';

/** A repeat of the first signal closer than this is its forwarded copy (milliseconds, not a human's second press). */
export const DUPLICATE_SIGNAL_MS = 500;

/** Why Arbion stops: a signal, or a reason of its own ("end of console input"). */
export type StopReason = NodeJS.Signals | 'end of console input';

export interface Stopping {
  /** Stops Arbion as a signal would; nothing more when it is stopping already (that is not a second signal). */
  stop(reason: StopReason): void;
  /** Resolves once Arbion has stopped. */
  readonly stopped: Promise<void>;
}

export interface SignalStopOptions {
  readonly logger: Logger;
  /** The orderly stop; called once. */
  readonly shutDown: (reason: StopReason) => Promise<void>;
  /** A second signal while stopping: release what must not be left behind, and end the process now. */
  readonly exitNow: (signal: NodeJS.Signals) => void;
  /** Called once, as the stop begins (the console says it is stopping). */
  readonly onStop?: (reason: StopReason) => void;
  /** Milliseconds; for telling a forwarded copy of a signal from a second one. Default Date.now. */
  readonly now?: () => number;
  /** Where the signals come from (the process; an emitter in tests). */
  readonly signals?: Pick<NodeJS.Process, 'on' | 'off'>;
}

const STOP_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM'];

/**
 * Handles SIGINT and SIGTERM from now on. Call it before saying Arbion runs, so a supervisor that
 * stops it as soon as it reads that line finds the handlers in place.
 */
export function stopOnSignals(options: SignalStopOptions): Stopping {
  const { logger } = options;
  const now = options.now ?? Date.now;
  const signals = options.signals ?? process;
  let stopping = false;
  /** The first signal received (a stop may have begun without one). */
  let firstSignal: { readonly signal: NodeJS.Signals; readonly at: number } | undefined;
  let resolveStopped: () => void = () => undefined;
  const stopped = new Promise<void>((resolve) => {
    resolveStopped = resolve;
  });

  const stop = (reason: StopReason) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal: reason }, 'shutting down');
    options.onStop?.(reason);
    void (async () => {
      try {
        await options.shutDown(reason);
      } catch (error) {
        logger.error({ err: error }, 'error while shutting down');
      }
      logger.info('stopped');
      for (const signal of STOP_SIGNALS) signals.off(signal, onSignal);
      resolveStopped();
    })();
  };

  const onSignal = (signal: NodeJS.Signals) => {
    const at = now();
    if (firstSignal === undefined) {
      firstSignal = { signal, at };
      if (!stopping) return stop(signal);
      // A stop of its own is under way (end of console input): this is the first signal, not a second.
      logger.info({ signal }, 'already stopping; a second signal exits at once');
      return;
    }
    if (signal === firstSignal.signal && at - firstSignal.at < DUPLICATE_SIGNAL_MS) {
      logger.debug({ signal }, 'the same signal again at once (a forwarded copy): still stopping');
      return;
    }
    logger.warn({ signal }, 'second signal: exiting now');
    options.exitNow(signal);
  };
  // `on`, not `once`: a second signal reaches `onSignal` (with `once` it would kill by default).
  for (const signal of STOP_SIGNALS) signals.on(signal, onSignal);
  return { stop, stopped };
}
