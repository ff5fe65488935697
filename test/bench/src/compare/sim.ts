/**
 * Simulated time for the comparison: `@sinonjs/fake-timers` installed over the globals
 * (`setTimeout`/`clearTimeout`/`setInterval`/`clearInterval`/`Date`/`performance` only; never
 * `setImmediate`, `nextTick` or `queueMicrotask`), a fixed non-zero start, and the issuer the
 * contenders mint from. Contenders that take a clock get `clock.now`; the others read the faked
 * globals. Between steps, `flush()` waits for one real `setImmediate`, which drains every
 * pending microtask (and lets Effect's scheduler, which runs on `setImmediate`, run).
 */

import FakeTimers from '@sinonjs/fake-timers';
import type { Token } from './contender.js';

/** The simulated epoch: 2023-11-14T22:13:20Z. */
export const START_MS = 1_700_000_000_000;

const realSetImmediate = globalThis.setImmediate;
const realSetTimeout = globalThis.setTimeout;

/** Resolves after one real `setImmediate`: every queued microtask has run. */
export function flush(): Promise<void> {
  return new Promise((resolve) => realSetImmediate(resolve));
}

/** Real monotonic milliseconds (`process.hrtime`), never faked (`performance` is). */
export function realNowMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

/** Resolves after `ms` of real time, whatever timers are faked. */
export function realSleep(ms: number): Promise<void> {
  return new Promise((resolve) => realSetTimeout(resolve, ms));
}

/** A fake clock over the globals. */
export interface SimClock {
  /** Simulated epoch milliseconds. */
  readonly now: () => number;
  /** Advances simulated time by `ms`, firing due timers (synchronously). */
  tick(ms: number): void;
  uninstall(): void;
}

export function installSimClock(): SimClock {
  const clock = FakeTimers.install({
    now: START_MS,
    toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date', 'performance'],
  });
  return {
    now: () => clock.now,
    tick: (ms) => {
      clock.tick(ms);
    },
    uninstall: () => clock.uninstall(),
  };
}

/** Advances simulated time in `stepMs` steps until `promise` settles (at most `limitMs`). */
export async function settleSimulated<T>(
  clock: SimClock,
  promise: Promise<T>,
  stepMs = 1,
  limitMs = 3_600_000,
): Promise<T> {
  let done = false;
  const tracked = promise.finally(() => {
    done = true;
  });
  tracked.catch(() => {});
  await flush();
  for (let elapsed = 0; !done && elapsed < limitMs; elapsed += stepMs) {
    clock.tick(stepMs);
    await flush();
  }
  if (!done) throw new Error(`settleSimulated: still pending after ${limitMs} ms`);
  return tracked;
}

/** What the issuer does. */
export interface IssuerOptions {
  /** Simulated time between the request and the answer (success or failure). */
  readonly latencyMs: number;
  /** Lifetime of an issued token, from the request instant. */
  readonly lifetimeMs: number;
  /** Whether a request starting at `at` (epoch ms) fails. */
  readonly failsAt?: (at: number) => boolean;
}

/**
 * The token endpoint every contender mints from: answers after `latencyMs` on the global
 * (possibly faked) `setTimeout`, records every request's instant, and honours an abort signal
 * as an HTTP client would. Token values are unique, so a served value tells which token it was.
 */
export class Issuer {
  /** Instants (epoch ms) of every request that reached the issuer. */
  readonly requests: number[] = [];
  readonly #options: IssuerOptions;
  readonly #expiry = new Map<string, number>();

  constructor(options: IssuerOptions) {
    this.#options = options;
  }

  /** The expiry of an issued token value, if it was issued here. */
  expiresAt(value: string): number | undefined {
    return this.#expiry.get(value);
  }

  readonly mint = (signal?: AbortSignal): Promise<Token> => {
    const startedAt = Date.now();
    this.requests.push(startedAt);
    const { latencyMs, lifetimeMs, failsAt } = this.#options;
    const fails = failsAt?.(startedAt) === true;
    const value = `token-${this.requests.length}`;
    return new Promise<Token>((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      const answer = (): void => {
        signal?.removeEventListener('abort', onAbort);
        if (fails) {
          reject(new Error('issuer: 503 Service Unavailable'));
          return;
        }
        const token = { value, expiresAt: startedAt + lifetimeMs };
        this.#expiry.set(value, token.expiresAt);
        resolve(token);
      };
      const timer = latencyMs > 0 ? setTimeout(answer, latencyMs) : undefined;
      const onAbort = (): void => {
        if (timer !== undefined) clearTimeout(timer);
        reject(signal?.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      if (timer === undefined) queueMicrotask(answer);
    });
  };
}
