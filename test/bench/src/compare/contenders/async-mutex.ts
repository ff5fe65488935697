/**
 * The hand-written cache guarded by `async-mutex` instead of a shared promise: a hit is served
 * outside the lock (double-checked locking, not a lock per call); a miss takes the `Mutex`,
 * checks again and mints inside `runExclusive`, so waiters queue on the lock and each one
 * re-checks the cache when its turn comes.
 * - skew: 60 s, capped at 20% of the token lifetime, as the hand-written cache;
 * - `now` when injected, else `Date.now()`;
 * - invalidation drops the cache; no signal support (`runExclusive` takes none).
 */

import { Mutex } from 'async-mutex';
import { type ContenderAdapter, cappedWindowMs } from '../contender.js';

const SKEW_MS = 60_000;

export const asyncMutex: ContenderAdapter = {
  id: 'async-mutex',
  label: 'hand-written + async-mutex',
  clock: 'injected',
  signals: false,
  tokenAwareInvalidate: false,
  create({ mint, now, lifetimeMs }) {
    const skewMs = cappedWindowMs(SKEW_MS, lifetimeMs);
    const clock = now ?? Date.now;
    const mutex = new Mutex();
    let cached: Promise<string> | undefined;
    let refreshAt = 0;
    const locked = (): Promise<string> =>
      mutex.runExclusive(async () => {
        if (cached !== undefined && clock() < refreshAt) return cached;
        const token = await mint();
        cached = Promise.resolve(token.value);
        refreshAt = token.expiresAt - skewMs;
        return token.value;
      });
    return {
      get: () => (cached !== undefined && clock() < refreshAt ? cached : locked()),
      valueOf: (result) => result as string,
      invalidate: () => {
        cached = undefined;
      },
      close: () => {
        cached = undefined;
      },
    };
  },
};
