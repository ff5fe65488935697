import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createRefreshingProvider } from '../../src/index.js';
import {
  COARSE_MARGIN_MS,
  createCoarseClock,
  MAX_REUSES,
} from '../../src/internal/coarse-clock.js';

/** A host whose wall clock, nativeness and event-loop turns the test drives. */
function host() {
  const state = {
    now: 1_700_000_000_000,
    native: true,
    reads: 0,
    pending: [] as Array<() => void>,
  };
  const clock = createCoarseClock({
    now: () => {
      state.reads++;
      return state.now;
    },
    native: () => state.native,
    onTurn: (drop) => state.pending.push(drop),
  });
  const turn = (): void => {
    for (const drop of state.pending.splice(0)) drop();
  };
  return { state, clock, turn };
}

describe('coarse clock', () => {
  it(`shares one reading among at most ${MAX_REUSES + 1} calls, then reads again`, () => {
    const { state, clock } = host();
    for (let i = 0; i <= MAX_REUSES; i++) clock();
    expect(state.reads).toBe(1);
    clock();
    expect(state.reads).toBe(2);
  });

  it('drops the reading when the event loop turns (an idle process never reuses an old one)', () => {
    const { state, clock, turn } = host();
    expect(clock()).toBe(state.now);
    state.now += 60_000;
    turn();
    expect(clock()).toBe(state.now);
    expect(state.reads).toBe(2);
  });

  it('arms at most one turn callback at a time', () => {
    const { state, clock, turn } = host();
    for (let i = 0; i < 5 * MAX_REUSES; i++) clock();
    expect(state.pending).toHaveLength(1);
    turn();
    clock();
    expect(state.pending).toHaveLength(1);
  });

  it('is not used at all under replaced clocks or timers (fake timers read every call)', () => {
    const { state, clock } = host();
    state.native = false;
    expect(clock()).toBeNaN();
    expect(clock()).toBeNaN();
    expect(state.reads).toBe(0);
  });

  it('stops reusing a reading the moment the clock is replaced', () => {
    const { state, clock } = host();
    clock();
    state.native = false;
    expect(clock()).toBeNaN();
  });

  it('a reading never runs ahead of the clock, and lags it only by the time spent since the last read without a turn', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.record({ kind: fc.constant('call' as const) }),
            fc.record({
              kind: fc.constant('advance' as const),
              ms: fc.integer({ min: 0, max: 5_000 }),
            }),
            fc.record({ kind: fc.constant('turn' as const) }),
          ),
          { maxLength: 200 },
        ),
        (steps) => {
          const { state, clock, turn } = host();
          let sinceRead = 0;
          let callsSinceRead = 0;
          for (const step of steps) {
            if (step.kind === 'advance') {
              state.now += step.ms;
              sinceRead += step.ms;
            } else if (step.kind === 'turn') {
              turn();
            } else {
              const before = state.reads;
              const reading = clock();
              if (state.reads > before) {
                sinceRead = 0;
                callsSinceRead = 0;
              } else callsSinceRead++;
              expect(reading).toBeLessThanOrEqual(state.now);
              expect(state.now - reading).toBe(sinceRead);
              expect(callsSinceRead).toBeLessThanOrEqual(MAX_REUSES);
            }
          }
        },
      ),
    );
  });
});

describe('get() on the shared reading', () => {
  it('never serves a credential that expired after the shared reading was taken (the margin)', async () => {
    let mints = 0;
    const provider = await createRefreshingProvider({
      // Expires 5 ms after it is minted: inside the margin from the start.
      mint: () => ({ value: `tok-${++mints}`, expiresAt: Date.now() + 5 }),
      refreshFloorMs: 0,
    });
    const expiresAt = provider.snapshot().expiresAt as number;
    // Take a shared reading before expiry, then let real time pass the expiry without a turn
    // of the event loop (a synchronous wait for the condition, no timer): the shared reading
    // now lags behind an expired credential.
    const first = provider.get();
    while (Date.now() <= expiresAt) {
      // wait for the wall clock to pass expiresAt
    }
    const second = provider.get();
    expect(await first).toBe('tok-1');
    expect(await second).toBe('tok-2');
    expect(mints).toBe(2);
    provider.close();
  });

  it(`serves a fresh credential from the shared reading, and still serves its successor (margin ${COARSE_MARGIN_MS} ms)`, async () => {
    let mints = 0;
    const provider = await createRefreshingProvider({
      mint: () => ({ value: `tok-${++mints}`, expiresAt: Date.now() + 3_600_000 }),
    });
    const values = await Promise.all(Array.from({ length: 100 }, () => provider.get()));
    expect(new Set(values)).toEqual(new Set(['tok-1']));
    provider.invalidate();
    expect(await provider.get()).toBe('tok-2');
    provider.close();
  });
});

describe('the module-level coarse clock', () => {
  it('shares nothing when fake timers were installed before core was imported (a setup file)', async () => {
    const { vi } = await import('vitest');
    vi.useFakeTimers({ now: 1_700_000_000_000 });
    try {
      vi.resetModules();
      const fresh = await import('../../src/internal/coarse-clock.js');
      expect(fresh.coarseNow()).toBeNaN();
      expect(fresh.coarseNow()).toBeNaN();
    } finally {
      vi.useRealTimers();
      vi.resetModules();
    }
  });

  it('shares a reading under the runtime clock', async () => {
    const { vi } = await import('vitest');
    vi.resetModules(); // a fresh module: no reading left over from another test
    const { coarseNow } = await import('../../src/internal/coarse-clock.js');
    const first = coarseNow();
    expect(Number.isFinite(first)).toBe(true);
    // The wall clock moves on within this synchronous stretch; the shared reading does not.
    while (Date.now() <= first) {
      // wait for the next millisecond
    }
    expect(coarseNow()).toBe(first);
  });
});
