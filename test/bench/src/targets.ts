/**
 * The targets, checked against one run's figures. The full benchmark reports them;
 * only a broken single flight (mint count != 1) fails it.
 */

import type { ScenarioResult } from './cohort.js';
import type { CaseResult, HotPathResult } from './hot-path.js';

export interface TargetCheck {
  readonly target: string;
  readonly figure: string;
  readonly met: boolean;
}

/** Heap per waiter may exceed the baseline by this fraction and still count as "no more". */
export const HEAP_TOLERANCE = 0.02;
/** Bytes per op within which two allocation figures count as equal (measurement noise). */
export const ALLOCATION_TOLERANCE_BYTES = 1;

function find(cases: readonly CaseResult[], id: CaseResult['id']): CaseResult | undefined {
  return cases.find((result) => result.id === id);
}

export function checkTargets(
  hotPath: HotPathResult,
  cohorts: readonly ScenarioResult[],
): TargetCheck[] {
  const checks: TargetCheck[] = [];
  const getRatio = hotPath.ratios.find((ratio) => ratio.subject === 'get')?.ratio;
  if (getRatio !== undefined) {
    checks.push({
      target: 'get() <= 1.0x floor',
      figure: `${getRatio.toFixed(2)}x`,
      met: getRatio <= 1,
    });
    checks.push({
      target: 'get() never above 1.5x floor',
      figure: `${getRatio.toFixed(2)}x`,
      met: getRatio <= 1.5,
    });
  }
  const floorBytes = find(hotPath.cases, 'await-resolved')?.bytesPerOp;
  const getBytes = find(hotPath.cases, 'get')?.bytesPerOp;
  if (floorBytes != null && getBytes != null) {
    const extra = getBytes - floorBytes;
    checks.push({
      target: 'get(): no allocation beyond the await',
      figure: `${extra >= 0 ? '+' : ''}${extra.toFixed(1)} B/op (${getBytes} vs ${floorBytes})`,
      met: extra <= ALLOCATION_TOLERANCE_BYTES,
    });
  }
  const baseline = cohorts.find((s) => s.id === 'shared-promise');
  const provider = cohorts.find((s) => s.id === 'provider-get');
  if (provider !== undefined) {
    checks.push({
      target: 'mint count == 1 per cohort',
      figure: `[${[...new Set(provider.mintsPerRun)].join(', ')}]`,
      met: provider.mintsPerRun.every((mints) => mints === 1),
    });
    checks.push({
      target: `${provider.waiters} callers settle <= 25 ms after the mint`,
      figure: `${provider.medianSettleMs.toFixed(1)} ms median`,
      met: provider.medianSettleMs <= 25,
    });
  }
  if (provider !== undefined && baseline !== undefined) {
    const limit = baseline.medianHeapBytesPerWaiter * (1 + HEAP_TOLERANCE);
    checks.push({
      target: 'heap per waiter <= plain shared promise',
      figure: `${provider.medianHeapBytesPerWaiter} vs ${baseline.medianHeapBytesPerWaiter} B`,
      met: provider.medianHeapBytesPerWaiter <= limit,
    });
  }
  return checks;
}
