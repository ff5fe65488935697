/**
 * The fleet protocol over any {@link CoordinationStore}: wraps a provider's mint so that, of
 * all the instances sharing a store, one mints per credential lifetime and the others adopt
 * its result (or its failure). Each call of a wrapped mint:
 *
 * 1. `loadOrLease` (one atomic store operation): adopt a stored credential that is not
 *    excluded, expired or due (a proactive refresh takes back the one it holds while the
 *    fleet's due point has not come); honour a running failure window; wait for another's
 *    lease; or take the lease. Every credential handed out carries the fleet's due point as
 *    its `refreshAfter`.
 * 2. Leader: mint (renewing the lease meanwhile, until the provider aborts the mint), then
 *    compare-and-set store, release, notify; or, on failure, record the failure window,
 *    release, notify.
 * 3. Follower: wait for the notification, with a jittered poll as backstop and a wake just
 *    after the lease lapses, bounded by half the provider's `mintTimeoutMs` (or `leaseMs +
 *    mintTimeoutMs` when set); then read again (and take the lease if it lapsed).
 * 4. Whenever the store is away, slow or refusing: mint locally (the provider's own policy),
 *    report it, and offer the credential to the store once it is back.
 */

import {
  checkCredentialCodec,
  checkKnownKeys,
  InvalidOptionError,
  type KeyedMint,
  type Mint,
  mintTraitsOf,
} from '@sluice/core';
import { type Codec, jsonCodec } from './codec.js';
import { UnshareableMintError } from './errors.js';
import { runCall } from './fleet-call.js';
import { FleetShared, randomId } from './fleet-shared.js';
import {
  COORDINATION_OPTION_KEYS,
  type CoordinationOptions,
  type ResolvedCoordination,
  resolveCoordination,
} from './options.js';
import { flushPending } from './pending-stores.js';
import { checkPart, keyedRef, singleRef } from './ref.js';
import type { FleetEventBase, StoreState } from './reporter.js';
import type { CoordinationStore } from './store.js';

/** Options of {@link FleetCoordinator.wrap}. */
export interface WrapOptions<T> {
  /**
   * How the credential's value is stored. Precedence: this option, then the codec the mint
   * advertises (`withMintTraits(mint, { codec })` from `@sluice/core`), then the
   * coordinator's `codec`, then `jsonCodec`.
   * @default the mint's codec, else the coordinator's `codec`, else `jsonCodec`
   */
  codec?: Codec<NoInfer<T>>;
}

/** Options of {@link FleetCoordinator.wrapKeyed}. */
export interface WrapKeyedOptions<K, T> extends WrapOptions<T> {
  /**
   * The key's string form: pass the keyed provider's own `keyOf`. Two keys with the same
   * string share one fleet credential.
   * @default keys must be strings
   */
  keyOf?: (key: K) => string;
}

/** Plain diagnostics of a coordinator. */
export interface CoordinatorSnapshot {
  /** This instance's id in failure records. */
  readonly instanceId: string;
  /** The store as the store breaker sees it. */
  readonly store: StoreState;
  /** Whether `close()` was called. */
  readonly closed: boolean;
  /** Followers waiting for another instance's mint now. */
  readonly waiting: number;
  /** Leases this instance holds while its mints run. */
  readonly leasesHeld: number;
  /** Timers of the coordinator still pending (0 after `close()`). */
  readonly timers: number;
  /** Credentials this instance remembers ids and failure windows for. */
  readonly tracked: number;
}

/** Makes a fleet of Sluice providers mint once per credential lifetime. */
export interface FleetCoordinator {
  /**
   * Wraps a provider's mint: the returned mint goes to `createRefreshingProvider`. Each
   * `name` is one fleet-wide credential: every instance wrapping the same name shares it.
   * The mint's traits (`withMintTraits`) are honoured: its codec stores the values, and a
   * mint marked `unshareable` is refused.
   * @throws {InvalidOptionError} `SLUICE_INVALID_OPTION` for an empty or ill-formed name (a
   *   lone UTF-16 surrogate), a mint that is not a function or a bad codec.
   * @throws {UnshareableMintError} `SLUICE_FLEET_UNSHAREABLE_MINT` for a mint whose
   *   credentials cannot be shared (DPoP-bound tokens, for instance).
   */
  wrap<T>(name: string, mint: Mint<T>, options?: WrapOptions<T>): Mint<T>;
  /**
   * Wraps a keyed provider's mint (`createKeyedProvider`, `@sluice/tls`): each key is its own
   * fleet-wide credential. Mint traits are honoured as in {@link wrap}.
   * @throws {InvalidOptionError} as {@link wrap}, and for a `keyOf` that is not a function.
   * @throws {UnshareableMintError} as {@link wrap}.
   */
  wrapKeyed<K, T>(
    name: string,
    mint: KeyedMint<K, T>,
    options?: WrapKeyedOptions<K, T>,
  ): KeyedMint<K, T>;
  /** Diagnostics; never a credential, a token or a key. */
  snapshot(): CoordinatorSnapshot;
  /**
   * Stops every timer, wait and subscription the coordinator started and releases the leases
   * it holds; the caller's store connection stays open. Wrapped mints called afterwards mint
   * locally (reported as a `closed` fallback). Idempotent.
   */
  close(): Promise<void>;
  /** Same as {@link close}. */
  [Symbol.asyncDispose](): Promise<void>;
}

/** Options of {@link createFleetCoordinator}. */
export interface FleetCoordinatorOptions extends CoordinationOptions {
  /** The coordination store. Required. */
  store: CoordinationStore;
  /**
   * Bound into the associated data of every encrypted value, so a value sealed for one
   * namespace never opens in another. `@sluice/redis` passes its `keyPrefix`.
   * @default ''
   */
  namespace?: string;
}

/**
 * Creates a fleet coordinator over any {@link CoordinationStore}. `createRedisCoordinator` is
 * this with the Redis store; use this one to plug in another store.
 *
 * @throws {InvalidOptionError} `SLUICE_INVALID_OPTION` naming the bad option.
 * @example
 * ```ts
 * const coordinator = createFleetCoordinator({ store: myStore, leaseMs: 5_000 });
 * const provider = await createRefreshingProvider({ mint: coordinator.wrap('api', mint) });
 * ```
 */
export function createFleetCoordinator(options: FleetCoordinatorOptions): FleetCoordinator {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidOptionError('options', 'an object', options);
  }
  checkKnownKeys(options, [...COORDINATION_OPTION_KEYS, 'store', 'namespace'], '');
  const { store, namespace = '' } = options;
  checkStore(store);
  if (typeof namespace !== 'string')
    throw new InvalidOptionError('namespace', 'a string', namespace);
  return new Coordinator(store, resolveCoordination(options, namespace, randomId));
}

class Coordinator implements FleetCoordinator {
  readonly #shared: FleetShared;
  readonly #unwatch: () => void;
  #closing: Promise<void> | undefined;

  constructor(store: CoordinationStore, config: ResolvedCoordination) {
    const shared = new FleetShared(store, config);
    this.#shared = shared;
    shared.guard.onRecovered = () => flushPending(shared);
    this.#unwatch = store.watch({
      onChange: (ref, kind) => {
        // Another instance stored a fresh credential: a failure window honoured here is over.
        if (kind === 'stored') {
          const state = shared.states.peek(ref);
          if (state !== undefined) state.failure = undefined;
        }
        shared.waiters.notify(ref);
      },
      onResync: () => {
        shared.guard.resync();
        shared.waiters.resync();
        flushPending(shared);
      },
    });
  }

  wrap<T>(name: string, mint: Mint<T>, options: WrapOptions<T> = {}): Mint<T> {
    const ref = singleRef(name);
    if (typeof mint !== 'function') throw new InvalidOptionError('mint', 'a function', mint);
    checkKnownKeys(options, ['codec'], 'wrap');
    const codec = this.#codecOf<T>(name, mint, options);
    const label: FleetEventBase = Object.freeze({ name });
    const shared = this.#shared;
    return (context) => runCall(shared, { ref, label, codec, context, mint });
  }

  wrapKeyed<K, T>(
    name: string,
    mint: KeyedMint<K, T>,
    options: WrapKeyedOptions<K, T> = {},
  ): KeyedMint<K, T> {
    checkPart(name, 'name');
    if (typeof mint !== 'function') throw new InvalidOptionError('mint', 'a function', mint);
    checkKnownKeys(options, ['codec', 'keyOf'], 'wrapKeyed');
    const { keyOf } = options;
    if (keyOf !== undefined && typeof keyOf !== 'function') {
      throw new InvalidOptionError('keyOf', 'a function', keyOf);
    }
    const codec = this.#codecOf<T>(name, mint, options);
    const shared = this.#shared;
    return (key, context) => {
      let ref: string;
      let id: unknown;
      try {
        id = keyOf === undefined ? key : keyOf(key);
        if (typeof id !== 'string') {
          throw new InvalidOptionError(
            keyOf === undefined ? 'key' : 'keyOf(key)',
            'a string (pass the provider’s keyOf to wrapKeyed)',
            id,
          );
        }
        ref = keyedRef(name, id);
      } catch (error) {
        return Promise.reject(error);
      }
      const label: FleetEventBase = { name, key: id as string };
      return runCall(shared, { ref, label, codec, context, mint: (ctx) => mint(key, ctx) });
    };
  }

  snapshot(): CoordinatorSnapshot {
    const shared = this.#shared;
    return {
      instanceId: shared.config.instanceId,
      store: shared.guard.state,
      closed: shared.closed,
      waiting: shared.waiters.size,
      leasesHeld: shared.leases.size,
      timers: shared.timers.size,
      tracked: shared.states.size,
    };
  }

  close(): Promise<void> {
    const shared = this.#shared;
    this.#closing ??= (async () => {
      shared.closed = true;
      this.#unwatch();
      shared.waiters.close();
      const held = [...shared.leases];
      for (const [token, lease] of held) {
        lease.stop();
        shared.releaseQuietly(lease.ref, token);
      }
      // Lease grants still in flight are released as they land, and releases are awaited:
      // close() leaves no lease in the store. Bounded by two command timeouts.
      await settleInflight(shared, 2 * shared.config.commandTimeoutMs);
      await shared.store.close();
      shared.timers.clearAll();
      shared.states.clear();
    })();
    return this.#closing;
  }

  declare [Symbol.asyncDispose]: () => Promise<void>;

  /** The codec of a wrapped mint (option, mint trait, coordinator, JSON); refuses unshareable mints. */
  #codecOf<T>(name: string, mint: unknown, options: WrapOptions<T>): Codec<T> {
    if (typeof options !== 'object' || options === null) {
      throw new InvalidOptionError('options', 'an object', options);
    }
    const traits = mintTraitsOf<T>(mint);
    if (traits?.unshareable !== undefined) throw new UnshareableMintError(name, traits.unshareable);
    if (options.codec !== undefined) checkCredentialCodec(options.codec, 'codec');
    return (options.codec ?? traits?.codec ?? this.#shared.config.codec ?? jsonCodec) as Codec<T>;
  }
}

Object.defineProperty(
  Coordinator.prototype,
  (Symbol as { asyncDispose?: symbol }).asyncDispose ?? Symbol.for('Symbol.asyncDispose'),
  {
    value(this: Coordinator) {
      return this.close();
    },
  },
);

/** Waits until no lease-bearing operation is in flight, at most `boundMs`. */
async function settleInflight(shared: FleetShared, boundMs: number): Promise<void> {
  if (shared.inflight.size === 0) return;
  let timer: unknown;
  let timedOut = false;
  const bound = new Promise<void>((resolve) => {
    timer = shared.timers.start(() => {
      timedOut = true;
      resolve();
    }, boundMs);
  });
  while (shared.inflight.size > 0 && !timedOut) {
    await Promise.race([Promise.allSettled([...shared.inflight]), bound]);
  }
  shared.timers.clear(timer);
}

function checkStore(store: unknown): asserts store is CoordinationStore {
  const methods = [
    'loadOrLease',
    'renew',
    'store',
    'fail',
    'release',
    'time',
    'watch',
    'connection',
    'whenUp',
    'close',
  ];
  if (typeof store !== 'object' || store === null) {
    throw new InvalidOptionError('store', 'a CoordinationStore', store);
  }
  for (const method of methods) {
    if (typeof (store as Record<string, unknown>)[method] !== 'function') {
      throw new InvalidOptionError(
        `store.${method}`,
        'a function',
        (store as Record<string, unknown>)[method],
      );
    }
  }
}
