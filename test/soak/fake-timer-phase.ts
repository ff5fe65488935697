/**
 * The timer soak: everything in Sluice that starts timers (the `schedule: 'timer'` refresh
 * timer, mint timeouts, keyed sweeps and idle expiry, the poller's waits) run under
 * @sinonjs/fake-timers for many simulated hours, then closed. `countTimers()` must be 0
 * after `close()`, and bounded while running.
 */

import FakeTimers from '@sinonjs/fake-timers';
import {
  type Credential,
  createKeyedProvider,
  createRefreshingProvider,
  poll,
} from '../../packages/core/src/index.js';
import { seededRandom } from './instruments.js';

export interface TimerSoakOptions {
  /** Rounds of advancing the fake clock. */
  readonly rounds: number;
  readonly seed: number;
}

export interface TimerSoakResult {
  readonly rounds: number;
  readonly simulatedHours: number;
  readonly mints: number;
  readonly polls: number;
  /** The most timers pending at a round's end while everything ran. */
  readonly maxTimersWhileRunning: number;
  /** Pending timers once every provider was closed and the sweep stopped. */
  readonly timersAfterClose: number;
}

const START = 1_700_000_000_000;
const KEYS = 20;

export async function soakTimers(options: TimerSoakOptions): Promise<TimerSoakResult> {
  const clock = FakeTimers.withGlobal(globalThis).install({
    now: START,
    toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date', 'performance'],
  });
  try {
    const pick = seededRandom(options.seed);
    let mints = 0;
    const mint = async (): Promise<Credential<string>> => {
      mints += 1;
      await Promise.resolve();
      if (pick() < 0.1) throw new Error('issuer unavailable');
      if (pick() < 0.02) return new Promise(() => {}); // hung: the mint timeout fails it
      return { value: `token-${mints}`, expiresAt: Date.now() + 60_000 };
    };
    const shared = {
      schedule: 'timer' as const,
      refreshFloorMs: 5_000,
      mintTimeoutMs: 2_000,
      breaker: { failureThreshold: 3, cooldownMs: 10_000 },
      random: seededRandom(options.seed + 1),
    };
    const provider = await createRefreshingProvider({ ...shared, lazy: true, mint });
    const keyed = createKeyedProvider<string, string>({
      ...shared,
      maxKeys: KEYS,
      idleTtlMs: 120_000,
      mint: () => mint(),
    });
    const sweep = keyed.startSweep({ intervalMs: 15_000, concurrency: 4 });
    const ignore = (): void => {};

    let polls = 0;
    let maxTimers = 0;
    for (let round = 0; round < options.rounds; round++) {
      provider.get().catch(ignore);
      if (pick() < 0.05) provider.invalidate();
      keyed.get(`key-${Math.floor(pick() * KEYS * 2)}`).catch(ignore);
      if (pick() < 0.1) {
        polls += 1;
        const controller = new AbortController();
        let attempts = 0;
        poll(
          () => {
            attempts += 1;
            return attempts < 4 ? { status: 'pending' } : { status: 'done', value: attempts };
          },
          { initialDelayMs: 100, maxDelayMs: 1_000, maxWaitMs: 30_000, signal: controller.signal },
        ).catch(ignore);
        if (pick() < 0.3) clock.setTimeout(() => controller.abort(), 150);
      }
      await clock.tickAsync(Math.floor(pick() * 20_000));
      maxTimers = Math.max(maxTimers, clock.countTimers());
    }
    await clock.tickAsync(60_000); // let the polls finish
    sweep.stop();
    provider.close();
    keyed.close();
    await clock.tickAsync(0);
    const timersAfterClose = clock.countTimers();
    return {
      rounds: options.rounds,
      simulatedHours: (Date.now() - START) / 3_600_000,
      mints,
      polls,
      maxTimersWhileRunning: maxTimers,
      timersAfterClose,
    };
  } finally {
    clock.uninstall();
  }
}
