/**
 * Bytes allocated per operation: forced GC, N operations with no GC in between, the change
 * in V8's used heap, minus the same measurement with zero operations; median of repeats.
 * Needs `node --expose-gc`.
 */

import { collectGarbage, heapUsedBytes } from './heap.js';
import { median } from './stats.js';

/** One measured operation; `async` ones are awaited, as a caller would. */
export interface MeasuredOp {
  readonly op: () => unknown;
  readonly async: boolean;
}

async function runOps(testCase: MeasuredOp, count: number): Promise<void> {
  const { op } = testCase;
  if (testCase.async) {
    for (let i = 0; i < count; i++) await op();
  } else {
    for (let i = 0; i < count; i++) op();
  }
}

async function allocatedBytes(testCase: MeasuredOp, count: number): Promise<number> {
  collectGarbage();
  const before = heapUsedBytes();
  await runOps(testCase, count);
  return heapUsedBytes() - before;
}

/** Median bytes allocated per call of `testCase.op`, over `repeats` runs of `ops` calls. */
export async function bytesPerOp(
  testCase: MeasuredOp,
  ops: number,
  repeats: number,
): Promise<number> {
  for (let i = 0; i < 5; i++) await runOps(testCase, ops); // warm up the loop and the op
  const samples: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const empty = await allocatedBytes(testCase, 0);
    const full = await allocatedBytes(testCase, ops);
    samples.push((full - empty) / ops);
  }
  return median(samples);
}
