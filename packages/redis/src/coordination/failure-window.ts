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
  const retryAfterMs = Math.max(0, answer.retryAt - answer.now);
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

/** The failure window of a `failed` answer, with its error opened (or a placeholder). */
export async function honour<T>(
  shared: FleetShared,
  call: Call<T>,
  failure: FailureRecord,
  pin: ClockPin,
): Promise<HonouredFailure> {
  let fields: SerializedMintError | undefined;
  try {
    let text = failure.payload;
    const keyring = shared.config.keyring;
    if (failure.keyId !== '') {
      if (keyring === undefined) throw new DecryptError('unknown-key', failure.keyId);
      text = await keyring.open(
        failure.keyId,
        text,
        sealContext(shared, 'failure', call.ref, undefined),
      );
    }
    fields = parseMintError(text);
  } catch (error) {
    if (error instanceof DecryptError)
      shared.config.reporter.onDecryptFailed?.({ ...call.label, error });
  }
  const error = fields ?? { name: 'Error', message: 'the recorded failure could not be read' };
  return {
    untilMonotonic: pin.receivedAt + Math.max(0, failure.retryAt - pin.storeNow),
    failures: failure.failures,
    error,
    cause: rebuildMintError(error),
  };
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
