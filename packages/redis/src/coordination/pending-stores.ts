/**
 * Credentials minted while the store was away (or whose store failed): kept per credential
 * and offered to the store with a compare-and-set once it is reachable, so the fleet can adopt
 * them instead of minting again.
 */

import type { Credential } from '@sluice/core';
import { storeNowAtLeast } from './clock.js';
import type { Codec } from './codec.js';
import type { CredentialState } from './credential-state.js';
import type { Call, FleetShared } from './fleet-shared.js';
import { sealRecord } from './sealing.js';

const noop = (): void => {};

/** Remembers a credential that is not in the store yet, to offer it once it is reachable. */
export function keepPending<T>(
  shared: FleetShared,
  call: Call<T>,
  state: CredentialState,
  minted: Credential<T>,
  mintedAt: number,
): void {
  state.pending = {
    value: minted.value,
    expiresAt: minted.expiresAt ?? Number.POSITIVE_INFINITY,
    mintedAt,
    codec: call.codec as Codec<unknown>,
    remember: (id) => shared.remember(state, minted.value, id),
  };
}

/**
 * Offers every credential minted during a fallback to the store (compare-and-set), so the
 * fleet can adopt it. A credential that cannot be stored yet stays pending until the next
 * reconnect or recovery; an expired one is dropped.
 */
export function flushPending(shared: FleetShared): void {
  if (shared.closed || shared.store.connection() !== 'up') return;
  if (shared.lastPin === undefined) {
    // Conversions to the store's clock need one reading of it first.
    const sentAt = performance.now();
    shared.guard
      .run('time', () => shared.store.time())
      .then((now) => {
        shared.pin(now, sentAt);
        flushPending(shared);
      }, noop);
    return;
  }
  for (const [ref, state] of shared.states.pending()) {
    const pending = state.pending;
    const pin = shared.lastPin;
    const localNow = shared.localNow();
    if (pending === undefined || state.flushing || localNow === undefined) continue;
    if (pending.expiresAt <= localNow) {
      state.pending = undefined;
      continue;
    }
    state.flushing = true;
    void (async () => {
      const storeNow = storeNowAtLeast(pin, performance.now());
      const record = await sealRecord(
        shared,
        ref,
        state,
        pending.codec,
        pending.value,
        pending.expiresAt,
        pending.mintedAt,
        localNow,
        storeNow,
      );
      if (record === undefined) {
        if (state.pending === pending) state.pending = undefined;
        return;
      }
      if (shared.closed) return;
      const sentAt = performance.now();
      const answer = await shared.guard.run('store', () =>
        shared.store.store(ref, { token: '', record, replaceable: [] }),
      );
      shared.pin(answer.now, sentAt);
      if (state.pending === pending) state.pending = undefined;
      if (answer.outcome === 'stored') pending.remember(record.id);
    })()
      .catch(noop)
      .finally(() => {
        state.flushing = false;
      });
  }
}
