/**
 * A bounded poller for issuers that answer "not yet": it retries an attempt on a capped,
 * jittered exponential schedule until the attempt says done, throws, the caller aborts, or
 * the `maxWaitMs` deadline passes.
 */

import type {
  PollAttempt,
  PollOptions,
  PollResult,
  PollScheduleOptions,
} from './contracts/poll.js';
import { InvalidOptionError, MaxWaitError } from './errors.js';
import { sleep } from './internal/abort.js';
import { type ClockFaults, clockError, readClock } from './internal/clock.js';
import { checkPollOptions, type ResolvedPollOptions } from './internal/poll-options.js';
import { startTimer, stopTimer, type TimerHandle } from './internal/timers.js';

export type {
  PollAttempt,
  PollAttemptContext,
  PollOptions,
  PollResult,
  PollScheduleOptions,
} from './contracts/poll.js';

/**
 * The un-jittered wait after the `waitIndex`-th pending attempt (0 for the first):
 * `min(maxDelayMs, initialDelayMs * multiplier ** waitIndex)`. With the defaults the waits
 * are 5 s, 15 s, 45 s, 135 s, then 300 s forever.
 *
 * @throws {InvalidOptionError} `SLUICE_INVALID_OPTION` when `waitIndex` is not a
 *   non-negative integer or an option is out of range (named `pollDelayMs.<option>`).
 * @example
 * ```ts
 * pollDelayMs(3); // 135000
 * pollDelayMs(1, { initialDelayMs: 1000, multiplier: 2 }); // 2000
 * ```
 */
export function pollDelayMs(waitIndex: number, options: PollScheduleOptions = {}): number {
  if (!Number.isSafeInteger(waitIndex) || waitIndex < 0) {
    throw new InvalidOptionError('pollDelayMs.waitIndex', 'a non-negative integer', waitIndex);
  }
  return baseDelayMs(waitIndex, checkPollOptions(options, 'pollDelayMs'));
}

/**
 * Spreads `baseMs` by up to ±`jitter` of itself: `baseMs * (1 + jitter * (2 * randomValue - 1))`,
 * so the result lies in `[baseMs * (1 - jitter), baseMs * (1 + jitter))`. Pure; not rounded.
 *
 * @param randomValue - a number in [0, 1), such as one `Math.random()` reading.
 * @example
 * ```ts
 * jitterDelayMs(5000, 0.2, 0); // 4000
 * jitterDelayMs(5000, 0.2, 0.5); // 5000
 * ```
 */
export function jitterDelayMs(baseMs: number, jitter: number, randomValue: number): number {
  return baseMs * (1 + jitter * (2 * randomValue - 1));
}

/**
 * Runs `attempt` until it reports done and resolves with its value. The first attempt runs at
 * once; after each pending one the poll waits `jitterDelayMs(pollDelayMs(n), jitter, random())`,
 * cut short so it never sleeps past the deadline. At the deadline the poll rejects at once: a
 * wait that reaches it is not followed by a last attempt (it would have no time to run), and an
 * attempt still running has its signal aborted with the `MaxWaitError` and is not awaited.
 *
 * Waits use the global `setTimeout` looked up when they start, and keep the process alive
 * (they are not unref'd: the caller is awaiting the result).
 *
 * @throws {InvalidOptionError} `SLUICE_INVALID_OPTION` (as a rejection) when an option is out of
 *   range, naming it (`poll.initialDelayMs`, ...), or when `random()` leaves [0, 1).
 * @throws {InvalidClockError} `SLUICE_INVALID_CLOCK` when any reading of `now()` throws or is
 *   not a finite number (a running attempt has then already ended).
 * @throws {MaxWaitError} `SLUICE_MAX_WAIT` when the deadline passes; `cause` is the last
 *   transient `error` a pending result reported (later pending results without one do not
 *   erase it), and `attempts` counts the attempts started.
 * @throws `signal.reason` when the caller aborts; whatever `attempt` threw, unchanged; a
 *   `TypeError` when an attempt resolves to something that is not a {@link PollResult}.
 * @example
 * ```ts
 * const cert = await poll(async ({ signal }) => {
 *   const res = await fetch(orderUrl, { signal });
 *   const verdict = classifyHttpStatus(res.status);
 *   if (verdict === 'pending') return { status: 'pending', error: new Error(`HTTP ${res.status}`) };
 *   if (verdict === 'failed') throw new Error(`order lookup failed: HTTP ${res.status}`);
 *   const order = await res.json();
 *   return order.state === 'issued' ? { status: 'done', value: order.cert } : { status: 'pending' };
 * }, { maxWaitMs: 120_000, signal });
 * ```
 */
export async function poll<T>(attempt: PollAttempt<T>, options: PollOptions = {}): Promise<T> {
  if (typeof attempt !== 'function') {
    throw new InvalidOptionError('poll.attempt', 'a function', attempt);
  }
  const config = checkPollOptions(options, 'poll');
  const { signal } = config;
  if (signal?.aborted) throw signal.reason;
  const started = readPollClock(config);
  const deadline = started + config.maxWaitMs;
  let lastError: unknown;
  const expired = (attempts: number): MaxWaitError =>
    new MaxWaitError(config.maxWaitMs, attempts, { cause: lastError });

  for (let count = 1; ; count += 1) {
    const remainingMs = deadline - readPollClock(config);
    if (remainingMs <= 0) throw expired(count - 1);
    const result = await runAttempt(attempt, count, remainingMs, config, () => expired(count));
    if (result.status === 'done') return result.value;
    // Keep the last transient error seen, even if later pending results carry none.
    if (result.error !== undefined) lastError = result.error;
    const leftMs = deadline - readPollClock(config);
    if (leftMs <= 0) throw expired(count);
    await sleep(Math.min(nextWaitMs(count - 1, config), leftMs), signal, config.timers);
  }
}

/**
 * Reads the poll's clock; every reading is checked, not only the first, so a clock that
 * later returns NaN can never make the poll ignore its deadline.
 * @throws {InvalidClockError} `SLUICE_INVALID_CLOCK` when it throws or returns anything but
 *   a finite number.
 */
function readPollClock(config: ResolvedPollOptions): number {
  const faults: ClockFaults = { fault: undefined };
  const now = readClock(config.now, faults);
  if (!Number.isFinite(now)) throw clockError(now, faults, 'poll');
  return now;
}

function baseDelayMs(waitIndex: number, config: ResolvedPollOptions): number {
  if (config.initialDelayMs === 0) return 0; // 0 * Infinity would be NaN
  return Math.min(config.maxDelayMs, config.initialDelayMs * config.multiplier ** waitIndex);
}

function nextWaitMs(waitIndex: number, config: ResolvedPollOptions): number {
  const base = baseDelayMs(waitIndex, config);
  if (config.jitter === 0) return base;
  const r = config.random();
  if (typeof r !== 'number' || !(r >= 0 && r < 1)) {
    throw new InvalidOptionError('poll.random', 'a function returning a number in [0, 1)', r);
  }
  return Math.round(jitterDelayMs(base, config.jitter, r));
}

/**
 * Runs one attempt against the deadline and the caller's signal. Whichever ends first settles
 * the returned promise; the other outcomes are ignored, so a late rejection is never unhandled.
 */
function runAttempt<T>(
  attempt: PollAttempt<T>,
  count: number,
  remainingMs: number,
  config: ResolvedPollOptions,
  expired: () => MaxWaitError,
): Promise<PollResult<T>> {
  const { signal, timers } = config;
  if (signal?.aborted) return Promise.reject(signal.reason);
  return new Promise<PollResult<T>>((resolve, reject) => {
    const controller = new AbortController();
    let timer: TimerHandle | undefined;
    const cleanUp = (): void => {
      stopTimer(timers, timer);
      timer = undefined;
      signal?.removeEventListener('abort', onAbort);
    };
    const stop = (reason: unknown): void => {
      cleanUp();
      reject(reason);
      controller.abort(reason);
    };
    const onAbort = (): void => stop(signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    timer = startTimer(timers, () => stop(expired()), remainingMs, false);

    let pending: Promise<PollResult<T>>;
    try {
      const result = attempt({ signal: controller.signal, attempt: count });
      // Adopted through a native promise, so a thenable that misbehaves becomes a rejection.
      pending = new Promise<PollResult<T>>((settle) => settle(result));
    } catch (error) {
      stop(error);
      return;
    }
    pending.then(
      (result) => {
        cleanUp();
        if (isPollResult(result)) resolve(result);
        else reject(new TypeError("a poll attempt must resolve to { status: 'done' | 'pending' }"));
      },
      (error: unknown) => {
        cleanUp();
        reject(error);
      },
    );
  });
}

function isPollResult(result: unknown): result is PollResult<unknown> {
  if (typeof result !== 'object' || result === null) return false;
  const { status } = result as { status?: unknown };
  return status === 'done' || status === 'pending';
}
