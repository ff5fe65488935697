/**
 * The circuit breaker around the mint, as a pure state machine of (state, now).
 *
 * closed --(failureThreshold consecutive failures)--> open --(cooldownMs elapsed, one
 * caller admitted as the probe)--> half-open --(probe succeeds)--> closed
 *                                            \--(probe fails)--> open (fresh cooldown)
 *
 * A retry hint (the issuer's `Retry-After`, as a mint error's `retryAfterMs`) opens the
 * breaker at once, for the hint capped at `maxRetryAfterMs`, and never shortens an opening:
 * when the failure opens the breaker anyway, the window is the longer of the two.
 */

/** The three breaker states. */
export type BreakerStateName = 'closed' | 'open' | 'half-open';

/** Options of the breaker around the mint. */
export interface BreakerOptions {
  /**
   * Consecutive mint failures that open the breaker.
   * @default 5
   */
  failureThreshold?: number;
  /**
   * How long an open breaker refuses mints before admitting one probe, in milliseconds.
   * @default 60000
   */
  cooldownMs?: number;
  /**
   * The longest a retry hint may hold the breaker open, in milliseconds. A mint error
   * carrying a finite `retryAfterMs > 0` (the issuer's `Retry-After`) opens the breaker at
   * once for `min(retryAfterMs, maxRetryAfterMs)`, so a hostile or mistaken hint cannot
   * lock the provider out for longer. 0 ignores retry hints.
   * @default 300000 (5 minutes)
   */
  maxRetryAfterMs?: number;
}

/** The default of {@link BreakerOptions.maxRetryAfterMs}, in milliseconds: 5 minutes. */
export const DEFAULT_MAX_RETRY_AFTER_MS = 300_000;

/** Resolved breaker options. */
export interface BreakerConfig {
  /** Consecutive failed mints that open the breaker. */
  readonly failureThreshold: number;
  /** How long an open breaker refuses mints before it admits one probe, in milliseconds. */
  readonly cooldownMs: number;
  /**
   * The longest a retry hint may hold the breaker open, in milliseconds; 0 ignores hints.
   * @default 300000 ({@link DEFAULT_MAX_RETRY_AFTER_MS}) when absent
   */
  readonly maxRetryAfterMs?: number;
}

/** The breaker's state. `openedAt` is meaningful only while `state` is `open`. */
export interface BreakerState {
  /** `closed` (mints allowed), `open` (refused until the cooldown ends) or `half-open`. */
  readonly state: BreakerStateName;
  /** Consecutive failures since the last success. */
  readonly failures: number;
  /** When the breaker last opened (epoch ms). */
  readonly openedAt: number;
  /**
   * How long this opening refuses mints, in milliseconds, when a retry hint set it (at most
   * `max(cooldownMs, maxRetryAfterMs)`). Absent: `cooldownMs`.
   */
  readonly openForMs?: number;
}

/** A closed breaker with no failures. */
export const CLOSED_BREAKER: BreakerState = Object.freeze({
  state: 'closed',
  failures: 0,
  openedAt: 0,
});

/** The outcome of asking the breaker for a mint. */
export type BreakerAdmission =
  | {
      /** The mint may run. */
      readonly admitted: true;
      /** The breaker's state from now on (`half-open` when this mint is the probe). */
      readonly next: BreakerState;
    }
  | {
      /** The mint is refused. */
      readonly admitted: false;
      /** The breaker's state from now on (unchanged). */
      readonly next: BreakerState;
      /** Milliseconds until a probe is admitted. */
      readonly retryAfterMs: number;
    };

/** How long the current opening of `state` refuses mints, in milliseconds. @internal */
export function openWindowMs(state: BreakerState, config: BreakerConfig): number {
  return state.openForMs ?? config.cooldownMs;
}

/**
 * Milliseconds until an open breaker admits its probe; 0 when it is not open. Never more
 * than the opening's own length (`cooldownMs`, or the capped retry hint), so a wall clock
 * stepping back cannot keep the breaker open longer.
 */
export function breakerRetryAfterMs(
  state: BreakerState,
  now: number,
  config: BreakerConfig,
): number {
  if (state.state !== 'open') return 0;
  const windowMs = openWindowMs(state, config);
  const left = state.openedAt + windowMs - now;
  return Math.min(Math.max(left, 0), windowMs);
}

/**
 * Asks for a mint at `now`. Closed and half-open admit (the single-flight guarantees only
 * one probe runs); open refuses until its window has elapsed, then turns half-open and
 * admits the caller as the probe.
 */
export function admitMint(
  state: BreakerState,
  now: number,
  config: BreakerConfig,
): BreakerAdmission {
  if (state.state !== 'open') return { admitted: true, next: state };
  const windowMs = openWindowMs(state, config);
  if (now < state.openedAt && windowMs > 0) {
    // The wall clock stepped back: restart the window from now, so the breaker stays open
    // at most one window past the step instead of the step's size on top.
    const next: BreakerState = { ...state, openedAt: now };
    return { admitted: false, next, retryAfterMs: windowMs };
  }
  const retryAfterMs = breakerRetryAfterMs(state, now, config);
  if (retryAfterMs > 0) return { admitted: false, next: state, retryAfterMs };
  return {
    admitted: true,
    next: { state: 'half-open', failures: state.failures, openedAt: state.openedAt },
  };
}

/** Folds a successful mint in: closed, no failures. */
export function recordSuccess(_state: BreakerState): BreakerState {
  return CLOSED_BREAKER;
}

/**
 * Folds a failed mint in at `now`: counts it; opens at the threshold; a failed half-open
 * probe re-opens for a fresh cooldown.
 *
 * With a retry hint (`retryAfterMs`: the issuer's own wait, finite and > 0) the breaker
 * opens at once, below the threshold too, for `min(retryAfterMs, maxRetryAfterMs)` (rounded
 * up to whole milliseconds); when
 * the failure opens it anyway, for the longer of that and `cooldownMs`. A hint that is not
 * a finite number > 0, or `maxRetryAfterMs: 0`, is no hint. An opening already running
 * longer is never shortened.
 *
 * @example
 * ```ts
 * const config = { failureThreshold: 5, cooldownMs: 60_000 };
 * // A 429 with Retry-After: 120 on the first failure: open for 120 s.
 * const state = recordFailure(CLOSED_BREAKER, Date.now(), config, 120_000);
 * breakerRetryAfterMs(state, Date.now(), config); // 120000
 * ```
 */
export function recordFailure(
  state: BreakerState,
  now: number,
  config: BreakerConfig,
  retryAfterMs?: number,
): BreakerState {
  const failures = state.failures + 1;
  const hintMs = cappedHintMs(retryAfterMs, config);
  const opensAnyway =
    state.state === 'half-open' || state.state === 'open' || failures >= config.failureThreshold;
  if (opensAnyway) {
    return openFor(state, now, config, failures, Math.max(config.cooldownMs, hintMs ?? 0));
  }
  if (hintMs !== undefined) return openFor(state, now, config, failures, hintMs);
  return { state: 'closed', failures, openedAt: 0 };
}

/** The hint capped at `maxRetryAfterMs`, or undefined when there is none (or hints are off). */
function cappedHintMs(retryAfterMs: number | undefined, config: BreakerConfig): number | undefined {
  if (typeof retryAfterMs !== 'number' || !Number.isFinite(retryAfterMs) || retryAfterMs <= 0) {
    return undefined;
  }
  const cap = config.maxRetryAfterMs ?? DEFAULT_MAX_RETRY_AFTER_MS;
  // Whole milliseconds, rounded up: a fraction of a millisecond still waits one.
  return cap > 0 ? Math.min(Math.ceil(retryAfterMs), cap) : undefined;
}

/**
 * An open state from `now` for `windowMs`, or until the current opening ends if that is
 * later (a clock read before the opening restarts it, as `admitMint` does).
 */
function openFor(
  state: BreakerState,
  now: number,
  config: BreakerConfig,
  failures: number,
  windowMs: number,
): BreakerState {
  let length = windowMs;
  if (state.state === 'open' && now >= state.openedAt) {
    length = Math.max(length, state.openedAt + openWindowMs(state, config) - now);
  }
  return length === config.cooldownMs
    ? { state: 'open', failures, openedAt: now }
    : { state: 'open', failures, openedAt: now, openForMs: length };
}
