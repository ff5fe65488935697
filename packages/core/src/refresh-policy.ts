/**
 * The refresh policy as pure functions of (state, now): when a freshly minted credential
 * falls due, and what a caller arriving at `now` should be given. No clocks, no timers.
 */

/** The knobs of the due-point computation. All fractions are of the credential's lifetime. */
export interface RefreshTiming {
  /** Fraction of the lifetime after which a refresh is due, in (0, 1]. */
  readonly refreshAt: number;
  /** Largest fraction of the lifetime the due point may be pulled earlier, in [0, refreshAt]. */
  readonly jitter: number;
  /** The due point is never later than this many milliseconds before expiry. */
  readonly refreshFloorMs: number;
  /** The least delay, in milliseconds, before a proactive refresh after a looping mint. */
  readonly minRefreshIntervalMs: number;
}

/** When a credential was installed, falls due and expires (epoch ms; `Infinity` = never). */
export interface CredentialSchedule {
  /** When the credential was installed, in epoch milliseconds. */
  readonly issuedAt: number;
  /** When its proactive refresh is due, in epoch milliseconds; `Infinity` when never. */
  readonly dueAt: number;
  /** When it expires, in epoch milliseconds; `Infinity` when never. */
  readonly expiresAt: number;
}

/**
 * The due point of a credential issued at `issuedAt`:
 * `issuedAt + lifetime × (refreshAt − jitter × jitterSample)`, never later than
 * `expiresAt − refreshFloorMs` and never earlier than `issuedAt`. A credential without
 * expiry (`expiresAt` is `undefined` or `Infinity`) is never due: `Infinity`.
 *
 * @param jitterSample - a sample in [0, 1); values outside are clamped.
 */
export function computeRefreshDueAt(
  issuedAt: number,
  expiresAt: number | undefined,
  timing: RefreshTiming,
  jitterSample: number,
): number {
  if (expiresAt === undefined || expiresAt === Number.POSITIVE_INFINITY)
    return Number.POSITIVE_INFINITY;
  const lifetime = expiresAt - issuedAt;
  const sample = Number.isFinite(jitterSample) ? Math.min(Math.max(jitterSample, 0), 1) : 0;
  const fraction = timing.refreshAt - timing.jitter * sample;
  const due = Math.min(issuedAt + lifetime * fraction, expiresAt - timing.refreshFloorMs);
  return Math.max(due, issuedAt);
}

/**
 * The schedule of a credential installed at `now`, with the refresh-loop guard: when the
 * credential is due at once, or its expiry did not advance past `previousExpiresAt`, the
 * next proactive refresh waits at least `minRefreshIntervalMs`.
 */
export function scheduleCredential(
  now: number,
  expiresAt: number | undefined,
  previousExpiresAt: number | undefined,
  timing: RefreshTiming,
  jitterSample: number,
): CredentialSchedule & {
  /** Whether the refresh-loop guard moved `dueAt` to `minRefreshIntervalMs` from now. */
  readonly guarded: boolean;
} {
  const expiry = expiresAt ?? Number.POSITIVE_INFINITY;
  let dueAt = computeRefreshDueAt(now, expiresAt, timing, jitterSample);
  const dueAtOnce = dueAt <= now;
  const stale = previousExpiresAt !== undefined && expiry <= previousExpiresAt;
  const guarded = dueAt !== Number.POSITIVE_INFINITY && (dueAtOnce || stale);
  if (guarded) dueAt = Math.max(dueAt, now + timing.minRefreshIntervalMs);
  return { issuedAt: now, dueAt, expiresAt: expiry, guarded };
}

/**
 * What a caller arriving at `now` gets:
 * - `fresh`: serve the cached credential;
 * - `due`: serve it and start a background refresh;
 * - `expired`: nothing may be served; wait for a mint;
 * - `missing`: nothing cached (never minted, or invalidated); wait for a mint.
 *
 * A clock that reads earlier than `issuedAt` has stepped back; the credential is then
 * treated as due, so it is refreshed instead of being trusted for longer than it lives.
 */
export type ServeDecision = 'fresh' | 'due' | 'expired' | 'missing';

/** Decides what a caller arriving at `now` gets for the cached `schedule`. */
export function decideServe(schedule: CredentialSchedule | undefined, now: number): ServeDecision {
  if (schedule === undefined) return 'missing';
  if (now >= schedule.expiresAt) return 'expired';
  if (now >= schedule.dueAt || now < schedule.issuedAt) return 'due';
  return 'fresh';
}
