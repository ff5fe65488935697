/**
 * Waiting on shared work with a caller's own signal: the caller's abort ends only its own
 * wait, never the work, and the listener is always removed when the wait ends.
 *
 * Many waiters often share one signal (a request's, a shutdown's). Registering one `abort`
 * listener per waiter costs several microseconds each in Node's EventTarget and grows
 * quadratically on one signal, so every signal gets ONE listener that releases all the
 * waiters registered under it; it is removed when the last of them settles.
 */

type Release = (reason: unknown) => void;

interface SignalWaiters {
  readonly releases: Set<Release>;
  readonly onAbort: () => void;
}

const registry = new WeakMap<AbortSignal, SignalWaiters>();

function register(signal: AbortSignal, release: Release): void {
  let entry = registry.get(signal);
  if (entry === undefined) {
    const releases = new Set<Release>();
    const onAbort = (): void => {
      registry.delete(signal);
      // Already gone ({ once: true }); removed explicitly so add/remove always pair up.
      signal.removeEventListener('abort', onAbort);
      const reason = signal.reason;
      for (const pending of releases) pending(reason);
      releases.clear();
    };
    entry = { releases, onAbort };
    registry.set(signal, entry);
    signal.addEventListener('abort', onAbort, { once: true });
  }
  entry.releases.add(release);
}

function unregister(signal: AbortSignal, release: Release): void {
  const entry = registry.get(signal);
  if (entry === undefined || !entry.releases.delete(release)) return;
  if (entry.releases.size === 0) {
    registry.delete(signal);
    signal.removeEventListener('abort', entry.onAbort);
  }
}

/**
 * Waits for shared work with the caller's own signal: settles with `promise`, or rejects with
 * `signal.reason` when the signal aborts first. The abort ends only this wait, never the work
 * behind `promise`. Without a signal, returns `promise` itself. Any number of waiters may
 * share one signal: it gets one listener, removed when the last of them settles.
 *
 * @example
 * ```ts
 * const value = await raceSignal(sharedLookup, request.signal);
 * ```
 */
export function raceSignal<T>(
  promise: PromiseLike<T>,
  signal: AbortSignal | undefined,
): Promise<T> {
  if (signal === undefined) return Promise.resolve(promise);
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    register(signal, reject);
    promise.then(
      (value) => {
        unregister(signal, reject);
        resolve(value);
      },
      (error: unknown) => {
        unregister(signal, reject);
        reject(error);
      },
    );
  });
}
