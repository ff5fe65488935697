/**
 * The plain, JSON-serialisable diagnostics of one provider (`snapshot()`), built from its
 * state. Never holds the credential value.
 */

import { type BreakerConfig, breakerRetryAfterMs } from '../circuit-breaker.js';
import type { ProviderSnapshot } from '../contracts/provider.js';
import { type CredentialSchedule, decideServe } from '../refresh-policy.js';
import { errorCode } from '../reporter.js';
import type { BreakerBox } from './breaker-box.js';

/** What a snapshot is built from. */
export interface SnapshotState {
  readonly name: string;
  readonly closed: boolean;
  readonly schedule: CredentialSchedule | undefined;
  readonly mintInFlight: boolean;
  readonly waiters: number;
  readonly box: BreakerBox;
  readonly breaker: BreakerConfig;
}

/**
 * The snapshot at `now`. With a clock that cannot be read (`now` not finite), the cached
 * credential is reported as expired, never as valid, and an open breaker with no wait.
 */
export function buildSnapshot(state: SnapshotState, now: number): ProviderSnapshot {
  const at = Number.isFinite(now) ? now : Number.POSITIVE_INFINITY;
  const { schedule, box } = state;
  const decision = decideServe(schedule, at);
  const error = box.lastError;
  return {
    name: state.name,
    status: state.closed ? 'closed' : decision === 'missing' ? 'empty' : decision,
    issuedAt: schedule === undefined ? null : schedule.issuedAt,
    expiresAt: finiteOrNull(schedule?.expiresAt),
    refreshDueAt: finiteOrNull(schedule?.dueAt),
    mintInFlight: state.mintInFlight,
    waiters: state.waiters,
    breaker: {
      state: box.state.state,
      failures: box.state.failures,
      retryAfterMs: breakerRetryAfterMs(box.state, at, state.breaker),
    },
    lastError: box.hasError
      ? { code: errorCode(error) ?? null, message: describeError(error), at: box.lastErrorAt }
      : null,
  };
}

function finiteOrNull(value: number | undefined): number | null {
  return value === undefined || !Number.isFinite(value) ? null : value;
}

/** An error's message for diagnostics; never throws, whatever was thrown. */
function describeError(error: unknown): string {
  try {
    if (error instanceof Error) return error.message;
    if (typeof error === 'string') return error;
    if (error === undefined) return 'undefined';
    const message = (error as { message?: unknown } | null)?.message;
    return typeof message === 'string' ? message : String(error);
  } catch {
    return 'unprintable error';
  }
}
