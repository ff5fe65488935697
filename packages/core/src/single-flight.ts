/**
 * Single-flight: at most one unit of work in flight; every caller that arrives while it runs
 * joins it and receives its one outcome, value or the same error object. The work gets its
 * own AbortSignal, aborted by the timeout or by {@link SingleFlight.abort}, never by a
 * waiter. A flight settles exactly once; whatever the work does after that (a late result
 * after a timeout, say) is discarded, so a late result can never win.
 */

import { startTimer, stopTimer, type TimerHandle } from './internal/timers.js';
import type { Timers } from './policy-options.js';

/** How a flight turns its work's outcome into the value its waiters receive. */
export interface FlightSettlement<T> {
  /**
   * Turns the work's raw result into the flight's value, before any waiter sees it. Throwing
   * here fails the flight with the thrown error (and `onFailure` is then called with it).
   */
  onSuccess(raw: unknown, waiters: number): T;
  /** Runs once when the flight fails, before any waiter sees the error. */
  onFailure(error: unknown, waiters: number): void;
}

/** Options of one flight. */
export interface FlightOptions {
  /** Milliseconds after which the flight fails with `timeoutError()` and its signal aborts. */
  readonly timeoutMs: number;
  /** Builds the error of a timed-out flight. */
  readonly timeoutError: () => unknown;
  /** The timer functions; the globals when absent. */
  readonly timers?: Timers | undefined;
}

interface Flight<T> {
  readonly promise: Promise<T>;
  readonly controller: AbortController;
  waiters: number;
  done: boolean;
  timer: TimerHandle | undefined;
  fail(error: unknown): void;
}

const noop = (): void => {};

/** One shared unit of work at a time. @see {@link FlightSettlement} */
export class SingleFlight<T> {
  #current: Flight<T> | undefined;

  /** Whether a flight is running. */
  get inFlight(): boolean {
    return this.#current !== undefined;
  }

  /** Callers waiting on the running flight (0 when none runs). */
  get waiters(): number {
    return this.#current?.waiters ?? 0;
  }

  /**
   * The running flight's promise, counting the caller as one more waiter; `undefined` when no
   * flight runs.
   */
  join(): Promise<T> | undefined {
    const flight = this.#current;
    if (flight === undefined) return undefined;
    flight.waiters += 1;
    return flight.promise;
  }

  /**
   * Starts `work` as the new flight and returns its promise (the starter is not counted as a
   * waiter; call {@link join} for that). Throws if a flight is already running: callers
   * must check {@link inFlight} or {@link join} first.
   */
  start(
    work: (signal: AbortSignal) => unknown,
    settlement: FlightSettlement<T>,
    options: FlightOptions,
  ): Promise<T> {
    if (this.#current !== undefined)
      throw new Error('SingleFlight.start: a flight is already running');
    const controller = new AbortController();
    let resolvePromise!: (value: T) => void;
    let rejectPromise!: (error: unknown) => void;
    const promise = new Promise<T>((resolve, reject) => {
      resolvePromise = resolve;
      rejectPromise = reject;
    });
    // A background flight may have no waiter: its failure must never be an unhandled rejection.
    promise.catch(noop);

    const flight: Flight<T> = {
      promise,
      controller,
      waiters: 0,
      done: false,
      timer: undefined,
      fail: (error) => {
        if (!finish()) return;
        controller.abort(error);
        rejectWith(error);
      },
    };
    const finish = (): boolean => {
      if (flight.done) return false;
      flight.done = true;
      stopTimer(options.timers, flight.timer);
      flight.timer = undefined;
      if (this.#current === flight) this.#current = undefined;
      return true;
    };
    const rejectWith = (error: unknown): void => {
      try {
        settlement.onFailure(error, flight.waiters);
      } finally {
        rejectPromise(error);
      }
    };
    const succeed = (raw: unknown): void => {
      if (!finish()) return;
      let value: T;
      try {
        value = settlement.onSuccess(raw, flight.waiters);
      } catch (error) {
        rejectWith(error);
        return;
      }
      resolvePromise(value);
    };

    this.#current = flight;
    flight.timer = startTimer(
      options.timers,
      () => flight.fail(options.timeoutError()),
      options.timeoutMs,
    );
    let result: unknown;
    try {
      result = work(controller.signal);
    } catch (error) {
      flight.fail(error);
      return promise;
    }
    if (isThenable(result)) {
      Promise.resolve(result).then(succeed, (error: unknown) => flight.fail(error));
    } else {
      succeed(result);
    }
    return promise;
  }

  /** Fails the running flight (if any) with `reason` and aborts its work's signal. */
  abort(reason: unknown): void {
    this.#current?.fail(reason);
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}
