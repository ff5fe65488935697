/**
 * The refresh policy as pure functions of (state, now): when a freshly minted credential
 * falls due, and what a caller arriving at `now` should be given. No clocks, no timers.
 */

/** The knobs of the due-point computation. All fractions are of the credential's lifetime. */
export interface RefreshTiming {
  /** Fraction of the lifetime after which a refresh is due, in (0, 1]. */
  readonly refreshAt: number;
  /**
   * Largest fraction of the lifetime the due point may be pulled earlier, in [0, refreshAt].
   * For a credential with `refreshAfter`: the largest fraction of `refreshAfter − issuedAt`
   * the due point may be delayed past `refreshAfter`.
   */
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
 * The due point of a credential issued at `issuedAt`.
 *
 * Without `refreshAfter`: `issuedAt + lifetime × (refreshAt − jitter × jitterSample)`.
 *
 * With `refreshAfter` (the issuer's or a coordinator's own due point, epoch ms), it replaces
 * the `refreshAt` fraction. It is the earliest point at which a refresh is useful (a source
 * hands out the same credential before it), so jitter only ever delays it:
 * `refreshAfter + jitter × jitterSample × (refreshAfter − issuedAt)`, that is later by at
 * most `jitter × (refreshAfter − issuedAt)`. A `refreshAfter` at or before `issuedAt` is due
 * at once (no jitter); one at or after `expiresAt` is clamped to `expiresAt` (the floor then
 * decides).
 *
 * Either way the due point is never later than `expiresAt − refreshFloorMs` and never
 * earlier than `issuedAt`. A credential without expiry (`expiresAt` is `undefined` or
 * `Infinity`) is never due (`Infinity`), unless it carries a `refreshAfter`.
 *
 * @param jitterSample - a sample in [0, 1); values outside are clamped, NaN samples 0.
 * @param refreshAfter - the credential's own due point (epoch ms), or `undefined`. A value
 *   that is not a finite number is ignored (a minted credential is checked before this).
 * @example
 * ```ts
 * const timing = { refreshAt: 0.8, jitter: 0.1, refreshFloorMs: 30_000, minRefreshIntervalMs: 5_000 };
 * const day = 24 * 3_600_000;
 * // A 24 h token the issuer wants refreshed after 12 h: due between 12 h and 13.2 h.
 * computeRefreshDueAt(0, day, timing, Math.random(), day / 2);
 * ```
 */
export function computeRefreshDueAt(
  issuedAt: number,
  expiresAt: number | undefined,
  timing: RefreshTiming,
  jitterSample: number,
  refreshAfter?: number,
): number {
  const expiry = expiresAt ?? Number.POSITIVE_INFINITY;
  const sample = Number.isFinite(jitterSample) ? Math.min(Math.max(jitterSample, 0), 1) : 0;
  let due: number;
  if (typeof refreshAfter === 'number' && Number.isFinite(refreshAfter)) {
    const target = Math.min(refreshAfter, expiry);
    const span = Math.max(target - issuedAt, 0);
    due = target + timing.jitter * sample * span;
  } else {
    if (expiry === Number.POSITIVE_INFINITY) return Number.POSITIVE_INFINITY;
    due = issuedAt + (expiry - issuedAt) * (timing.refreshAt - timing.jitter * sample);
  }
  return Math.max(Math.min(due, expiry - timing.refreshFloorMs), issuedAt);
}

/**
 * The schedule of a credential installed at `now`, with two guards against refresh loops:
 *
 * - **The kept-credential rule.** When the credential's expiry did not advance past
 *   `previousExpiresAt` (the mint handed back the credential it replaces, as metadata
 *   servers do until shortly before expiry), asking again soon would get it back again. The
 *   next attempt is at the floor, `expiresAt − refreshFloorMs`, never at a fraction of what
 *   remains. Only a `refreshAfter` still ahead of `now` (the source saying when it rotates)
 *   is honoured instead, as {@link computeRefreshDueAt} places it.
 * - **The refresh-loop guard.** When the credential is due at once, or its expiry did not
 *   advance, the next proactive refresh waits at least `minRefreshIntervalMs`.
 *
 * @param refreshAfter - the credential's own due point (epoch ms), or `undefined`.
 * @example
 * ```ts
 * const timing = { refreshAt: 0.8, jitter: 0.1, refreshFloorMs: 30_000, minRefreshIntervalMs: 5_000 };
 * const hour = 3_600_000;
 * // At 48 min a 1 h credential came back unchanged: next attempt at 59.5 min, not 57.6 min.
 * scheduleCredential(0.8 * hour, hour, hour, timing, 0).dueAt; // 3_570_000
 * ```
 */
export function scheduleCredential(
  now: number,
  expiresAt: number | undefined,
  previousExpiresAt: number | undefined,
  timing: RefreshTiming,
  jitterSample: number,
  refreshAfter?: number,
): CredentialSchedule & {
  /** Whether the refresh-loop guard moved `dueAt` to `minRefreshIntervalMs` from now. */
  readonly guarded: boolean;
  /** Whether the kept-credential rule applied: the expiry did not advance. */
  readonly kept: boolean;
} {
  const expiry = expiresAt ?? Number.POSITIVE_INFINITY;
  const kept = previousExpiresAt !== undefined && expiry <= previousExpiresAt;
  let dueAt = computeRefreshDueAt(now, expiresAt, timing, jitterSample, refreshAfter);
  if (kept && !(typeof refreshAfter === 'number' && refreshAfter > now)) {
    dueAt = Math.max(expiry - timing.refreshFloorMs, now);
  }
  const dueAtOnce = dueAt <= now;
  const guarded = dueAt !== Number.POSITIVE_INFINITY && (dueAtOnce || kept);
  if (guarded) dueAt = Math.max(dueAt, now + timing.minRefreshIntervalMs);
  return { issuedAt: now, dueAt, expiresAt: expiry, guarded, kept };
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
