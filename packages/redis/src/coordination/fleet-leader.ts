/**
 * The leader's side of the protocol: mint under a renewed lease, then store with a
 * compare-and-set (adopting the newer credential when refused), or record the failure.
 */

import { type Credential, errorCode } from '@sluice/core';
import { adopt } from './adoption.js';
import { type ClockPin, storeNowAtLeast } from './clock.js';
import type { Codec } from './codec.js';
import type { CredentialState } from './credential-state.js';
import { type SerializedMintError, serializeMintError } from './errors.js';
import { recordFailure } from './failure-window.js';
import type { Call, FleetShared } from './fleet-shared.js';
import { holdLease } from './lease-renewal.js';
import { keepPending } from './pending-stores.js';
import { sealRecord } from './sealing.js';
import type { CoordinationStore } from './store.js';

/** Leads the mint for the fleet: mint with lease renewal, then store or record the failure. */
export async function lead<T>(
  shared: FleetShared,
  call: Call<T>,
  state: CredentialState,
  token: string,
  pin: ClockPin,
  seenId: string | undefined,
  exclude: Set<string>,
  replaceable: Set<string>,
): Promise<Credential<T>> {
  const { context, ref } = call;
  // Held (so close() releases it) before any hook runs: a hook may call close().
  const lease = holdLease(shared, call, token);
  shared.config.reporter.onLeased?.({ ...call.label, reason: context.reason });
  if (shared.closed) {
    lease.stop();
    shared.releaseQuietly(ref, token);
    return call.mint(context);
  }
  let minted: Credential<T>;
  try {
    minted = await call.mint(context);
  } catch (error) {
    lease.stop();
    const closing =
      shared.closed ||
      (context.signal.aborted && errorCode(context.signal.reason) === 'SLUICE_PROVIDER_CLOSED');
    if (closing) shared.releaseQuietly(ref, token);
    else await recordFailure(shared, call, state, token, seenId, serializeMintError(error), error);
    throw error;
  }
  lease.stop();
  const now = shared.localNow();
  const problem = now === undefined ? undefined : shapeProblem(minted, now);
  if (now === undefined || shared.closed) {
    shared.releaseQuietly(ref, token);
    return minted;
  }
  if (problem !== undefined) {
    await recordFailure(shared, call, state, token, seenId, problem, undefined);
    return minted; // the provider rejects it with its own error
  }
  return storeMinted(shared, call, state, token, minted, now, pin, exclude, replaceable);
}

export async function storeMinted<T>(
  shared: FleetShared,
  call: Call<T>,
  state: CredentialState,
  token: string,
  minted: Credential<T>,
  localNow: number,
  pin: ClockPin,
  exclude: Set<string>,
  replaceable: Set<string>,
): Promise<Credential<T>> {
  const { ref } = call;
  const storeNow = storeNowAtLeast(shared.lastPin ?? pin, performance.now());
  const record = await sealRecord(
    shared,
    call.ref,
    state,
    call.codec as Codec<unknown>,
    minted.value,
    minted.expiresAt ?? Number.POSITIVE_INFINITY,
    localNow,
    localNow,
    storeNow,
  );
  if (record === undefined) {
    shared.releaseQuietly(ref, token);
    return minted;
  }
  let answer: Awaited<ReturnType<CoordinationStore['store']>>;
  const sentAt = performance.now();
  try {
    answer = await shared.guard.run('store', () =>
      shared.store.store(ref, { token, record, replaceable: [...replaceable] }),
    );
  } catch {
    // The lease lapses on its own (followers re-read when it does); the credential is
    // offered to the store again once it is reachable.
    keepPending(shared, call, state, minted, localNow);
    return minted;
  }
  const pinned = shared.pin(answer.now, sentAt);
  shared.config.reporter.onStored?.({ ...call.label, outcome: answer.outcome });
  if (answer.outcome === 'stored') {
    shared.remember(state, minted.value, record.id);
    state.failure = undefined;
    return minted;
  }
  const current = answer.current;
  if (current !== undefined && !exclude.has(current.id) && !replaceable.has(current.id)) {
    const adopted = await adopt(shared, call, state, current, pinned, undefined);
    if (adopted !== undefined) return adopted;
  }
  return minted;
}

/** What is wrong with a minted credential, as a failure to record; `undefined` if nothing. */
export function shapeProblem(minted: unknown, now: number): SerializedMintError | undefined {
  if (typeof minted !== 'object' || minted === null) {
    return invalid('mint returned an invalid credential: expected an object { value, expiresAt? }');
  }
  const { value, expiresAt } = minted as { value?: unknown; expiresAt?: unknown };
  if (value === undefined)
    return invalid('mint returned an invalid credential: `value` is missing');
  if (expiresAt === undefined) return undefined;
  if (typeof expiresAt !== 'number' || !Number.isFinite(expiresAt)) {
    return invalid('mint returned an invalid credential: `expiresAt` is not a finite number');
  }
  if (expiresAt <= now) {
    return {
      name: 'MintedCredentialExpiredError',
      code: 'SLUICE_MINTED_CREDENTIAL_EXPIRED',
      message: 'mint returned a credential that had already expired',
    };
  }
  return undefined;
}

function invalid(message: string): SerializedMintError {
  return { name: 'InvalidCredentialError', code: 'SLUICE_INVALID_CREDENTIAL', message };
}
