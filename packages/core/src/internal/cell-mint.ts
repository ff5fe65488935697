/**
 * Driving a provider cell's mints: starting one (for a caller, a background refresh, the
 * refresh timer or a keyed sweep) once the breaker admits it, joining callers to the one in
 * flight, and landing its outcome: a checked credential installed with its schedule, or a
 * failure folded into the breaker. Outcomes are adopted asynchronously by the single flight,
 * inside `hold()` / `release()`, so reporter hooks run once the state is consistent.
 */

import { type Credential, checkMintedCredential } from '../credential.js';
import { MintedCredentialExpiredError, MintTimeoutError } from '../errors.js';
import {
  type CredentialSchedule,
  decideServe,
  type ServeDecision,
  scheduleCredential,
} from '../refresh-policy.js';
import { errorCode, type MintReason } from '../reporter.js';
import {
  admit,
  breakerFailed,
  breakerOpenError,
  breakerSucceeded,
  breakerWaitMs,
  countsTowardsBreaker,
} from './cell-breaker.js';
import type { CellState } from './cell-state.js';
import { hold, release } from './dispatch.js';
import { sample } from './random-sample.js';
import { TIMER_MIN_DELAY_MS } from './refresh-timer.js';

const valueOfCredential = <T>(credential: Credential<T>): T => credential.value;

/** Joins the mint in flight, or starts one if the breaker admits it, and waits for it. */
export function mintAndJoin<T>(
  cell: CellState<T>,
  reason: MintReason,
  now: number,
  whole: boolean,
  signal: AbortSignal | undefined,
): Promise<T | Credential<T>> {
  let started: Promise<Credential<T>> | undefined;
  if (!cell.flight.inFlight) {
    const refusedForMs = admit(cell, now);
    if (refusedForMs !== undefined) {
      const refused = breakerOpenError(cell, refusedForMs);
      cell.events.breakerRefused(refused.retryAfterMs);
      return Promise.reject(refused);
    }
    started = startMint(cell, reason, now);
  }
  const joined = join(cell, whole, signal);
  if (joined !== undefined) return joined;
  // The flight already ended: the mint closed the provider while it ran. Its outcome stands.
  const ended = started ?? Promise.reject(cell.closedError());
  return whole ? ended : ended.then(valueOfCredential);
}

function join<T>(
  cell: CellState<T>,
  whole: boolean,
  signal: AbortSignal | undefined,
): Promise<T | Credential<T>> | undefined {
  const flight = cell.flight;
  if (signal !== undefined) {
    return whole ? flight.joinWith(signal) : flight.joinWith(signal, valueOfCredential);
  }
  const shared = flight.join();
  if (shared === undefined || whole) return shared;
  // The value promise is derived once per flight, so a cohort shares one derived promise.
  if (cell.flightPromise !== shared) {
    cell.flightPromise = shared;
    cell.flightValue = shared.then(valueOfCredential);
    cell.flightValue.catch(noop);
  }
  return cell.flightValue;
}

/** Why a mint started for a credential in state `decision` runs. */
export function reasonFor<T>(cell: CellState<T>, decision: ServeDecision): MintReason {
  if (decision === 'due' || decision === 'fresh') return 'proactive';
  if (decision === 'expired') return 'expired';
  return cell.invalidated ? 'invalidated' : 'initial';
}

/** Starts a background refresh at `now` unless a mint runs or the breaker refuses. */
export function refreshInBackground<T>(cell: CellState<T>, now: number): void {
  if (cell.flight.inFlight) return;
  if (admit(cell, now) !== undefined) return;
  startMint(cell, 'proactive', now);
}

/** Starts the mint (the breaker admitted it, none is in flight). */
export function startMint<T>(
  cell: CellState<T>,
  reason: MintReason,
  startedAt: number,
): Promise<Credential<T>> {
  const policy = cell.policy;
  cell.events.started(reason);
  const previous = cell.credential ?? cell.previous;
  const mint = cell.mint;
  return cell.flight.start(
    (signal) => mint(previous === undefined ? { signal, reason } : { signal, reason, previous }),
    {
      onSuccess: (raw, waiters) => onMinted(cell, raw, reason, startedAt, waiters),
      onFailure: (error, waiters) => onMintFailed(cell, error, reason, startedAt, waiters),
    },
    {
      timeoutMs: policy.mintTimeoutMs,
      timeoutError: () => new MintTimeoutError(policy.mintTimeoutMs, { name: policy.name }),
      timers: policy.timers,
    },
  );
}

/** Lands a minted credential: checks it, schedules it, installs it. Throws to fail the mint. */
function onMinted<T>(
  cell: CellState<T>,
  raw: unknown,
  reason: MintReason,
  startedAt: number,
  waiters: number,
): Credential<T> {
  cell.flightPromise = undefined;
  cell.flightValue = undefined;
  const policy = cell.policy;
  const credential = checkMintedCredential<T>(raw, policy.name);
  const now = cell.read();
  if (!Number.isFinite(now)) {
    cell.landingClockError = cell.clockError(now);
    throw cell.landingClockError;
  }
  if (credential.expiresAt !== undefined && credential.expiresAt <= now) {
    throw new MintedCredentialExpiredError(credential.expiresAt, now, { name: policy.name });
  }
  const previousExpiresAt = (cell.credential ?? cell.previous)?.expiresAt;
  const schedule = scheduleCredential(
    now,
    credential.expiresAt,
    previousExpiresAt,
    policy.timing,
    sample(policy.random),
    credential.refreshAfter,
  );
  cell.install(credential, schedule, reason);
  breakerSucceeded(cell, now);
  cell.timer.arm(schedule.dueAt, now);

  cell.events.succeeded(reason, now - startedAt, seconds(schedule.expiresAt - now));
  cell.events.coalesced(reason, waiters, true);
  return credential;
}

/** Lands a failed mint: the breaker, the retry timer, the reporter. */
function onMintFailed<T>(
  cell: CellState<T>,
  error: unknown,
  reason: MintReason,
  startedAt: number,
  waiters: number,
): void {
  cell.flightPromise = undefined;
  cell.flightValue = undefined;
  if (cell.closed) return; // closing is not a mint failure
  const box = cell.box;
  const wasProbe = box.probe === cell.who && box.state.state === 'half-open';
  // A credential that landed while the clock could not be read: the issuer answered, so the
  // breaker does not count it; the probe (if this was it) is handed back, as by close().
  const clockFailure = error !== undefined && error === cell.landingClockError;
  cell.landingClockError = undefined;
  let now = cell.read();
  const clockKnown = Number.isFinite(now);
  if (!clockKnown) {
    cell.clock.fault = undefined;
    now = startedAt; // the last reading known good: the failure is dated at the mint's start
  }
  breakerFailed(cell, error, now, clockFailure || !countsTowardsBreaker(error), wasProbe);
  const retryAt = now + Math.max(cell.policy.timing.minRefreshIntervalMs, breakerWaitMs(cell, now));
  cell.timer.arm(retryAt, now);

  const cached = cell.credential === undefined ? undefined : cell.schedule?.expiresAt;
  cell.events.failed(
    reason,
    now - startedAt,
    error,
    errorCode(error),
    cached === undefined || !clockKnown ? undefined : seconds(cached - now),
  );
  cell.events.coalesced(reason, waiters, false);
}

/** The `'timer'` schedule's timer fired: refresh when due, else set it again. */
export function onTimer<T>(cell: CellState<T>): void {
  hold();
  try {
    if (cell.closed || cell.flight.inFlight) return;
    const now = cell.read();
    if (!Number.isFinite(now)) {
      // Unknown time: look again later rather than guess.
      cell.clock.fault = undefined;
      cell.timer.arm(TIMER_MIN_DELAY_MS, 0);
      return;
    }
    const decision = decideServe(cell.schedule, now);
    if (decision === 'fresh') {
      cell.timer.arm((cell.schedule as CredentialSchedule).dueAt, now);
      return;
    }
    const refusedForMs = admit(cell, now);
    if (refusedForMs !== undefined) {
      // 0 means another key of a shared breaker is probing: wait, never spin.
      cell.timer.arm(now + Math.max(refusedForMs, cell.policy.timing.minRefreshIntervalMs), now);
      return;
    }
    startMint(cell, reasonFor(cell, decision), now);
  } catch {
    // A timer callback never throws into the runtime.
  } finally {
    release();
  }
}

export function noop(): void {}

function seconds(ms: number): number | undefined {
  return Number.isFinite(ms) ? ms / 1000 : undefined;
}
