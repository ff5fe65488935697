/**
 * One `abort` listener per distinct signal, shared by every wait registered under it.
 *
 * Many waiters often share one signal (a request's, a shutdown's). Registering one listener
 * per waiter costs several microseconds each in Node's EventTarget and grows quadratically
 * on one signal, so each signal gets ONE listener that releases all the waits registered
 * under it; it is removed when the last of them is unregistered.
 */

/** Ends one wait with the signal's reason. */
export type Release = (reason: unknown) => void;

interface SignalWaiters {
  readonly releases: Set<Release>;
  readonly onAbort: () => void;
}

const registry = new WeakMap<AbortSignal, SignalWaiters>();

/** Calls `release(signal.reason)` when `signal` aborts, unless unregistered first. */
export function register(signal: AbortSignal, release: Release): void {
  let entry = registry.get(signal);
  if (entry === undefined) {
    const releases = new Set<Release>();
    const onAbort = (): void => {
      registry.delete(signal);
      // Already gone ({ once: true }); removed explicitly so add/remove always pair up.
      signal.removeEventListener('abort', onAbort);
      let reason: unknown;
      try {
        reason = signal.reason;
      } catch (error) {
        reason = error; // a hostile signal: its getter's error is the reason
      }
      const pending = [...releases];
      releases.clear();
      for (const end of pending) end(reason);
    };
    entry = { releases, onAbort };
    signal.addEventListener('abort', onAbort, { once: true });
    registry.set(signal, entry);
  }
  entry.releases.add(release);
}

/** Forgets a wait; removes the signal's listener when it was the last one. */
export function unregister(signal: AbortSignal, release: Release): void {
  const entry = registry.get(signal);
  if (entry === undefined || !entry.releases.delete(release)) return;
  if (entry.releases.size === 0) {
    registry.delete(signal);
    signal.removeEventListener('abort', entry.onAbort);
  }
}
