import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { clampSample, pollDelayMs } from '../../src/coordination/backoff.js';

describe('the follower poll schedule', () => {
  it('doubles from initialDelayMs to the cap, each wait within +/-20 % and never past what is left', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 200 }),
        fc.integer({ min: 1, max: 10_000 }),
        fc.integer({ min: 0, max: 100_000 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.integer({ min: 0, max: 1_000_000 }),
        (attempt, initial, extra, sample, left) => {
          const max = initial + extra;
          const base = Math.min(max, initial * 2 ** Math.min(attempt, 52));
          const delay = pollDelayMs(attempt, initial, max, sample, left);
          expect(delay).toBeLessThanOrEqual(left);
          if (delay < left) {
            expect(delay).toBeGreaterThanOrEqual(Math.floor(base * 0.8));
            expect(delay).toBeLessThanOrEqual(Math.ceil(base * 1.2));
          }
        },
      ),
    );
    expect([0, 1, 2, 3, 4].map((n) => pollDelayMs(n, 100, 400, 0.5, 10_000))).toEqual([
      100, 200, 400, 400, 400,
    ]);
  });

  it('a sample that is not a number in [0, 1) is clamped, never NaN', () => {
    expect(clampSample(Number.NaN)).toBe(0.5);
    expect(clampSample(-3)).toBe(0);
    expect(clampSample(7)).toBeLessThan(1);
    expect(pollDelayMs(0, 100, 100, Number.NaN, 1_000)).toBe(100);
  });
});
