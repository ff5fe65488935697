/**
 * Aborted waiters are released at once: N callers wait on a mint that never settles, each
 * with its own signal, and all abort. The heap retained after GC, with the mint still hung,
 * must be back near where it started (0.1.0 held each aborted caller until the mint settled:
 * about 1.7 GB for one million of them), and the waiter count must read 0.
 *
 * "Near" is measured, not assumed: the same N AbortControllers, each with one abort listener
 * and no Sluice at all, also leave some heap behind after they abort (Node's and V8's own
 * bookkeeping). That floor is measured in the same run and Sluice may add at most 1 MiB.
 */

import { createRefreshingProvider } from '../../packages/core/src/index.js';
import { heapAfterGc } from './instruments.js';

export interface AbortedSoakOptions {
  readonly waiters: number;
  readonly log: (line: string) => void;
}

export interface AbortedSoakResult {
  readonly waiters: number;
  /** The floor: heap retained after GC by N aborted AbortControllers that had a listener. */
  readonly floorRetainedBytes: number;
  /** Heap after GC while the N callers waited, minus the heap before they called. */
  readonly heldWhileWaitingBytes: number;
  /** Heap after GC once every caller aborted (the mint still hung), minus the same base. */
  readonly retainedAfterAbortBytes: number;
  /** `snapshot().waiters` after the aborts. */
  readonly waitersAfterAbort: number;
  readonly seconds: number;
}

/** Heap retained by `n` AbortControllers that each had an abort listener, after they abort. */
async function abortFloor(n: number): Promise<number> {
  const base = await heapAfterGc();
  let controllers: AbortController[] = [];
  for (let i = 0; i < n; i++) {
    const controller = new AbortController();
    controllers.push(controller);
    const onAbort = (): void => controller.signal.removeEventListener('abort', onAbort);
    controller.signal.addEventListener('abort', onAbort, { once: true });
  }
  for (const controller of controllers) controller.abort();
  controllers = [];
  return (await heapAfterGc()) - base;
}

export async function soakAborted(options: AbortedSoakOptions): Promise<AbortedSoakResult> {
  const started = performance.now();
  const floorRetainedBytes = await abortFloor(options.waiters);
  const provider = await createRefreshingProvider<string>({
    name: 'soak-aborted',
    lazy: true,
    mint: () => new Promise<never>(() => {}), // hung issuer
    mintTimeoutMs: 2_147_483_647,
  });
  const base = await heapAfterGc();
  const controllers: AbortController[] = [];
  let settled = 0;
  for (let i = 0; i < options.waiters; i++) {
    const controller = new AbortController();
    controllers.push(controller);
    provider.get({ signal: controller.signal }).then(
      () => {},
      () => {
        settled += 1;
      },
    );
  }
  const waiting = await heapAfterGc();
  for (const controller of controllers) controller.abort();
  controllers.length = 0;
  const afterAbort = await heapAfterGc();
  const waitersAfterAbort = provider.snapshot().waiters;
  provider.close();
  const result: AbortedSoakResult = {
    waiters: options.waiters,
    floorRetainedBytes,
    heldWhileWaitingBytes: waiting - base,
    retainedAfterAbortBytes: afterAbort - base,
    waitersAfterAbort,
    seconds: (performance.now() - started) / 1000,
  };
  options.log(
    `  ${options.waiters.toLocaleString('en')} waiters: ${(result.heldWhileWaitingBytes / 1024 / 1024).toFixed(1)} MiB while waiting, ` +
      `${(result.retainedAfterAbortBytes / 1024).toFixed(1)} KiB retained after all aborted (${settled.toLocaleString('en')} settled; ` +
      `floor without Sluice ${(floorRetainedBytes / 1024).toFixed(1)} KiB), waiters ${waitersAfterAbort}`,
  );
  return result;
}
