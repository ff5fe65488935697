/**
 * `pnpm bench:charts`: regenerates the comparison charts in `docs/img/` from
 * `bench-results/compare.json` (and `bench-results/compare.md`); without that file, runs `pnpm bench:compare` first (which
 * writes the charts itself).
 */

import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { markdownReport } from '../compare/report.js';
import type { CompareResults } from '../compare/results.js';
import { renderCharts } from './render.js';

const RESULTS = new URL('../../../../bench-results/compare.json', import.meta.url);

if (!existsSync(RESULTS)) {
  console.log(`${fileURLToPath(RESULTS)} is missing: running the comparison suite first`);
  execFileSync(
    process.execPath,
    [
      '--expose-gc',
      '--import',
      'tsx',
      fileURLToPath(new URL('../compare/main.ts', import.meta.url)),
      ...process.argv.slice(2),
    ],
    { stdio: 'inherit' },
  );
} else {
  const results = JSON.parse(readFileSync(RESULTS, 'utf8')) as CompareResults;
  for (const file of renderCharts(results)) console.log(`wrote ${file}`);
  const markdown = new URL('compare.md', RESULTS);
  writeFileSync(markdown, markdownReport(results));
  console.log(`wrote ${fileURLToPath(markdown)}`);
}
