import FakeTimers, { type Clock } from '@sinonjs/fake-timers';

export type TestClock = Clock;

/** A fixed, non-zero start: 2023-11-14T22:13:20Z. */
export const START = 1_700_000_000_000;

/**
 * Installs fake timers over the globals Sluice looks up at call time. Microtasks and
 * nextTick stay real, so promises behave as in production.
 */
export function installClock(now = START): TestClock {
  return FakeTimers.withGlobal(globalThis).install({
    now,
    toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date', 'performance'],
  });
}

/** A promise with its resolve and reject exposed, to build interleavings by hand. */
export interface Deferred<T> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}

export function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Lets every pending microtask (and promise chain) run. */
export async function flush(rounds = 10): Promise<void> {
  for (let i = 0; i < rounds; i++) await Promise.resolve();
}

/** Settles a promise into a tagged result, so assertions never race rejection handling. */
export type Outcome<T> = { ok: true; value: T } | { ok: false; error: unknown };

export function settle<T>(promise: Promise<T>): Promise<Outcome<T>> {
  return promise.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
}
