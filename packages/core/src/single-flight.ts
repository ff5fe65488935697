/**
 * Single-flight: at most one unit of work in flight; every caller that arrives while it runs
 * joins it and receives its one outcome, value or the same error object. The work gets its
 * own AbortSignal, aborted by the timeout or by {@link SingleFlight.abort}, never by a
 * waiter. A flight settles exactly once; whatever the work does after that (a late result
 * after a timeout, say) is discarded, so a late result can never win.
 *
 * The flight is registered before the work runs, and the work's outcome is always adopted
 * asynchronously, exactly as a returned promise would be: work that returns or throws
 * synchronously, or returns a thenable that misbehaves, is shared with every caller of the
 * same tick. A waiter with its own signal is released the moment it aborts (it is no longer
 * referenced or counted), and the timeout keeps the process alive only while somebody waits.
 */

import type { Timers } from './contracts/timers.js';
import { hold, release } from './internal/dispatch.js';
import { RecencyList, type RecencyNode } from './internal/recency-list.js';
import { register, unregister } from './internal/signal-waiters.js';
import { setRef, startTimer, stopTimer, type TimerHandle } from './internal/timers.js';

/** How a flight turns its work's outcome into the value its waiters receive. */
export interface FlightSettlement<T> {
  /**
   * Turns the work's raw result into the flight's value, before any waiter sees it. Throwing
   * here fails the flight with the thrown error (and `onFailure` is then called with it).
   */
  onSuccess(raw: unknown, waiters: number): T;
  /** Runs once when the flight fails, before any waiter sees the error. Must not throw. */
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

/**
 * A waiter with its own signal, detached the moment it aborts. Waiters are linked into a
 * list rather than kept in a Set: a Set keeps its grown table after deletions, so a million
 * aborted waiters of a hung mint would still cost their slots; a list frees each node.
 */
interface SignalWaiter extends RecencyNode {
  readonly signal: AbortSignal;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
  readonly project: ((value: never) => unknown) | undefined;
  readonly release: (reason: unknown) => void;
}

interface Flight<T> {
  readonly promise: Promise<T>;
  readonly controller: AbortController;
  readonly timers: Timers | undefined;
  /** Waiters without a signal: they cannot leave, so a count is enough. */
  plain: number;
  /** Waiters with a signal, in the order they joined, and how many. */
  readonly withSignal: RecencyList<SignalWaiter>;
  signalWaiters: number;
  done: boolean;
  timer: TimerHandle | undefined;
  fail(error: unknown): void;
}

const noop = (): void => {};
const promiseThen = Promise.prototype.then;

/** One shared unit of work at a time. @see {@link FlightSettlement} */
export class SingleFlight<T> {
  #current: Flight<T> | undefined;
  readonly #onBusyChange: ((busy: boolean) => void) | undefined;

  /**
   * @param onBusyChange - called when the running flight gains its first waiter (`true`) and
   *   when it has none left, because they aborted or the flight settled (`false`).
   */
  constructor(onBusyChange?: (busy: boolean) => void) {
    this.#onBusyChange = onBusyChange;
  }

  /** Whether a flight is running. */
  get inFlight(): boolean {
    return this.#current !== undefined;
  }

  /** Callers waiting on the running flight, aborted ones excluded (0 when none runs). */
  get waiters(): number {
    const flight = this.#current;
    return flight === undefined ? 0 : flight.plain + flight.signalWaiters;
  }

  /**
   * The running flight's promise, counting the caller as one more waiter; `undefined` when no
   * flight runs.
   */
  join(): Promise<T> | undefined {
    const flight = this.#current;
    if (flight === undefined) return undefined;
    flight.plain += 1;
    if (flight.plain + flight.signalWaiters === 1) this.#busy(flight, true);
    return flight.promise;
  }

  /**
   * Joins the running flight with the caller's own signal: the returned promise settles with
   * the flight's outcome (its value passed through `project`, if given), or rejects with
   * `signal.reason` the moment the signal aborts, and the waiter is then forgotten at once.
   * `undefined` when no flight runs. The signal must not be aborted already.
   */
  joinWith<U = T>(signal: AbortSignal, project?: (value: T) => U): Promise<U> | undefined {
    const flight = this.#current;
    if (flight === undefined) return undefined;
    if (signal.aborted) return Promise.reject(signal.reason);
    return new Promise<U>((resolve, reject) => {
      let joined = false;
      const waiter: SignalWaiter = {
        signal,
        resolve: resolve as (value: unknown) => void,
        reject,
        project: project as ((value: never) => unknown) | undefined,
        release: (reason) => {
          if (!joined || flight.done) return;
          joined = false;
          flight.withSignal.remove(waiter);
          flight.signalWaiters -= 1;
          if (flight.plain + flight.signalWaiters === 0) this.#busy(flight, false);
          reject(reason);
        },
        newer: undefined,
        older: undefined,
      };
      register(signal, waiter.release); // may throw for a hostile signal: nothing added then
      joined = true;
      flight.withSignal.push(waiter);
      flight.signalWaiters += 1;
      if (flight.plain + flight.signalWaiters === 1) this.#busy(flight, true);
    });
  }

  /**
   * Starts `work` as the new flight and returns its promise (the starter is not counted as a
   * waiter; join for that). The flight is registered before `work` runs, so `work` (and
   * anything it calls back into) can already join it. Throws if a flight is already running:
   * callers must check {@link inFlight} first.
   */
  start(
    work: (signal: AbortSignal) => unknown,
    settlement: FlightSettlement<T>,
    options: FlightOptions,
  ): Promise<T> {
    if (this.#current !== undefined) {
      throw new Error('SingleFlight.start: a flight is already running');
    }
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
      timers: options.timers,
      plain: 0,
      withSignal: new RecencyList<SignalWaiter>(),
      signalWaiters: 0,
      done: false,
      timer: undefined,
      fail: (error) => {
        hold();
        try {
          if (!finish()) return;
          rejectWith(error);
          // Aborted last, so the work's abort listeners see a consistent provider.
          controller.abort(error);
        } finally {
          release();
        }
      },
    };
    /** The signal waiters detached by `finish`, to settle. */
    let waiting: SignalWaiter[] = [];
    const finish = (): boolean => {
      if (flight.done) return false;
      flight.done = true;
      stopTimer(flight.timers, flight.timer);
      flight.timer = undefined;
      if (this.#current === flight) this.#current = undefined;
      waiting = [...flight.withSignal];
      flight.withSignal.clear();
      flight.signalWaiters = 0;
      for (const waiter of waiting) unregister(waiter.signal, waiter.release);
      return true;
    };
    const count = (): number => flight.plain + waiting.length;
    const idle = (): void => {
      if (count() > 0) this.#notify(false);
    };
    const rejectWith = (error: unknown): void => {
      try {
        settlement.onFailure(error, count());
      } catch {
        // The settlement must not throw; if it does, the waiters still get the error.
      }
      rejectPromise(error);
      for (const waiter of waiting) waiter.reject(error);
      idle();
    };
    const succeed = (raw: unknown): void => {
      hold();
      try {
        if (!finish()) return;
        let value: T;
        try {
          value = settlement.onSuccess(raw, count());
        } catch (error) {
          rejectWith(error);
          return;
        }
        resolvePromise(value);
        for (const waiter of waiting) {
          waiter.resolve(waiter.project === undefined ? value : waiter.project(value as never));
        }
        idle();
      } finally {
        release();
      }
    };

    this.#current = flight;
    flight.timer = startTimer(
      options.timers,
      () => {
        try {
          flight.fail(options.timeoutError());
        } catch {
          // A timer callback never throws into the runtime.
        }
      },
      options.timeoutMs,
    );
    try {
      const result = work(controller.signal);
      if (result instanceof Promise) {
        // A native promise: its reactions are registered now, so mints settled in one tick
        // are seen in that order. The intrinsic `then` ignores an own `then` property.
        promiseThen.call(result, succeed, flight.fail);
      } else {
        // Anything else is adopted through a native promise's resolve function, which reads
        // `then` once, safely: a throwing getter, a `then` that throws, settles twice or calls
        // back synchronously all end as one fulfilment or rejection, in a later microtask.
        new Promise<unknown>((resolve) => resolve(result)).then(succeed, flight.fail);
      }
    } catch (error) {
      // A synchronous throw is shared like a rejection: every caller of this tick joins first.
      Promise.reject(error).then(undefined, flight.fail);
    }
    return promise;
  }

  /** Fails the running flight (if any) with `reason` and aborts its work's signal. */
  abort(reason: unknown): void {
    this.#current?.fail(reason);
  }

  /** The running flight gained its first waiter, or lost its last one. */
  #busy(flight: Flight<T>, busy: boolean): void {
    setRef(flight.timer, busy); // a caller waits on the deadline: keep the process alive
    this.#notify(busy);
  }

  #notify(busy: boolean): void {
    if (this.#onBusyChange === undefined) return;
    try {
      this.#onBusyChange(busy);
    } catch {
      // The owner's bookkeeping never fails a flight.
    }
  }
}
