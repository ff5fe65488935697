/**
 * Validation of what callers pass at each call (`{ signal }`), with the same clear,
 * typed errors as construction-time options.
 */

import { InvalidOptionError } from '../errors.js';

/**
 * Whether `value` can be used as an AbortSignal: a real one, or an object with a boolean
 * `aborted` and the listener methods Sluice calls. Never throws (a throwing getter is "no").
 */
export function isAbortSignal(value: unknown): value is AbortSignal {
  if (typeof value !== 'object' || value === null) return false;
  try {
    const candidate = value as Partial<AbortSignal>;
    return (
      typeof candidate.aborted === 'boolean' &&
      typeof candidate.addEventListener === 'function' &&
      typeof candidate.removeEventListener === 'function'
    );
  } catch {
    return false;
  }
}

/**
 * `value` as an AbortSignal, or undefined when absent.
 * @throws {InvalidOptionError} naming `option` when it is present but not a signal.
 */
export function checkSignal(value: unknown, option: string): AbortSignal | undefined {
  if (value === undefined) return undefined;
  if (!isAbortSignal(value)) throw new InvalidOptionError(option, 'an AbortSignal', value);
  return value;
}

/**
 * The signal of a call's `options` (`{ signal? }`), or undefined.
 * @throws {InvalidOptionError} when `options` is not an object, or its `signal` is not an
 *   AbortSignal (`option` is `signal`).
 */
export function callSignal(options: unknown): AbortSignal | undefined {
  if (options === undefined) return undefined;
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new InvalidOptionError('options', 'an object { signal? }', options);
  }
  let signal: unknown;
  try {
    signal = (options as { signal?: unknown }).signal;
  } catch (error) {
    throw new InvalidOptionError('signal', 'an AbortSignal (reading it threw)', error);
  }
  return checkSignal(signal, 'signal');
}

/**
 * The hot path's check of a call's options: a plain object whose `signal` is absent or a live
 * AbortSignal. Anything else (including a throwing getter) answers false and goes to the slow
 * path, which validates it properly; never throws.
 */
export function isLiveCall(options: unknown): boolean {
  try {
    if (typeof options !== 'object' || options === null) return false;
    const signal = (options as { signal?: unknown }).signal;
    if (signal === undefined) return !Array.isArray(options);
    return signal instanceof AbortSignal && !signal.aborted;
  } catch {
    return false;
  }
}
