/**
 * The providers a reporter reads gauges from: single and keyed providers, read through their
 * public `snapshot()` / `snapshots()` once per scrape.
 */

import {
  InvalidOptionError,
  type KeyedProvider,
  type ProviderSnapshot,
  type RefreshingProvider,
} from '@sluice/core';

/** A provider whose state a reporter can read: a single or a keyed provider. */
export type ObservableProvider =
  | Pick<RefreshingProvider<unknown>, 'snapshot'>
  | Pick<KeyedProvider<never, unknown>, 'snapshots'>;

/** One provider's (or one key's) state at a scrape. @internal */
export interface ObservedState {
  readonly snapshot: ProviderSnapshot;
  /** The key, for a keyed provider's entry. */
  readonly key: string | undefined;
  /** The observed provider the entry came from (keyed providers report no entry when empty). */
  readonly provider: object;
}

/**
 * The set of observed providers and a per-scrape cache of their snapshots: every gauge of one
 * scrape reads the same snapshots, taken once. A provider whose `snapshot()` throws (a clock
 * that throws, say) is left out of that scrape; a closed single provider is forgotten.
 * @internal
 */
export class ObservedProviders {
  readonly #providers = new Set<ObservableProvider>();
  #cached: ObservedState[] | undefined;

  /** Starts observing `provider`; idempotent. @returns a function that stops observing it. */
  add(provider: ObservableProvider, option: string): () => void {
    if (!isObservable(provider)) {
      throw new InvalidOptionError(
        option,
        'a Sluice provider (with snapshot()) or keyed provider (with snapshots())',
        provider,
      );
    }
    this.#providers.add(provider);
    this.#cached = undefined;
    return () => {
      this.#providers.delete(provider);
      this.#cached = undefined;
    };
  }

  /** Forgets every provider. */
  clear(): void {
    this.#providers.clear();
    this.#cached = undefined;
  }

  /** The providers observed now. */
  get providers(): ReadonlySet<ObservableProvider> {
    return this.#providers;
  }

  /** Every provider's and key's snapshot, taken at most once per synchronous scrape. */
  states(): readonly ObservedState[] {
    if (this.#cached !== undefined) return this.#cached;
    const states: ObservedState[] = [];
    for (const provider of [...this.#providers]) {
      try {
        if ('snapshots' in provider && typeof provider.snapshots === 'function') {
          for (const snapshot of provider.snapshots()) {
            states.push({ snapshot, key: snapshot.key, provider });
          }
        } else {
          const snapshot = (provider as Pick<RefreshingProvider<unknown>, 'snapshot'>).snapshot();
          if (snapshot.status === 'closed') this.#providers.delete(provider);
          else states.push({ snapshot, key: undefined, provider });
        }
      } catch {
        // Telemetry never breaks a scrape: this provider is left out of it.
      }
    }
    this.#cached = states;
    // Gauges of one scrape collect in one synchronous pass; the next scrape reads afresh.
    queueMicrotask(() => {
      if (this.#cached === states) this.#cached = undefined;
    });
    return states;
  }
}

function isObservable(value: unknown): value is ObservableProvider {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as { snapshot?: unknown; snapshots?: unknown };
  return typeof candidate.snapshots === 'function' || typeof candidate.snapshot === 'function';
}
