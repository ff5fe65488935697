/**
 * The contract of the poller, shared by its face (`poll.ts`) and its option validation
 * (`internal/poll-options.ts`). Types only.
 */

import type { Timers } from './timers.js';

/**
 * What one attempt reports: `done` with the value, or `pending` (keep polling), optionally
 * with the transient error that made it pending. To fail for good, throw instead.
 */
export type PollResult<T> =
  | {
      /** The issuer is done: the poll resolves with `value`. */
      readonly status: 'done';
      /** What the poll resolves with. */
      readonly value: T;
    }
  | {
      /** Not ready yet: the poll waits and tries again. */
      readonly status: 'pending';
      /** Why, if known: the `cause` of the `MaxWaitError` should the deadline pass. */
      readonly error?: unknown;
    };

/** What {@link poll} hands each attempt. */
export interface PollAttemptContext {
  /** Aborted when the caller aborts or the deadline passes while this attempt runs. */
  readonly signal: AbortSignal;
  /** Which attempt this is, counting from 1. */
  readonly attempt: number;
}

/** One poll attempt; a throw or a rejection ends polling with that error, unchanged. */
export type PollAttempt<T> = (
  context: PollAttemptContext,
) => PollResult<T> | PromiseLike<PollResult<T>>;

/** Options of {@link poll}. Every duration is at most 2147483647 ms (what setTimeout honours). */
export interface PollOptions {
  /**
   * Wait after the first pending attempt, in milliseconds, before jitter.
   * @default 5000
   */
  initialDelayMs?: number;
  /**
   * Each wait is this many times the previous one, before the cap and jitter; at least 1.
   * @default 3
   */
  multiplier?: number;
  /**
   * Cap on a wait before jitter, in milliseconds.
   * @default 300000
   */
  maxDelayMs?: number;
  /**
   * Each wait is spread uniformly over ±`jitter` of its base, so a fleet never polls in step;
   * in [0, 1). Waits are rounded to whole milliseconds.
   * @default 0.2
   */
  jitter?: number;
  /**
   * Deadline for the whole poll, in milliseconds from the call; greater than 0.
   * @default 600000
   */
  maxWaitMs?: number;
  /** Aborting it ends the poll with `signal.reason` and aborts the running attempt. */
  signal?: AbortSignal;
  /**
   * The clock, in epoch milliseconds, read at the call and after every attempt and wait. It
   * must advance with the global timers (fake timers included).
   * @default () => Date.now()
   */
  now?: () => number;
  /**
   * The jitter source, returning a number in [0, 1). Called once per wait.
   * @default () => Math.random()
   */
  random?: () => number;
  /**
   * The timer functions the waits and the deadline are scheduled with.
   * @default the global `setTimeout` / `clearTimeout`, looked up at each use
   */
  timers?: Timers;
}

/** The schedule options {@link pollDelayMs} reads. */
export type PollScheduleOptions = Pick<PollOptions, 'initialDelayMs' | 'multiplier' | 'maxDelayMs'>;
