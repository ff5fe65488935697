import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  admitMint,
  type BreakerConfig,
  type BreakerState,
  breakerRetryAfterMs,
  CLOSED_BREAKER,
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
