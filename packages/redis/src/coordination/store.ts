/**
 * The coordination contract: the four atomic operations a shared store must offer so that a
 * fleet of Sluice instances mints once per credential lifetime. `@sluice/redis` implements it
 * over Redis (`redis/redis-store.ts`); the protocol that drives it (`fleet-coordinator.ts`)
 * knows nothing of Redis, so another store (browser tabs through Web Locks and
 * BroadcastChannel, a SQL table with row locks and LISTEN/NOTIFY) can implement this file and
 * reuse the whole protocol.
 *
 * Everything here lives in `coordination/`, which imports neither `ioredis` nor any `node:`
 * module (a test checks it), so it can move to a package of its own unchanged once a second
 * store exists.
 *
 * Times in the contract are the STORE's clock, in epoch milliseconds: every answer carries
 * the store's `now`, and the protocol converts between the store's clock and each instance's
 * own, so instances with skewed clocks agree on freshness and lease expiry.
 */

/** A credential as the store holds it: never the secret in clear unless no encryption is set. */
export interface StoredRecord {
  /** A random identifier of this credential, chosen by its writer; never derived from the secret. */
  readonly id: string;
  /** When it expires, store clock (epoch ms); `Infinity` for a credential that never expires. */
  readonly expiresAt: number;
  /**
   * From when no instance adopts it for a new mint (store clock, epoch ms): the fleet's due
   * point. `Infinity` when it never falls due.
   */
  readonly dueAt: number;
  /** The writer's generation stamp, bound into the ciphertext's associated data. */
  readonly generation: string;
  /** The id of the encryption key that sealed `payload`; `''` when stored in clear. */
  readonly keyId: string;
  /** The encoded value (codec output), or its ciphertext (base64) when `keyId` is set. */
  readonly payload: string;
}

/** What {@link CoordinationStore.loadOrLease} is asked. */
export interface LeaseRequest {
  /** The token the lease is taken with, unique per attempt. */
  readonly token: string;
  /** How long the lease lives unless renewed, in milliseconds of the store's clock. */
  readonly leaseMs: number;
  /** The asking instance, so its own failure record is honoured without confirmation. */
  readonly instanceId: string;
  /** Ids of stored credentials the caller must not adopt (rejected, already held, unreadable). */
  readonly exclude: readonly string[];
  /**
   * The longest failure window the caller honours, in milliseconds: a recorded window that
   * ends later than `now + maxFailureWindowMs` (or never, or at a time that is not a number)
   * is capped there, in the store too.
   */
  readonly maxFailureWindowMs: number;
  /**
   * Skip the failure record: the caller could not vouch for it (encryption is on and the
   * record is in clear or does not open). The next failure or success overwrites it.
   * @default false
   */
  readonly ignoreFailure?: boolean;
}

/** A shared failure as the store holds it. */
export interface FailureRecord {
  /** When the failure window ends, store clock (epoch ms). */
  readonly retryAt: number;
  /** Consecutive failed mints recorded for this credential. */
  readonly failures: number;
  /** The encryption key id of `payload`, or `''`. */
  readonly keyId: string;
  /** The serialised error (name, message, code), possibly encrypted. */
  readonly payload: string;
}

/**
 * The answer of {@link CoordinationStore.loadOrLease}, decided atomically:
 * - `value`: a stored credential that is not excluded, not expired and not yet due: adopt it;
 * - `failed`: no such credential, and a failure window is running that this instance must
 *   honour (confirmed by two instances, or recorded by this one);
 * - `leased`: another instance holds the lease: wait for its outcome;
 * - `lease`: the caller now holds the lease (with its token): mint.
 *
 * Where the answer would be `failed` or `leased`, a stored credential that is not excluded and
 * still valid but past its due point is answered as `value` instead: a valid credential beats
 * a failure or a wait (it never replaces taking a free lease, which is how it gets refreshed).
 */
export type LeaseAnswer =
  | {
      /** Adopt `record`. */
      readonly kind: 'value';
      /** The store's clock when it decided (epoch ms). */
      readonly now: number;
      /** The stored credential to adopt. */
      readonly record: StoredRecord;
    }
  | {
      /** Honour `failure`: do not call the issuer. */
      readonly kind: 'failed';
      /** The store's clock when it decided (epoch ms). */
      readonly now: number;
      /** The failure window to honour. */
      readonly failure: FailureRecord;
    }
  | {
      /** Another instance holds the lease: wait. */
      readonly kind: 'leased';
      /** The store's clock when it decided (epoch ms). */
      readonly now: number;
      /** What is left of that lease, in milliseconds. */
      readonly leaseTtlMs: number;
    }
  | {
      /** The caller now holds the lease: mint. */
      readonly kind: 'lease';
      /** The store's clock when it decided (epoch ms). */
      readonly now: number;
      /** The id of the credential stored at that moment, if any (for {@link FailRequest.seenId}). */
      readonly storedId: string | undefined;
    };

/** What {@link CoordinationStore.store} is asked. */
export interface StoreRequest {
  /** The writer's lease token: the lease is released only if it still holds this token. */
  readonly token: string;
  /** The credential to store. */
  readonly record: StoredRecord;
  /**
   * Ids the writer knows to be dead (invalidated, unreadable): the stored credential is
   * replaced when it is one of these, whatever its expiry.
   */
  readonly replaceable: readonly string[];
}

/**
 * The answer of {@link CoordinationStore.store}:
 * - `stored`: the record replaced an absent, older-expiring or dead one;
 * - `refused`: the store holds a credential that expires no earlier (an older token never
 *   overwrites a newer one), returned as `current` so the writer can adopt it;
 * - `expired`: the record had already expired on the store's clock.
 */
export type StoreAnswer =
  | {
      /** The record is now the stored credential. */
      readonly outcome: 'stored';
      /** The store's clock when it decided (epoch ms). */
      readonly now: number;
    }
  | {
      /** Refused: the stored one expires no earlier, or the record had already expired. */
      readonly outcome: 'refused' | 'expired';
      /** The store's clock when it decided (epoch ms). */
      readonly now: number;
      /** The credential the store holds, if any: the writer adopts it when it can. */
      readonly current: StoredRecord | undefined;
    };

/** What {@link CoordinationStore.fail} is asked. */
export interface FailRequest {
  /** The writer's lease token, released if it still holds the lease. */
  readonly token: string;
  /** The failing instance, remembered so a second instance can confirm the failure. */
  readonly instanceId: string;
  /** The stored credential id the writer saw when it took the lease, if any. */
  readonly seenId: string | undefined;
  /** The encryption key id of `payload`, or `''`. */
  readonly keyId: string;
  /** The serialised error (name, message, code, status), possibly encrypted. */
  readonly payload: string;
  /** The failure window after the n-th consecutive failure: `min(maxMs, initialMs * 2^(n-1))`. */
  readonly initialWindowMs: number;
  /** The longest failure window, in milliseconds. */
  readonly maxWindowMs: number;
  /** A sample in [0, 1) that shortens the window by up to 20 %, so a fleet never retries in step. */
  readonly jitterSample: number;
  /** How long the record outlives its window, remembering the failure count for backoff. */
  readonly stickyMs: number;
}

/**
 * The answer of {@link CoordinationStore.fail}: `recorded` (with the window and whether two
 * instances have confirmed the failure), or `superseded` when another instance stored a fresh
 * credential since the lease was taken (no failure is recorded then).
 */
export type FailAnswer =
  | {
      /** The failure was recorded. */
      readonly outcome: 'recorded';
      /** The store's clock when it decided (epoch ms). */
      readonly now: number;
      /** When the failure window ends, store clock (epoch ms). */
      readonly retryAt: number;
      /** Consecutive failures recorded, this one included. */
      readonly failures: number;
      /** Whether two instances have now failed, so every instance honours the window. */
      readonly confirmed: boolean;
    }
  | {
      /** Nothing recorded: another instance stored a fresh credential since the lease. */
      readonly outcome: 'superseded';
      /** The store's clock when it decided (epoch ms). */
      readonly now: number;
    };

/** Why a watcher is woken. */
export type ChangeKind = 'stored' | 'failed' | 'released';

/** Receives the store's change notifications. */
export interface ChangeObserver {
  /** The credential `ref` changed: a waiter re-reads it. */
  onChange(ref: string, kind: ChangeKind): void;
  /**
   * Notifications may have been lost (a reconnect): every waiter re-reads. Also called once the
   * store becomes reachable again after being away.
   */
  onResync(): void;
}

/**
 * The coordination contract. Every operation on one credential (`ref`) must be atomic with
 * respect to the others on the same `ref`. Operations may reject (store unreachable, timed
 * out): the protocol then falls back to the local policy. Errors should carry no arguments of
 * the operation (the protocol sanitises what it reports anyway). A key another writer left in
 * a shape the store cannot use (a Redis key of the wrong type, a lease with no expiry) is
 * repaired by the next operation, not reported as the store being down.
 */
export interface CoordinationStore {
  /**
   * Atomically: adopt a stored credential, honour a failure window, see another's lease, or
   * take the lease. Freshness and lease expiry are judged on the store's clock.
   */
  loadOrLease(ref: string, request: LeaseRequest): Promise<LeaseAnswer>;
  /** Extends the lease if `token` still holds it. @returns whether it did. */
  renew(ref: string, token: string, leaseMs: number): Promise<boolean>;
  /**
   * Compare-and-set store (see {@link StoreAnswer}), then compare-and-delete of the writer's
   * lease, then a `stored` notification. A successful store clears the failure record.
   */
  store(ref: string, request: StoreRequest): Promise<StoreAnswer>;
  /**
   * Records a failed mint (see {@link FailAnswer}), releases the writer's lease and notifies
   * `failed`.
   */
  fail(ref: string, request: FailRequest): Promise<FailAnswer>;
  /** Compare-and-delete of the lease held by `token`, then a `released` notification. */
  release(ref: string, token: string): Promise<boolean>;
  /** The store's clock, in epoch milliseconds. */
  time(): Promise<number>;
  /** Starts delivering change notifications; returns the function that stops them. */
  watch(observer: ChangeObserver): () => void;
  /**
   * A cheap hint about the connection: `'up'`; `'down'` when the store is known to be
   * unreachable right now (a dropped connection being retried), so the protocol falls back
   * without waiting for a timeout; `'connecting'` while the first connection is being made
   * (the protocol then waits for {@link whenUp}, bounded by `connectTimeoutMs`).
   */
  connection(): 'up' | 'down' | 'connecting';
  /** Resolves once the connection is up; rejects if it ends first. */
  whenUp(): Promise<void>;
  /** Releases what the store opened itself (never a connection it was given). */
  close(): Promise<void>;
}
