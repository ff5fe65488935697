import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  fleetDueAt,
  localToStore,
  storeNowAtLeast,
  storeNowAtMost,
  storeToLocal,
} from '../../src/coordination/clock.js';

const epoch = fc.integer({ min: 1_600_000_000_000, max: 2_000_000_000_000 });

describe('clock conversions', () => {
  it('store -> local -> store is the identity, and Infinity stays Infinity', () => {
    fc.assert(
      fc.property(epoch, epoch, epoch, (time, storeNow, localNow) => {
        const local = storeToLocal(time, storeNow, localNow);
        expect(localToStore(local, localNow, storeNow)).toBe(time);
      }),
    );
    expect(storeToLocal(Number.POSITIVE_INFINITY, 1, 2)).toBe(Number.POSITIVE_INFINITY);
    expect(localToStore(Number.POSITIVE_INFINITY, 1, 2)).toBe(Number.POSITIVE_INFINITY);
  });

  it('whenever the store really read its clock inside the round trip, an adopted expiry lands early on the local clock, never late', () => {
    fc.assert(
      fc.property(
        epoch,
        fc.integer({ min: 0, max: 5_000 }), // when, in the round trip, the store read its clock
        fc.integer({ min: 0, max: 5_000 }), // the rest of the round trip
        fc.integer({ min: 0, max: 60_000 }), // how long after the answer the conversion runs
        fc.integer({ min: -3_600_000, max: 3_600_000 }), // local clock skew
        fc.integer({ min: 1, max: 3_600_000 }), // remaining lifetime at the store's reading
        (storeRead, before, after, later, skew, remaining) => {
          const sentAt = 1_000;
          const receivedAt = sentAt + before + after;
          const pin = { storeNow: storeRead, sentAt, receivedAt };
          const monotonicNow = receivedAt + later;
          const trueStoreNow = storeRead + (monotonicNow - (sentAt + before));
          const localNow = trueStoreNow + skew;
          const expiresAt = storeRead + remaining;
          const local = storeToLocal(expiresAt, storeNowAtMost(pin, monotonicNow), localNow);
          const trueLocal = expiresAt + skew;
          expect(local).toBeLessThanOrEqual(trueLocal);
          expect(trueLocal - local).toBeLessThanOrEqual(before + after);
        },
      ),
    );
  });

  it('an expiry written to the store lands early on the store clock, never late', () => {
    fc.assert(
      fc.property(
        epoch,
        fc.integer({ min: 0, max: 5_000 }),
        fc.integer({ min: 0, max: 5_000 }),
        fc.integer({ min: 0, max: 60_000 }),
        fc.integer({ min: 1, max: 3_600_000 }),
        (storeRead, before, after, later, remaining) => {
          const pin = { storeNow: storeRead, sentAt: 0, receivedAt: before + after };
          const monotonicNow = before + after + later;
          const trueStoreNow = storeRead + (monotonicNow - before);
          const localNow = 42; // any clock: only differences matter
          const written = localToStore(
            localNow + remaining,
            localNow,
            storeNowAtLeast(pin, monotonicNow),
          );
          expect(written).toBeLessThanOrEqual(trueStoreNow + remaining);
        },
      ),
    );
  });

  it('the fleet due point is mintedAt + lifetime x refreshAt, never past expiry, Infinity for no expiry', () => {
    expect(fleetDueAt(1_000, 11_000, 0.8)).toBe(9_000);
    expect(fleetDueAt(1_000, 11_000, 1)).toBe(11_000);
    expect(fleetDueAt(1_000, 500, 0.8)).toBe(500);
    expect(fleetDueAt(1_000, Number.POSITIVE_INFINITY, 0.8)).toBe(Number.POSITIVE_INFINITY);
  });
});
