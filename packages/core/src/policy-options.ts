/**
 * The refresh-policy options shared by every Sluice provider, and their one-time validation
 * into a frozen private copy.
 */

import {
  type BreakerConfig,
  type BreakerOptions,
  DEFAULT_MAX_RETRY_AFTER_MS,
} from './circuit-breaker.js';
import { MAX_TIMER_MS, type Timers } from './contracts/timers.js';
import { InvalidOptionError } from './errors.js';
import type { RefreshTiming } from './refresh-policy.js';
import { combineReporters, REPORTER_HOOKS, type Reporter } from './reporter.js';

export type { Timers } from './contracts/timers.js';

/** How an idle provider is kept fresh. */
export type RefreshSchedule = 'on-access' | 'timer';

/** Options of the refresh policy, common to every provider. */
export interface RefreshPolicyOptions {
  /**
   * Fraction of a credential's lifetime after which a proactive refresh is due, in (0, 1].
   * @default 0.8
   */
  refreshAt?: number;
  /**
   * Largest fraction of the lifetime the due point may be pulled earlier, sampled once per
   * credential so a fleet never refreshes in step; in [0, refreshAt]. For a credential with
   * `refreshAfter`, the largest fraction of `refreshAfter − issuedAt` the due point is
   * delayed past `refreshAfter` (never pulled earlier: before it a refresh is useless).
   * @default 0.1 (or `refreshAt`, if that is smaller)
   */
  jitter?: number;
  /**
   * A refresh is due no later than this many milliseconds before expiry.
   * @default 30000
   */
  refreshFloorMs?: number;
  /**
   * The circuit breaker around the mint.
   * @default { failureThreshold: 5, cooldownMs: 60000, maxRetryAfterMs: 300000 }
   */
  breaker?: BreakerOptions;
  /**
   * A mint that has not settled after this many milliseconds fails for every waiter (and for
   * the breaker) with `MintTimeoutError`, and its signal is aborted.
   * @default 30000
   */
  mintTimeoutMs?: number;
  /**
   * Refresh-loop guard, in milliseconds: when a mint returns a credential that is due at
   * once, or whose expiry did not advance, the next proactive refresh waits at least this.
   * (A credential whose expiry did not advance is next tried at the floor before expiry:
   * the kept-credential rule in docs/policy.md.)
   * Also the invalidation guard: a credential minted because of an invalidation cannot be
   * invalidated again for this long (`onInvalidateRefused` reports it), so a server that
   * rejects every token costs at most one mint per interval. 0 turns both guards off.
   * @default 5000
   */
  minRefreshIntervalMs?: number;
  /**
   * `'on-access'` refreshes when a caller finds the credential due; `'timer'` also keeps an
   * idle provider fresh with an unref'd timer set for the due point (never sooner than 1 s
   * after it was set, so it cannot mint in a tight loop).
   * @default 'on-access'
   */
  schedule?: RefreshSchedule;
  /**
   * The clock, in epoch milliseconds. Called each time it is needed, never captured. A
   * reading that throws or is not a finite number fails that call with `InvalidClockError`
   * (`SLUICE_INVALID_CLOCK`): a credential is never judged valid on a bad reading.
   * @default () => Date.now()
   */
  now?: () => number;
  /**
   * The jitter source, returning a number in [0, 1). Called once per credential. A value
   * outside is clamped; a throw or a non-finite value samples 0 (no jitter), never failing
   * the mint.
   * @default () => Math.random()
   */
  random?: () => number;
  /**
   * The timer functions every wait is scheduled with, looked up when used.
   * @default the global `setTimeout` / `clearTimeout`, looked up at each use (so fake timers
   *   installed later still apply)
   */
  timers?: Timers;
  /** Telemetry hooks. @default no reporter */
  reporter?: Reporter;
  /** A name for telemetry and error messages. @default 'sluice' */
  name?: string;
}

/** The validated, frozen policy. @internal */
export interface ResolvedPolicy {
  readonly timing: RefreshTiming;
  readonly breaker: BreakerConfig;
  readonly mintTimeoutMs: number;
  readonly schedule: RefreshSchedule;
  readonly now: (() => number) | undefined;
  readonly random: (() => number) | undefined;
  readonly timers: Timers | undefined;
  readonly reporter: Reporter | undefined;
  readonly name: string;
}

/**
 * Validates `options` once and returns a frozen copy; later mutation of `options` changes
 * nothing. @throws {InvalidOptionError} naming the first bad option.
 * @internal
 */
export function resolvePolicy(options: RefreshPolicyOptions): ResolvedPolicy {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidOptionError('options', 'an object', options);
  }
  const refreshAt = fraction(options.refreshAt, 'refreshAt', 0.8, false);
  // The default jitter never exceeds refreshAt, so `refreshAt: 0.05` alone is valid.
  const jitter = fraction(options.jitter, 'jitter', Math.min(0.1, refreshAt), true);
  if (jitter > refreshAt) {
    throw new InvalidOptionError(
      'jitter',
      `a fraction no larger than refreshAt (${refreshAt})`,
      jitter,
    );
  }
  const breakerOptions = options.breaker === undefined ? {} : options.breaker;
  if (
    typeof breakerOptions !== 'object' ||
    breakerOptions === null ||
    Array.isArray(breakerOptions)
  ) {
    throw new InvalidOptionError(
      'breaker',
      'an object { failureThreshold?, cooldownMs?, maxRetryAfterMs? }',
      breakerOptions,
    );
  }
  // `null` is a wrong value, not "use the default": only `undefined` falls back.
  const failureThreshold = orDefault(breakerOptions.failureThreshold, 5);
  if (!Number.isInteger(failureThreshold) || failureThreshold < 1 || failureThreshold > 1_000_000) {
    throw new InvalidOptionError(
      'breaker.failureThreshold',
      'an integer from 1 to 1000000',
      failureThreshold,
    );
  }
  const schedule = orDefault(options.schedule, 'on-access');
  if (schedule !== 'on-access' && schedule !== 'timer') {
    throw new InvalidOptionError('schedule', "'on-access' or 'timer'", schedule);
  }
  const name = orDefault(options.name, 'sluice');
  if (typeof name !== 'string') throw new InvalidOptionError('name', 'a string', name);
  const reporter = checkReporter(options.reporter);
  const timers = checkTimers(options.timers, 'timers');
  return Object.freeze({
    timing: Object.freeze({
      refreshAt,
      jitter,
      refreshFloorMs: duration(options.refreshFloorMs, 'refreshFloorMs', 30_000, 0),
      minRefreshIntervalMs: duration(
        options.minRefreshIntervalMs,
        'minRefreshIntervalMs',
        5_000,
        0,
      ),
    }),
    breaker: Object.freeze({
      failureThreshold,
      cooldownMs: duration(breakerOptions.cooldownMs, 'breaker.cooldownMs', 60_000, 0),
      maxRetryAfterMs: duration(
        breakerOptions.maxRetryAfterMs,
        'breaker.maxRetryAfterMs',
        DEFAULT_MAX_RETRY_AFTER_MS,
        0,
      ),
    }),
    mintTimeoutMs: duration(options.mintTimeoutMs, 'mintTimeoutMs', 30_000, 1),
    schedule,
    now: fn(options.now, 'now'),
    random: fn(options.random, 'random'),
    timers,
    // Hooks are read once here (own or inherited methods), so later mutation changes nothing.
    reporter: reporter === undefined ? undefined : Object.freeze(combineReporters(reporter)),
    name,
  });
}

function orDefault<V>(value: V | undefined, fallback: V): V {
  return value === undefined ? fallback : value;
}

function fraction(value: unknown, option: string, fallback: number, zeroAllowed: boolean): number {
  if (value === undefined) return fallback;
  if (
    typeof value !== 'number' ||
    !Number.isFinite(value) ||
    value > 1 ||
    value < 0 ||
    (!zeroAllowed && value === 0)
  ) {
    throw new InvalidOptionError(
      option,
      zeroAllowed ? 'a number in [0, 1]' : 'a number in (0, 1]',
      value,
    );
  }
  return value;
}

function duration(value: unknown, option: string, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  if (
    typeof value !== 'number' ||
    !Number.isInteger(value) ||
    value < min ||
    value > MAX_TIMER_MS
  ) {
    throw new InvalidOptionError(
      option,
      `an integer number of milliseconds from ${min} to ${MAX_TIMER_MS}`,
      value,
    );
  }
  return value;
}

function fn(value: unknown, option: string): (() => number) | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'function') throw new InvalidOptionError(option, 'a function', value);
  return value as () => number;
}

/**
 * Checks a reporter: an object (not an array) whose hooks, when present, are functions.
 * @internal
 */
export function checkReporter(reporter: unknown, option = 'reporter'): Reporter | undefined {
  if (reporter === undefined) return undefined;
  if (typeof reporter !== 'object' || reporter === null || Array.isArray(reporter)) {
    throw new InvalidOptionError(option, 'an object with optional hook methods', reporter);
  }
  for (const hook of REPORTER_HOOKS) {
    const method = (reporter as Record<string, unknown>)[hook];
    if (method !== undefined && typeof method !== 'function') {
      throw new InvalidOptionError(`${option}.${hook}`, 'a function, or absent', method);
    }
  }
  return reporter as Reporter;
}

/**
 * Checks injected timers: an object with `setTimeout` and `clearTimeout` functions. Returns
 * a frozen copy bound to the object, so later mutation changes nothing.
 * @internal
 */
export function checkTimers(timers: unknown, option: string): Timers | undefined {
  if (timers === undefined) return undefined;
  if (typeof timers !== 'object' || timers === null || Array.isArray(timers)) {
    throw new InvalidOptionError(option, 'an object { setTimeout, clearTimeout }', timers);
  }
  const { setTimeout: set, clearTimeout: clear } = timers as Partial<Timers>;
  if (typeof set !== 'function') {
    throw new InvalidOptionError(`${option}.setTimeout`, 'a function', set);
  }
  if (typeof clear !== 'function') {
    throw new InvalidOptionError(`${option}.clearTimeout`, 'a function', clear);
  }
  return Object.freeze({
    setTimeout: (callback: () => void, delayMs: number) => set.call(timers, callback, delayMs),
    clearTimeout: (handle: unknown) => clear.call(timers, handle),
  });
}
