/**
 * Collects unhandled rejections and uncaught exceptions while a test body runs, so a test can
 * assert there were none (vitest would also fail the run, but not name the test).
 */
export async function withoutUnhandled(body: () => Promise<void>): Promise<unknown[]> {
  const seen: unknown[] = [];
  const onError = (reason: unknown) => seen.push(reason);
  process.on('unhandledRejection', onError);
  process.on('uncaughtException', onError);
  try {
    await body();
    // Node reports unhandled rejections after the microtask queue drains: wait a macrotask.
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
  } finally {
    process.off('unhandledRejection', onError);
    process.off('uncaughtException', onError);
  }
  return seen;
}
