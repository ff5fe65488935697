/**
 * Adopting a stored credential: open it, refuse it when it is the rejected secret under a new
 * id or not newer than the one a refresh replaces (unless it is that very credential, taken
 * back because the fleet's due point has not come), and place its expiry on this instance's
 * clock (rounded early, never late) and the fleet's due point as its `refreshAfter` (rounded
 * late, so the replica falls due when the store does).
 */

import type { Credential } from '@sluice/core';
import { type ClockPin, dueToLocal, storeNowAtMost, storeToLocal } from './clock.js';
import type { CredentialState } from './credential-state.js';
import { DecryptError } from './errors.js';
import type { Call, FleetShared } from './fleet-shared.js';
import { openRecord } from './sealing.js';
import type { StoredRecord } from './store.js';

/**
 * Opens a stored record into a credential on this instance's clock; `undefined` (reported)
 * when it cannot be decrypted or decoded, or when it is the rejected secret under a new id.
 * `heldId` is the stored id of the credential a proactive refresh replaces: that record may be
 * taken back although it expires no later.
 */
export async function adopt<T>(
  shared: FleetShared,
  call: Call<T>,
  state: CredentialState,
  record: StoredRecord,
  pin: ClockPin,
  unrecognised: Credential<T> | undefined,
  heldId?: string,
): Promise<Credential<T> | undefined> {
  let value: T;
  try {
    value = await openRecord(shared, call, record);
  } catch (error) {
    if (!(error instanceof DecryptError)) throw error;
    shared.config.reporter.onDecryptFailed?.({ ...call.label, error });
    return undefined;
  }
  if (unrecognised !== undefined && typeof value === 'string' && value === unrecognised.value) {
    return undefined;
  }
  const localNow = shared.localNow();
  if (localNow === undefined) return undefined;
  const takenBack = heldId !== undefined && record.id === heldId;
  const replacing =
    call.context.reason === 'invalidated' || takenBack ? undefined : call.context.previous;
  const monotonicNow = performance.now();
  const expiresAt = storeToLocal(record.expiresAt, storeNowAtMost(pin, monotonicNow), localNow);
  if (expiresAt <= localNow) return undefined;
  // A refresh wants something newer than what it replaces (a credential this instance minted
  // while Redis was away may outlive the stored one): not newer, not adopted.
  const replacingUntil = replacing?.expiresAt ?? Number.NEGATIVE_INFINITY;
  if (replacing !== undefined && expiresAt <= replacingUntil) return undefined;
  shared.remember(state, value, record.id);
  const generation = Number(record.generation);
  if (Number.isFinite(generation)) state.generation = Math.max(state.generation, generation);
  // A due point already passed (a due token adopted rather than wait or fail) is not handed
  // on: the provider's own fraction of what remains then decides when it asks again.
  const due = record.dueAt < record.expiresAt ? record.dueAt : Number.NaN;
  const refreshAfter = dueToLocal(due, pin, monotonicNow, localNow);
  return withFleetDue(
    expiresAt === Number.POSITIVE_INFINITY
      ? { value }
      : { value, expiresAt: Math.floor(expiresAt) },
    refreshAfter !== undefined && refreshAfter > localNow ? refreshAfter : undefined,
  );
}

/** `credential` carrying the fleet's due point as its `refreshAfter` (when there is one). */
export function withFleetDue<T>(
  credential: Credential<T>,
  refreshAfter: number | undefined,
): Credential<T> {
  if (refreshAfter === undefined || !Number.isFinite(refreshAfter)) return credential;
  const { value, expiresAt } = credential;
  return expiresAt === undefined ? { value, refreshAfter } : { value, expiresAt, refreshAfter };
}
