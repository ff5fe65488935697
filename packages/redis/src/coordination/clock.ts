/**
 * Converting between the store's clock and an instance's own, as pure functions. Every store
 * answer carries the store's `now`; an instance pins it to its own monotonic clock and
 * translates expiry times through that pin, so two instances whose wall clocks disagree by
 * minutes still agree on how long a credential has left (to within one round trip, always
 * rounded towards an earlier expiry).
 */

/**
 * A store reading pinned to the instance's monotonic clock. The store read its clock somewhere
 * between the request leaving (`sentAt`) and the answer arriving (`receivedAt`), so the store's
 * clock now lies between two bounds, and each conversion takes the bound that errs on the safe
 * side: an expiry read from the store is never placed later on the instance's clock than it
 * is, and an expiry written to the store is never placed later on the store's clock.
 */
export interface ClockPin {
  /** The store's clock in the answer (epoch ms). */
  readonly storeNow: number;
  /** `performance.now()` when the request was sent. */
  readonly sentAt: number;
  /** `performance.now()` when the answer arrived. */
  readonly receivedAt: number;
}

/** The latest the store's clock can read now (for expiries read from the store). */
export function storeNowAtMost(pin: ClockPin, monotonicNow: number): number {
  return pin.storeNow + Math.max(0, monotonicNow - pin.sentAt);
}

/** The earliest the store's clock can read now (for expiries written to the store). */
export function storeNowAtLeast(pin: ClockPin, monotonicNow: number): number {
  return pin.storeNow + Math.max(0, monotonicNow - pin.receivedAt);
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
 * `expiresAt` (store clock): the issuer's own due point when the mint gave one
 * (`issuerDueAt`, the credential's `refreshAfter`), else `mintedAt + lifetime * refreshAt`.
 * Never earlier than `mintedAt`, never later than `expiresAt`; `Infinity` for a credential
 * that never expires and names no due point.
 */
export function fleetDueAt(
  mintedAt: number,
  expiresAt: number,
  refreshAt: number,
  issuerDueAt?: number,
): number {
  if (issuerDueAt !== undefined && Number.isFinite(issuerDueAt)) {
    return Math.round(Math.min(expiresAt, Math.max(mintedAt, issuerDueAt)));
  }
  if (expiresAt === Number.POSITIVE_INFINITY) return expiresAt;
  const lifetime = Math.max(0, expiresAt - mintedAt);
  return Math.min(expiresAt, Math.round(mintedAt + lifetime * refreshAt));
}

/**
 * A stored due point on the instance's clock, rounded LATE (the opposite of an expiry): a
 * replica never falls due before the store agrees the credential is due, so it never asks
 * for a refresh the store would answer with the same credential. `undefined` when the due
 * point is not finite.
 */
export function dueToLocal(
  dueAt: number,
  pin: ClockPin,
  monotonicNow: number,
  localNow: number,
): number | undefined {
  if (!Number.isFinite(dueAt)) return undefined;
  return Math.ceil(storeToLocal(dueAt, storeNowAtLeast(pin, monotonicNow), localNow));
}
