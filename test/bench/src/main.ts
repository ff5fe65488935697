/**
 * `pnpm bench`: the full benchmark of @sluice/core's hot path and of a 100k-caller cohort.
 * Prints tables, writes `bench-results/core.json` at the repository root, and exits 1 only
 * when the single flight is broken (a cohort ran more than one mint).
 */

import { mkdirSync, writeFileSync } from 'node:fs';
import { measureCohorts } from './cohort.js';
import { describeEnvironment } from './environment.js';
import { measureHotPath } from './hot-path.js';
import { round } from './stats.js';
import { formatTable } from './table.js';
import { checkTargets } from './targets.js';

const HOT_PATH = { rounds: 5, minCpuTimeMs: 500, allocationOps: 2_000, allocationRepeats: 21 };
const COHORT = {
  waiters: 100_000,
  runs: 15,
  scenarios: ['shared-promise', 'provider-get', 'provider-get-signal'],
} as const;
const RESULTS_DIR = new URL('../../../bench-results/', import.meta.url);

const environment = describeEnvironment();
console.log(
  `@sluice/core benchmark: ${environment.date}, commit ${environment.commit ?? 'unknown'}` +
    `${environment.dirty ? ' (uncommitted changes)' : ''}, Node ${environment.node}, ` +
    `${environment.cpu}, ${environment.cores} cores`,
);
console.log(
  'Medians; ratios are median/median within this run. Expect noise on a shared machine.\n',
);

const hotPath = await measureHotPath(HOT_PATH);
console.log(
  formatTable(
    ['hot path (fresh credential)', 'median ns/op', 'bytes/op', 'round medians (ns)'],
    hotPath.cases.map((result) => [
      result.label,
      result.medianNs.toFixed(2),
      result.bytesPerOp === null ? '-' : result.bytesPerOp.toFixed(1),
      result.roundMediansNs.map((ns) => ns.toFixed(1)).join(' '),
    ]),
  ),
);
console.log();
console.log(
  formatTable(
    ['ratio (median/median)', 'ratio', 'per round'],
    hotPath.ratios.map((ratio) => [
      ratio.label,
      `${ratio.ratio.toFixed(2)}x`,
      ratio.roundRatios.map((value) => value.toFixed(2)).join(' '),
    ]),
  ),
);
console.log();

const cohorts = await measureCohorts(COHORT);
console.log(
  formatTable(
    [
      `${COHORT.waiters} concurrent callers, ${COHORT.runs} runs`,
      'mints',
      'settle ms (median)',
      'settle ms (max)',
      'heap B/waiter',
    ],
    cohorts.map((scenario) => [
      scenario.label,
      scenario.id === 'shared-promise' ? '-' : [...new Set(scenario.mintsPerRun)].join(','),
      scenario.medianSettleMs.toFixed(2),
      scenario.maxSettleMs.toFixed(2),
      scenario.medianHeapBytesPerWaiter.toFixed(1),
    ]),
  ),
);
console.log();

const targets = checkTargets(hotPath, cohorts);
console.log(
  formatTable(
    ['target (from the issue)', 'this run', 'met'],
    targets.map((check) => [check.target, check.figure, check.met ? 'yes' : 'NO']),
  ),
);

mkdirSync(RESULTS_DIR, { recursive: true });
const file = new URL('core.json', RESULTS_DIR);
writeFileSync(
  file,
  `${JSON.stringify(
    {
      environment,
      method: {
        hotPath: HOT_PATH,
        cohort: COHORT,
        note: 'Hot path: mitata p50 per round, median over rounds, ratios median/median in one run. Allocation: forced GC, N ops, used_heap_size delta minus the same with 0 ops, median over repeats. Cohort: settle = last caller continuation minus mint resolution (performance.now); heap = used_heap_size delta between forced GCs before and after N callers start waiting, over N.',
      },
      hotPath: {
        cases: hotPath.cases.map((result) => ({ ...result, medianNs: round(result.medianNs, 3) })),
        ratios: hotPath.ratios.map((ratio) => ({ ...ratio, ratio: round(ratio.ratio, 3) })),
      },
      cohorts,
      targets,
    },
    null,
    2,
  )}\n`,
);
console.log(`\nwrote ${file.pathname}`);

const provider = cohorts.find((scenario) => scenario.id !== 'shared-promise');
const broken = cohorts.filter(
  (scenario) =>
    scenario.id !== 'shared-promise' && scenario.mintsPerRun.some((mints) => mints !== 1),
);
if (provider === undefined || broken.length > 0) {
  for (const scenario of broken) {
    console.error(
      `FAIL: ${scenario.label}: mint counts ${scenario.mintsPerRun.join(',')} (expected 1 per run)`,
    );
  }
  process.exitCode = 1;
}
