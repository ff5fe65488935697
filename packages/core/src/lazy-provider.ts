/**
 * A refreshing provider built synchronously, for code that must hand out a credential source
 * before anything can be awaited (an SDK client's `credentials:` option, a module-level
 * constant).
 */

import {
  buildRefreshingProvider,
  type RefreshingProvider,
  type RefreshingProviderOptions,
} from './refreshing-provider.js';

/** Options of {@link createLazyProvider}: those of `createRefreshingProvider` but `lazy` and `signal`. */
export type LazyProviderOptions<T> = Omit<RefreshingProviderOptions<T>, 'lazy' | 'signal'>;

/**
 * Builds a refreshing provider without minting and without awaiting anything: the same
 * provider as `createRefreshingProvider({ ...options, lazy: true })`, returned directly
 * instead of in a promise. The first `get` mints (reason `'initial'`), so a misconfigured
 * mint fails there rather than here.
 *
 * @throws {InvalidOptionError} `SLUICE_INVALID_OPTION` naming the bad option.
 * @example
 * ```ts
 * import { createLazyProvider } from '@sluice/core';
 * declare function fetchKey(signal: AbortSignal): Promise<{ key: string; ttlMs: number }>;
 * const keys = createLazyProvider({
 *   mint: async ({ signal }) => {
 *     const { key, ttlMs } = await fetchKey(signal);
 *     return { value: key, expiresAt: Date.now() + ttlMs };
 *   },
 * });
 * export const currentKey = () => keys.get();
 * ```
 */
export function createLazyProvider<T>(options: LazyProviderOptions<T>): RefreshingProvider<T> {
  return buildRefreshingProvider(options);
}
