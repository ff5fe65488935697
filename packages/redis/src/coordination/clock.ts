/**
 * Converting between the store's clock and an instance's own, as pure functions. Every store
 * answer carries the store's `now`; an instance pins it to its own monotonic clock at the
 * moment the answer arrives and translates expiry times through that pin, so two instances
 * whose wall clocks disagree by minutes still agree on how long a credential has left.
 */

/** A store reading pinned to the instance's clocks at the moment it arrived. */
export interface ClockPin {
  /** The store's clock in the answer (epoch ms). */
  readonly storeNow: number;
  /** A monotonic reading (`performance.now()`) taken when the answer arrived. */
  readonly monotonicAt: number;
}

/** The store's clock now, estimated from `pin` and a monotonic reading taken now. */
export function storeNowFrom(pin: ClockPin, monotonicNow: number): number {
  return pin.storeNow + Math.max(0, monotonicNow - pin.monotonicAt);
}

/**
 * A store-clock time on the instance's clock: `localNow` plus what is left until `storeTime`.
 * `Infinity` stays `Infinity`.
 */
export function storeToLocal(storeTime: number, storeNow: number, localNow: number): number {
  if (storeTime === Number.POSITIVE_INFINITY) return storeTime;
  return localNow + (storeTime - storeNow);
}

/** An instance-clock time on the store's clock. `Infinity` stays `Infinity`. */
export function localToStore(localTime: number, localNow: number, storeNow: number): number {
  if (localTime === Number.POSITIVE_INFINITY) return localTime;
  return storeNow + (localTime - localNow);
}

/**
 * The fleet's due point of a credential minted at `mintedAt` (store clock) that expires at
 * `expiresAt` (store clock): `mintedAt + lifetime * refreshAt`. Never later than `expiresAt`;
 * `Infinity` for a credential that never expires.
 */
export function fleetDueAt(mintedAt: number, expiresAt: number, refreshAt: number): number {
  if (expiresAt === Number.POSITIVE_INFINITY) return expiresAt;
  const lifetime = Math.max(0, expiresAt - mintedAt);
  return Math.min(expiresAt, Math.round(mintedAt + lifetime * refreshAt));
}
