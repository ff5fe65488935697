/**
 * The circuit breaker around the mint, as a pure state machine of (state, now).
 *
 * closed --(failureThreshold consecutive failures)--> open --(cooldownMs elapsed, one
 * caller admitted as the probe)--> half-open --(probe succeeds)--> closed
 *                                            \--(probe fails)--> open (fresh cooldown)
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
}

/** Resolved breaker options. */
export interface BreakerConfig {
  /** Consecutive failed mints that open the breaker. */
  readonly failureThreshold: number;
  /** How long an open breaker refuses mints before it admits one probe, in milliseconds. */
  readonly cooldownMs: number;
}

/** The breaker's state. `openedAt` is meaningful only while `state` is `open`. */
export interface BreakerState {
  /** `closed` (mints allowed), `open` (refused until the cooldown ends) or `half-open`. */
  readonly state: BreakerStateName;
  /** Consecutive failures since the last success. */
  readonly failures: number;
  /** When the breaker last opened (epoch ms). */
  readonly openedAt: number;
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

/**
 * Milliseconds until an open breaker admits its probe; 0 when it is not open. Never more
 * than `cooldownMs`, so a wall clock stepping back cannot keep the breaker open longer.
 */
export function breakerRetryAfterMs(
  state: BreakerState,
  now: number,
  config: BreakerConfig,
): number {
  if (state.state !== 'open') return 0;
  const left = state.openedAt + config.cooldownMs - now;
  return Math.min(Math.max(left, 0), config.cooldownMs);
}

/**
 * Asks for a mint at `now`. Closed and half-open admit (the single-flight guarantees only
 * one probe runs); open refuses until the cooldown has elapsed, then turns half-open and
 * admits the caller as the probe.
 */
export function admitMint(
  state: BreakerState,
  now: number,
  config: BreakerConfig,
): BreakerAdmission {
  if (state.state !== 'open') return { admitted: true, next: state };
  if (now < state.openedAt) {
    // The wall clock stepped back: restart the cooldown from now, so the breaker stays open
    // at most one cooldown past the step instead of the step's size on top.
    const next: BreakerState = { state: 'open', failures: state.failures, openedAt: now };
    return { admitted: false, next, retryAfterMs: config.cooldownMs };
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
 */
export function recordFailure(
  state: BreakerState,
  now: number,
  config: BreakerConfig,
): BreakerState {
  const failures = state.failures + 1;
  if (
    state.state === 'half-open' ||
    state.state === 'open' ||
    failures >= config.failureThreshold
  ) {
    return { state: 'open', failures, openedAt: now };
  }
  return { state: 'closed', failures, openedAt: 0 };
}
