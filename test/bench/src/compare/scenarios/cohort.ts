/**
 * Scenario 2, the cohort: N concurrent callers on an expired token, one mint that the
 * benchmark releases 5 ms (real time) after every caller is waiting. Per run: mints, time
 * from the mint's resolution to the last caller settled (real time, `process.hrtime`), and
 * heap per waiter (forced GC before and after the N callers start waiting); `failed`
 * counts callers that did not get the new token (lru-cache serves the expired one at once). Same method as
 * the core benchmark's `cohort.ts`, with every caller the same `async` function. The token
 * is expired by advancing simulated time (fake timers over the globals and the same clock
 * injected where the library takes one); the timing itself is real.
 */

import { type Deferred, deferred } from '../../deferred.js';
import { collectGarbage, heapUsedBytes } from '../../heap.js';
import { median, round } from '../../stats.js';
import type { ContenderAdapter, Token } from '../contender.js';
import { flush, installSimClock, realNowMs, realSleep } from '../sim.js';

export interface CohortOptions {
  readonly waiters: number;
  readonly runs: number;
}

export interface CohortRun {
  readonly mints: number;
  readonly settleMs: number;
  readonly heapBytesPerWaiter: number;
  /** Callers that did not get the new token. */
  readonly failed: number;
}

export interface CohortResult {
  readonly id: string;
  readonly waiters: number;
  readonly mintsPerRun: readonly number[];
  readonly medianSettleMs: number;
  readonly maxSettleMs: number;
  readonly medianHeapBytesPerWaiter: number;
  readonly failedPerRun: readonly number[];
}

const LIFETIME_MS = 60_000;
const MINT_MS = 5;

async function runOnce(adapter: ContenderAdapter, waiters: number): Promise<CohortRun> {
  const clock = installSimClock();
  try {
    let mints = 0;
    let gate: Deferred<Token> | undefined;
    const contender = await adapter.create({
      lifetimeMs: LIFETIME_MS,
      now: clock.now,
      random: () => 0,
      mint: () => {
        mints += 1;
        if (gate !== undefined) return gate.promise;
        return Promise.resolve({ value: 'first', expiresAt: clock.now() + LIFETIME_MS });
      },
    });
    await contender.get();
    clock.tick(2 * LIFETIME_MS);
    await flush();
    const armed = deferred<Token>();
    gate = armed;
    mints = 0;

    const allSettled = deferred<number>();
    let settled = 0;
    let failed = 0;
    const caller = async (): Promise<void> => {
      try {
        if (contender.valueOf(await contender.get()) !== 'second') failed += 1;
      } catch {
        failed += 1;
      }
      settled += 1;
      if (settled === waiters) allSettled.resolve(realNowMs());
    };

    collectGarbage();
    const before = heapUsedBytes();
    for (let i = 0; i < waiters; i++) void caller();
    collectGarbage();
    const waiting = heapUsedBytes();
    await realSleep(MINT_MS);

    const releasedAt = realNowMs();
    armed.resolve({ value: 'second', expiresAt: clock.now() + LIFETIME_MS });
    const lastSettledAt = await allSettled.promise;
    contender.close();
    return {
      mints,
      settleMs: lastSettledAt - releasedAt,
      heapBytesPerWaiter: (waiting - before) / waiters,
      failed,
    };
  } finally {
    clock.uninstall();
  }
}

/** Runs `runs` times per contender, contenders rotating per run. */
export async function measureCohorts(
  adapters: readonly ContenderAdapter[],
  options: CohortOptions,
): Promise<CohortResult[]> {
  const byId = new Map<string, CohortRun[]>(adapters.map((a) => [a.id, []]));
  for (const adapter of adapters) await runOnce(adapter, Math.min(options.waiters, 1_000));
  for (let r = 0; r < options.runs; r++) {
    for (let i = 0; i < adapters.length; i++) {
      const adapter = adapters[(r + i) % adapters.length] as ContenderAdapter;
      byId.get(adapter.id)?.push(await runOnce(adapter, options.waiters));
    }
  }
  return adapters.map((adapter) => {
    const runs = byId.get(adapter.id) ?? [];
    const settle = runs.map((run) => run.settleMs);
    return {
      id: adapter.id,
      waiters: options.waiters,
      mintsPerRun: runs.map((run) => run.mints),
      medianSettleMs: round(median(settle), 2),
      maxSettleMs: round(Math.max(...settle), 2),
      medianHeapBytesPerWaiter: round(median(runs.map((run) => run.heapBytesPerWaiter)), 0),
      failedPerRun: runs.map((run) => run.failed),
    };
  });
}
