/**
 * Reading the injected clock without ever throwing. A reading that is not a number (or a
 * clock that throws) reads as NaN, which every comparison rejects, and the fault is kept
 * so the error can say what happened. Callers check `Number.isFinite` before trusting it.
 */

import { InvalidClockError } from '../errors.js';

/** Why the last unreadable reading failed; cleared when the error is built. */
export interface ClockFaults {
  fault:
    | { readonly threw: true; readonly error: unknown }
    | { readonly threw: false; readonly value: unknown }
    | undefined;
}

/** Reads `clock` (or `Date.now()`); NaN, with the fault noted in `faults`, when it cannot. */
export function readClock(clock: (() => number) | undefined, faults: ClockFaults): number {
  try {
    const now = clock === undefined ? Date.now() : clock();
    if (typeof now === 'number') return now;
    faults.fault = { threw: false, value: now };
  } catch (error) {
    faults.fault = { threw: true, error };
  }
  return Number.NaN;
}

/** The error for a `reading` that is not a finite number; clears the noted fault. */
export function clockError(reading: number, faults: ClockFaults, name: string): InvalidClockError {
  const fault = faults.fault;
  faults.fault = undefined;
  if (fault?.threw === true) return new InvalidClockError('threw', { cause: fault.error, name });
  const got = fault === undefined ? String(reading) : `a ${typeof fault.value}`;
  return new InvalidClockError(`returned ${got}`, { name });
}
