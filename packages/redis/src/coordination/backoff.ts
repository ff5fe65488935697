/**
 * The follower's poll schedule, as a pure function: a backstop for a lost notification,
 * doubling from `initialMs` up to `maxMs`, spread by +/-20 % so a fleet never polls in step.
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
