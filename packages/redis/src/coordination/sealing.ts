/**
 * Records as the store holds them: a value sealed with its expiry and due point on the
 * store's clock, a fresh id and generation, the codec's output (encrypted with the keyring's
 * first key when there is one); and the way back.
 */

import { fleetDueAt, localToStore } from './clock.js';
import type { Codec } from './codec.js';
import type { CredentialState } from './credential-state.js';
import type { SealContext } from './encryption.js';
import { CodecError, DecryptError, isCodecError } from './errors.js';
import { type Call, type FleetShared, randomId } from './fleet-shared.js';
import type { StoredRecord } from './store.js';

/**
 * Seals a value into a record: expiry and due point on the store's clock, a fresh id and
 * generation, the codec's output (encrypted when a keyring is set). `undefined` when the
 * codec cannot store it faithfully: `encode` throws or does not return a string, or the round
 * trip `decode(encode(value))` is `undefined` or encodes differently (a {@link CodecError},
 * reported as a store error of operation `encode`; nothing is stored).
 */
export async function sealRecord(
  shared: FleetShared,
  ref: string,
  state: CredentialState,
  codec: Codec<unknown>,
  value: unknown,
  localExpiresAt: number,
  localMintedAt: number,
  localNow: number,
  storeNow: number,
): Promise<StoredRecord | undefined> {
  const expiresAt = Math.round(localToStore(localExpiresAt, localNow, storeNow));
  const mintedAt = Math.round(localToStore(localMintedAt, localNow, storeNow));
  const generation = Math.max(state.generation + 1, Math.round(storeNow * 1000));
  state.generation = generation;
  const base = {
    id: randomId(),
    expiresAt,
    dueAt: fleetDueAt(mintedAt, expiresAt, shared.config.refreshAt),
    generation: String(generation),
  };
  let text: string;
  try {
    text = encodeFaithfully(codec, value);
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
  let value: T;
  try {
    value = call.codec.decode(text);
  } catch {
    throw new DecryptError('undecodable', record.keyId);
  }
  // A codec error, never a credential: an `undefined` value is not served.
  if (value === undefined) throw new DecryptError('undecodable', record.keyId);
  return value;
}

/**
 * `codec.encode(value)`, checked: a string whose decoding is defined and encodes to the same
 * string, so what another instance reads back is what this one holds.
 * @throws {CodecError} otherwise (never with the value in it).
 */
export function encodeFaithfully(codec: Codec<unknown>, value: unknown): string {
  let text: unknown;
  try {
    text = codec.encode(value);
  } catch (error) {
    if (isCodecError(error)) throw error;
    throw new CodecError('unencodable', 'the codec’s encode threw', { cause: safeCause(error) });
  }
  if (typeof text !== 'string') {
    throw new CodecError('unencodable', 'the codec’s encode did not return a string');
  }
  let back: unknown;
  try {
    back = codec.decode(text);
  } catch {
    throw new CodecError('lossy', 'the codec’s decode threw on what its encode wrote');
  }
  if (back === undefined) {
    throw new CodecError(
      'lossy',
      'the codec’s decode returned undefined for what its encode wrote',
    );
  }
  let again: unknown;
  try {
    again = codec.encode(back);
  } catch {
    again = undefined;
  }
  if (again !== text) {
    throw new CodecError('lossy', 'decode(encode(value)) encodes to a different string');
  }
  return text;
}

/** The name and code of a codec's error, without its message (it may quote the value). */
function safeCause(error: unknown): Error {
  const name =
    typeof error === 'object' && error !== null && typeof (error as Error).name === 'string'
      ? (error as Error).name
      : 'Error';
  const cause = new Error('the codec threw (message withheld: it may quote the value)');
  cause.name = name.slice(0, 100);
  return cause;
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
