/**
 * The shell around every store operation: a per-operation timeout, a fast refusal while the
 * store is known to be unreachable, and a breaker (core's pure breaker, on the monotonic
 * clock) that stops paying timeouts while the store is away. One operation at a time probes a
 * half-open breaker; a reconnect lets the next operation probe at once.
 */

import {
  admitMint,
  type BreakerConfig,
  type BreakerState,
  CLOSED_BREAKER,
  recordFailure,
  recordSuccess,
} from '@sluice/core';
import {
  StoreCommandError,
  StoreTimeoutError,
  StoreUnavailableError,
  sanitizeStoreError,
} from './errors.js';
import type { SafeReporter, StoreState } from './reporter.js';
import type { CoordinationStore } from './store.js';
import type { TimerSet } from './timer-set.js';

const noop = (): void => {};

/** Guards the operations of one store. */
export class StoreGuard {
  readonly #timeoutMs: number;
  readonly #breaker: BreakerConfig;
  readonly #reporter: SafeReporter;
  readonly #timers: TimerSet;
  readonly #connectTimeoutMs: number;
  readonly #store: Pick<CoordinationStore, 'connection' | 'whenUp'>;
  #state: BreakerState = CLOSED_BREAKER;
  #probing = false;
  #lastError: unknown;
  /** Called when the breaker closes again (the store is back). */
  onRecovered: () => void = noop;

  constructor(
    timeoutMs: number,
    connectTimeoutMs: number,
    breaker: BreakerConfig,
    reporter: SafeReporter,
    timers: TimerSet,
    store: Pick<CoordinationStore, 'connection' | 'whenUp'>,
  ) {
    this.#timeoutMs = timeoutMs;
    this.#connectTimeoutMs = connectTimeoutMs;
    this.#breaker = breaker;
    this.#reporter = reporter;
    this.#timers = timers;
    this.#store = store;
  }

  /** The store as the breaker sees it. */
  get state(): StoreState {
    const name = this.#state.state;
    return name === 'closed' ? 'available' : name === 'open' ? 'unavailable' : 'probing';
  }

  /** The failure that last opened the breaker, if any. */
  get lastError(): unknown {
    return this.#lastError;
  }

  /**
   * Runs `operation` unless the breaker refuses it, failing it after the timeout. When it
   * answers only after the timeout, `onLate` gets the answer (to undo a lease it took).
   * @throws {StoreUnavailableError} when refused; {@link StoreTimeoutError} on timeout; the
   *   operation's own error otherwise, sanitised (see `sanitizeStoreError`: never the
   *   command's arguments). A per-key data error (a key of the wrong type) is reported but
   *   does not count towards the breaker.
   */
  run<R>(name: string, operation: () => Promise<R>, onLate?: (late: R) => void): Promise<R> {
    const now = performance.now();
    const admission = admitMint(this.#state, now, this.#breaker);
    if (!admission.admitted || (admission.next.state === 'half-open' && this.#probing)) {
      if (!admission.admitted) this.#setState(admission.next, undefined);
      return Promise.reject(
        new StoreUnavailableError('its breaker is open', { cause: this.#lastError }),
      );
    }
    this.#setState(admission.next, undefined);
    const probe = admission.next.state === 'half-open';
    if (probe) this.#probing = true;
    const connection = this.#store.connection();
    if (connection === 'down') {
      const error = new StoreUnavailableError('not connected');
      this.#failed(name, error, probe);
      return Promise.reject(error);
    }
    if (connection === 'connecting') {
      return this.#connected().then(
        () => this.#send(name, operation, onLate, probe),
        (raw: unknown) => {
          const error = sanitizeStoreError(raw);
          this.#failed(name, error, probe);
          throw error;
        },
      );
    }
    return this.#send(name, operation, onLate, probe);
  }

  /** Waits for the first connection, at most `connectTimeoutMs`. */
  #connected(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      const timer = this.#timers.start(() => {
        if (settled) return;
        settled = true;
        reject(new StoreUnavailableError(`not connected within ${this.#connectTimeoutMs} ms`));
      }, this.#connectTimeoutMs);
      this.#store.whenUp().then(
        () => {
          if (settled) return;
          settled = true;
          this.#timers.clear(timer);
          resolve();
        },
        (error: unknown) => {
          if (settled) return;
          settled = true;
          this.#timers.clear(timer);
          reject(
            new StoreUnavailableError('the connection ended', {
              cause: sanitizeStoreError(error),
            }),
          );
        },
      );
    });
  }

  #send<R>(
    name: string,
    operation: () => Promise<R>,
    onLate: ((late: R) => void) | undefined,
    probe: boolean,
  ): Promise<R> {
    let pending: Promise<R>;
    try {
      pending = Promise.resolve(operation());
    } catch (raw) {
      const error = sanitizeStoreError(raw);
      this.#failed(name, error, probe);
      return Promise.reject(error);
    }
    return new Promise<R>((resolve, reject) => {
      let settled = false;
      const timer = this.#timers.start(() => {
        if (settled) return;
        settled = true;
        const error = new StoreTimeoutError(name, this.#timeoutMs);
        this.#failed(name, error, probe);
        reject(error);
        if (onLate !== undefined) pending.then(onLate, noop);
      }, this.#timeoutMs);
      pending.then(
        (answer) => {
          if (settled) return;
          settled = true;
          this.#timers.clear(timer);
          if (probe) this.#probing = false;
          this.#setState(recordSuccess(this.#state), undefined);
          resolve(answer);
        },
        (raw: unknown) => {
          if (settled) return;
          settled = true;
          this.#timers.clear(timer);
          const error = sanitizeStoreError(raw);
          if (error instanceof StoreCommandError && error.perKey) {
            // One credential's bad data, not an outage: reported, never counted.
            if (probe) this.#probing = false;
            this.#reporter.onStoreError?.({ operation: name, error });
            this.#setState(recordSuccess(this.#state), undefined);
          } else {
            this.#failed(name, error, probe);
          }
          reject(error);
        },
      );
    });
  }

  /** The store reconnected: an open breaker lets the next operation probe at once. */
  resync(): void {
    const state = this.#state;
    if (state.state !== 'open') return;
    const openedAt = performance.now() - this.#breaker.cooldownMs;
    this.#state = { state: 'open', failures: state.failures, openedAt };
  }

  #failed(name: string, error: unknown, probe: boolean): void {
    if (probe) this.#probing = false;
    this.#lastError = error;
    this.#reporter.onStoreError?.({ operation: name, error });
    this.#setState(recordFailure(this.#state, performance.now(), this.#breaker), error);
  }

  #setState(next: BreakerState, error: unknown): void {
    const before = this.#state;
    if (before === next) return;
    this.#state = next;
    if (before.state === next.state) return;
    const from = toStoreState(before);
    const to = toStoreState(next);
    this.#reporter.onStoreStateChange?.(
      to === 'unavailable' && error !== undefined ? { from, to, error } : { from, to },
    );
    if (to === 'available') this.onRecovered();
  }
}

function toStoreState(state: BreakerState): StoreState {
  return state.state === 'closed'
    ? 'available'
    : state.state === 'open'
      ? 'unavailable'
      : 'probing';
}
