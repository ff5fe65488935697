/**
 * The keyed provider's background sweep: on a jittered interval, refresh the keys that are due
 * or expired, at most `concurrency` mints at once. Each sweep re-arms the next however it
 * ends (a failing mint, a hostile thenable, an unreadable clock), until it is stopped.
 */

import type { Sweep, SweepOptions } from '../contracts/keyed.js';
import { InvalidOptionError } from '../errors.js';
import type { ResolvedPolicy } from '../policy-options.js';
import { sample } from './random-sample.js';
import { Semaphore } from './semaphore.js';
import { MAX_TIMER_MS, startTimer, stopTimer, type TimerHandle } from './timers.js';

/** A key a sweep may refresh (a provider cell). */
export interface SweptKey {
  /** Starts a background refresh if still due; the settled promise never rejects. */
  refreshIfDue(now: number): Promise<unknown> | undefined;
}

/** What a sweep needs from the keyed provider it sweeps. */
export interface SweepHost {
  /** The clock; NaN when it cannot be read (that sweep is skipped). */
  now(): number;
  /** Drops the keys idle at `now`. */
  evictIdle(now: number): void;
  /** The keys that are due or expired at `now`, with no mint in flight. */
  due(now: number): ReadonlyArray<SweptKey>;
  /** Called once when the sweep is stopped. */
  stopped(): void;
}

/** Starts sweeping `host` with validated options; returns the handle that stops it. */
export function startSweeps(
  host: SweepHost,
  options: Required<SweepOptions>,
  policy: ResolvedPolicy,
): Sweep {
  const { intervalMs, jitter, concurrency } = options;
  const semaphore = new Semaphore(concurrency);
  let timer: TimerHandle | undefined;
  let stopped = false;
  const sweep = async (): Promise<void> => {
    const now = host.now();
    if (!Number.isFinite(now)) return; // unknown time: try again at the next interval
    host.evictIdle(now);
    await Promise.all(
      host.due(now).map((cell) =>
        semaphore.run(async () => {
          const at = host.now();
          if (!stopped && Number.isFinite(at)) await cell.refreshIfDue(at);
        }),
      ),
    );
  };
  const arm = (): void => {
    if (stopped) return;
    try {
      // The sample is clamped to [0, 1] and the delay to what setTimeout honours.
      const delayMs = intervalMs * (1 + jitter * (2 * sample(policy.random) - 1));
      timer = startTimer(
        policy.timers,
        () => {
          timer = undefined;
          if (!stopped) sweep().then(arm, arm);
        },
        delayMs,
      );
    } catch {
      stopped = true; // the timers themselves failed: nothing more can be scheduled
    }
  };
  const stop = (): void => {
    if (stopped && timer === undefined) return;
    stopped = true;
    stopTimer(policy.timers, timer);
    timer = undefined;
    host.stopped();
  };
  arm();
  return { stop };
}

/**
 * Validates {@link SweepOptions} and fills in the defaults.
 * @throws {InvalidOptionError} naming `startSweep.<option>`.
 */
export function checkSweep(options: SweepOptions): Required<SweepOptions> {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidOptionError(
      'startSweep',
      'an object { intervalMs, jitter?, concurrency? }',
      options,
    );
  }
  const { intervalMs, jitter = 0.1, concurrency = 25 } = options;
  if (!Number.isInteger(intervalMs) || intervalMs < 1 || intervalMs > MAX_TIMER_MS) {
    throw new InvalidOptionError(
      'startSweep.intervalMs',
      `an integer number of milliseconds from 1 to ${MAX_TIMER_MS}`,
      intervalMs,
    );
  }
  if (typeof jitter !== 'number' || !(jitter >= 0 && jitter < 1)) {
    throw new InvalidOptionError('startSweep.jitter', 'a number in [0, 1)', jitter);
  }
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 10_000) {
    throw new InvalidOptionError(
      'startSweep.concurrency',
      'an integer from 1 to 10000',
      concurrency,
    );
  }
  return { intervalMs, jitter, concurrency };
}
