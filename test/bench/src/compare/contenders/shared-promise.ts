/**
 * A hand-written "shared promise + expiry" cache, what most services write: the cached token
 * is served until `expiresAt - skew`; then the first caller starts a mint and every caller
 * awaits the same promise; a failure clears the promise so the next caller retries.
 * - skew: 60 s, capped at 20% of the token lifetime (see `cappedWindowMs`);
 * - `now` when injected, else `Date.now()`;
 * - not `async`: a hit returns one cached resolved promise (the cheapest honest version);
 * - invalidation drops the cache; there is no signal support.
 */

import { type ContenderAdapter, cappedWindowMs } from '../contender.js';

const SKEW_MS = 60_000;

export const sharedPromise: ContenderAdapter = {
  id: 'shared-promise',
  label: 'hand-written shared promise',
  clock: 'injected',
  signals: false,
  tokenAwareInvalidate: false,
  create({ mint, now, lifetimeMs }) {
    const skewMs = cappedWindowMs(SKEW_MS, lifetimeMs);
    const clock = now ?? Date.now;
    let cached: Promise<string> | undefined;
    let refreshAt = 0;
    let pending: Promise<string> | undefined;
    const start = (): Promise<string> => {
      const started = mint().then(
        (token) => {
          if (pending === started) pending = undefined;
          cached = started;
          refreshAt = token.expiresAt - skewMs;
          return token.value;
        },
        (error: unknown) => {
          if (pending === started) pending = undefined;
          throw error;
        },
      );
      pending = started;
      return started;
    };
    return {
      get: () => {
        if (cached !== undefined && clock() < refreshAt) return cached;
        return pending ?? start();
      },
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
