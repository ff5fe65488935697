/**
 * A provider cell's side of the circuit breaker: asking it for a mint, the error a refused
 * caller gets, folding a mint's outcome in (a failure's retry hint included), handing a
 * probe back, and reporting each change of state. The breaker itself is the pure state
 * machine in `circuit-breaker.ts`; who may probe a shared breaker is `breaker-box.ts`.
 */

import {
  type BreakerState,
  breakerRetryAfterMs,
  recordFailure,
  recordSuccess,
} from '../circuit-breaker.js';
import { BreakerOpenError } from '../errors.js';
import { askBox, noteAdmission, noteFailure, noteRefusal, noteSuccess } from './breaker-box.js';
import type { CellState } from './cell-state.js';

/**
 * Asks the breaker; commits its next state. Returns undefined when admitted, else the
 * milliseconds until a probe is admitted (no error is built: background refreshes ask on
 * every due access while the breaker is open).
 */
export function admit<T>(cell: CellState<T>, now: number): number | undefined {
  const box = cell.box;
  const admission = askBox(box, cell.who, now, cell.policy.breaker);
  setBreaker(cell, admission.next, now);
  if (admission.admitted) {
    noteAdmission(box, cell.who, admission.probe);
    return undefined;
  }
  noteRefusal(box, cell.who);
  return admission.retryAfterMs;
}

/** The error a caller gets when the breaker refuses a mint it must wait for. */
export function breakerOpenError<T>(cell: CellState<T>, retryAfterMs: number): BreakerOpenError {
  return new BreakerOpenError(retryAfterMs, {
    cause: cell.box.lastError,
    name: cell.policy.name,
  });
}

/** Folds a successful mint in at `now`: the breaker closes. */
export function breakerSucceeded<T>(cell: CellState<T>, now: number): void {
  noteSuccess(cell.box, cell.who);
  setBreaker(cell, recordSuccess(cell.box.state), now);
}

/**
 * Folds a failed mint in at `now`: records it as the last error, and counts it (with its
 * retry hint, if it carries one), unless `uncounted`: a failure that was not this provider's
 * attempt at the issuer (a clock fault, or a failure the mint relays from elsewhere), whose
 * probe is handed back so the next caller probes at once. `wasProbe`: the mint was the
 * half-open probe.
 */
export function breakerFailed<T>(
  cell: CellState<T>,
  error: unknown,
  now: number,
  uncounted: boolean,
  wasProbe: boolean,
): void {
  const box = cell.box;
  box.lastError = error;
  box.lastErrorAt = now;
  box.hasError = true;
  if (uncounted) {
    // A relayed failure's retry hint is the relaying coordinator's to enforce.
    releaseProbe(cell);
    return;
  }
  noteFailure(box, cell.who, wasProbe);
  // The issuer's own wait (Retry-After), when the error carries one, opens the breaker.
  setBreaker(cell, recordFailure(box.state, now, cell.policy.breaker, retryHintMs(error)), now);
}

/**
 * Gives up this provider's half-open probe (it is closing, or its outcome said nothing
 * about the issuer): the breaker goes back to open with its cooldown already elapsed, so
 * the next caller anywhere probes at once.
 */
export function releaseProbe<T>(cell: CellState<T>): void {
  const box = cell.box;
  if (box.probe !== cell.who) return;
  box.probe = undefined;
  if (box.state.state === 'half-open') {
    const cooldownMs = cell.policy.breaker.cooldownMs;
    let now = cell.read();
    if (!Number.isFinite(now)) {
      cell.clock.fault = undefined;
      now = box.state.openedAt + cooldownMs;
    }
    const openedAt = now - cooldownMs;
    setBreaker(cell, { state: 'open', failures: box.state.failures, openedAt }, now);
  }
}

/** Milliseconds until the breaker admits a probe at `now`; 0 when it is not open. */
export function breakerWaitMs<T>(cell: CellState<T>, now: number): number {
  return breakerRetryAfterMs(cell.box.state, now, cell.policy.breaker);
}

/** Commits the breaker's next state and reports a change of state. */
function setBreaker<T>(cell: CellState<T>, next: BreakerState, now: number): void {
  const box = cell.box;
  const before = box.state;
  if (before === next) return;
  box.state = next;
  if (before.state !== next.state) {
    cell.events.breakerChanged(
      before.state,
      next.state,
      next.failures,
      breakerRetryAfterMs(next, now, cell.policy.breaker),
    );
  }
}

/**
 * Whether a mint failure counts towards the breaker: every failure does, except an error
 * whose `countsTowardsBreaker` property is `false` (a failure the mint relays from elsewhere,
 * such as another instance's mint). A property that cannot be read counts.
 */
export function countsTowardsBreaker(error: unknown): boolean {
  if ((typeof error !== 'object' && typeof error !== 'function') || error === null) return true;
  try {
    return (error as { countsTowardsBreaker?: unknown }).countsTowardsBreaker !== false;
  } catch {
    return true;
  }
}

/**
 * The retry hint a mint failure carries: its `retryAfterMs` (own or inherited) when that is a
 * finite number > 0, else undefined. A property that cannot be read gives no hint.
 */
function retryHintMs(error: unknown): number | undefined {
  if ((typeof error !== 'object' && typeof error !== 'function') || error === null) {
    return undefined;
  }
  try {
    const hint = (error as { retryAfterMs?: unknown }).retryAfterMs;
    return typeof hint === 'number' && Number.isFinite(hint) && hint > 0 ? hint : undefined;
  } catch {
    return undefined;
  }
}
