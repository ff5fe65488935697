/**
 * `pnpm bench:compare`: Sluice against the alternatives on identical workloads, every
 * contender driven through the one adapter interface (`contender.ts`). Six scenarios (see
 * `scenarios/`); prints one table per scenario, writes `bench-results/compare.json` and
 * `bench-results/compare.md`, and renders the charts into `docs/img/`.
 * `--quick` runs a short version (fewer rounds and runs, 100 callers/s, 200 instances).
 */

import { mkdirSync, writeFileSync } from 'node:fs';
import { renderCharts } from '../charts/render.js';
import { describeEnvironment } from '../environment.js';
import { CONTENDERS } from './contenders/index.js';
import { buildTables, markdownReport, textTable } from './report.js';
import type { CompareResults } from './results.js';
import { runAbort } from './scenarios/abort.js';
import { runBurst401 } from './scenarios/burst-401.js';
import { measureCohorts } from './scenarios/cohort.js';
import { FLEET_SETUP, runFleet } from './scenarios/fleet.js';
import { measureHotPaths } from './scenarios/hot-path.js';
import { OUTAGE_SETUP, runOutage } from './scenarios/outage.js';

const quick = process.argv.includes('--quick');
const SEEDS = { outage: 20_251_123, fleet: 42 } as const;
const CONFIG = quick
  ? {
      hotPath: { rounds: 3, minCpuTimeMs: 80, allocationOps: 1_000, allocationRepeats: 5 },
      cohorts: [
        { waiters: 10_000, runs: 1 },
        { waiters: 100_000, runs: 1 },
      ],
      outage: { callersPerSecond: 100, durationMs: 600_000, seed: SEEDS.outage },
      lateUnauthorized: 1_000,
      abortWaiters: 100,
      fleet: { instances: 200, seed: SEEDS.fleet },
    }
  : {
      hotPath: { rounds: 5, minCpuTimeMs: 200, allocationOps: 2_000, allocationRepeats: 11 },
      cohorts: [
        { waiters: 10_000, runs: 5 },
        { waiters: 100_000, runs: 3 },
      ],
      outage: { callersPerSecond: 1_000, durationMs: 600_000, seed: SEEDS.outage },
      lateUnauthorized: 1_000,
      abortWaiters: 100,
      fleet: { instances: 1_000, seed: SEEDS.fleet },
    };
const RESULTS_DIR = new URL('../../../../bench-results/', import.meta.url);

const started = performance.now();
const environment = describeEnvironment();
console.log(
  `Sluice vs the alternatives${quick ? ' (--quick)' : ''}: ${environment.date}, commit ${environment.commit ?? 'unknown'}` +
    `${environment.dirty ? ' (uncommitted changes)' : ''}, Node ${environment.node}, ` +
    `${environment.cpu}, ${environment.cores} cores`,
);
console.log(
  `Seeds: outage ${SEEDS.outage}, fleet ${SEEDS.fleet} (mulberry32). Ratios are within this run.\n`,
);
const step = (name: string): void =>
  console.log(`[${((performance.now() - started) / 1000).toFixed(0)} s] ${name}...`);

step('hot path');
const hotPath = await measureHotPaths(CONTENDERS, CONFIG.hotPath);
step('cohorts');
const cohorts = [];
for (const size of CONFIG.cohorts) cohorts.push(...(await measureCohorts(CONTENDERS, size)));
step('outage');
const outage = [];
for (const adapter of CONTENDERS) outage.push(await runOutage(adapter, CONFIG.outage));
step('401 burst');
const burst401 = [];
for (const adapter of CONTENDERS)
  burst401.push(await runBurst401(adapter, CONFIG.lateUnauthorized));
step('abort isolation');
const abort = [];
for (const adapter of CONTENDERS) abort.push(await runAbort(adapter, CONFIG.abortWaiters));
step('fleet');
const fleet = [];
for (const adapter of CONTENDERS) fleet.push(await runFleet(adapter, CONFIG.fleet));

const results: CompareResults = {
  environment,
  quick,
  durationS: Math.round((performance.now() - started) / 1000),
  seeds: SEEDS,
  method: {
    config: CONFIG,
    outage: OUTAGE_SETUP,
    fleet: FLEET_SETUP,
    note: 'Hot path: mitata p50 per round, median of interleaved rounds, ratio to the floor (await of a resolved promise) within this run; bytes/op: used_heap_size delta over N ops after a forced GC, minus the same with 0 ops, median of repeats. Cohort: real time from the mint resolution to the last caller; heap per waiter between forced GCs. Outage, 401 burst, abort and fleet: simulated time (@sinonjs/fake-timers over the globals, the same clock injected where the library takes one), deterministic.',
  },
  contenders: CONTENDERS.map(({ id, label, clock, signals, tokenAwareInvalidate }) => ({
    id,
    label,
    clock,
    signals,
    tokenAwareInvalidate,
  })),
  hotPath,
  cohorts,
  outage,
  burst401,
  abort,
  fleet,
};

const tables = buildTables(results);
console.log();
for (const table of tables) console.log(textTable(table));

mkdirSync(RESULTS_DIR, { recursive: true });
const jsonFile = new URL('compare.json', RESULTS_DIR);
writeFileSync(jsonFile, `${JSON.stringify(results, null, 2)}\n`);
const mdFile = new URL('compare.md', RESULTS_DIR);
writeFileSync(mdFile, markdownReport(results));
console.log(`wrote ${jsonFile.pathname}\nwrote ${mdFile.pathname}`);
for (const file of renderCharts(results)) console.log(`wrote ${file}`);
console.log(`\nbench:compare took ${results.durationS} s`);

const sluiceCohorts = cohorts.filter((c) => c.id === 'sluice');
if (sluiceCohorts.some((c) => c.mintsPerRun.some((mints) => mints !== 1))) {
  console.error('FAIL: a Sluice cohort ran more than one mint');
  process.exitCode = 1;
}
