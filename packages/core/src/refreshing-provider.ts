/**
 * The refreshing provider: a cached credential kept fresh by the refresh policy. This file
 * holds its options and factory; the contract (callers, mint, snapshot) is
 * `contracts/provider.ts` and the implementation `internal/provider-cell.ts`.
 */

import type { Mint, RefreshingProvider } from './contracts/provider.js';
import { InvalidOptionError } from './errors.js';
import { checkSignal } from './internal/call-options.js';
import { createBreakerBox, ProviderCell } from './internal/provider-cell.js';
import { type RefreshPolicyOptions, resolvePolicy } from './policy-options.js';
import { raceSignal } from './race-signal.js';

export type {
  CallOptions,
  Mint,
  MintContext,
  ProviderSnapshot,
  RefreshingProvider,
} from './contracts/provider.js';

/** Options of {@link createRefreshingProvider}. */
export interface RefreshingProviderOptions<T> extends RefreshPolicyOptions {
  /** Obtains a new credential. Required. */
  mint: Mint<T>;
  /**
   * Skip the eager first mint: the first `get` mints instead (reason `'initial'`).
   * @default false
   */
  lazy?: boolean;
  /**
   * Cancels the eager first mint: when it aborts before that mint settles, the factory
   * rejects with `signal.reason` and the provider is closed (which aborts the mint's own
   * signal). Ignored with `lazy`, and once the factory has resolved.
   * @default none
   */
  signal?: AbortSignal;
}

/**
 * Creates a provider that caches a credential and keeps it fresh: refreshed in the
 * background from `refreshAt` of its lifetime (pulled earlier by jitter, at least
 * `refreshFloorMs` before expiry), one shared mint for all callers that must wait, and a
 * circuit breaker around the mint. Mints once eagerly (unless `lazy`), so a provider that
 * cannot mint fails here.
 *
 * @throws {InvalidOptionError} `SLUICE_INVALID_OPTION` naming the bad option.
 * @throws the first mint's error (the provider is closed then).
 * @example
 * ```ts
 * const tokens = await createRefreshingProvider({
 *   name: 'billing-api',
 *   mint: async ({ signal }) => {
 *     const res = await fetch(tokenUrl, { method: 'POST', body, signal });
 *     const json = await res.json();
 *     return credentialFromExpiresIn(json.access_token, json.expires_in);
 *   },
 * });
 * const token = await tokens.get();
 * ```
 */
export async function createRefreshingProvider<T>(
  options: RefreshingProviderOptions<T>,
): Promise<RefreshingProvider<T>> {
  const provider = buildRefreshingProvider(options);
  const signal = checkSignal(options.signal, 'signal');
  if (options.lazy === true) return provider;
  try {
    await raceSignal(provider.start(), signal);
  } catch (error) {
    provider.close();
    throw error;
  }
  return provider;
}

/**
 * Validates options and builds the provider without minting. @internal
 */
export function buildRefreshingProvider<T>(options: RefreshingProviderOptions<T>): ProviderCell<T> {
  const policy = resolvePolicy(options);
  const { mint, lazy } = options;
  if (typeof mint !== 'function')
    throw new InvalidOptionError('mint', 'a function (context) => credential', mint);
  if (lazy !== undefined && typeof lazy !== 'boolean')
    throw new InvalidOptionError('lazy', 'a boolean', lazy);
  return new ProviderCell<T>(policy, mint, createBreakerBox());
}
