/**
 * The reporter events one provider cell emits. Each method builds its event only when the
 * reporter has that hook (nobody listening costs nothing), adds the provider's `name` and
 * the cell's `key`, and queues it for delivery once the operation in progress ends
 * (`dispatch.ts`). Events never carry a credential value.
 */

import type { BreakerStateName } from '../circuit-breaker.js';
import type { MintReason, Reporter } from '../reporter.js';
import { emit } from './dispatch.js';

/** @internal */
export class CellEvents {
  readonly #reporter: Reporter | undefined;
  readonly #name: string;
  readonly #key: string | undefined;

  constructor(reporter: Reporter | undefined, name: string, key: string | undefined) {
    this.#reporter = reporter;
    this.#name = name;
    this.#key = key;
  }

  started(reason: MintReason): void {
    const hook = this.#reporter?.onRefreshStart;
    if (hook !== undefined) emit(hook, this.#event({ reason }));
  }

  succeeded(
    reason: MintReason,
    durationMs: number,
    remainingLifetimeSeconds: number | undefined,
  ): void {
    const hook = this.#reporter?.onRefreshSuccess;
    if (hook !== undefined) {
      emit(hook, this.#event({ reason, durationMs, remainingLifetimeSeconds }));
    }
  }

  failed(
    reason: MintReason,
    durationMs: number,
    error: unknown,
    code: string | undefined,
    cachedRemainingLifetimeSeconds: number | undefined,
  ): void {
    const hook = this.#reporter?.onRefreshFailure;
    if (hook !== undefined) {
      emit(hook, this.#event({ reason, durationMs, error, code, cachedRemainingLifetimeSeconds }));
    }
  }

  coalesced(reason: MintReason, waiters: number, ok: boolean): void {
    const hook = this.#reporter?.onCoalesced;
    if (hook !== undefined) emit(hook, this.#event({ reason, waiters, ok }));
  }

  breakerChanged(
    from: BreakerStateName,
    to: BreakerStateName,
    failures: number,
    retryAfterMs: number,
  ): void {
    const hook = this.#reporter?.onBreakerStateChange;
    if (hook !== undefined) emit(hook, this.#event({ from, to, failures, retryAfterMs }));
  }

  invalidateRefused(credentialAgeMs: number, retryAfterMs: number): void {
    const hook = this.#reporter?.onInvalidateRefused;
    if (hook !== undefined) emit(hook, this.#event({ credentialAgeMs, retryAfterMs }));
  }

  breakerRefused(retryAfterMs: number): void {
    const hook = this.#reporter?.onBreakerRefused;
    if (hook !== undefined) emit(hook, this.#event({ retryAfterMs }));
  }

  #event<E extends object>(fields: E): E & { name: string; key?: string } {
    const name = this.#name;
    return this.#key === undefined ? { name, ...fields } : { name, key: this.#key, ...fields };
  }
}
