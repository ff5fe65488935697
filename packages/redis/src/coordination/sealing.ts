/**
 * Records as the store holds them: a value sealed with its expiry and due point on the
 * store's clock, a fresh id and generation, the codec's output (encrypted with the keyring's
 * first key when there is one); and the way back.
 */

import { fleetDueAt, localToStore } from './clock.js';
import type { CredentialState } from './credential-state.js';
import type { SealContext } from './encryption.js';
import { DecryptError } from './errors.js';
import { type Call, type FleetShared, randomId } from './fleet-shared.js';
import type { StoredRecord } from './store.js';

/**
 * Seals a value into a record: expiry and due point on the store's clock (the issuer's own
 * `localRefreshAfter` when the mint gave one, else `refreshAt` of the lifetime), a fresh id and
 * generation, the codec's output (encrypted when a keyring is set). `undefined` when the
 * codec cannot encode it (reported as a store error).
 */
export async function sealRecord(
  shared: FleetShared,
  ref: string,
  state: CredentialState,
  encode: (value: unknown) => string,
  value: unknown,
  localExpiresAt: number,
  localMintedAt: number,
  localNow: number,
  storeNow: number,
  localRefreshAfter?: number,
): Promise<StoredRecord | undefined> {
  const expiresAt = Math.round(localToStore(localExpiresAt, localNow, storeNow));
  const mintedAt = Math.round(localToStore(localMintedAt, localNow, storeNow));
  const issuerDueAt =
    localRefreshAfter === undefined
      ? undefined
      : localToStore(localRefreshAfter, localNow, storeNow);
  const generation = Math.max(state.generation + 1, Math.round(storeNow * 1000));
  state.generation = generation;
  const base = {
    id: randomId(),
    expiresAt,
    dueAt: fleetDueAt(mintedAt, expiresAt, shared.config.refreshAt, issuerDueAt),
    generation: String(generation),
  };
  let text: string;
  try {
    text = encode(value);
    if (typeof text !== 'string') throw new TypeError('the codec did not return a string');
  } catch (error) {
    shared.config.reporter.onStoreError?.({ operation: 'encode', error });
    return undefined;
  }
  const keyring = shared.config.keyring;
  if (keyring === undefined) return { ...base, keyId: '', payload: text };
  const sealed = await keyring.seal(text, sealContext(shared, 'credential', ref, base));
  return { ...base, ...sealed };
}

export async function openRecord<T>(
  shared: FleetShared,
  call: Call<T>,
  record: StoredRecord,
): Promise<T> {
  const keyring = shared.config.keyring;
  let text = record.payload;
  if (record.keyId !== '') {
    if (keyring === undefined) throw new DecryptError('unknown-key', record.keyId);
    text = await keyring.open(
      record.keyId,
      record.payload,
      sealContext(shared, 'credential', call.ref, record),
    );
  } else if (keyring !== undefined) {
    throw new DecryptError('unencrypted', '');
  }
  try {
    return call.codec.decode(text);
  } catch {
    throw new DecryptError('undecodable', record.keyId);
  }
}

export function sealContext(
  shared: FleetShared,
  kind: SealContext['kind'],
  ref: string,
  record: { expiresAt: number; generation: string } | undefined,
): SealContext {
  return {
    kind,
    namespace: shared.config.namespace,
    ref,
    expiresAt: record === undefined ? '' : formatTime(record.expiresAt),
    generation: record === undefined ? '' : record.generation,
  };
}

function formatTime(time: number): string {
  return time === Number.POSITIVE_INFINITY ? 'inf' : String(time);
}
