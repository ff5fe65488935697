/**
 * Heap measurement helpers. They need `node --expose-gc`: a forced full GC before each
 * reading makes `used_heap_size` count live objects only.
 */

import { getHeapStatistics } from 'node:v8';

const exposedGc = (globalThis as { gc?: () => void }).gc;

/** Forces a full garbage collection; throws a clear error without `--expose-gc`. */
export function collectGarbage(): void {
  if (exposedGc === undefined) {
    throw new Error('run with `node --expose-gc` (use `pnpm bench` or `pnpm bench:guard`)');
  }
  exposedGc();
}

/** V8's used heap size in bytes (what `process.memoryUsage().heapUsed` reports). */
export function heapUsedBytes(): number {
  return getHeapStatistics().used_heap_size;
}
