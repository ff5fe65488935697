/**
 * The hot path: `get()` / `getCredential()` / `peek()` on a fresh credential, each timed
 * against the cheapest thing that could replace it (awaiting an already-resolved promise,
 * reading a property), plus the bytes each operation allocates.
 *
 * Timing: mitata's `measure` (per-op p50 over batched samples), repeated for several
 * interleaved rounds; a case's figure is the median of its round medians and every ratio
 * is median/median within this one process run.
 *
 * Allocation: a forced full GC, then N operations in a plain loop, then V8's
 * `used_heap_size` again (no GC in between, so garbage counts); the same measurement with
 * zero operations is subtracted, and the median over repeats is kept (a scavenge during a
 * repeat can only make it read low, and the median discards that).
 */

import { createRefreshingProvider, type RefreshingProvider } from '@sluice/core';
import { do_not_optimize, measure } from 'mitata';
import { bytesPerOp } from './allocation.js';
import { CORE_0_2_0, loadCoreRelease } from './baseline-core.js';
import { median, round } from './stats.js';

/** How long and how often to measure. */
export interface HotPathOptions {
  /** Interleaved rounds; each case is measured once per round. */
  readonly rounds: number;
  /** mitata's minimum CPU time per measurement, in milliseconds. */
  readonly minCpuTimeMs: number;
  /** Operations per allocation sample; 0 skips the allocation measurement. */
  readonly allocationOps: number;
  /** Allocation samples per case (the median is kept). */
  readonly allocationRepeats: number;
  /** Case ids to measure; all when absent. */
  readonly only?: readonly CaseId[];
}

export type CaseId =
  | 'await-resolved'
  | 'get'
  | 'get-credential'
  | 'get-injected-clock'
  | 'property-read'
  | 'peek'
  | 'peek-injected-clock'
  | 'date-now'
  | 'get-0.2.0'
  | 'get-credential-0.2.0'
  | 'get-injected-clock-0.2.0'
  | 'peek-0.2.0';

/** One case's figures. */
export interface CaseResult {
  readonly id: CaseId;
  readonly label: string;
  /** Median of the round medians, in nanoseconds per operation. */
  readonly medianNs: number;
  /** Each round's mitata p50, in nanoseconds per operation. */
  readonly roundMediansNs: readonly number[];
  /** Approximate bytes allocated per operation; `null` when not measured. */
  readonly bytesPerOp: number | null;
}

/** A ratio of two cases' medians, measured in the same run. */
export interface Ratio {
  readonly label: string;
  readonly subject: CaseId;
  readonly baseline: CaseId;
  /** subject median / baseline median. */
  readonly ratio: number;
  /** The same ratio computed round by round (for judging noise). */
  readonly roundRatios: readonly number[];
}

export interface HotPathResult {
  readonly cases: readonly CaseResult[];
  readonly ratios: readonly Ratio[];
}

interface Case {
  readonly id: CaseId;
  readonly label: string;
  /** The operation; a returned promise is awaited by the harness (one `await` per op). */
  readonly op: () => unknown;
  readonly async: boolean;
  readonly measureAllocation: boolean;
}

const HOUR_MS = 3_600_000;

interface Fixture {
  readonly cases: readonly Case[];
  close(): void;
}

async function createFixture(withBaseline: boolean): Promise<Fixture> {
  const provider: RefreshingProvider<string> = await createRefreshingProvider({
    name: 'bench-hot-path',
    mint: () => ({ value: 'token', expiresAt: Date.now() + HOUR_MS }),
  });
  // Diagnostic only: the same provider with an injected clock (a constant), to separate
  // the cost of `Date.now()` from the rest of the hot path.
  const fixedNow = Date.now();
  const injected: RefreshingProvider<string> = await createRefreshingProvider({
    name: 'bench-hot-path-injected-clock',
    now: () => fixedNow,
    mint: () => ({ value: 'token', expiresAt: fixedNow + HOUR_MS }),
  });
  const credential = provider.peek();
  if (credential === undefined || injected.peek() === undefined) {
    throw new Error('hot-path fixture: the credential is not fresh');
  }
  const resolved = Promise.resolve(credential.value);
  const holder = { credential };

  const cases: Case[] = [
    {
      id: 'await-resolved',
      label: 'await resolvedPromise (floor)',
      op: () => resolved,
      async: true,
      measureAllocation: true,
    },
    {
      id: 'get',
      label: 'await provider.get()',
      op: () => provider.get(),
      async: true,
      measureAllocation: true,
    },
    {
      id: 'get-credential',
      label: 'await provider.getCredential()',
      op: () => provider.getCredential(),
      async: true,
      measureAllocation: true,
    },
    {
      id: 'get-injected-clock',
      label: 'await provider.get(), injected now()',
      op: () => injected.get(),
      async: true,
      measureAllocation: true,
    },
    {
      id: 'property-read',
      label: 'plain property read',
      op: () => do_not_optimize(holder.credential),
      async: false,
      measureAllocation: true,
    },
    {
      id: 'peek',
      label: 'provider.peek()',
      op: () => do_not_optimize(provider.peek()),
      async: false,
      measureAllocation: true,
    },
    {
      id: 'peek-injected-clock',
      label: 'provider.peek(), injected now()',
      op: () => do_not_optimize(injected.peek()),
      async: false,
      measureAllocation: true,
    },
    {
      id: 'date-now',
      label: 'Date.now() alone',
      op: () => do_not_optimize(Date.now()),
      async: false,
      // Through a shared loop the returned double may be boxed: not meaningful here.
      measureAllocation: false,
    },
  ];
  const closers = [provider, injected];
  if (withBaseline) {
    // The same two providers from @sluice/core 0.2.0, rebuilt from git, in this process.
    const old = await loadCoreRelease(CORE_0_2_0);
    const oldProvider = await old.createRefreshingProvider({
      name: 'bench-hot-path-0.2.0',
      mint: () => ({ value: 'token', expiresAt: Date.now() + HOUR_MS }),
    });
    const oldInjected = await old.createRefreshingProvider({
      name: 'bench-hot-path-injected-clock-0.2.0',
      now: () => fixedNow,
      mint: () => ({ value: 'token', expiresAt: fixedNow + HOUR_MS }),
    });
    closers.push(oldProvider, oldInjected);
    cases.push(
      {
        id: 'get-0.2.0',
        label: 'await provider.get() (0.2.0)',
        op: () => oldProvider.get(),
        async: true,
        measureAllocation: true,
      },
      {
        id: 'get-credential-0.2.0',
        label: 'await provider.getCredential() (0.2.0)',
        op: () => oldProvider.getCredential(),
        async: true,
        measureAllocation: true,
      },
      {
        id: 'get-injected-clock-0.2.0',
        label: 'await provider.get(), injected now() (0.2.0)',
        op: () => oldInjected.get(),
        async: true,
        measureAllocation: true,
      },
      {
        id: 'peek-0.2.0',
        label: 'provider.peek() (0.2.0)',
        op: () => do_not_optimize(oldProvider.peek()),
        async: false,
        measureAllocation: true,
      },
    );
  }
  return {
    cases,
    close() {
      for (const closer of closers) closer.close();
    },
  };
}

const RATIOS: readonly { label: string; subject: CaseId; baseline: CaseId }[] = [
  { label: 'get() / floor', subject: 'get', baseline: 'await-resolved' },
  { label: 'getCredential() / floor', subject: 'get-credential', baseline: 'await-resolved' },
  {
    label: 'get() injected now() / floor',
    subject: 'get-injected-clock',
    baseline: 'await-resolved',
  },
  { label: 'peek() / property read', subject: 'peek', baseline: 'property-read' },
  {
    label: 'peek() injected now() / property read',
    subject: 'peek-injected-clock',
    baseline: 'property-read',
  },
  { label: 'get() 0.2.0 / floor', subject: 'get-0.2.0', baseline: 'await-resolved' },
  {
    label: 'get() injected now() 0.2.0 / floor',
    subject: 'get-injected-clock-0.2.0',
    baseline: 'await-resolved',
  },
  { label: 'get() now / get() 0.2.0', subject: 'get', baseline: 'get-0.2.0' },
  {
    label: 'getCredential() now / 0.2.0',
    subject: 'get-credential',
    baseline: 'get-credential-0.2.0',
  },
  {
    label: 'get() injected now() now / 0.2.0',
    subject: 'get-injected-clock',
    baseline: 'get-injected-clock-0.2.0',
  },
  { label: 'peek() now / peek() 0.2.0', subject: 'peek', baseline: 'peek-0.2.0' },
];

/** Measures the hot path. Rounds alternate the case order to cancel slow drifts. */
export async function measureHotPath(options: HotPathOptions): Promise<HotPathResult> {
  const withBaseline =
    options.only === undefined || options.only.some((id) => id.endsWith('-0.2.0'));
  const fixture = await createFixture(withBaseline);
  try {
    const selected = fixture.cases.filter(
      (testCase) => options.only === undefined || options.only.includes(testCase.id),
    );
    const perRound = new Map<CaseId, number[]>(selected.map((testCase) => [testCase.id, []]));
    for (let r = 0; r < options.rounds; r++) {
      const order = r % 2 === 0 ? selected : [...selected].reverse();
      for (const testCase of order) {
        const stats = await measure(testCase.op, { min_cpu_time: options.minCpuTimeMs * 1e6 });
        perRound.get(testCase.id)?.push(stats.p50);
      }
    }

    const cases: CaseResult[] = [];
    for (const testCase of selected) {
      const roundMediansNs = perRound.get(testCase.id) ?? [];
      const measured = options.allocationOps > 0 && testCase.measureAllocation;
      cases.push({
        id: testCase.id,
        label: testCase.label,
        medianNs: median(roundMediansNs),
        roundMediansNs: roundMediansNs.map((ns) => round(ns, 3)),
        bytesPerOp: measured
          ? round(await bytesPerOp(testCase, options.allocationOps, options.allocationRepeats))
          : null,
      });
    }

    const byId = new Map(cases.map((result) => [result.id, result]));
    const ratios: Ratio[] = [];
    for (const spec of RATIOS) {
      const subject = byId.get(spec.subject);
      const baseline = byId.get(spec.baseline);
      if (subject === undefined || baseline === undefined) continue;
      ratios.push({
        ...spec,
        ratio: subject.medianNs / baseline.medianNs,
        roundRatios: subject.roundMediansNs.map((ns, i) =>
          round(ns / (baseline.roundMediansNs[i] ?? Number.NaN), 3),
        ),
      });
    }
    return { cases, ratios };
  } finally {
    fixture.close();
  }
}
