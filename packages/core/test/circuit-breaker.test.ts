import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  admitMint,
  type BreakerConfig,
  type BreakerState,
  breakerRetryAfterMs,
  CLOSED_BREAKER,
  DEFAULT_MAX_RETRY_AFTER_MS,
  recordFailure,
  recordSuccess,
} from '../src/circuit-breaker.js';

const CONFIG: BreakerConfig = { failureThreshold: 5, cooldownMs: 60_000 };
const T0 = 1_700_000_000_000;

function failTimes(n: number, now = T0, state: BreakerState = CLOSED_BREAKER): BreakerState {
  let s = state;
  for (let i = 0; i < n; i++) s = recordFailure(s, now, CONFIG);
  return s;
}

describe('circuit breaker', () => {
  it('stays closed and admits below the failure threshold', () => {
    const s = failTimes(4);
    expect(s).toMatchObject({ state: 'closed', failures: 4 });
    expect(admitMint(s, T0, CONFIG).admitted).toBe(true);
  });

  it('opens at the failure threshold and refuses with the remaining cooldown', () => {
    const s = failTimes(5);
    expect(s).toEqual({ state: 'open', failures: 5, openedAt: T0 });
    const admission = admitMint(s, T0 + 10_000, CONFIG);
    expect(admission).toEqual({ admitted: false, next: s, retryAfterMs: 50_000 });
  });

  it('admits exactly one half-open probe once the cooldown has elapsed', () => {
    const s = failTimes(5);
    const admission = admitMint(s, T0 + 60_000, CONFIG);
    expect(admission.admitted).toBe(true);
    expect(admission.next.state).toBe('half-open');
  });

  it('closes and forgets failures when the probe succeeds', () => {
    const probe = admitMint(failTimes(5), T0 + 60_000, CONFIG).next;
    expect(recordSuccess(probe)).toEqual(CLOSED_BREAKER);
  });

  it('re-opens for a fresh cooldown when the probe fails', () => {
    const probe = admitMint(failTimes(5), T0 + 60_000, CONFIG).next;
    const reopened = recordFailure(probe, T0 + 61_000, CONFIG);
    expect(reopened).toMatchObject({ state: 'open', openedAt: T0 + 61_000 });
    expect(breakerRetryAfterMs(reopened, T0 + 61_000, CONFIG)).toBe(60_000);
  });

  it('a success in between resets the consecutive count', () => {
    const s = failTimes(3, T0, recordSuccess(failTimes(4)));
    expect(s).toMatchObject({ state: 'closed', failures: 3 });
  });

  it('never keeps the breaker open longer than cooldownMs when the wall clock steps back', () => {
    const s = failTimes(5);
    expect(breakerRetryAfterMs(s, T0 - 3_600_000, CONFIG)).toBe(60_000);
  });

  it('restarts the cooldown from the new reading when the clock steps back, bounding the total wait', () => {
    // Opened at T0; 10 s later the clock steps back 30 s (reads T0 - 20 s).
    const stepped = admitMint(failTimes(5), T0 - 20_000, CONFIG);
    expect(stepped).toMatchObject({ admitted: false, retryAfterMs: 60_000 });
    expect(stepped.next.openedAt).toBe(T0 - 20_000);
    // One cooldown after the step the probe is admitted: 70 s of real time in all, not 90 s.
    expect(admitMint(stepped.next, T0 + 40_000, CONFIG).admitted).toBe(true);
  });

  it('property: only legal transitions happen, and retryAfterMs stays within [0, cooldownMs]', () => {
    const legal = new Set([
      'closed>closed',
      'closed>open',
      'open>open',
      'open>half-open',
      'half-open>closed',
      'half-open>open',
      'open>closed',
      'half-open>half-open',
    ]);
    const step = fc.oneof(
      fc.record({
        kind: fc.constant('admit' as const),
        dt: fc.integer({ min: -100_000, max: 100_000 }),
      }),
      fc.record({ kind: fc.constant('fail' as const), dt: fc.integer({ min: 0, max: 100_000 }) }),
      fc.record({
        kind: fc.constant('succeed' as const),
        dt: fc.integer({ min: 0, max: 100_000 }),
      }),
    );
    fc.assert(
      fc.property(fc.array(step, { maxLength: 60 }), (steps) => {
        let s: BreakerState = CLOSED_BREAKER;
        let now = T0;
        for (const { kind, dt } of steps) {
          now += dt;
          const before = s.state;
          if (kind === 'admit') {
            const a = admitMint(s, now, CONFIG);
            if (!a.admitted) {
              expect(a.retryAfterMs).toBeGreaterThan(0);
              expect(a.retryAfterMs).toBeLessThanOrEqual(CONFIG.cooldownMs);
            }
            s = a.next;
          } else if (kind === 'fail') {
            s = recordFailure(s, now, CONFIG);
          } else {
            s = recordSuccess(s);
          }
          expect(legal.has(`${before}>${s.state}`)).toBe(true);
          const retry = breakerRetryAfterMs(s, now, CONFIG);
          expect(retry).toBeGreaterThanOrEqual(0);
          expect(retry).toBeLessThanOrEqual(CONFIG.cooldownMs);
          if (s.state === 'closed') expect(s.failures).toBeLessThan(CONFIG.failureThreshold);
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe("circuit breaker: retry hints (the issuer's Retry-After)", () => {
  const HINTED: BreakerConfig = { ...CONFIG, maxRetryAfterMs: 300_000 };

  it('a hinted failure opens the breaker at once, below the threshold, for the hint', () => {
    const s = recordFailure(CLOSED_BREAKER, T0, HINTED, 120_000);
    expect(s).toEqual({ state: 'open', failures: 1, openedAt: T0, openForMs: 120_000 });
    expect(admitMint(s, T0 + 119_999, HINTED)).toMatchObject({ admitted: false, retryAfterMs: 1 });
    expect(admitMint(s, T0 + 120_000, HINTED)).toMatchObject({
      admitted: true,
      next: { state: 'half-open' },
    });
  });

  it('caps the hint at maxRetryAfterMs, 300000 ms by default', () => {
    expect(DEFAULT_MAX_RETRY_AFTER_MS).toBe(300_000);
    const tenHours = 36_000_000;
    for (const config of [CONFIG, HINTED]) {
      const s = recordFailure(CLOSED_BREAKER, T0, config, tenHours);
      expect(breakerRetryAfterMs(s, T0, config)).toBe(300_000);
    }
    const small = { ...CONFIG, maxRetryAfterMs: 5_000 };
    expect(breakerRetryAfterMs(recordFailure(CLOSED_BREAKER, T0, small, 120_000), T0, small)).toBe(
      5_000,
    );
  });

  it('maxRetryAfterMs: 0 ignores retry hints', () => {
    const off = { ...CONFIG, maxRetryAfterMs: 0 };
    expect(recordFailure(CLOSED_BREAKER, T0, off, 120_000)).toEqual({
      state: 'closed',
      failures: 1,
      openedAt: 0,
    });
  });

  it.each([
    ['0', 0],
    ['negative', -5_000],
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
    ['-Infinity', Number.NEGATIVE_INFINITY],
    ['a string', '120000' as unknown as number],
    ['absent', undefined],
  ])('a hint that is %s is no hint', (_, hint) => {
    expect(recordFailure(CLOSED_BREAKER, T0, HINTED, hint)).toEqual({
      state: 'closed',
      failures: 1,
      openedAt: 0,
    });
  });

  it("never shortens the breaker's own opening: at the threshold, the longer of the hint and cooldownMs", () => {
    const short = recordFailure(failTimes(4), T0, HINTED, 1_000);
    expect(breakerRetryAfterMs(short, T0, HINTED)).toBe(60_000);
    const long = recordFailure(failTimes(4), T0, HINTED, 90_000);
    expect(breakerRetryAfterMs(long, T0, HINTED)).toBe(90_000);
    // A failed probe with a hint: the longer of the two as well.
    const probe = admitMint(failTimes(5), T0 + 60_000, HINTED).next;
    const reopened = recordFailure(probe, T0 + 61_000, HINTED, 200_000);
    expect(breakerRetryAfterMs(reopened, T0 + 61_000, HINTED)).toBe(200_000);
  });

  it('a later failure never shortens an opening already running longer', () => {
    const hinted = recordFailure(CLOSED_BREAKER, T0, HINTED, 240_000);
    // Another key of a shared breaker fails 10 s later with no hint: still open until T0 + 240 s.
    const later = recordFailure(hinted, T0 + 10_000, HINTED);
    expect(breakerRetryAfterMs(later, T0 + 10_000, HINTED)).toBe(230_000);
    expect(later.failures).toBe(2);
  });

  it('with cooldownMs 0, a clock step back admits instead of refusing with retryAfterMs 0', () => {
    const zero = { ...CONFIG, failureThreshold: 1, cooldownMs: 0 };
    const s = recordFailure(CLOSED_BREAKER, T0, zero);
    expect(admitMint(s, T0 - 1, zero)).toMatchObject({ admitted: true });
  });

  it('restarts a hinted window from the new reading when the clock steps back', () => {
    const s = recordFailure(CLOSED_BREAKER, T0, HINTED, 120_000);
    const stepped = admitMint(s, T0 - 20_000, HINTED);
    expect(stepped).toMatchObject({ admitted: false, retryAfterMs: 120_000 });
    expect(breakerRetryAfterMs(stepped.next, T0 - 3_600_000, HINTED)).toBe(120_000);
  });

  const stepArb = fc.oneof(
    fc.record({
      kind: fc.constant('admit' as const),
      dt: fc.integer({ min: -100_000, max: 100_000 }),
    }),
    fc.record({ kind: fc.constant('fail' as const), dt: fc.integer({ min: 0, max: 100_000 }) }),
    fc.record({
      kind: fc.constant('fail-hinted' as const),
      dt: fc.integer({ min: 0, max: 100_000 }),
      hint: fc.oneof(
        fc.integer({ min: 1, max: 10_000_000 }),
        fc.double({ min: -1e6, max: 1e9 }),
        fc.constantFrom(0, -1, Number.NaN, Number.POSITIVE_INFINITY),
      ),
    }),
    fc.record({ kind: fc.constant('succeed' as const), dt: fc.integer({ min: 0, max: 100_000 }) }),
  );
  const configArb: fc.Arbitrary<BreakerConfig> = fc.record(
    {
      failureThreshold: fc.integer({ min: 1, max: 6 }),
      cooldownMs: fc.integer({ min: 0, max: 120_000 }),
      maxRetryAfterMs: fc.integer({ min: 0, max: 600_000 }),
    },
    { requiredKeys: ['failureThreshold', 'cooldownMs'] },
  );

  it('property: with hints, only legal transitions happen, retryAfterMs stays within [0, max(cooldownMs, maxRetryAfterMs)], and a valid hint refuses every mint until it has passed', () => {
    const legal = new Set([
      'closed>closed',
      'closed>open',
      'open>open',
      'open>half-open',
      'half-open>closed',
      'half-open>open',
      'open>closed',
      'half-open>half-open',
    ]);
    fc.assert(
      fc.property(configArb, fc.array(stepArb, { maxLength: 60 }), (config, steps) => {
        const cap = config.maxRetryAfterMs ?? DEFAULT_MAX_RETRY_AFTER_MS;
        const bound = Math.max(config.cooldownMs, cap);
        let s: BreakerState = CLOSED_BREAKER;
        let now = T0;
        for (const step of steps) {
          now += step.dt;
          const before = s;
          if (step.kind === 'admit') {
            const a = admitMint(s, now, config);
            if (!a.admitted) {
              expect(a.retryAfterMs).toBeGreaterThan(0);
              expect(a.retryAfterMs).toBeLessThanOrEqual(bound);
            }
            s = a.next;
          } else if (step.kind === 'fail') {
            s = recordFailure(s, now, config);
          } else if (step.kind === 'succeed') {
            s = recordSuccess(s);
          } else {
            s = recordFailure(s, now, config, step.hint);
            const valid = Number.isFinite(step.hint) && step.hint > 0 && cap > 0;
            if (valid) {
              // The issuer's word holds: no mint until min(hint, cap) has passed.
              const waitMs = Math.min(step.hint, cap);
              expect(s.state).toBe('open');
              expect(breakerRetryAfterMs(s, now, config)).toBeGreaterThanOrEqual(waitMs);
              expect(admitMint(s, now + waitMs - 1e-3, config).admitted).toBe(false);
            }
          }
          expect(legal.has(`${before.state}>${s.state}`)).toBe(true);
          const retry = breakerRetryAfterMs(s, now, config);
          expect(retry).toBeGreaterThanOrEqual(0);
          expect(retry).toBeLessThanOrEqual(bound);
          if (s.state === 'closed') expect(s.failures).toBeLessThan(config.failureThreshold);
        }
      }),
      { numRuns: 1000 },
    );
  });
});
