/**
 * One-time validation of the poller's options into a frozen private copy.
 */

import type { PollOptions } from '../contracts/poll.js';
import type { Timers } from '../contracts/timers.js';
import { InvalidOptionError } from '../errors.js';
import { checkTimers } from '../policy-options.js';
import { checkSignal } from './call-options.js';
import { MAX_TIMER_MS } from './timers.js';

/** The validated, frozen options. */
export interface ResolvedPollOptions {
  readonly initialDelayMs: number;
  readonly multiplier: number;
  readonly maxDelayMs: number;
  readonly jitter: number;
  readonly maxWaitMs: number;
  readonly signal: AbortSignal | undefined;
  readonly now: () => number;
  readonly random: () => number;
  readonly timers: Timers | undefined;
}

/**
 * Checks every option once and fills in the defaults; `prefix` names the entry point in the
 * error (`poll.jitter`). The default clock and random source look up `Date.now` and
 * `Math.random` each time they are called, so fake timers installed later still apply.
 */
export function checkPollOptions(options: PollOptions, prefix: string): ResolvedPollOptions {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidOptionError(prefix, 'an options object', options);
  }
  type DurationKey = 'initialDelayMs' | 'maxDelayMs' | 'maxWaitMs';
  const duration = (key: DurationKey, fallback: number, min: 'zero' | 'positive'): number => {
    const value = options[key] ?? fallback;
    const ok =
      typeof value === 'number' &&
      (min === 'zero' ? value >= 0 : value > 0) &&
      value <= MAX_TIMER_MS;
    if (!ok) {
      const low = min === 'zero' ? '>= 0' : '> 0';
      throw new InvalidOptionError(
        `${prefix}.${key}`,
        `a number of ms ${low} and <= ${MAX_TIMER_MS}`,
        value,
      );
    }
    return value;
  };
  const initialDelayMs = duration('initialDelayMs', 5_000, 'zero');
  const multiplier = options.multiplier ?? 3;
  if (typeof multiplier !== 'number' || !Number.isFinite(multiplier) || !(multiplier >= 1)) {
    throw new InvalidOptionError(`${prefix}.multiplier`, 'a finite number >= 1', multiplier);
  }
  const jitter = options.jitter ?? 0.2;
  if (typeof jitter !== 'number' || !(jitter >= 0 && jitter < 1)) {
    throw new InvalidOptionError(`${prefix}.jitter`, 'a number in [0, 1)', jitter);
  }
  const maxDelayMs = duration('maxDelayMs', 300_000, 'zero');
  const maxWaitMs = duration('maxWaitMs', 600_000, 'positive');
  const { signal, now, random } = options;
  checkSignal(signal, `${prefix}.signal`);
  checkFunction(now, `${prefix}.now`);
  checkFunction(random, `${prefix}.random`);
  return Object.freeze({
    initialDelayMs,
    multiplier,
    maxDelayMs,
    jitter,
    maxWaitMs,
    signal,
    now: now ?? (() => Date.now()),
    random: random ?? (() => Math.random()),
    timers: checkTimers(options.timers, `${prefix}.timers`),
  });
}

function checkFunction(value: unknown, option: string): void {
  if (value !== undefined && typeof value !== 'function') {
    throw new InvalidOptionError(option, 'a function', value);
  }
}
