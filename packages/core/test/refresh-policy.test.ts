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

describe("computeRefreshDueAt with refreshAfter (the credential's own due point)", () => {
  const DAY = 24 * HOUR;

  it('replaces the refreshAt fraction: a 24 h credential with refreshAfter at 12 h is due at 12 h, not 19.2 h', () => {
    expect(computeRefreshDueAt(T0, T0 + DAY, DEFAULT, 0, T0 + 12 * HOUR)).toBe(T0 + 12 * HOUR);
    expect(computeRefreshDueAt(T0, T0 + DAY, DEFAULT, 0)).toBe(T0 + 0.8 * DAY);
  });

  it('jitter only delays it, by at most jitter x (refreshAfter - issuedAt)', () => {
    expect(computeRefreshDueAt(T0, T0 + DAY, DEFAULT, 0.5, T0 + 12 * HOUR)).toBe(
      T0 + 12 * HOUR + 0.05 * 12 * HOUR,
    );
    expect(computeRefreshDueAt(T0, T0 + DAY, DEFAULT, 0.999_999, T0 + 12 * HOUR)).toBeCloseTo(
      T0 + 13.2 * HOUR,
      -1,
    );
  });

  it('is never later than the floor before expiry', () => {
    // refreshAfter 10 s before expiry, jitter or not: the 30 s floor wins.
    expect(computeRefreshDueAt(T0, T0 + HOUR, DEFAULT, 0, T0 + HOUR - 10_000)).toBe(
      T0 + HOUR - 30_000,
    );
    // 5 min before a 1 h expiry with the largest jitter sample: 55 min + 5.5 min, floored.
    expect(computeRefreshDueAt(T0, T0 + HOUR, DEFAULT, 0.999, T0 + 55 * 60_000)).toBe(
      T0 + HOUR - 30_000,
    );
  });

  it('a refreshAfter at or before issuedAt is due at once, with no jitter', () => {
    expect(computeRefreshDueAt(T0, T0 + HOUR, DEFAULT, 0.9, T0 - HOUR)).toBe(T0);
    expect(computeRefreshDueAt(T0, T0 + HOUR, DEFAULT, 0.9, T0)).toBe(T0);
  });

  it('a refreshAfter after expiresAt is clamped to expiresAt, so the floor decides', () => {
    expect(computeRefreshDueAt(T0, T0 + HOUR, DEFAULT, 0.9, T0 + 5 * HOUR)).toBe(
      T0 + HOUR - 30_000,
    );
  });

  it('makes a credential without expiry due at refreshAfter', () => {
    expect(computeRefreshDueAt(T0, undefined, DEFAULT, 0, T0 + HOUR)).toBe(T0 + HOUR);
    expect(computeRefreshDueAt(T0, Number.POSITIVE_INFINITY, DEFAULT, 0.5, T0 + HOUR)).toBe(
      T0 + HOUR + 0.05 * HOUR,
    );
  });

  it('ignores a refreshAfter that is not a finite number (minted credentials are checked first)', () => {
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
      expect(computeRefreshDueAt(T0, T0 + HOUR, DEFAULT, 0, bad)).toBe(T0 + 0.8 * HOUR);
    }
    const notANumber = '1700000000000' as unknown as number;
    expect(computeRefreshDueAt(T0, T0 + HOUR, DEFAULT, 0, notANumber)).toBe(T0 + 0.8 * HOUR);
  });

  /** Every class of refreshAfter relative to the credential's life. */
  const refreshAfterArb = (issuedAt: number, expiresAt: number) =>
    fc.oneof(
      fc.constant(undefined),
      fc.integer({ min: issuedAt - 10 * HOUR, max: issuedAt }), // in the past
      fc.integer({ min: issuedAt, max: expiresAt }), // within the life
      fc.integer({ min: expiresAt, max: expiresAt + 10 * HOUR }), // after expiry
      fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY),
    );

  it('property: issuedAt <= dueAt <= max(issuedAt, expiresAt - floor), within the delay window of refreshAfter', () => {
    const caseArb = fc
      .record({
        timing: timingArb,
        issuedAt: fc.integer({ min: 0, max: 2 ** 40 }),
        lifetime: fc.integer({ min: 1, max: 48 * HOUR }),
        sample: fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
      })
      .chain((c) =>
        refreshAfterArb(c.issuedAt, c.issuedAt + c.lifetime).map((refreshAfter) => ({
          ...c,
          refreshAfter,
        })),
      );
    fc.assert(
      fc.property(caseArb, ({ timing, issuedAt, lifetime, sample, refreshAfter }) => {
        const expiresAt = issuedAt + lifetime;
        const due = computeRefreshDueAt(issuedAt, expiresAt, timing, sample, refreshAfter);
        const ceiling = Math.max(issuedAt, expiresAt - timing.refreshFloorMs);
        expect(due).toBeGreaterThanOrEqual(issuedAt);
        expect(due).toBeLessThanOrEqual(ceiling + 1e-6);
        if (refreshAfter === undefined || !Number.isFinite(refreshAfter)) {
          // Ignored: the fraction decides, as without it.
          expect(due).toBe(computeRefreshDueAt(issuedAt, expiresAt, timing, sample));
          return;
        }
        const target = Math.min(Math.max(refreshAfter, issuedAt), expiresAt);
        const latest = target + timing.jitter * (target - issuedAt);
        // Never before refreshAfter (unless the floor comes first), never past the window.
        expect(due).toBeGreaterThanOrEqual(Math.min(target, ceiling) - 1e-6);
        expect(due).toBeLessThanOrEqual(latest + 1e-6);
        // It replaces the fraction: refreshAt plays no part.
        const other = { ...timing, refreshAt: 1 };
        expect(computeRefreshDueAt(issuedAt, expiresAt, other, sample, refreshAfter)).toBe(due);
      }),
      { numRuns: 1000 },
    );
  });

  it('property: a larger jitter sample never brings a refreshAfter due point earlier', () => {
    fc.assert(
      fc.property(
        timingArb,
        fc.integer({ min: 1, max: 48 * HOUR }),
        fc.integer({ min: -10 * HOUR, max: 60 * HOUR }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (timing, lifetime, offset, a, b) => {
          const [lo, hi] = a <= b ? [a, b] : [b, a];
          const due = (s: number) => computeRefreshDueAt(T0, T0 + lifetime, timing, s, T0 + offset);
          expect(due(lo)).toBeLessThanOrEqual(due(hi));
        },
      ),
      { numRuns: 500 },
    );
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
      kept: false,
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

  it('kept-credential rule: a mint that hands back the credential it replaces is next tried at the floor before expiry, never at a fraction of what remains', () => {
    // At 48 min the source handed back the same 1 h credential (a metadata server does until
    // about 5 min before expiry). 80 % of the 12 min left would be 57.6 min; the rule says 59.5.
    const now = T0 + 48 * 60_000;
    const s = scheduleCredential(now, T0 + HOUR, T0 + HOUR, DEFAULT, 0.7);
    expect(s).toMatchObject({ dueAt: T0 + HOUR - 30_000, kept: true, guarded: true });
    // Whatever the jitter sample: the floor is not spread.
    expect(scheduleCredential(now, T0 + HOUR, T0 + HOUR, DEFAULT, 0).dueAt).toBe(s.dueAt);
    // A credential that expires earlier than the one it replaces is kept as well.
    expect(scheduleCredential(now, T0 + HOUR - 1, T0 + HOUR, DEFAULT, 0).kept).toBe(true);
    // One that extends the expiry is a new credential: the policy decides.
    const extended = scheduleCredential(now, T0 + HOUR + 1, T0 + HOUR, DEFAULT, 0);
    expect(extended.kept).toBe(false);
    expect(extended.dueAt).toBeCloseTo(now + 0.8 * (12 * 60_000 + 1), 0);
  });

  it('kept-credential rule: a refreshAfter still ahead is the source saying when it rotates, and is honoured', () => {
    const now = T0 + 48 * 60_000;
    const rotates = T0 + 55 * 60_000;
    const s = scheduleCredential(now, T0 + HOUR, T0 + HOUR, DEFAULT, 0, rotates);
    expect(s).toMatchObject({ dueAt: rotates, kept: true });
    // A refreshAfter already passed says nothing new: the floor.
    const passed = scheduleCredential(now, T0 + HOUR, T0 + HOUR, DEFAULT, 0, T0 + 40 * 60_000);
    expect(passed.dueAt).toBe(T0 + HOUR - 30_000);
  });

  it('kept-credential rule: inside the floor window the refresh-loop guard still spaces attempts', () => {
    const now = T0 + HOUR - 20_000;
    const s = scheduleCredential(now, T0 + HOUR, T0 + HOUR, DEFAULT, 0);
    expect(s).toMatchObject({ dueAt: now + 5_000, kept: true, guarded: true });
  });

  it('a refreshAfter in the past is due at once, so the refresh-loop guard applies', () => {
    const s = scheduleCredential(T0, T0 + HOUR, undefined, DEFAULT, 0, T0 - 1);
    expect(s).toMatchObject({ dueAt: T0 + 5_000, guarded: true, kept: false });
  });

  it('property: the next attempt after a kept credential is never before the floor (or the guard), whatever the jitter', () => {
    fc.assert(
      fc.property(
        timingArb,
        fc.integer({ min: 1, max: 48 * HOUR }),
        fc.integer({ min: 0, max: 48 * HOUR }),
        fc.integer({ min: 0, max: HOUR }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (timing, lifetime, elapsed, shorter, sample) => {
          const expiresAt = T0 + lifetime;
          const now = Math.min(T0 + elapsed, expiresAt - 1);
          const s = scheduleCredential(now, expiresAt - shorter, expiresAt, timing, sample);
          expect(s.kept).toBe(true);
          const floorAt = expiresAt - shorter - timing.refreshFloorMs;
          expect(s.dueAt).toBe(Math.max(floorAt, now, now + timing.minRefreshIntervalMs));
        },
      ),
      { numRuns: 500 },
    );
  });

  it('never guards a credential without expiry', () => {
    const s = scheduleCredential(T0, undefined, undefined, DEFAULT, 0);
    expect(s).toEqual({
      issuedAt: T0,
      dueAt: Number.POSITIVE_INFINITY,
      expiresAt: Number.POSITIVE_INFINITY,
      guarded: false,
      kept: false,
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
