/**
 * Renders the comparison charts from `bench-results/compare.json` into `docs/img/`:
 * upstream mints per minute during the outage, the fleet's refresh-instant histogram and
 * the hot-path ratio to the floor.
 */

import { mkdirSync, writeFileSync } from 'node:fs';
import type { CompareResults } from '../compare/results.js';
import { FLEET_SETUP } from '../compare/scenarios/fleet.js';
import { barChart, lineChart } from './svg.js';

export const IMG_DIR = new URL('../../../../docs/img/', import.meta.url);

export const CHART_FILES = {
  outage: 'compare-outage-mints.svg',
  fleet: 'compare-fleet-refresh.svg',
  hotPath: 'compare-hot-path.svg',
} as const;

function labelOf(results: CompareResults, id: string): string {
  return results.contenders.find((c) => c.id === id)?.label ?? id;
}

/** Writes the three SVGs; returns their paths. */
export function renderCharts(results: CompareResults): string[] {
  mkdirSync(IMG_DIR, { recursive: true });
  const written: string[] = [];
  const write = (name: string, svg: string): void => {
    const file = new URL(name, IMG_DIR);
    writeFileSync(file, svg);
    written.push(file.pathname);
  };

  write(
    CHART_FILES.outage,
    lineChart({
      title: 'Outage: requests reaching the issuer per minute (issuer down from minute 1)',
      xLabel: 'simulated minute',
      yLabel: 'mint requests per minute (log)',
      logY: true,
      series: results.outage.map((r) => ({
        name: labelOf(results, r.id),
        highlight: r.id === 'sluice',
        points: r.mintsPerMinute.map((count, minute) => [minute + 0.5, count] as const),
      })),
    }),
  );

  const binMin = FLEET_SETUP.binMs / 60_000;
  const fromMin = FLEET_SETUP.callsFromMs / 60_000;
  write(
    CHART_FILES.fleet,
    lineChart({
      title: `Fleet of ${results.fleet[0]?.instances ?? 0}: refresh mints per ${FLEET_SETUP.binMs / 1000} s (one-hour tokens)`,
      xLabel: 'simulated minute since the fleet started',
      yLabel: `refresh mints per ${FLEET_SETUP.binMs / 1000} s (log)`,
      logY: true,
      series: results.fleet.map((r) => ({
        name: labelOf(results, r.id),
        highlight: r.id === 'sluice',
        points: r.histogram.map((count, bin) => [fromMin + bin * binMin, count] as const),
      })),
    }),
  );

  const contenders = results.hotPath.filter((c) => c.id !== 'floor');
  write(
    CHART_FILES.hotPath,
    barChart({
      title: 'Hot path: await get() on a fresh token, median / floor (same run)',
      unit: 'x',
      reference: { value: 1, label: 'floor: await of a resolved promise' },
      bars: contenders.map((c) => ({
        label: c.id === 'date-now' ? 'Date.now() alone (diagnostic)' : labelOf(results, c.id),
        value: c.ratioToFloor,
        highlight: c.id === 'sluice',
      })),
    }),
  );
  return written;
}
