import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  computeRefreshDueAt,
  decideServe,
  type RefreshTiming,
  scheduleCredential,
} from '../src/refresh-policy.js';

const DEFAULT: RefreshTiming = {
  refreshAt: 0.8,
  jitter: 0.1,
  refreshFloorMs: 30_000,
  minRefreshIntervalMs: 5_000,
};
const HOUR = 3_600_000;
const T0 = 1_700_000_000_000;

const timingArb = fc
  .record({
    refreshAt: fc.double({ min: 0.01, max: 1, noNaN: true }),
    jitterShare: fc.double({ min: 0, max: 1, noNaN: true }),
    refreshFloorMs: fc.integer({ min: 0, max: 10 * HOUR }),
    minRefreshIntervalMs: fc.integer({ min: 0, max: HOUR }),
  })
  .map(({ refreshAt, jitterShare, refreshFloorMs, minRefreshIntervalMs }) => ({
    refreshAt,
    jitter: refreshAt * jitterShare,
    refreshFloorMs,
    minRefreshIntervalMs,
  }));

describe('computeRefreshDueAt', () => {
  it('puts the due point at 80% of the lifetime when the jitter sample is 0', () => {
    expect(computeRefreshDueAt(T0, T0 + HOUR, DEFAULT, 0)).toBe(T0 + 0.8 * HOUR);
  });

  it('pulls the due point earlier by at most jitter x lifetime', () => {
    expect(computeRefreshDueAt(T0, T0 + HOUR, DEFAULT, 0.999_999)).toBeCloseTo(T0 + 0.7 * HOUR, -1);
    expect(computeRefreshDueAt(T0, T0 + HOUR, DEFAULT, 0.5)).toBe(T0 + 0.75 * HOUR);
  });

  it('is never later than refreshFloorMs before expiry', () => {
    // 100 s lifetime: 80% would be 80 s, but the 30 s floor caps it at 70 s.
    expect(computeRefreshDueAt(T0, T0 + 100_000, DEFAULT, 0)).toBe(T0 + 70_000);
  });

  it('is never earlier than the issue time, even when the lifetime is shorter than the floor', () => {
    expect(computeRefreshDueAt(T0, T0 + 10_000, DEFAULT, 0)).toBe(T0);
  });

  it('never refreshes a credential without expiry', () => {
    expect(computeRefreshDueAt(T0, undefined, DEFAULT, 0.3)).toBe(Number.POSITIVE_INFINITY);
  });

  it('clamps a jitter sample outside [0, 1)', () => {
    expect(computeRefreshDueAt(T0, T0 + HOUR, DEFAULT, -5)).toBe(T0 + 0.8 * HOUR);
    expect(computeRefreshDueAt(T0, T0 + HOUR, DEFAULT, Number.NaN)).toBe(T0 + 0.8 * HOUR);
    expect(computeRefreshDueAt(T0, T0 + HOUR, DEFAULT, 7)).toBeCloseTo(T0 + 0.7 * HOUR, -1);
  });

  it('property: issuedAt <= dueAt <= max(issuedAt, expiresAt - floor), within the jitter window', () => {
    fc.assert(
      fc.property(
        timingArb,
        fc.integer({ min: 0, max: 2 ** 40 }),
        fc.integer({ min: 1, max: 48 * HOUR }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (timing, issuedAt, lifetime, sample) => {
          const expiresAt = issuedAt + lifetime;
          const due = computeRefreshDueAt(issuedAt, expiresAt, timing, sample);
          expect(due).toBeGreaterThanOrEqual(issuedAt);
          expect(due).toBeLessThanOrEqual(
            Math.max(issuedAt, expiresAt - timing.refreshFloorMs) + 1e-6,
          );
          const latest = issuedAt + lifetime * timing.refreshAt;
          const earliest = issuedAt + lifetime * (timing.refreshAt - timing.jitter);
          expect(due).toBeLessThanOrEqual(latest + 1e-6);
          const lowest = Math.max(issuedAt, Math.min(earliest, expiresAt - timing.refreshFloorMs));
          expect(due).toBeGreaterThanOrEqual(lowest - 1e-6);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('property: a fleet with distinct jitter samples spreads over the whole jitter window', () => {
    const dues = Array.from({ length: 1000 }, (_, i) =>
      computeRefreshDueAt(T0, T0 + HOUR, DEFAULT, i / 1000),
    );
    const spread = Math.max(...dues) - Math.min(...dues);
    expect(spread).toBeGreaterThan(0.099 * HOUR);
    expect(new Set(dues).size).toBe(1000);
  });
});

describe('scheduleCredential (refresh-loop guard)', () => {
  it('leaves an ordinary credential unguarded', () => {
    const s = scheduleCredential(T0, T0 + HOUR, T0 + HOUR / 2, DEFAULT, 0);
    expect(s).toEqual({
      issuedAt: T0,
      dueAt: T0 + 0.8 * HOUR,
      expiresAt: T0 + HOUR,
      guarded: false,
    });
  });

  it('delays a credential that is due at once by minRefreshIntervalMs', () => {
    const s = scheduleCredential(T0, T0 + 10_000, undefined, DEFAULT, 0);
    expect(s.guarded).toBe(true);
    expect(s.dueAt).toBe(T0 + 5_000);
  });

  it('delays a credential whose expiry did not advance by minRefreshIntervalMs', () => {
    // The issuer handed back the same token (same expiry) although it was due.
    const timing = { ...DEFAULT, minRefreshIntervalMs: 600_000 };
    const issuedAt = T0 + 0.9 * HOUR;
    const s = scheduleCredential(issuedAt, T0 + HOUR, T0 + HOUR, timing, 0);
    expect(s.guarded).toBe(true);
    expect(s.dueAt).toBe(issuedAt + 600_000);
    const unguarded = scheduleCredential(issuedAt, T0 + HOUR, T0 + HOUR - 1, timing, 0);
    expect(unguarded.guarded).toBe(false);
  });

  it('never guards a credential without expiry', () => {
    const s = scheduleCredential(T0, undefined, undefined, DEFAULT, 0);
    expect(s).toEqual({
      issuedAt: T0,
      dueAt: Number.POSITIVE_INFINITY,
      expiresAt: Number.POSITIVE_INFINITY,
      guarded: false,
    });
  });
});

describe('decideServe', () => {
  const schedule = { issuedAt: T0, dueAt: T0 + 800, expiresAt: T0 + 1000 };

  it('is missing when nothing is cached', () => {
    expect(decideServe(undefined, T0)).toBe('missing');
  });

  it('is fresh before the due point, due from it, expired from expiry on', () => {
    expect(decideServe(schedule, T0)).toBe('fresh');
    expect(decideServe(schedule, T0 + 799)).toBe('fresh');
    expect(decideServe(schedule, T0 + 800)).toBe('due');
    expect(decideServe(schedule, T0 + 999)).toBe('due');
    expect(decideServe(schedule, T0 + 1000)).toBe('expired');
  });

  it('treats a clock that stepped back before the issue time as due', () => {
    expect(decideServe(schedule, T0 - 3_600_000)).toBe('due');
  });

  it('property: the decision is monotonic in time from the issue time on', () => {
    const rank = { fresh: 0, due: 1, expired: 2, missing: 3 } as const;
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2000 }), fc.integer({ min: 0, max: 2000 }), (a, b) => {
        const [x, y] = a <= b ? [a, b] : [b, a];
        expect(rank[decideServe(schedule, T0 + x)]).toBeLessThanOrEqual(
          rank[decideServe(schedule, T0 + y)],
        );
      }),
    );
  });
});
