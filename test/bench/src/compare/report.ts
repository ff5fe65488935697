/**
 * Turns the comparison results into tables: plain text for stdout (`formatTable`) and
 * Markdown for `bench-results/compare.md` and the docs. Each row names where Sluice is beaten.
 */

import { formatTable } from '../table.js';
import type { CompareResults } from './results.js';
import { OUTAGE_SETUP } from './scenarios/outage.js';

export interface Table {
  readonly title: string;
  readonly header: readonly string[];
  readonly rows: readonly (readonly string[])[];
  readonly note?: string;
}

const yesNo = (value: boolean): string => (value ? 'yes' : 'no');

function label(results: CompareResults, id: string): string {
  if (id === 'floor') return 'floor: await resolvedPromise';
  if (id === 'date-now') return 'Date.now() alone (diagnostic)';
  return results.contenders.find((c) => c.id === id)?.label ?? id;
}

/** "beats Sluice" when `theirs` is better than Sluice's by more than `margin` (fraction). */
function versus(
  sluice: number | undefined,
  theirs: number,
  lowerIsBetter = true,
  margin = 0.05,
): string {
  if (sluice === undefined) return '';
  const better = lowerIsBetter ? theirs < sluice * (1 - margin) : theirs > sluice * (1 + margin);
  return better ? 'beats Sluice' : '';
}

export function buildTables(results: CompareResults): Table[] {
  const tables: Table[] = [];
  const sluiceHot = results.hotPath.find((c) => c.id === 'sluice');
  tables.push({
    title: '1. Hot path: await get() on a fresh token',
    header: ['contender', 'median ns/op', 'x floor', 'per-round x floor', 'bytes/op', 'vs Sluice'],
    rows: results.hotPath.map((c) => [
      label(results, c.id),
      c.medianNs.toFixed(1),
      `${c.ratioToFloor.toFixed(2)}x`,
      c.roundRatios.map((r) => r.toFixed(2)).join(' '),
      c.bytesPerOp === null ? '-' : c.bytesPerOp.toFixed(0),
      c.id === 'sluice' || c.id === 'floor' || c.id === 'date-now'
        ? ''
        : versus(sluiceHot?.ratioToFloor, c.ratioToFloor),
    ]),
  });

  const sizes = [...new Set(results.cohorts.map((c) => c.waiters))];
  for (const waiters of sizes) {
    const rows = results.cohorts.filter((c) => c.waiters === waiters);
    const sluice = rows.find((c) => c.id === 'sluice');
    tables.push({
      title: `2. Cohort: ${waiters.toLocaleString('en-US')} concurrent callers on an expired token`,
      header: [
        'contender',
        'mints per run',
        'settle ms (median)',
        'settle ms (max)',
        'heap B/waiter',
        'callers without the new token',
        'vs Sluice',
      ],
      rows: rows.map((c) => {
        // A library that served the expired token at once never waited for the mint.
        const noWait = c.failedPerRun.every((failed) => failed === c.waiters);
        return [
          label(results, c.id),
          [...new Set(c.mintsPerRun)].join(','),
          noWait ? '-' : c.medianSettleMs.toFixed(1),
          noWait ? '-' : c.maxSettleMs.toFixed(1),
          c.medianHeapBytesPerWaiter.toFixed(0),
          [...new Set(c.failedPerRun)].join(','),
          c.id === 'sluice'
            ? ''
            : [
                !noWait &&
                  versus(sluice?.medianSettleMs, c.medianSettleMs, true, 0.1) &&
                  'faster settle',
                versus(sluice?.medianHeapBytesPerWaiter, c.medianHeapBytesPerWaiter, true, 0.02) &&
                  'less heap',
              ]
                .filter(Boolean)
                .join(', '),
        ];
      }),
    });
  }

  tables.push({
    title: `3. Outage: issuer down from minute ${OUTAGE_SETUP.failFromMs / 60_000}, token (2 min) expires at minute 2`,
    header: [
      'contender',
      'mints/minute (min 0..9)',
      'total',
      'served',
      'served after wait',
      'served EXPIRED',
      'errors',
      'still waiting',
      'worst wait ms',
    ],
    rows: results.outage.map((r) => [
      label(results, r.id),
      r.mintsPerMinute.join(' '),
      String(r.mintsTotal),
      String(r.servedAtOnce),
      String(r.servedAfterWait),
      String(r.servedExpired),
      String(r.errors + r.empty),
      String(r.pending),
      String(r.worstLatencyMs),
    ]),
    note: 'served: a valid token in the same simulated millisecond; errors include lru-cache resolving to undefined.',
  });

  tables.push({
    title: '4. 401 burst: 1,000 late 401s for a token already replaced',
    header: [
      'contender',
      'token-aware',
      'mints (sequential)',
      'mints (concurrent)',
      'retries without a valid token',
    ],
    rows: results.burst401.map((r) => [
      label(results, r.id),
      yesNo(results.contenders.find((c) => c.id === r.id)?.tokenAwareInvalidate ?? false),
      String(r.sequentialMints),
      String(r.concurrentMints),
      String(r.failedRetries),
    ]),
  });

  tables.push({
    title: '5. Abort isolation: the first of 100 waiters aborts',
    header: [
      'contender',
      'signals',
      'others served a valid token',
      'others served an expired token',
      'the aborting caller',
      'mints',
    ],
    rows: results.abort.map((r) => [
      label(results, r.id),
      yesNo(results.contenders.find((c) => c.id === r.id)?.signals ?? false),
      `${r.othersServed}/${r.others}`,
      String(r.othersExpired),
      r.aborter,
      String(r.mints),
    ]),
  });

  const sluiceFleet = results.fleet.find((r) => r.id === 'sluice');
  tables.push({
    title: `6. Fleet herd: ${results.fleet[0]?.instances ?? 0} instances, one-hour tokens, started together`,
    header: [
      'contender',
      'refresh mints',
      'first refresh (min)',
      'last refresh (min)',
      'spread (s)',
      'peak mints/s',
      'failed calls',
      'vs Sluice',
    ],
    rows: results.fleet.map((r) => [
      label(results, r.id),
      String(r.refreshMints),
      r.firstRefreshMin === null ? '-' : r.firstRefreshMin.toFixed(2),
      r.lastRefreshMin === null ? '-' : r.lastRefreshMin.toFixed(2),
      r.firstRefreshMin === null || r.lastRefreshMin === null
        ? '-'
        : ((r.lastRefreshMin - r.firstRefreshMin) * 60).toFixed(1),
      String(r.peakMintsPerSecond),
      String(r.failedCalls),
      r.id === 'sluice' ? '' : versus(sluiceFleet?.peakMintsPerSecond, r.peakMintsPerSecond),
    ]),
  });
  return tables;
}

/** The Markdown report written to `bench-results/compare.md`. */
export function markdownReport(results: CompareResults): string {
  const { environment } = results;
  return [
    `Run: ${environment.date}, commit \`${environment.commit ?? 'unknown'}\`${environment.dirty ? ' (uncommitted changes in the tree)' : ''}, Node ${environment.node}, ${environment.cpu}, ${environment.cores} cores${results.quick ? ', `--quick`' : ''}. Seeds: outage ${results.seeds.outage}, fleet ${results.seeds.fleet}. Suite time ${results.durationS} s.`,
    '',
    ...buildTables(results).map(markdownTable),
  ].join('\n');
}

export function textTable(table: Table): string {
  return `${table.title}\n${formatTable(table.header, table.rows)}${table.note ? `\n${table.note}` : ''}\n`;
}

export function markdownTable(table: Table): string {
  const numeric = table.header.map((_, column) =>
    table.rows.every((row) => /^[-+]?[\d.,]+( ?[a-zA-Z/%]+)?$|^-$|^$/.test(row[column] ?? '')),
  );
  const cell = (value: string): string => value.replace(/\|/g, '\\|') || ' ';
  return [
    `#### ${table.title}`,
    '',
    `| ${table.header.map(cell).join(' | ')} |`,
    `| ${numeric.map((n) => (n ? '---:' : '---')).join(' | ')} |`,
    ...table.rows.map((row) => `| ${row.map(cell).join(' | ')} |`),
    ...(table.note ? ['', table.note] : []),
    '',
  ].join('\n');
}
