/**
 * The cohort: N concurrent callers on an expired credential (one shared mint), against the
 * same N callers awaiting one plain shared promise. Per run:
 *
 * - mints: how many times the mint ran for the cohort (must be 1);
 * - settle time: from just before the mint's deferred is resolved until the last caller's
 *   continuation ran (`performance.now()`);
 * - heap per waiter: forced GC, heap reading, N callers started (all now waiting), forced
 *   GC, heap reading; the difference over N. It counts what stays alive per waiting caller
 *   (the caller's own async frame and promise included, as in the baseline).
 *
 * The provider uses an injected clock, so "expired" is exact and no real time passes. In the
 * `{ signal }` scenario the AbortControllers are created before the first heap reading,
 * so the figure counts only what waiting with a signal adds.
 *
 * Not measured here: N callers sharing ONE signal. Node 20's `addEventListener` scans the
 * signal's listener list for duplicates, so N waiters registering on one signal cost
 * O(N^2) (about 0.2 s at 10k and 3.7 s at 40k listeners on the reference machine).
 */

import { type Credential, createRefreshingProvider } from '@sluice/core';
import { type Deferred, deferred } from './deferred.js';
import { collectGarbage, heapUsedBytes } from './heap.js';
import { median, round } from './stats.js';

export type ScenarioId = 'shared-promise' | 'provider-get' | 'provider-get-signal';

export const SCENARIO_LABELS: Readonly<Record<ScenarioId, string>> = {
  'shared-promise': 'await sharedPromise (baseline)',
  'provider-get': 'await provider.get() (expired, lazy)',
  'provider-get-signal': 'await provider.get({ signal }), a signal per caller',
};

/** How big and how often. */
export interface CohortOptions {
  /** Concurrent callers per run. */
  readonly waiters: number;
  /** Runs per scenario (the median is reported). */
  readonly runs: number;
  readonly scenarios: readonly ScenarioId[];
}

/** One run of one scenario. */
export interface CohortRun {
  readonly mints: number;
  readonly settleMs: number;
  readonly heapBytesPerWaiter: number;
}

export interface ScenarioResult {
  readonly id: ScenarioId;
  readonly label: string;
  readonly waiters: number;
  /** Mint count of every run (the baseline has no mint: 0). */
  readonly mintsPerRun: readonly number[];
  readonly medianSettleMs: number;
  readonly maxSettleMs: number;
  readonly medianHeapBytesPerWaiter: number;
  readonly runs: readonly CohortRun[];
}

/** What a scenario's run needs: a `wait` for every caller and a way to end the wait. */
interface Arena {
  /** What caller number `index` awaits. */
  readonly wait: (index: number) => Promise<unknown>;
  /** Ends the shared wait (resolves the mint or the shared promise). */
  release(): void;
  /** Mints run since the arena was armed. */
  mints(): number;
  close(): void;
}

const START_MS = 1_700_000_000_000;
const LIFETIME_MS = 60_000;

async function providerArena(signalsFor: number): Promise<Arena> {
  let clock = START_MS;
  let mints = 0;
  let gate: Deferred<Credential<string>> | undefined;
  const provider = await createRefreshingProvider<string>({
    name: 'bench-cohort',
    now: () => clock,
    random: () => 0,
    mint: () => {
      mints += 1;
      return gate === undefined ? { value: 'first', expiresAt: clock + LIFETIME_MS } : gate.promise;
    },
  });
  // Expire the credential, then arm the gate: the cohort's mint waits for `release()`.
  clock += 2 * LIFETIME_MS;
  if (provider.peek() !== undefined) throw new Error('cohort: the credential should be expired');
  const armed = deferred<Credential<string>>();
  gate = armed;
  mints = 0;
  const callOptions = Array.from({ length: signalsFor }, () => ({
    signal: new AbortController().signal,
  }));
  return {
    wait:
      signalsFor === 0
        ? () => provider.get()
        : (index) => provider.get(callOptions[index] as { signal: AbortSignal }),
    release: () => armed.resolve({ value: 'second', expiresAt: clock + LIFETIME_MS }),
    mints: () => mints,
    close: () => provider.close(),
  };
}

function sharedPromiseArena(): Arena {
  const shared = deferred<string>();
  return {
    wait: () => shared.promise,
    release: () => shared.resolve('second'),
    mints: () => 0,
    close: () => {},
  };
}

async function arenaFor(id: ScenarioId, waiters: number): Promise<Arena> {
  switch (id) {
    case 'shared-promise':
      return sharedPromiseArena();
    case 'provider-get':
      return providerArena(0);
    case 'provider-get-signal':
      return providerArena(waiters);
  }
}

async function runOnce(id: ScenarioId, waiters: number): Promise<CohortRun> {
  const arena = await arenaFor(id, waiters);
  try {
    const { wait } = arena;
    const allSettled = deferred<number>();
    let settled = 0;
    // Every caller is the same async function whatever it waits on, so the baseline and
    // the provider differ only in what `wait()` costs.
    const caller = async (index: number): Promise<void> => {
      await wait(index);
      settled += 1;
      if (settled === waiters) allSettled.resolve(performance.now());
    };

    collectGarbage();
    const before = heapUsedBytes();
    for (let i = 0; i < waiters; i++) void caller(i);
    collectGarbage();
    const waiting = heapUsedBytes();

    const releasedAt = performance.now();
    arena.release();
    const lastSettledAt = await allSettled.promise;
    return {
      mints: arena.mints(),
      settleMs: lastSettledAt - releasedAt,
      heapBytesPerWaiter: (waiting - before) / waiters,
    };
  } finally {
    arena.close();
  }
}

/** Runs every scenario `runs` times, interleaved (scenario order rotates per run). */
export async function measureCohorts(options: CohortOptions): Promise<ScenarioResult[]> {
  const { scenarios, waiters, runs } = options;
  await runOnce(scenarios[0] ?? 'shared-promise', Math.min(waiters, 10_000)); // warm-up
  const byScenario = new Map<ScenarioId, CohortRun[]>(scenarios.map((id) => [id, []]));
  for (let r = 0; r < runs; r++) {
    for (let s = 0; s < scenarios.length; s++) {
      const id = scenarios[(r + s) % scenarios.length] as ScenarioId;
      byScenario.get(id)?.push(await runOnce(id, waiters));
    }
  }
  return scenarios.map((id) => {
    const results = byScenario.get(id) ?? [];
    const settle = results.map((run) => run.settleMs);
    return {
      id,
      label: SCENARIO_LABELS[id],
      waiters,
      mintsPerRun: results.map((run) => run.mints),
      medianSettleMs: round(median(settle), 3),
      maxSettleMs: round(Math.max(...settle), 3),
      medianHeapBytesPerWaiter: round(median(results.map((run) => run.heapBytesPerWaiter))),
      runs: results.map((run) => ({
        mints: run.mints,
        settleMs: round(run.settleMs, 3),
        heapBytesPerWaiter: round(run.heapBytesPerWaiter),
      })),
    };
  });
}
