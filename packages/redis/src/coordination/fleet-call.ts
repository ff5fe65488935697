/**
 * One call of a wrapped mint, end to end: load-or-lease, then adopt, honour the failure
 * window, wait for another instance's lease, or lead; and the local fallback whenever the
 * store cannot be used.
 */

import { type Credential, raceSignal } from '@sluice/core';
import { adopt } from './adoption.js';
import { pollDelayMs } from './backoff.js';
import { StoreUnavailableError } from './errors.js';
import { honour, relay } from './failure-window.js';
import { lead, shapeProblem } from './fleet-leader.js';
import { type Call, type FleetShared, randomId } from './fleet-shared.js';
import { flushPending, keepPending } from './pending-stores.js';
import type { FallbackReason } from './reporter.js';
import type { LeaseAnswer } from './store.js';

const noop = (): void => {};

export async function runCall<T>(shared: FleetShared, call: Call<T>): Promise<Credential<T>> {
  const { context } = call;
  const config = shared.config;
  if (shared.closed) return fallback(shared, call, 'closed');
  if (shared.localNow() === undefined) return fallback(shared, call, 'invalid-clock');
  const state = shared.states.use(call.ref);
  // A failure window this instance honours is checked against the store on every call, so a
  // record that is gone (deleted, or replaced by a stored credential) stops binding at once;
  // the local copy is what callers get while the store cannot be read.
  const window = state.failure;
  if (window !== undefined && window.untilMonotonic <= performance.now()) {
    state.failure = undefined;
  }
  let ignoreFailure = false;
  const exclude = new Set<string>();
  const replaceable = new Set<string>();
  const previous = context.previous;
  const previousId = previous === undefined ? undefined : shared.idOf(state, previous.value);
  if (previousId !== undefined) {
    exclude.add(previousId);
    if (context.reason === 'invalidated') replaceable.add(previousId);
  }
  const unrecognised =
    previousId === undefined && context.reason === 'invalidated' ? previous : undefined;
  const startedAt = performance.now();
  let waitingSince: number | undefined;
  let polls = 0;
  for (;;) {
    if (context.signal.aborted) throw context.signal.reason;
    if (shared.closed) return fallback(shared, call, 'closed');
    const token = randomId();
    const sentAt = performance.now();
    let answer: LeaseAnswer;
    try {
      answer = await loadOrLease(shared, call, token, exclude, ignoreFailure);
    } catch (error) {
      if (context.signal.aborted) throw context.signal.reason;
      const local = state.failure;
      const leftMs = local === undefined ? 0 : local.untilMonotonic - performance.now();
      if (local !== undefined && leftMs > 0) throw relay(shared, call, local, leftMs);
      // A follower that saw another's lease and lost the connection (a failover, a
      // reconnect) keeps waiting within its budget: the leader's credential lands in the
      // store once the connection is back (a reconnect wakes it), rather than one more mint.
      if (waitingSince !== undefined && shared.store.connection() !== 'up') {
        const budgetMs = waitingSince + config.leaseMs + config.mintTimeoutMs - performance.now();
        if (budgetMs > 0) {
          const { initialDelayMs, maxDelayMs } = config.poll;
          const delay = pollDelayMs(polls++, initialDelayMs, maxDelayMs, shared.random(), budgetMs);
          const by = await shared.waiters.wait(call.ref, delay, context.signal);
          if (by === 'closed') return fallback(shared, call, 'closed');
          continue;
        }
      }
      return fallback(shared, call, 'store-unavailable', error);
    }
    const pin = shared.pin(answer.now, sentAt);
    switch (answer.kind) {
      case 'value': {
        const adopted = await adopt(shared, call, state, answer.record, pin, unrecognised);
        if (adopted === undefined) {
          exclude.add(answer.record.id);
          replaceable.add(answer.record.id);
          continue;
        }
        config.reporter.onAdopted?.({
          ...call.label,
          reason: context.reason,
          waitedMs: Math.round(performance.now() - startedAt),
        });
        return adopted;
      }
      case 'failed': {
        const honoured = await honour(shared, call, answer.failure, pin);
        if (honoured === undefined) {
          ignoreFailure = true; // refused (reported): read again without it
          continue;
        }
        const own = state.failure;
        // This instance's own failure keeps its original error object as the cause.
        state.failure =
          own !== undefined && own.failures === honoured.failures
            ? { ...honoured, error: own.error, cause: own.cause }
            : honoured;
        throw relay(shared, call, state.failure, state.failure.untilMonotonic - performance.now());
      }
      case 'lease':
        if (shared.closed) {
          shared.releaseQuietly(call.ref, token);
          return fallback(shared, call, 'closed');
        }
        return lead(shared, call, state, token, pin, answer.storedId, exclude, replaceable);
      case 'leased': {
        waitingSince ??= performance.now();
        const leftMs = waitingSince + config.leaseMs + config.mintTimeoutMs - performance.now();
        if (leftMs <= 0) return fallback(shared, call, 'wait-exceeded');
        const { initialDelayMs, maxDelayMs } = config.poll;
        const delay = pollDelayMs(polls++, initialDelayMs, maxDelayMs, shared.random(), leftMs);
        const by = await shared.waiters.wait(call.ref, delay, context.signal);
        if (by === 'closed') return fallback(shared, call, 'closed');
        config.reporter.onWoken?.({ ...call.label, by });
        continue;
      }
    }
  }
}

/** One `loadOrLease`; a lease granted after the caller stopped waiting is released. */
export async function loadOrLease<T>(
  shared: FleetShared,
  call: Call<T>,
  token: string,
  exclude: Set<string>,
  ignoreFailure = false,
): Promise<LeaseAnswer> {
  const { ref, context } = call;
  const config = shared.config;
  const releaseLate = (late: LeaseAnswer): void => {
    if (late.kind === 'lease') shared.releaseQuietly(ref, token);
  };
  const pending = shared.guard.run(
    'loadOrLease',
    () => {
      if (shared.closed)
        return Promise.reject(new StoreUnavailableError('the coordinator is closed'));
      const sent = shared.store.loadOrLease(ref, {
        token,
        leaseMs: config.leaseMs,
        instanceId: config.instanceId,
        exclude: [...exclude],
        maxFailureWindowMs: config.failureBackoff.maxDelayMs,
        ...(ignoreFailure ? { ignoreFailure } : {}),
      });
      // A lease granted once close() has begun is released at once; close() waits for it.
      shared.track(
        Promise.resolve(sent).then((answer) => {
          if (shared.closed && answer.kind === 'lease') shared.releaseQuietly(ref, token);
        }),
      );
      return sent;
    },
    releaseLate,
  );
  try {
    return await raceSignal(pending, context.signal);
  } catch (error) {
    if (context.signal.aborted) pending.then(releaseLate, noop);
    throw error;
  }
}

/** Mints on the local policy; the credential is offered to the store when it is reachable. */
export async function fallback<T>(
  shared: FleetShared,
  call: Call<T>,
  reason: FallbackReason,
  error?: unknown,
): Promise<Credential<T>> {
  shared.config.reporter.onFallback?.(
    error === undefined ? { ...call.label, reason } : { ...call.label, reason, error },
  );
  const minted = await call.mint(call.context);
  if (reason === 'closed' || reason === 'invalid-clock') return minted;
  const now = shared.localNow();
  if (now === undefined || shapeProblem(minted, now) !== undefined) return minted;
  keepPending(shared, call, shared.states.use(call.ref), minted, now);
  flushPending(shared);
  return minted;
}
