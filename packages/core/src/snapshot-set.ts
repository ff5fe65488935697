/**
 * A set of providers (single or keyed) whose snapshots a metrics backend reads together, once
 * per scrape. Built for adapters such as `@sluice/prometheus` and `@sluice/opentelemetry`,
 * whose gauges are read from `snapshot()` in observable callbacks rather than kept from hooks.
 */

import { InvalidOptionError } from './errors.js';
import type { KeyedProvider } from './keyed-provider.js';
import type { ProviderSnapshot, RefreshingProvider } from './refreshing-provider.js';

/** A provider whose state can be read: a single provider (`snapshot()`) or a keyed one (`snapshots()`). */
export type ObservableProvider =
  | Pick<RefreshingProvider<unknown>, 'snapshot'>
  | Pick<KeyedProvider<never, unknown>, 'snapshots'>;

/** One provider's (or one key's) snapshot, as read by {@link SnapshotSet.read}. */
export interface ObservedSnapshot {
  /** The provider's (or key's) diagnostics at this pass. */
  readonly snapshot: ProviderSnapshot;
  /** The key, for an entry of a keyed provider; `undefined` for a single provider. */
  readonly key: string | undefined;
  /** The observed provider the snapshot came from. */
  readonly provider: ObservableProvider;
}

/** The providers a metrics backend reads. Create one with {@link createSnapshotSet}. */
export interface SnapshotSet {
  /**
   * Starts reading `provider` (idempotent).
   * @param option - how to name `provider` in the error when it is not a provider.
   * @returns a function that stops reading it.
   * @throws {InvalidOptionError} `SLUICE_INVALID_OPTION` when `provider` has neither
   *   `snapshot()` nor `snapshots()`.
   */
  add(provider: ObservableProvider, option?: string): () => void;
  /** Stops reading every provider. */
  clear(): void;
  /** The providers read now. */
  readonly providers: ReadonlySet<ObservableProvider>;
  /**
   * Every provider's and every key's snapshot, taken at most once per synchronous pass (the
   * gauges of one scrape all see the same snapshots; the next pass reads afresh). A provider
   * whose snapshot throws is left out of that pass; a closed single provider is forgotten.
   */
  read(): readonly ObservedSnapshot[];
}

/**
 * A new, empty {@link SnapshotSet}.
 *
 * @example
 * ```ts
 * const observed = createSnapshotSet();
 * const stop = observed.add(tokens);
 * meter.createObservableGauge('tokens.remaining').addCallback((result) => {
 *   for (const { snapshot } of observed.read()) {
 *     if (snapshot.expiresAt !== null) result.observe((snapshot.expiresAt - Date.now()) / 1000);
 *   }
 * });
 * ```
 */
export function createSnapshotSet(): SnapshotSet {
  const providers = new Set<ObservableProvider>();
  let cached: ObservedSnapshot[] | undefined;
  return {
    add(provider, option = 'provider') {
      if (!isObservable(provider)) {
        throw new InvalidOptionError(
          option,
          'a Sluice provider (with snapshot()) or keyed provider (with snapshots())',
          provider,
        );
      }
      providers.add(provider);
      cached = undefined;
      return () => {
        providers.delete(provider);
        cached = undefined;
      };
    },
    clear() {
      providers.clear();
      cached = undefined;
    },
    get providers() {
      return providers;
    },
    read() {
      if (cached !== undefined) return cached;
      const read: ObservedSnapshot[] = [];
      for (const provider of [...providers]) {
        try {
          if ('snapshots' in provider && typeof provider.snapshots === 'function') {
            for (const snapshot of provider.snapshots()) {
              read.push({ snapshot, key: snapshot.key, provider });
            }
          } else {
            const snapshot = (provider as Pick<RefreshingProvider<unknown>, 'snapshot'>).snapshot();
            if (snapshot.status === 'closed') providers.delete(provider);
            else read.push({ snapshot, key: undefined, provider });
          }
        } catch {
          // Telemetry never breaks a scrape: this provider is left out of it.
        }
      }
      cached = read;
      queueMicrotask(() => {
        if (cached === read) cached = undefined;
      });
      return read;
    },
  };
}

function isObservable(value: unknown): value is ObservableProvider {
  if (typeof value !== 'object' || value === null) return false;
  try {
    const candidate = value as { snapshot?: unknown; snapshots?: unknown };
    return typeof candidate.snapshots === 'function' || typeof candidate.snapshot === 'function';
  } catch {
    return false;
  }
}
