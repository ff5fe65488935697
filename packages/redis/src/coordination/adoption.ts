/**
 * Adopting a stored credential: open it, refuse it when it is the rejected secret under a new
 * id or not newer than the one a refresh replaces, and place its expiry on this instance's
 * clock (rounded early, never late).
 */

import type { Credential } from '@sluice/core';
import { type ClockPin, storeNowAtMost, storeToLocal } from './clock.js';
import type { CredentialState } from './credential-state.js';
import { DecryptError } from './errors.js';
import type { Call, FleetShared } from './fleet-shared.js';
import { openRecord } from './sealing.js';
import type { StoredRecord } from './store.js';

/**
 * Opens a stored record into a credential on this instance's clock; `undefined` (reported)
 * when it cannot be decrypted or decoded, or when it is the rejected secret under a new id.
 */
export async function adopt<T>(
  shared: FleetShared,
  call: Call<T>,
  state: CredentialState,
  record: StoredRecord,
  pin: ClockPin,
  unrecognised: Credential<T> | undefined,
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
  const replacing = call.context.reason === 'invalidated' ? undefined : call.context.previous;
  const expiresAt = storeToLocal(
    record.expiresAt,
    storeNowAtMost(pin, performance.now()),
    localNow,
  );
  if (expiresAt <= localNow) return undefined;
  // A refresh wants something newer than what it replaces (a credential this instance minted
  // while Redis was away may outlive the stored one): not newer, not adopted.
  const replacingUntil = replacing?.expiresAt ?? Number.NEGATIVE_INFINITY;
  if (replacing !== undefined && expiresAt <= replacingUntil) return undefined;
  shared.remember(state, value, record.id);
  const generation = Number(record.generation);
  if (Number.isFinite(generation)) state.generation = Math.max(state.generation, generation);
  return expiresAt === Number.POSITIVE_INFINITY
    ? { value }
    : { value, expiresAt: Math.floor(expiresAt) };
}
