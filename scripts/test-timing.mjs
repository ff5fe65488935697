#!/usr/bin/env node
/**
 * `pnpm test:timing`: where the test suite's time goes. Runs the README's test command
 * (vitest, same config) with a JSON report, then prints the wall time, the sum of per-file
 * times (what parallelism has to hide), and the slowest files with their test counts.
 *
 * Usage: node scripts/test-timing.mjs [--top N] [--from report.json] [--write-slow-files] [vitest args...]
 *   --from              read an existing vitest JSON report instead of running the suite
 *   --top               how many of the slowest files to list (default 25)
 *   --write-slow-files  rewrite test/slow-files.json (the start order of a fresh clone's
 *                       first run, see test/slow-first-sequencer.ts) from this report
 * It measures; it never fails on a time. Exits with vitest's own exit code.
 */

import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Files at least this slow are listed in test/slow-files.json. */
const SLOW_FILE_MS = 2_000;

/** The content of test/slow-files.json for `rows`: files of at least 2 s, slowest first. */
export function slowFiles(rows) {
  const files = Object.fromEntries(
    rows.filter((row) => row.ms >= SLOW_FILE_MS).map((row) => [row.file, Math.round(row.ms)]),
  );
  return {
    $comment:
      'Start order of a run without vitest cache (a fresh clone): slowest first. Milliseconds from `pnpm test:timing --write-slow-files`.',
    files,
  };
}

/** Per-file rows `{ file, ms, tests, skipped }` of a vitest JSON report, slowest first. */
export function fileTimes(report, root = REPO) {
  return report.testResults
    .map((result) => ({
      file: relative(root, result.name),
      ms: Math.max(0, (result.endTime ?? 0) - (result.startTime ?? 0)),
      tests: result.assertionResults.length,
      skipped: result.assertionResults.filter(
        (a) => a.status === 'skipped' || a.status === 'pending',
      ).length,
    }))
    .sort((a, b) => b.ms - a.ms);
}

function main(argv) {
  let top = 25;
  let from;
  let writeSlowFiles = false;
  const passThrough = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--top') top = Number(argv[++i]);
    else if (argv[i] === '--from') from = resolve(argv[++i]);
    else if (argv[i] === '--write-slow-files') writeSlowFiles = true;
    else passThrough.push(argv[i]);
  }
  let wallMs;
  let status = 0;
  let reportPath = from;
  if (reportPath === undefined) {
    mkdirSync(join(REPO, '.tmp'), { recursive: true });
    reportPath = join(REPO, '.tmp', 'test-timing.json');
    const started = performance.now();
    const vitest = join(REPO, 'node_modules', 'vitest', 'vitest.mjs');
    const result = spawnSync(
      process.execPath,
      [
        vitest,
        'run',
        '--config',
        'test/vitest.config.ts',
        '--reporter=dot',
        '--reporter=json',
        `--outputFile=${reportPath}`,
        ...passThrough,
      ],
      { cwd: REPO, stdio: ['ignore', 'inherit', 'inherit'] },
    );
    wallMs = performance.now() - started;
    status = result.status ?? 1;
  }
  const report = JSON.parse(readFileSync(reportPath, 'utf8'));
  const rows = fileTimes(report);
  const sum = rows.reduce((total, row) => total + row.ms, 0);
  const seconds = (ms) => (ms / 1000).toFixed(1);
  console.log('\n## Test timing');
  if (wallMs !== undefined) console.log(`wall time of the vitest run: ${seconds(wallMs)} s`);
  console.log(
    `${rows.length} files, ${report.numTotalTests} tests (${report.numPassedTests} passed, ${report.numFailedTests} failed, ${report.numPendingTests + (report.numTodoTests ?? 0)} skipped); per-file times add up to ${seconds(sum)} s`,
  );
  console.log(`\n| file | tests | seconds | share of the sum |\n| --- | ---: | ---: | ---: |`);
  for (const row of rows.slice(0, top)) {
    console.log(
      `| \`${row.file}\` | ${row.tests}${row.skipped > 0 ? ` (${row.skipped} skipped)` : ''} | ${seconds(row.ms)} | ${((100 * row.ms) / sum).toFixed(1)} % |`,
    );
  }
  if (writeSlowFiles) {
    const target = join(REPO, 'test', 'slow-files.json');
    writeFileSync(target, `${JSON.stringify(slowFiles(rows), null, 2)}\n`);
    console.log(`\nwrote ${relative(REPO, target)}`);
  }
  return status;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exit(main(process.argv.slice(2)));
}
