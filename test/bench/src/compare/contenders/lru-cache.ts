/**
 * `lru-cache` `fetch()` as a stale-while-revalidate token cache, configured as its docs
 * recommend for that (`allowStale`, `allowStaleOnFetchRejection`, `ignoreFetchAbort` with
 * `allowStaleOnFetchAbort`, a `fetchMethod` that does not forward the abort signal):
 * - `max: 1`, one key;
 * - `ttl`: set per entry from the fetched token to 80% of its remaining lifetime (the docs'
 *   "update the TTL from the fetched value" pattern), so "stale" means "due for refresh" as
 *   in Sluice; the token itself stays valid for the last 20%;
 * - `allowStale: true`: a stale entry is served while one background fetch runs;
 * - `allowStaleOnFetchRejection: true`: a failed refresh keeps serving the stale value;
 * - `ignoreFetchAbort` + `allowStaleOnFetchAbort`: a caller's abort does not discard the fetch;
 * - `perf: { now }` when a clock is injected (its `ttlResolution` cache of the clock is kept at
 *   the default 1 ms).
 * lru-cache does not know a token expires: with `allowStale` it serves the stale entry even
 * after the token's own expiry (counted as "served expired" in the outage), and a fetch that
 * fails with nothing stale resolves to `undefined`. Invalidation is `delete(key)`.
 */

import { LRUCache } from 'lru-cache';
import type { ContenderAdapter, Token } from '../contender.js';

const KEY = 'token';
const REFRESH_AT = 0.8;

export const lruCache: ContenderAdapter = {
  id: 'lru-cache',
  label: 'lru-cache fetch()',
  clock: 'injected',
  signals: true,
  tokenAwareInvalidate: false,
  create({ mint, now }) {
    const clock = now ?? Date.now;
    const cache = new LRUCache<string, Token>({
      max: 1,
      ttl: 1, // replaced per entry by the fetchMethod
      allowStale: true,
      allowStaleOnFetchRejection: true,
      ignoreFetchAbort: true,
      allowStaleOnFetchAbort: true,
      ...(now === undefined ? {} : { perf: { now } }),
      fetchMethod: async (_key, _stale, { options }) => {
        const token = await mint();
        options.ttl = Math.max(1, Math.floor((token.expiresAt - clock()) * REFRESH_AT));
        return token;
      },
    });
    return {
      get: (signal) => (signal === undefined ? cache.fetch(KEY) : cache.fetch(KEY, { signal })),
      valueOf: (result) => (result as Token | undefined)?.value,
      invalidate: () => {
        cache.delete(KEY);
      },
      close: () => cache.clear(),
    };
  },
};
