/**
 * `p-memoize` with an `expiry-map` cache, as p-memoize's readme shows for expiring results:
 * - `cache: new ExpiryMap(lifetimeMs)`: the token is dropped `maxAge` after it was stored
 *   (maxAge = the token lifetime; expiry-map removes it with a timer, so it reads `Date.now`
 *   and the global timers: fake timers drive it in the simulated scenarios);
 * - concurrent callers share the pending promise (p-memoize's `promiseCache`); rejections
 *   are not cached (its default).
 * No refresh ahead: the first caller after expiry waits for the mint. No signal support.
 * Invalidation is `pMemoizeClear` (drops the cache).
 */

import ExpiryMap from 'expiry-map';
import pMemoize, { pMemoizeClear } from 'p-memoize';
import type { ContenderAdapter, Token } from '../contender.js';

export const pMemoizeExpiryMap: ContenderAdapter = {
  id: 'p-memoize',
  label: 'p-memoize + expiry-map',
  clock: 'globals',
  signals: false,
  tokenAwareInvalidate: false,
  create({ mint, lifetimeMs }) {
    const cache = new ExpiryMap<string, Token>(lifetimeMs);
    const memoized = pMemoize((_key: string) => mint(), { cache });
    return {
      get: () => memoized('token'),
      valueOf: (result) => (result as Token).value,
      invalidate: () => pMemoizeClear(memoized),
      close: () => cache.clear(),
    };
  },
};
