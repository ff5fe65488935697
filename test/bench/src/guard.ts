/**
 * `pnpm bench:guard`: a short regression guard for CI (well under 30 s). It asserts
 * generous bounds, not the measured baselines, so a loaded 2-core runner does not flake:
 *
 * 1. mint count == 1 for every 100k-caller cohort;
 * 2. the cohort's median settle time < 100 ms;
 * 3. get() with an injected clock / floor < 1.5 (Sluice's own hot-path code);
 * 4. get() with the default clock / (floor + one Date.now()) < 1.5 (the hot path costs no
 *    more than the caller's await plus its one clock read);
 * 5. get() / get() of @sluice/core 0.2.0 (rebuilt from git, same process) < 0.9 with the
 *    default clock (the shared clock reading of 0.3.0 must keep its gain), and < 1.5 with an
 *    injected one (read on every call, as in 0.2.0);
 * 6. get() / floor < 1.5 (the goal is 1.3 on a quiet machine; the bound leaves room for a
 *    loaded runner).
 * Ratios are medians over several short interleaved rounds (median of round medians).
 * Exits 1 with a message per broken guard.
 */

import { measureCohorts } from './cohort.js';
import { type CaseId, measureHotPath } from './hot-path.js';
import { formatTable } from './table.js';

const MAX_SETTLE_MS = 100;
const MAX_RATIO = 1.5;
/** get() of this tree / get() of 0.2.0, both in this process: the shared reading's gain. */
const MAX_VS_0_2_0 = 0.9;
const WAITERS = 100_000;

interface Guard {
  readonly name: string;
  readonly figure: string;
  readonly ok: boolean;
}

const started = performance.now();
const hotPath = await measureHotPath({
  rounds: 7,
  minCpuTimeMs: 120,
  allocationOps: 0,
  allocationRepeats: 0,
  only: [
    'await-resolved',
    'get',
    'get-injected-clock',
    'date-now',
    'get-0.2.0',
    'get-injected-clock-0.2.0',
  ],
});
const ns = (id: CaseId): number => {
  const found = hotPath.cases.find((result) => result.id === id);
  if (found === undefined) throw new Error(`guard: case ${id} was not measured`);
  return found.medianNs;
};
const floor = ns('await-resolved');
const ownCodeRatio = ns('get-injected-clock') / floor;
const withClockRatio = ns('get') / (floor + ns('date-now'));
const rawRatio = ns('get') / floor;
const vsReleaseRatio = ns('get') / ns('get-0.2.0');
const vsReleaseInjectedRatio = ns('get-injected-clock') / ns('get-injected-clock-0.2.0');

const [cohort] = await measureCohorts({ waiters: WAITERS, runs: 5, scenarios: ['provider-get'] });
if (cohort === undefined) throw new Error('guard: the cohort did not run');

const guards: Guard[] = [
  {
    name: `mint count == 1 for ${WAITERS} waiters`,
    figure: cohort.mintsPerRun.join(','),
    ok: cohort.mintsPerRun.every((mints) => mints === 1),
  },
  {
    name: `settle time < ${MAX_SETTLE_MS} ms (median of ${cohort.runs.length})`,
    figure: `${cohort.medianSettleMs.toFixed(1)} ms`,
    ok: cohort.medianSettleMs < MAX_SETTLE_MS,
  },
  {
    name: `get() injected now() / floor < ${MAX_RATIO}`,
    figure: `${ownCodeRatio.toFixed(2)}x`,
    ok: ownCodeRatio < MAX_RATIO,
  },
  {
    name: `get() / (floor + Date.now()) < ${MAX_RATIO}`,
    figure: `${withClockRatio.toFixed(2)}x`,
    ok: withClockRatio < MAX_RATIO,
  },
  {
    name: `get() / get() of 0.2.0 < ${MAX_VS_0_2_0}`,
    figure: `${vsReleaseRatio.toFixed(2)}x`,
    ok: vsReleaseRatio < MAX_VS_0_2_0,
  },
  {
    name: `get() / floor < ${MAX_RATIO}`,
    figure: `${rawRatio.toFixed(2)}x`,
    ok: rawRatio < MAX_RATIO,
  },
  {
    name: `get() injected now() / 0.2.0's < ${MAX_RATIO}`,
    figure: `${vsReleaseInjectedRatio.toFixed(2)}x`,
    ok: vsReleaseInjectedRatio < MAX_RATIO,
  },
];

console.log(
  formatTable(
    ['guard', 'figure', 'ok'],
    guards.map((guard) => [guard.name, guard.figure, guard.ok ? 'ok' : 'BROKEN']),
  ),
);
console.log(`\nbench:guard took ${((performance.now() - started) / 1000).toFixed(1)} s`);

const broken = guards.filter((guard) => !guard.ok);
for (const guard of broken) {
  console.error(`bench:guard FAILED: ${guard.name} (measured ${guard.figure})`);
}
if (broken.length > 0) process.exitCode = 1;
