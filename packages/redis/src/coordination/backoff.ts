/**
 * The follower's wake-ups, as pure functions: the poll schedule, a backstop for a lost
 * notification, doubling from `initialMs` up to `maxMs`, spread by +/-20 % so a fleet never
 * polls in step; and the wake just after the lease it waits on lapses, so a crashed leader is
 * taken over within the lease's remaining time.
 */

import { jitterDelayMs } from '@sluice/core';

/** Spread of every poll delay: +/- this fraction. */
export const POLL_JITTER = 0.2;

/**
 * The wait before the `attempt`-th poll (0 for the first): `min(maxMs, initialMs * 2^attempt)`
 * spread by +/-20 % with `sample` (in [0, 1)), rounded, and never beyond `leftMs`.
 */
export function pollDelayMs(
  attempt: number,
  initialMs: number,
  maxMs: number,
  sample: number,
  leftMs: number,
): number {
  const base = Math.min(maxMs, initialMs * 2 ** Math.min(attempt, 52));
  const spread = Math.round(jitterDelayMs(base, POLL_JITTER, clampSample(sample)));
  return Math.max(0, Math.min(spread, leftMs));
}

/** A random sample clamped into [0, 1); anything that is not a number becomes 0.5. */
export function clampSample(sample: number): number {
  if (typeof sample !== 'number' || Number.isNaN(sample)) return 0.5;
  return Math.min(Math.max(sample, 0), 0.999_999);
}

/** Spread of the wakes after a lease lapses, in milliseconds. */
export const LEASE_WAKE_SPREAD_MS = 10;

/**
 * When a follower told that the lease lapses in `leaseTtlMs` (the store's answer) re-reads to
 * take it over: 2 ms after it lapses (the store expires keys on a millisecond clock), spread by
 * up to {@link LEASE_WAKE_SPREAD_MS} with `sample` so the waiters of one crashed leader do not
 * all ask in the same millisecond. `undefined` for a lease without a known expiry (a negative
 * or non-finite TTL): only notifications and the poll wake such a wait.
 */
export function leaseWakeMs(leaseTtlMs: number, sample: number): number | undefined {
  if (typeof leaseTtlMs !== 'number' || !Number.isFinite(leaseTtlMs) || leaseTtlMs < 0) {
    return undefined;
  }
  return Math.ceil(leaseTtlMs) + 2 + Math.floor(clampSample(sample) * LEASE_WAKE_SPREAD_MS);
}
