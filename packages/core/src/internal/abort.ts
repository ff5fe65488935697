/** An abortable sleep through the global timers, looked up at call time. */

/** Sleeps `delayMs` through the global timers; rejects with `signal.reason` on abort. */
export function sleep(delayMs: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(signal.reason);
  return new Promise<void>((resolve, reject) => {
    const onAbort = (): void => {
      globalThis.clearTimeout(handle);
      reject(signal?.reason);
    };
    const handle = globalThis.setTimeout(
      () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      },
      Math.max(0, delayMs),
    );
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
