/**
 * The fleet protocol over any {@link CoordinationStore}: wraps a provider's mint so that, of
 * all the instances sharing a store, one mints per credential lifetime and the others adopt
 * its result (or its failure). Each call of a wrapped mint:
 *
 * 1. `loadOrLease` (one atomic store operation): adopt a stored credential that is not
 *    excluded, expired or due; honour a running failure window; wait for another's lease; or
 *    take the lease.
 * 2. Leader: mint (renewing the lease meanwhile), then compare-and-set store, release, notify;
 *    or, on failure, record the failure window, release, notify.
 * 3. Follower: wait for the notification, with a jittered poll as backstop, bounded by
 *    `leaseMs + mintTimeoutMs`; then read again (and take the lease if it vanished).
 * 4. Whenever the store is away, slow or refusing: mint locally (the provider's own policy),
 *    report it, and offer the credential to the store once it is back.
 */

import {
  type Credential,
  errorCode,
  InvalidOptionError,
  type KeyedMint,
  type Mint,
  type MintContext,
  raceSignal,
} from '@sluice/core';
import { clampSample, pollDelayMs } from './backoff.js';
import {
  type ClockPin,
  fleetDueAt,
  localToStore,
  storeNowAtLeast,
  storeNowAtMost,
  storeToLocal,
} from './clock.js';
import { type Codec, jsonCodec } from './codec.js';
import {
  type CredentialState,
  CredentialStates,
  type HonouredFailure,
} from './credential-state.js';
import type { SealContext } from './encryption.js';
import {
  DecryptError,
  parseMintError,
  RelayedMintError,
  rebuildMintError,
  type SerializedMintError,
  serializeMintError,
} from './errors.js';
import {
  type CoordinationOptions,
  checkCodec,
  type ResolvedCoordination,
  resolveCoordination,
} from './options.js';
import { checkPart, keyedRef, singleRef } from './ref.js';
import type { FallbackReason, FleetEventBase, StoreState } from './reporter.js';
import type { CoordinationStore, FailureRecord, LeaseAnswer, StoredRecord } from './store.js';
import { StoreGuard } from './store-guard.js';
import { TimerSet } from './timer-set.js';
import { Waiters } from './waiters.js';
import { webCrypto } from './web-crypto.js';

/** Options of {@link FleetCoordinator.wrap}. */
export interface WrapOptions<T> {
  /**
   * How the credential's value is stored.
   * @default the coordinator's `codec`, else `jsonCodec`
   */
  codec?: Codec<T>;
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
   * @throws {InvalidOptionError} for an empty name, a mint that is not a function or a bad codec.
   */
  wrap<T>(name: string, mint: Mint<T>, options?: WrapOptions<T>): Mint<T>;
  /**
   * Wraps a keyed provider's mint (`createKeyedProvider`, `@sluice/tls`): each key is its own
   * fleet-wide credential.
   * @throws {InvalidOptionError} as {@link wrap}, and for a `keyOf` that is not a function.
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

interface Call<T> {
  readonly ref: string;
  readonly label: FleetEventBase;
  readonly codec: Codec<T>;
  readonly context: MintContext<T>;
  readonly mint: (context: MintContext<T>) => Promise<Credential<T>> | Credential<T>;
}

const noop = (): void => {};

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
  const { store, namespace = '' } = options;
  checkStore(store);
  if (typeof namespace !== 'string')
    throw new InvalidOptionError('namespace', 'a string', namespace);
  return new Coordinator(store, resolveCoordination(options, namespace, randomId));
}

class Coordinator implements FleetCoordinator {
  readonly #store: CoordinationStore;
  readonly #config: ResolvedCoordination;
  readonly #timers: TimerSet;
  readonly #guard: StoreGuard;
  readonly #waiters: Waiters;
  readonly #states = new CredentialStates();
  /** Stored ids of object values handed out (strings are remembered per credential). */
  readonly #objectIds = new WeakMap<object, string>();
  /** Leases held while mints run, by token. */
  readonly #leases = new Map<string, { readonly ref: string; stop(): void }>();
  readonly #unwatch: () => void;
  #lastPin: ClockPin | undefined;
  #closed = false;
  #closing: Promise<void> | undefined;

  constructor(store: CoordinationStore, config: ResolvedCoordination) {
    this.#store = store;
    this.#config = config;
    this.#timers = new TimerSet(config.timers);
    this.#guard = new StoreGuard(
      config.commandTimeoutMs,
      config.connectTimeoutMs,
      config.storeBreaker,
      config.reporter,
      this.#timers,
      store,
    );
    this.#guard.onRecovered = () => this.#flushPending();
    this.#waiters = new Waiters(this.#timers);
    this.#unwatch = store.watch({
      onChange: (ref, kind) => {
        // Another instance stored a fresh credential: a failure window honoured here is over.
        if (kind === 'stored') {
          const state = this.#states.peek(ref);
          if (state !== undefined) state.failure = undefined;
        }
        this.#waiters.notify(ref);
      },
      onResync: () => {
        this.#guard.resync();
        this.#waiters.resync();
        this.#flushPending();
      },
    });
  }

  wrap<T>(name: string, mint: Mint<T>, options: WrapOptions<T> = {}): Mint<T> {
    const ref = singleRef(name);
    if (typeof mint !== 'function') throw new InvalidOptionError('mint', 'a function', mint);
    const codec = this.#codecOf<T>(options);
    const label: FleetEventBase = Object.freeze({ name });
    return (context) => this.#run({ ref, label, codec, context, mint });
  }

  wrapKeyed<K, T>(
    name: string,
    mint: KeyedMint<K, T>,
    options: WrapKeyedOptions<K, T> = {},
  ): KeyedMint<K, T> {
    checkPart(name, 'name');
    if (typeof mint !== 'function') throw new InvalidOptionError('mint', 'a function', mint);
    const { keyOf } = options;
    if (keyOf !== undefined && typeof keyOf !== 'function') {
      throw new InvalidOptionError('keyOf', 'a function', keyOf);
    }
    const codec = this.#codecOf<T>(options);
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
      return this.#run({ ref, label, codec, context, mint: (ctx) => mint(key, ctx) });
    };
  }

  snapshot(): CoordinatorSnapshot {
    return {
      instanceId: this.#config.instanceId,
      store: this.#guard.state,
      closed: this.#closed,
      waiting: this.#waiters.size,
      leasesHeld: this.#leases.size,
      timers: this.#timers.size,
      tracked: this.#states.size,
    };
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#closed = true;
      this.#unwatch();
      this.#waiters.close();
      const held = [...this.#leases];
      for (const [, lease] of held) lease.stop();
      await Promise.allSettled(
        held.map(([token, lease]) =>
          this.#guard.run('release', () => this.#store.release(lease.ref, token)),
        ),
      );
      await this.#store.close();
      this.#timers.clearAll();
      this.#states.clear();
    })();
    return this.#closing;
  }

  declare [Symbol.asyncDispose]: () => Promise<void>;

  // ---------------------------------------------------------------- one call of a wrapped mint

  async #run<T>(call: Call<T>): Promise<Credential<T>> {
    const { context } = call;
    const config = this.#config;
    if (this.#closed) return this.#fallback(call, 'closed');
    if (this.#localNow() === undefined) return this.#fallback(call, 'invalid-clock');
    const state = this.#states.use(call.ref);
    const window = state.failure;
    if (window !== undefined) {
      const leftMs = window.untilMonotonic - performance.now();
      if (leftMs > 0) throw this.#relay(call, window, leftMs);
      state.failure = undefined;
    }
    const exclude = new Set<string>();
    const replaceable = new Set<string>();
    const previous = context.previous;
    const previousId = previous === undefined ? undefined : this.#idOf(state, previous.value);
    if (previousId !== undefined) {
      exclude.add(previousId);
      if (context.reason === 'invalidated') replaceable.add(previousId);
    }
    const unrecognised =
      previousId === undefined && context.reason === 'invalidated' ? previous : undefined;
    const startedAt = performance.now();
    let waitingSince: number | undefined;
    let polls = 0;
    for (;;) {
      if (context.signal.aborted) throw context.signal.reason;
      if (this.#closed) return this.#fallback(call, 'closed');
      const token = randomId();
      const sentAt = performance.now();
      let answer: LeaseAnswer;
      try {
        answer = await this.#loadOrLease(call, token, exclude);
      } catch (error) {
        if (context.signal.aborted) throw context.signal.reason;
        return this.#fallback(call, 'store-unavailable', error);
      }
      const pin = this.#pin(answer.now, sentAt);
      switch (answer.kind) {
        case 'value': {
          const adopted = await this.#adopt(call, state, answer.record, pin, unrecognised);
          if (adopted === undefined) {
            exclude.add(answer.record.id);
            replaceable.add(answer.record.id);
            continue;
          }
          config.reporter.onAdopted?.({
            ...call.label,
            reason: context.reason,
            waitedMs: Math.round(performance.now() - startedAt),
          });
          return adopted;
        }
        case 'failed': {
          const honoured = await this.#honour(call, answer.failure, pin);
          state.failure = honoured;
          throw this.#relay(call, honoured, honoured.untilMonotonic - performance.now());
        }
        case 'lease':
          return this.#lead(call, state, token, pin, answer.storedId, exclude, replaceable);
        case 'leased': {
          waitingSince ??= performance.now();
          const leftMs = waitingSince + config.leaseMs + config.mintTimeoutMs - performance.now();
          if (leftMs <= 0) return this.#fallback(call, 'wait-exceeded');
          const { initialDelayMs, maxDelayMs } = config.poll;
          const delay = pollDelayMs(polls++, initialDelayMs, maxDelayMs, this.#random(), leftMs);
          const by = await this.#waiters.wait(call.ref, delay, context.signal);
          if (by === 'closed') return this.#fallback(call, 'closed');
          config.reporter.onWoken?.({ ...call.label, by });
          continue;
        }
      }
    }
  }

  /** One `loadOrLease`; a lease granted after the caller stopped waiting is released. */
  async #loadOrLease<T>(call: Call<T>, token: string, exclude: Set<string>): Promise<LeaseAnswer> {
    const { ref, context } = call;
    const config = this.#config;
    const releaseLate = (late: LeaseAnswer): void => {
      if (late.kind === 'lease') this.#releaseQuietly(ref, token);
    };
    const pending = this.#guard.run(
      'loadOrLease',
      () =>
        this.#store.loadOrLease(ref, {
          token,
          leaseMs: config.leaseMs,
          instanceId: config.instanceId,
          exclude: [...exclude],
        }),
      releaseLate,
    );
    try {
      return await raceSignal(pending, context.signal);
    } catch (error) {
      if (context.signal.aborted) pending.then(releaseLate, noop);
      throw error;
    }
  }

  /** Leads the mint for the fleet: mint with lease renewal, then store or record the failure. */
  async #lead<T>(
    call: Call<T>,
    state: CredentialState,
    token: string,
    pin: ClockPin,
    seenId: string | undefined,
    exclude: Set<string>,
    replaceable: Set<string>,
  ): Promise<Credential<T>> {
    const { context, ref } = call;
    this.#config.reporter.onLeased?.({ ...call.label, reason: context.reason });
    const lease = this.#hold(call, token);
    let minted: Credential<T>;
    try {
      minted = await call.mint(context);
    } catch (error) {
      lease.stop();
      const closing =
        this.#closed ||
        (context.signal.aborted && errorCode(context.signal.reason) === 'SLUICE_PROVIDER_CLOSED');
      if (closing) this.#releaseQuietly(ref, token);
      else await this.#recordFailure(call, state, token, seenId, serializeMintError(error), error);
      throw error;
    }
    lease.stop();
    const now = this.#localNow();
    const problem = now === undefined ? undefined : shapeProblem(minted, now);
    if (now === undefined || this.#closed) {
      this.#releaseQuietly(ref, token);
      return minted;
    }
    if (problem !== undefined) {
      await this.#recordFailure(call, state, token, seenId, problem, undefined);
      return minted; // the provider rejects it with its own error
    }
    return this.#storeMinted(call, state, token, minted, now, pin, exclude, replaceable);
  }

  async #storeMinted<T>(
    call: Call<T>,
    state: CredentialState,
    token: string,
    minted: Credential<T>,
    localNow: number,
    pin: ClockPin,
    exclude: Set<string>,
    replaceable: Set<string>,
  ): Promise<Credential<T>> {
    const { ref } = call;
    const storeNow = storeNowAtLeast(this.#lastPin ?? pin, performance.now());
    const record = await this.#seal(
      call.ref,
      state,
      (value) => call.codec.encode(value as T),
      minted.value,
      minted.expiresAt ?? Number.POSITIVE_INFINITY,
      localNow,
      localNow,
      storeNow,
    );
    if (record === undefined) {
      this.#releaseQuietly(ref, token);
      return minted;
    }
    let answer: Awaited<ReturnType<CoordinationStore['store']>>;
    const sentAt = performance.now();
    try {
      answer = await this.#guard.run('store', () =>
        this.#store.store(ref, { token, record, replaceable: [...replaceable] }),
      );
    } catch {
      // The lease lapses on its own (followers re-read when it does); the credential is
      // offered to the store again once it is reachable.
      this.#keepPending(call, state, minted, localNow);
      return minted;
    }
    const pinned = this.#pin(answer.now, sentAt);
    this.#config.reporter.onStored?.({ ...call.label, outcome: answer.outcome });
    if (answer.outcome === 'stored') {
      this.#remember(state, minted.value, record.id);
      state.failure = undefined;
      return minted;
    }
    const current = answer.current;
    if (current !== undefined && !exclude.has(current.id) && !replaceable.has(current.id)) {
      const adopted = await this.#adopt(call, state, current, pinned, undefined);
      if (adopted !== undefined) return adopted;
    }
    return minted;
  }

  /**
   * Seals a value into a record: expiry and due point on the store's clock, a fresh id and
   * generation, the codec's output (encrypted when a keyring is set). `undefined` when the
   * codec cannot encode it (reported as a store error).
   */
  async #seal(
    ref: string,
    state: CredentialState,
    encode: (value: unknown) => string,
    value: unknown,
    localExpiresAt: number,
    localMintedAt: number,
    localNow: number,
    storeNow: number,
  ): Promise<StoredRecord | undefined> {
    const expiresAt = Math.round(localToStore(localExpiresAt, localNow, storeNow));
    const mintedAt = Math.round(localToStore(localMintedAt, localNow, storeNow));
    const generation = Math.max(state.generation + 1, Math.round(storeNow * 1000));
    state.generation = generation;
    const base = {
      id: randomId(),
      expiresAt,
      dueAt: fleetDueAt(mintedAt, expiresAt, this.#config.refreshAt),
      generation: String(generation),
    };
    let text: string;
    try {
      text = encode(value);
      if (typeof text !== 'string') throw new TypeError('the codec did not return a string');
    } catch (error) {
      this.#config.reporter.onStoreError?.({ operation: 'encode', error });
      return undefined;
    }
    const keyring = this.#config.keyring;
    if (keyring === undefined) return { ...base, keyId: '', payload: text };
    const sealed = await keyring.seal(text, this.#sealContext('credential', ref, base));
    return { ...base, ...sealed };
  }

  /**
   * Opens a stored record into a credential on this instance's clock; `undefined` (reported)
   * when it cannot be decrypted or decoded, or when it is the rejected secret under a new id.
   */
  async #adopt<T>(
    call: Call<T>,
    state: CredentialState,
    record: StoredRecord,
    pin: ClockPin,
    unrecognised: Credential<T> | undefined,
  ): Promise<Credential<T> | undefined> {
    let value: T;
    try {
      value = await this.#open(call, record);
    } catch (error) {
      if (!(error instanceof DecryptError)) throw error;
      this.#config.reporter.onDecryptFailed?.({ ...call.label, error });
      return undefined;
    }
    if (unrecognised !== undefined && typeof value === 'string' && value === unrecognised.value) {
      return undefined;
    }
    const localNow = this.#localNow();
    if (localNow === undefined) return undefined;
    const replacing = call.context.reason === 'invalidated' ? undefined : call.context.previous;
    const expiresAt = storeToLocal(
      record.expiresAt,
      storeNowAtMost(pin, performance.now()),
      localNow,
    );
    if (expiresAt <= localNow) return undefined;
    // A refresh wants something newer than what it replaces (a credential this instance minted
    // while Redis was away may outlive the stored one): not newer, not adopted.
    const replacingUntil = replacing?.expiresAt ?? Number.NEGATIVE_INFINITY;
    if (replacing !== undefined && expiresAt <= replacingUntil) return undefined;
    this.#remember(state, value, record.id);
    const generation = Number(record.generation);
    if (Number.isFinite(generation)) state.generation = Math.max(state.generation, generation);
    return expiresAt === Number.POSITIVE_INFINITY
      ? { value }
      : { value, expiresAt: Math.floor(expiresAt) };
  }

  async #open<T>(call: Call<T>, record: StoredRecord): Promise<T> {
    const keyring = this.#config.keyring;
    let text = record.payload;
    if (record.keyId !== '') {
      if (keyring === undefined) throw new DecryptError('unknown-key', record.keyId);
      text = await keyring.open(
        record.keyId,
        record.payload,
        this.#sealContext('credential', call.ref, record),
      );
    } else if (keyring !== undefined) {
      throw new DecryptError('unencrypted', '');
    }
    try {
      return call.codec.decode(text);
    } catch {
      throw new DecryptError('undecodable', record.keyId);
    }
  }

  #sealContext(
    kind: SealContext['kind'],
    ref: string,
    record: { expiresAt: number; generation: string } | undefined,
  ): SealContext {
    return {
      kind,
      namespace: this.#config.namespace,
      ref,
      expiresAt: record === undefined ? '' : formatTime(record.expiresAt),
      generation: record === undefined ? '' : record.generation,
    };
  }

  /** Records this instance's failed mint for the fleet (best effort) and honours its window. */
  async #recordFailure<T>(
    call: Call<T>,
    state: CredentialState,
    token: string,
    seenId: string | undefined,
    fields: SerializedMintError,
    cause: unknown,
  ): Promise<void> {
    const config = this.#config;
    let keyId = '';
    let payload = JSON.stringify(fields);
    if (config.keyring !== undefined) {
      ({ keyId, payload } = await config.keyring.seal(
        payload,
        this.#sealContext('failure', call.ref, undefined),
      ));
    }
    let answer: Awaited<ReturnType<CoordinationStore['fail']>>;
    const sentAt = performance.now();
    try {
      answer = await this.#guard.run('fail', () =>
        this.#store.fail(call.ref, {
          token,
          instanceId: config.instanceId,
          seenId,
          keyId,
          payload,
          initialWindowMs: config.failureBackoff.initialDelayMs,
          maxWindowMs: config.failureBackoff.maxDelayMs,
          jitterSample: this.#random(),
          stickyMs: config.failureBackoff.maxDelayMs,
        }),
      );
    } catch {
      return; // the lease lapses on its own
    }
    const pin = this.#pin(answer.now, sentAt);
    if (answer.outcome !== 'recorded') return;
    const retryAfterMs = Math.max(0, answer.retryAt - answer.now);
    config.reporter.onFailureRecorded?.({
      ...call.label,
      failures: answer.failures,
      retryAfterMs,
      confirmed: answer.confirmed,
    });
    state.failure = {
      untilMonotonic: pin.receivedAt + retryAfterMs,
      failures: answer.failures,
      error: fields,
      cause: cause ?? rebuildMintError(fields),
    };
  }

  /** The failure window of a `failed` answer, with its error opened (or a placeholder). */
  async #honour<T>(call: Call<T>, failure: FailureRecord, pin: ClockPin): Promise<HonouredFailure> {
    let fields: SerializedMintError | undefined;
    try {
      let text = failure.payload;
      const keyring = this.#config.keyring;
      if (failure.keyId !== '') {
        if (keyring === undefined) throw new DecryptError('unknown-key', failure.keyId);
        text = await keyring.open(
          failure.keyId,
          text,
          this.#sealContext('failure', call.ref, undefined),
        );
      }
      fields = parseMintError(text);
    } catch (error) {
      if (error instanceof DecryptError)
        this.#config.reporter.onDecryptFailed?.({ ...call.label, error });
    }
    const error = fields ?? { name: 'Error', message: 'the recorded failure could not be read' };
    return {
      untilMonotonic: pin.receivedAt + Math.max(0, failure.retryAt - pin.storeNow),
      failures: failure.failures,
      error,
      cause: rebuildMintError(error),
    };
  }

  #relay<T>(call: Call<T>, window: HonouredFailure, leftMs: number): RelayedMintError {
    const retryAfterMs = Math.max(0, Math.ceil(leftMs));
    const error = new RelayedMintError(window.error, window.cause, retryAfterMs, window.failures, {
      name: call.label.name,
    });
    this.#config.reporter.onRelayedFailure?.({
      ...call.label,
      code: error.code,
      retryAfterMs,
      failures: window.failures,
    });
    return error;
  }

  /**
   * Renews the lease every `leaseMs / 3` while the mint runs, for at most `mintTimeoutMs`. The
   * renewals run at a fixed rate, each independent of the previous one's answer, so one slow or
   * timed-out renewal never delays the next.
   */
  #hold<T>(call: Call<T>, token: string): { stop(): void } {
    const { leaseMs, mintTimeoutMs } = this.#config;
    const everyMs = Math.max(1, Math.floor(leaseMs / 3));
    const startedAt = performance.now();
    let timer: unknown;
    let stopped = false;
    const stop = (): void => {
      stopped = true;
      this.#timers.clear(timer);
      timer = undefined;
      this.#leases.delete(token);
    };
    const tick = (): void => {
      timer = undefined;
      if (stopped || this.#closed || performance.now() - startedAt >= mintTimeoutMs) return;
      timer = this.#timers.start(tick, everyMs);
      this.#guard
        .run('renew', () => this.#store.renew(call.ref, token, leaseMs))
        .then((held) => {
          if (stopped || held) return;
          this.#config.reporter.onLeaseLost?.({ ...call.label });
          stop();
        }, noop);
    };
    const lease = { ref: call.ref, stop };
    this.#leases.set(token, lease);
    timer = this.#timers.start(tick, everyMs);
    return lease;
  }

  /** Mints on the local policy; the credential is offered to the store when it is reachable. */
  async #fallback<T>(
    call: Call<T>,
    reason: FallbackReason,
    error?: unknown,
  ): Promise<Credential<T>> {
    this.#config.reporter.onFallback?.(
      error === undefined ? { ...call.label, reason } : { ...call.label, reason, error },
    );
    const minted = await call.mint(call.context);
    if (reason === 'closed' || reason === 'invalid-clock') return minted;
    const now = this.#localNow();
    if (now === undefined || shapeProblem(minted, now) !== undefined) return minted;
    this.#keepPending(call, this.#states.use(call.ref), minted, now);
    this.#flushPending();
    return minted;
  }

  /** Remembers a credential that is not in the store yet, to offer it once it is reachable. */
  #keepPending<T>(
    call: Call<T>,
    state: CredentialState,
    minted: Credential<T>,
    mintedAt: number,
  ): void {
    state.pending = {
      value: minted.value,
      expiresAt: minted.expiresAt ?? Number.POSITIVE_INFINITY,
      mintedAt,
      encode: (value) => call.codec.encode(value as T),
      remember: (id) => this.#remember(state, minted.value, id),
    };
  }

  /**
   * Offers every credential minted during a fallback to the store (compare-and-set), so the
   * fleet can adopt it. A credential that cannot be stored yet stays pending until the next
   * reconnect or recovery; an expired one is dropped.
   */
  #flushPending(): void {
    if (this.#closed || this.#store.connection() !== 'up') return;
    if (this.#lastPin === undefined) {
      // Conversions to the store's clock need one reading of it first.
      const sentAt = performance.now();
      this.#guard
        .run('time', () => this.#store.time())
        .then((now) => {
          this.#pin(now, sentAt);
          this.#flushPending();
        }, noop);
      return;
    }
    for (const [ref, state] of this.#states.pending()) {
      const pending = state.pending;
      const pin = this.#lastPin;
      const localNow = this.#localNow();
      if (pending === undefined || state.flushing || localNow === undefined) continue;
      if (pending.expiresAt <= localNow) {
        state.pending = undefined;
        continue;
      }
      state.flushing = true;
      void (async () => {
        const storeNow = storeNowAtLeast(pin, performance.now());
        const record = await this.#seal(
          ref,
          state,
          pending.encode,
          pending.value,
          pending.expiresAt,
          pending.mintedAt,
          localNow,
          storeNow,
        );
        if (record === undefined) {
          if (state.pending === pending) state.pending = undefined;
          return;
        }
        if (this.#closed) return;
        const sentAt = performance.now();
        const answer = await this.#guard.run('store', () =>
          this.#store.store(ref, { token: '', record, replaceable: [] }),
        );
        this.#pin(answer.now, sentAt);
        if (state.pending === pending) state.pending = undefined;
        if (answer.outcome === 'stored') pending.remember(record.id);
      })()
        .catch(noop)
        .finally(() => {
          state.flushing = false;
        });
    }
  }

  #releaseQuietly(ref: string, token: string): void {
    if (this.#closed) return;
    this.#guard.run('release', () => this.#store.release(ref, token)).catch(noop);
  }

  #remember(state: CredentialState, value: unknown, id: string): void {
    state.remember(value, id);
    if ((typeof value === 'object' && value !== null) || typeof value === 'function') {
      this.#objectIds.set(value as object, id);
    }
  }

  #idOf(state: CredentialState, value: unknown): string | undefined {
    const id = state.idOf(value);
    if (id !== undefined) return id;
    if ((typeof value === 'object' && value !== null) || typeof value === 'function') {
      return this.#objectIds.get(value as object);
    }
    return undefined;
  }

  #pin(storeNow: number, sentAt: number): ClockPin {
    const pin = { storeNow, sentAt, receivedAt: performance.now() };
    this.#lastPin = pin;
    return pin;
  }

  #codecOf<T>(options: WrapOptions<T>): Codec<T> {
    if (typeof options !== 'object' || options === null) {
      throw new InvalidOptionError('options', 'an object', options);
    }
    if (options.codec !== undefined) checkCodec(options.codec, 'codec');
    return (options.codec ?? this.#config.codec ?? jsonCodec) as Codec<T>;
  }

  /** The providers' clock, or `undefined` when it throws or is not a finite number. */
  #localNow(): number | undefined {
    try {
      const now = this.#config.now;
      const value = now === undefined ? Date.now() : now();
      return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
    } catch {
      return undefined;
    }
  }

  #random(): number {
    try {
      const random = this.#config.random;
      return clampSample(random === undefined ? Math.random() : random());
    } catch {
      return 0.5;
    }
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

/** What is wrong with a minted credential, as a failure to record; `undefined` if nothing. */
function shapeProblem(minted: unknown, now: number): SerializedMintError | undefined {
  if (typeof minted !== 'object' || minted === null) {
    return invalid('mint returned an invalid credential: expected an object { value, expiresAt? }');
  }
  const { value, expiresAt } = minted as { value?: unknown; expiresAt?: unknown };
  if (value === undefined)
    return invalid('mint returned an invalid credential: `value` is missing');
  if (expiresAt === undefined) return undefined;
  if (typeof expiresAt !== 'number' || !Number.isFinite(expiresAt)) {
    return invalid('mint returned an invalid credential: `expiresAt` is not a finite number');
  }
  if (expiresAt <= now) {
    return {
      name: 'MintedCredentialExpiredError',
      code: 'SLUICE_MINTED_CREDENTIAL_EXPIRED',
      message: 'mint returned a credential that had already expired',
    };
  }
  return undefined;
}

function invalid(message: string): SerializedMintError {
  return { name: 'InvalidCredentialError', code: 'SLUICE_INVALID_CREDENTIAL', message };
}

function formatTime(time: number): string {
  return time === Number.POSITIVE_INFINITY ? 'inf' : String(time);
}

/** 128 random bits, hex: lease tokens, credential ids, instance ids. */
function randomId(): string {
  const crypto = webCrypto();
  if (crypto === undefined) throw new TypeError('fleet coordination needs crypto.getRandomValues');
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  let hex = '';
  for (const byte of bytes) hex += byte.toString(16).padStart(2, '0');
  return hex;
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
