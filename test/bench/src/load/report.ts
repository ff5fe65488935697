/**
 * Writes a load run: `bench-results/load.json` (everything) and `bench-results/load.md`
 * (one table of scenarios and phases, one of threshold verdicts), and prints the latter.
 */

import { mkdirSync, writeFileSync } from 'node:fs';
import type { Environment } from '../environment.js';
import { round } from '../stats.js';
import type { ScenarioResult } from './scenario.js';
import type { TierName } from './thresholds.js';

export interface LoadRun {
  readonly tier: TierName;
  readonly command: string;
  readonly environment: Environment;
  readonly wallSeconds: number;
  readonly pass: boolean;
  readonly scenarios: readonly ScenarioResult[];
  /** Scenarios left out, with why. */
  readonly skipped: readonly { readonly id: string; readonly reason: string }[];
}

const RESULTS_DIR = new URL('../../../../bench-results/', import.meta.url);

const ms = (value: number | undefined): string => (value === undefined ? '-' : `${value}`);
const seconds = (value: number): string => `${round(value / 1000, 1)} s`;

/** The markdown of a run. */
export function renderMarkdown(run: LoadRun): string {
  const env = run.environment;
  const lines: string[] = [
    `# Load run (${run.tier} tier): ${run.pass ? 'PASS' : 'FAIL'}`,
    '',
    `${env.date}, commit ${env.commit ?? 'unknown'}${env.dirty ? ' (uncommitted changes)' : ''}, Node ${env.node}, ${env.cores} cores (${env.cpu}), ${round(run.wallSeconds, 1)} s wall. Reproduce: \`${run.command}\`.`,
    '',
    '| scenario | phase | load | duration | calls | p50 ms | p95 ms | p99 ms | error rate | mints |',
    '| --- | --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const scenario of run.scenarios) {
    scenario.phases.forEach((p, i) => {
      const first = i === 0;
      const latencyOf = p.latencyOf === undefined ? '' : ` (latency of ${p.latencyOf})`;
      lines.push(
        `| ${first ? scenario.title : ''} | ${p.name}${latencyOf} | ${first ? scenario.load : ''} | ${first ? seconds(scenario.durationMs) : ''} | ${p.calls} | ${ms(p.latency?.p50Ms)} | ${ms(p.latency?.p95Ms)} | ${ms(p.latency?.p99Ms)} | ${round(p.errorRate * 100, 3)} % | ${first ? scenario.mints : ''} |`,
      );
    });
  }
  lines.push(
    '',
    '| scenario | threshold | contract | measured | verdict |',
    '| --- | --- | --- | --- | --- |',
  );
  for (const scenario of run.scenarios) {
    for (const t of scenario.thresholds) {
      lines.push(
        `| ${scenario.title} | ${t.metric} | ${t.limit} | ${t.measured} | ${t.pass ? 'PASS' : '**FAIL**'} |`,
      );
    }
  }
  for (const skipped of run.skipped) {
    lines.push('', `Skipped: ${skipped.id}: ${skipped.reason}`);
  }
  return `${lines.join('\n')}\n`;
}

/** Writes load.json and load.md under bench-results/ at the repository root. */
export function writeRun(run: LoadRun, suffix = ''): { json: string; markdown: string } {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const json = new URL(`load${suffix}.json`, RESULTS_DIR);
  const markdown = new URL(`load${suffix}.md`, RESULTS_DIR);
  writeFileSync(json, `${JSON.stringify(run, null, 2)}\n`);
  writeFileSync(markdown, renderMarkdown(run));
  return { json: json.pathname, markdown: markdown.pathname };
}
