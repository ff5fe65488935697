/**
 * The fleet's failure window as one instance sees it: recording its own failed mint (best
 * effort), honouring a window the store answered with, and the error its callers get inside
 * a window.
 */

import type { ClockPin } from './clock.js';
import type { CredentialState, HonouredFailure } from './credential-state.js';
import {
  DecryptError,
  parseMintError,
  RelayedMintError,
  rebuildMintError,
  type SerializedMintError,
} from './errors.js';
import type { Call, FleetShared } from './fleet-shared.js';
import { sealContext } from './sealing.js';
import type { CoordinationStore, FailureRecord } from './store.js';

/** Records this instance's failed mint for the fleet (best effort) and honours its window. */
export async function recordFailure<T>(
  shared: FleetShared,
  call: Call<T>,
  state: CredentialState,
  token: string,
  seenId: string | undefined,
  fields: SerializedMintError,
  cause: unknown,
): Promise<void> {
  const config = shared.config;
  let keyId = '';
  let payload = JSON.stringify(fields);
  if (config.keyring !== undefined) {
    ({ keyId, payload } = await config.keyring.seal(
      payload,
      sealContext(shared, 'failure', call.ref, undefined),
    ));
  }
  let answer: Awaited<ReturnType<CoordinationStore['fail']>>;
  const sentAt = performance.now();
  try {
    answer = await shared.guard.run('fail', () =>
      shared.store.fail(call.ref, {
        token,
        instanceId: config.instanceId,
        seenId,
        keyId,
        payload,
        initialWindowMs: config.failureBackoff.initialDelayMs,
        maxWindowMs: config.failureBackoff.maxDelayMs,
        jitterSample: shared.random(),
        stickyMs: config.failureBackoff.maxDelayMs,
      }),
    );
  } catch {
    return; // the lease lapses on its own
  }
  const pin = shared.pin(answer.now, sentAt);
  if (answer.outcome !== 'recorded') return;
  const retryAfterMs = windowMs(answer.retryAt - answer.now, config.failureBackoff.maxDelayMs);
  config.reporter.onFailureRecorded?.({
    ...call.label,
    failures: answer.failures,
    retryAfterMs,
    confirmed: answer.confirmed,
  });
  state.failure = {
    untilMonotonic: pin.receivedAt + retryAfterMs,
    failures: answer.failures,
    error: fields,
    cause: cause ?? rebuildMintError(fields),
  };
}

/**
 * The failure window of a `failed` answer, with its error opened; `undefined` when encryption
 * is on and the record cannot be vouched for (stored in clear, or it does not open): reported
 * through `onDecryptFailed`, and the caller reads again ignoring it. In every mode the window
 * is capped at `failureBackoff.maxDelayMs` and the error's fields are bounded and stripped of
 * control characters (see `parseMintError`).
 */
export async function honour<T>(
  shared: FleetShared,
  call: Call<T>,
  failure: FailureRecord,
  pin: ClockPin,
): Promise<HonouredFailure | undefined> {
  let fields: SerializedMintError | undefined;
  const keyring = shared.config.keyring;
  try {
    let text = failure.payload;
    if (failure.keyId !== '') {
      if (keyring === undefined) throw new DecryptError('unknown-key', failure.keyId);
      text = await keyring.open(
        failure.keyId,
        text,
        sealContext(shared, 'failure', call.ref, undefined),
      );
    } else if (keyring !== undefined) {
      // Encryption is on: a record in clear was planted (or predates encryption).
      throw new DecryptError('unencrypted', '');
    }
    fields = parseMintError(text);
    if (fields === undefined && keyring !== undefined) {
      throw new DecryptError('malformed', failure.keyId);
    }
  } catch (error) {
    if (error instanceof DecryptError) {
      shared.config.reporter.onDecryptFailed?.({ ...call.label, error });
      if (keyring !== undefined) return undefined;
    }
  }
  const error = fields ?? { name: 'Error', message: 'the recorded failure could not be read' };
  const maxMs = shared.config.failureBackoff.maxDelayMs;
  return {
    untilMonotonic: pin.receivedAt + windowMs(failure.retryAt - pin.storeNow, maxMs),
    failures: countOf(failure.failures),
    error,
    cause: rebuildMintError(error),
  };
}

/** A window read from the store, in [0, maxMs]: a non-number or a later end is capped. */
export function windowMs(leftMs: number, maxMs: number): number {
  if (Number.isNaN(leftMs)) return maxMs;
  return Math.min(maxMs, Math.max(0, leftMs));
}

function countOf(failures: number): number {
  return Number.isSafeInteger(failures) && failures >= 1 ? failures : 1;
}

export function relay<T>(
  shared: FleetShared,
  call: Call<T>,
  window: HonouredFailure,
  leftMs: number,
): RelayedMintError {
  const retryAfterMs = Math.max(0, Math.ceil(leftMs));
  const error = new RelayedMintError(window.error, window.cause, retryAfterMs, window.failures, {
    name: call.label.name,
  });
  shared.config.reporter.onRelayedFailure?.({
    ...call.label,
    code: error.code,
    retryAfterMs,
    failures: window.failures,
  });
  return error;
}
