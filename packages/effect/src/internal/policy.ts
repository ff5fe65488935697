/**
 * Turns the Effect-flavoured policy options into core's, converting each `Duration.Input` to
 * whole milliseconds. Durations are checked here (so the error names the option the user
 * wrote, `mintTimeout`, not core's `mintTimeoutMs`); everything else keeps core's name and
 * core's check.
 */

import { checkKnownKeys, InvalidOptionError, type RefreshPolicyOptions } from '@sluice/core';
import { Duration } from 'effect';
import type { CredentialPolicyOptions } from '../options.js';

const MAX_DELAY_MS = 2_147_483_647;

/**
 * The keys of {@link CredentialPolicyOptions}: with a constructor's own keys, the only ones it
 * accepts (any other is refused with `UnknownOptionError`, naming the nearest: a core
 * spelling such as `mintTimeoutMs` suggests `mintTimeout`).
 */
const POLICY_RECORD: Record<keyof CredentialPolicyOptions, true> = {
  refreshAt: true,
  jitter: true,
  refreshFloor: true,
  minRefreshInterval: true,
  mintTimeout: true,
  breaker: true,
  schedule: true,
  reporter: true,
  name: true,
};
export const POLICY_KEYS: readonly string[] = Object.freeze(Object.keys(POLICY_RECORD));

/**
 * `input` in whole milliseconds, or `undefined` when it is `undefined`.
 * @throws {InvalidOptionError} naming `option` when it is not a Duration of whole
 *   milliseconds from `minMs` to 2 147 483 647.
 */
export function durationMs(input: unknown, option: string, minMs: number): number | undefined {
  if (input === undefined) return undefined;
  const expected = `a Duration of whole milliseconds from ${minMs} ms to ${MAX_DELAY_MS} ms`;
  // Duration reads NaN as zero; a NaN is a bug, never "no time".
  if (typeof input === 'number' && Number.isNaN(input)) {
    throw new InvalidOptionError(option, expected, input);
  }
  let ms: number;
  try {
    ms = Duration.toMillis(Duration.fromInputUnsafe(input as Duration.Input));
  } catch {
    throw new InvalidOptionError(option, expected, input);
  }
  if (!Number.isInteger(ms) || ms < minMs || ms > MAX_DELAY_MS) {
    throw new InvalidOptionError(option, expected, input);
  }
  return ms;
}

/** Checks that `options` is an object. */
export function checkObject(options: unknown, option: string, expected: string): void {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new InvalidOptionError(option, expected, options);
  }
}

/**
 * Core's policy options for `options` (without `now`, `random` and `timers`, which the layer
 * supplies). @throws {InvalidOptionError} for a bad duration.
 */
export function corePolicy(options: CredentialPolicyOptions): RefreshPolicyOptions {
  const policy: { -readonly [K in keyof RefreshPolicyOptions]: RefreshPolicyOptions[K] } = {};
  if (options.refreshAt !== undefined) policy.refreshAt = options.refreshAt;
  if (options.jitter !== undefined) policy.jitter = options.jitter;
  const refreshFloorMs = durationMs(options.refreshFloor, 'refreshFloor', 0);
  if (refreshFloorMs !== undefined) policy.refreshFloorMs = refreshFloorMs;
  const minRefreshIntervalMs = durationMs(options.minRefreshInterval, 'minRefreshInterval', 0);
  if (minRefreshIntervalMs !== undefined) policy.minRefreshIntervalMs = minRefreshIntervalMs;
  const mintTimeoutMs = durationMs(options.mintTimeout, 'mintTimeout', 1);
  if (mintTimeoutMs !== undefined) policy.mintTimeoutMs = mintTimeoutMs;
  const breaker = options.breaker;
  if (breaker !== undefined) {
    checkObject(breaker, 'breaker', 'an object { failureThreshold?, cooldown?, maxRetryAfter? }');
    checkKnownKeys(breaker, ['failureThreshold', 'cooldown', 'maxRetryAfter'], 'breaker');
    const cooldownMs = durationMs(breaker.cooldown, 'breaker.cooldown', 0);
    const maxRetryAfterMs = durationMs(breaker.maxRetryAfter, 'breaker.maxRetryAfter', 0);
    policy.breaker = {
      ...(breaker.failureThreshold === undefined
        ? {}
        : { failureThreshold: breaker.failureThreshold }),
      ...(cooldownMs === undefined ? {} : { cooldownMs }),
      ...(maxRetryAfterMs === undefined ? {} : { maxRetryAfterMs }),
    };
  }
  if (options.schedule !== undefined) policy.schedule = options.schedule;
  if (options.reporter !== undefined) policy.reporter = options.reporter;
  if (options.name !== undefined) policy.name = options.name;
  return policy;
}
