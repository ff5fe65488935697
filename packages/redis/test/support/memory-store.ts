/**
 * The coordination contract in memory, for deterministic tests of the protocol under fake
 * timers, and as proof that the contract does not depend on Redis. Same decisions as the Lua
 * scripts (see `src/redis/scripts.ts`), on the faked `Date.now()`. Every operation can be
 * held (`gate`) or failed (`failNext`) by the test.
 */

import type {
  ChangeKind,
  ChangeObserver,
  CoordinationStore,
  FailAnswer,
  FailRequest,
  LeaseAnswer,
  LeaseRequest,
  StoreAnswer,
  StoredRecord,
  StoreRequest,
} from '../../src/index.js';

interface Lease {
  token: string;
  until: number;
}

interface Failure {
  retryAt: number;
  failures: number;
  failers: string[];
  keyId: string;
  payload: string;
  until: number;
}

/** A controllable in-memory store. */
export class MemoryStore implements CoordinationStore {
  readonly records = new Map<string, StoredRecord>();
  readonly leases = new Map<string, Lease>();
  readonly failures = new Map<string, Failure>();
  readonly calls: string[] = [];
  connectionState: 'up' | 'down' | 'connecting' = 'up';
  /** When set, every operation waits for this promise before it runs. */
  gate: Promise<void> | undefined;
  /** When set, the next operation rejects with it. */
  failNext: unknown;
  #observers = new Set<ChangeObserver>();
  #up: Array<() => void> = [];
  closed = false;

  #now(): number {
    return Date.now();
  }

  async #op<R>(name: string, run: () => R): Promise<R> {
    this.calls.push(name);
    if (this.failNext !== undefined) {
      const error = this.failNext;
      this.failNext = undefined;
      throw error;
    }
    if (this.gate !== undefined) await this.gate;
    return run();
  }

  /** The token holding the live lease of `ref`, if any. */
  holder(ref: string): string | undefined {
    return this.#lease(ref)?.token;
  }

  #notify(ref: string, kind: ChangeKind): void {
    for (const observer of this.#observers) observer.onChange(ref, kind);
  }

  #lease(ref: string): Lease | undefined {
    const lease = this.leases.get(ref);
    if (lease !== undefined && lease.until <= this.#now()) {
      this.leases.delete(ref);
      return undefined;
    }
    return lease;
  }

  #record(ref: string): StoredRecord | undefined {
    const record = this.records.get(ref);
    if (record !== undefined && record.expiresAt <= this.#now()) {
      this.records.delete(ref);
      return undefined;
    }
    return record;
  }

  #failure(ref: string): Failure | undefined {
    const failure = this.failures.get(ref);
    if (failure !== undefined && failure.until <= this.#now()) {
      this.failures.delete(ref);
      return undefined;
    }
    return failure;
  }

  loadOrLease(ref: string, request: LeaseRequest): Promise<LeaseAnswer> {
    return this.#op('loadOrLease', () => {
      const now = this.#now();
      const record = this.#record(ref);
      const usable = record !== undefined && !request.exclude.includes(record.id);
      if (usable && now < record.dueAt) return { kind: 'value', now, record };
      const failure = request.ignoreFailure === true ? undefined : this.#failure(ref);
      if (failure !== undefined && !(failure.retryAt <= now + request.maxFailureWindowMs)) {
        failure.retryAt = now + request.maxFailureWindowMs; // capped, as the Lua script does
      }
      if (
        failure !== undefined &&
        now < failure.retryAt &&
        (failure.failers.length > 1 || failure.failers[0] === request.instanceId)
      ) {
        if (usable) return { kind: 'value', now, record }; // due but valid beats a failure
        return {
          kind: 'failed',
          now,
          failure: {
            retryAt: failure.retryAt,
            failures: failure.failures,
            keyId: failure.keyId,
            payload: failure.payload,
          },
        };
      }
      const lease = this.#lease(ref);
      if (lease !== undefined) {
        if (usable) return { kind: 'value', now, record }; // due but valid beats a wait
        return { kind: 'leased', now, leaseTtlMs: lease.until - now };
      }
      this.leases.set(ref, { token: request.token, until: now + request.leaseMs });
      return { kind: 'lease', now, storedId: record?.id };
    });
  }

  renew(ref: string, token: string, leaseMs: number): Promise<boolean> {
    return this.#op('renew', () => {
      const lease = this.#lease(ref);
      if (lease?.token !== token) return false;
      lease.until = this.#now() + leaseMs;
      return true;
    });
  }

  store(ref: string, request: StoreRequest): Promise<StoreAnswer> {
    return this.#op('store', () => {
      const now = this.#now();
      const current = this.#record(ref);
      let outcome: 'stored' | 'refused' | 'expired' = 'refused';
      if (request.record.expiresAt <= now) outcome = 'expired';
      else if (
        current === undefined ||
        request.record.expiresAt > current.expiresAt ||
        request.replaceable.includes(current.id)
      ) {
        this.records.set(ref, request.record);
        this.failures.delete(ref);
        outcome = 'stored';
      }
      if (request.token !== '' && this.#lease(ref)?.token === request.token)
        this.leases.delete(ref);
      this.#notify(ref, 'stored');
      return outcome === 'stored' ? { outcome, now } : { outcome, now, current: this.#record(ref) };
    });
  }

  fail(ref: string, request: FailRequest): Promise<FailAnswer> {
    return this.#op('fail', () => {
      const now = this.#now();
      const current = this.#record(ref);
      let answer: FailAnswer;
      if (current !== undefined && current.id !== request.seenId && now < current.dueAt) {
        answer = { outcome: 'superseded', now };
      } else {
        const previous = this.#failure(ref);
        const failures = (previous?.failures ?? 0) + 1;
        const window = Math.max(
          1,
          Math.floor(
            Math.min(request.maxWindowMs, request.initialWindowMs * 2 ** (failures - 1)) *
              (1 - 0.2 * request.jitterSample),
          ),
        );
        const failers = [...(previous?.failers ?? [])];
        if (!failers.includes(request.instanceId) && failers.length < 2)
          failers.push(request.instanceId);
        this.failures.set(ref, {
          retryAt: now + window,
          failures,
          failers,
          keyId: request.keyId,
          payload: request.payload,
          until: now + window + request.stickyMs,
        });
        answer = {
          outcome: 'recorded',
          now,
          retryAt: now + window,
          failures,
          confirmed: failers.length > 1,
        };
      }
      if (this.#lease(ref)?.token === request.token) this.leases.delete(ref);
      this.#notify(ref, 'failed');
      return answer;
    });
  }

  release(ref: string, token: string): Promise<boolean> {
    return this.#op('release', () => {
      if (this.#lease(ref)?.token !== token) return false;
      this.leases.delete(ref);
      this.#notify(ref, 'released');
      return true;
    });
  }

  time(): Promise<number> {
    return this.#op('time', () => this.#now());
  }

  watch(observer: ChangeObserver): () => void {
    this.#observers.add(observer);
    return () => this.#observers.delete(observer);
  }

  connection(): 'up' | 'down' | 'connecting' {
    return this.connectionState;
  }

  whenUp(): Promise<void> {
    if (this.connectionState === 'up') return Promise.resolve();
    return new Promise<void>((resolve) => this.#up.push(resolve));
  }

  /** Brings the connection up (resolving `whenUp`) and tells observers to resync. */
  reconnect(): void {
    this.connectionState = 'up';
    for (const resolve of this.#up.splice(0)) resolve();
    for (const observer of this.#observers) observer.onResync();
  }

  /** Drops every notification (a lost publish) until restored. */
  silence(): () => void {
    const observers = [...this.#observers];
    this.#observers.clear();
    return () => {
      for (const observer of observers) this.#observers.add(observer);
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    this.#observers.clear();
  }
}
