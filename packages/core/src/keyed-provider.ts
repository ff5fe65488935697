/**
 * A keyed provider: one refreshing provider per key (a token per tenant, a certificate per
 * hostname), created lazily, bounded by `maxKeys` with least-recently-used eviction and an
 * optional idle time-to-live. Every key gets the whole policy of the single provider.
 */

import type { KeyedProvider, KeyedProviderOptions } from './contracts/keyed.js';
import { InvalidOptionError } from './errors.js';
import { KeyedCells } from './internal/keyed-cells.js';
import { MAX_TIMER_MS } from './internal/timers.js';
import { resolvePolicy } from './policy-options.js';

export type {
  KeyedMint,
  KeyedProvider,
  KeyedProviderOptions,
  KeyedSnapshot,
  Sweep,
  SweepOptions,
} from './contracts/keyed.js';

/**
 * Creates a keyed provider: a refreshing provider per key, created lazily on first use,
 * bounded by `maxKeys` (least recently used dropped first) and optionally `idleTtlMs`.
 * Every key has the full policy: due point with jitter, single-flight per key, the mint's
 * result or error to every waiter of that key, per-caller signals, the refresh-loop guard.
 *
 * @throws {InvalidOptionError} `SLUICE_INVALID_OPTION` naming the bad option.
 * @example
 * ```ts
 * const tokens = createKeyedProvider<string, string>({
 *   mint: async (audience, { signal }) => fetchToken(audience, signal),
 *   maxKeys: 1_000,
 * });
 * const token = await tokens.get('https://billing.example');
 * ```
 */
export function createKeyedProvider<K, T>(
  options: KeyedProviderOptions<K, T>,
): KeyedProvider<K, T> {
  const policy = resolvePolicy(options);
  const { mint, keyOf, maxKeys = 10_000, idleTtlMs, breakerScope = 'per-key' } = options;
  if (typeof mint !== 'function')
    throw new InvalidOptionError('mint', 'a function (key, context) => credential', mint);
  if (keyOf !== undefined && typeof keyOf !== 'function')
    throw new InvalidOptionError('keyOf', 'a function', keyOf);
  if (!Number.isInteger(maxKeys) || maxKeys < 1 || maxKeys > 100_000_000) {
    throw new InvalidOptionError('maxKeys', 'an integer from 1 to 100000000', maxKeys);
  }
  if (
    idleTtlMs !== undefined &&
    (!Number.isInteger(idleTtlMs) || idleTtlMs < 1 || idleTtlMs > MAX_TIMER_MS)
  ) {
    throw new InvalidOptionError(
      'idleTtlMs',
      `an integer number of milliseconds from 1 to ${MAX_TIMER_MS}`,
      idleTtlMs,
    );
  }
  if (breakerScope !== 'per-key' && breakerScope !== 'shared') {
    throw new InvalidOptionError('breakerScope', "'per-key' or 'shared'", breakerScope);
  }
  return new KeyedCells<K, T>(
    policy,
    { mint, ...(keyOf === undefined ? {} : { keyOf }), breakerScope },
    maxKeys,
    idleTtlMs,
  );
}
