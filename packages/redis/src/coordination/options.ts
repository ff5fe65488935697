/**
 * The options of a fleet coordinator and their one-time validation into a frozen copy.
 */

import {
  type BreakerConfig,
  checkCredentialCodec,
  InvalidOptionError,
  type Timers,
} from '@sluice/core';
import type { Codec } from './codec.js';
import { type EncryptionOptions, Keyring } from './encryption.js';
import {
  FLEET_REPORTER_HOOKS,
  type FleetReporter,
  type SafeReporter,
  safeReporter,
} from './reporter.js';

/** The follower's poll: a backstop for a lost notification. */
export interface PollBackoffOptions {
  /**
   * Wait before a waiting follower first re-reads the store on its own, in milliseconds.
   * @default 200
   */
  initialDelayMs?: number;
  /**
   * Cap of the doubling poll wait, in milliseconds: a follower whose notification was lost
   * learns the outcome at most this long (+20 % jitter) after it is stored.
   * @default 2000
   */
  maxDelayMs?: number;
}

/** The fleet's failure window after a failed mint: nobody calls the issuer inside it. */
export interface FailureBackoffOptions {
  /**
   * The window after the first failure, in milliseconds; it doubles with each consecutive
   * failure. Shortened by up to 20 % at random.
   * @default 1000
   */
  initialDelayMs?: number;
  /**
   * The longest window, in milliseconds. The failure record outlives its window by this much
   * in the store (a Redis-side TTL), remembering the count for the next window.
   * @default 60000
   */
  maxDelayMs?: number;
}

/** The breaker in front of the store. */
export interface StoreBreakerOptions {
  /**
   * Consecutive failed or timed-out store operations that open it.
   * @default 3
   */
  failureThreshold?: number;
  /**
   * How long an open store breaker sends every mint to the local fallback before one
   * operation probes the store again, in milliseconds. A reconnect ends it early.
   * @default 5000
   */
  cooldownMs?: number;
}

/** Options shared by every fleet coordinator, whatever its store. */
export interface CoordinationOptions {
  /**
   * How long a lease lives unless renewed, in milliseconds of the store's clock. The leader
   * renews it every third of this while its mint runs; a crashed leader's lease lapses within
   * it, and a waiting instance then takes over. Must be at least `commandTimeoutMs`
   * (refused otherwise: `SLUICE_INVALID_OPTION` naming both).
   * @default 5000
   */
  leaseMs?: number;
  /**
   * The longest a leader's mint is expected to run, in milliseconds. The leader stops
   * renewing its lease after it; a follower that has waited `leaseMs + mintTimeoutMs` for a
   * lease mints locally. Keep `leaseMs + mintTimeoutMs` plus one mint under the providers'
   * own `mintTimeoutMs` (core's default: 30000).
   * @default 15000
   */
  mintTimeoutMs?: number;
  /**
   * Every store operation that has not answered after this many milliseconds counts as failed:
   * the mint falls back to the local policy, and the store breaker counts it.
   * @default 250
   */
  commandTimeoutMs?: number;
  /**
   * While the store's first connection is still being made (a process that has just started),
   * an operation waits up to this many milliseconds for it before its own
   * `commandTimeoutMs` starts; past it, the mint falls back to the local policy.
   * @default 2000
   */
  connectTimeoutMs?: number;
  /**
   * Fraction of a stored credential's lifetime after which no instance adopts it for a new
   * mint: the fleet's due point. Match the providers' `refreshAt`.
   * @default 0.8
   */
  refreshAt?: number;
  /** The follower's poll backstop. @default { initialDelayMs: 200, maxDelayMs: 2000 } */
  poll?: PollBackoffOptions;
  /** The fleet's failure window. @default { initialDelayMs: 1000, maxDelayMs: 60000 } */
  failureBackoff?: FailureBackoffOptions;
  /** The breaker in front of the store. @default { failureThreshold: 3, cooldownMs: 5000 } */
  storeBreaker?: StoreBreakerOptions;
  /**
   * Encrypts every value (and every recorded error) at rest with AES-256-GCM. Without it,
   * values are stored as the codec writes them.
   * @default none (values stored in clear)
   */
  encryption?: EncryptionOptions;
  /**
   * The default codec of wrapped mints. A codec given to `wrap`/`wrapKeyed`, or advertised by
   * the mint (`withMintTraits`), takes precedence.
   * @default jsonCodec
   */
  codec?: Codec<unknown>;
  /** Telemetry hooks. @default none */
  reporter?: FleetReporter;
  /**
   * The providers' clock, in epoch milliseconds: the same `now` the providers (and their
   * mints' `expiresAt`) use. Called when needed, never captured.
   * @default () => Date.now()
   */
  now?: () => number;
  /**
   * The random source for jitter and tokens' spread, in [0, 1). Lease tokens and credential ids
   * always come from `crypto.getRandomValues`.
   * @default () => Math.random()
   */
  random?: () => number;
  /**
   * The timers of poll waits, lease renewals and operation timeouts.
   * @default the global setTimeout / clearTimeout, looked up at each use
   */
  timers?: Timers;
  /**
   * This instance's identity in failure records (so a failure seen by one instance only is
   * confirmed by a second before the fleet honours it). 1 to 128 characters.
   * @default a random id
   */
  instanceId?: string;
}

/** The validated, frozen options. @internal */
export interface ResolvedCoordination {
  readonly namespace: string;
  readonly leaseMs: number;
  readonly mintTimeoutMs: number;
  readonly commandTimeoutMs: number;
  readonly connectTimeoutMs: number;
  readonly refreshAt: number;
  readonly poll: { readonly initialDelayMs: number; readonly maxDelayMs: number };
  readonly failureBackoff: { readonly initialDelayMs: number; readonly maxDelayMs: number };
  readonly storeBreaker: BreakerConfig;
  readonly keyring: Keyring | undefined;
  readonly codec: Codec<unknown> | undefined;
  readonly reporter: SafeReporter;
  readonly now: (() => number) | undefined;
  readonly random: (() => number) | undefined;
  readonly timers: Timers | undefined;
  readonly instanceId: string;
}

const MAX_DELAY_MS = 2_147_483_647;

/**
 * Validates `options` once (throwing {@link InvalidOptionError} naming the first bad option)
 * and returns a frozen copy. `namespace` is bound into the encryption's associated data.
 * @internal
 */
export function resolveCoordination(
  options: CoordinationOptions,
  namespace: string,
  randomId: () => string,
): ResolvedCoordination {
  const poll = group(options.poll, 'poll');
  const failure = group(options.failureBackoff, 'failureBackoff');
  const breaker = group(options.storeBreaker, 'storeBreaker');
  const pollInitial = integer(poll.initialDelayMs, 'poll.initialDelayMs', 200, 1);
  const pollMax = integer(poll.maxDelayMs, 'poll.maxDelayMs', 2_000, pollInitial);
  const failureInitial = integer(failure.initialDelayMs, 'failureBackoff.initialDelayMs', 1_000, 1);
  const failureMax = integer(
    failure.maxDelayMs,
    'failureBackoff.maxDelayMs',
    60_000,
    failureInitial,
  );
  const refreshAt = options.refreshAt ?? 0.8;
  if (typeof refreshAt !== 'number' || !(refreshAt > 0 && refreshAt <= 1)) {
    throw new InvalidOptionError('refreshAt', 'a number in (0, 1]', refreshAt);
  }
  const codec = options.codec;
  if (codec !== undefined) checkCredentialCodec(codec, 'codec');
  const reporter = options.reporter;
  if (reporter !== undefined) checkReporter(reporter);
  const instanceId = options.instanceId ?? randomId();
  if (typeof instanceId !== 'string' || instanceId.length < 1 || instanceId.length > 128) {
    throw new InvalidOptionError('instanceId', 'a string of 1 to 128 characters', instanceId);
  }
  const commandTimeoutMs = integer(options.commandTimeoutMs, 'commandTimeoutMs', 250, 1);
  const leaseMs = integer(options.leaseMs, 'leaseMs', 5_000, 10);
  if (leaseMs < commandTimeoutMs) {
    // A lease shorter than one command's timeout can lapse before its own grant is answered.
    throw new InvalidOptionError(
      'leaseMs',
      `at least commandTimeoutMs (${commandTimeoutMs} ms): a lease must outlive the command that takes it`,
      leaseMs,
    );
  }
  return Object.freeze({
    namespace,
    leaseMs,
    mintTimeoutMs: integer(options.mintTimeoutMs, 'mintTimeoutMs', 15_000, 1),
    commandTimeoutMs,
    connectTimeoutMs: integer(options.connectTimeoutMs, 'connectTimeoutMs', 2_000, 0),
    refreshAt,
    poll: Object.freeze({ initialDelayMs: pollInitial, maxDelayMs: pollMax }),
    failureBackoff: Object.freeze({ initialDelayMs: failureInitial, maxDelayMs: failureMax }),
    storeBreaker: Object.freeze({
      failureThreshold: integer(breaker.failureThreshold, 'storeBreaker.failureThreshold', 3, 1),
      cooldownMs: integer(breaker.cooldownMs, 'storeBreaker.cooldownMs', 5_000, 0),
    }),
    keyring: options.encryption === undefined ? undefined : Keyring.from(options.encryption),
    codec,
    reporter: safeReporter(reporter),
    now: fn(options.now, 'now'),
    random: fn(options.random, 'random'),
    timers: checkTimers(options.timers),
    instanceId,
  });
}

function checkReporter(reporter: unknown): void {
  if (typeof reporter !== 'object' || reporter === null || Array.isArray(reporter)) {
    throw new InvalidOptionError('reporter', 'an object with optional hook methods', reporter);
  }
  for (const hook of FLEET_REPORTER_HOOKS) {
    const method = (reporter as Record<string, unknown>)[hook];
    if (method !== undefined && typeof method !== 'function') {
      throw new InvalidOptionError(`reporter.${hook}`, 'a function, or absent', method);
    }
  }
}

function checkTimers(timers: unknown): Timers | undefined {
  if (timers === undefined) return undefined;
  if (typeof timers !== 'object' || timers === null) {
    throw new InvalidOptionError('timers', 'an object { setTimeout, clearTimeout }', timers);
  }
  const { setTimeout: set, clearTimeout: clear } = timers as Partial<Timers>;
  if (typeof set !== 'function')
    throw new InvalidOptionError('timers.setTimeout', 'a function', set);
  if (typeof clear !== 'function') {
    throw new InvalidOptionError('timers.clearTimeout', 'a function', clear);
  }
  return Object.freeze({
    setTimeout: (callback: () => void, delayMs: number) => set.call(timers, callback, delayMs),
    clearTimeout: (handle: unknown) => clear.call(timers, handle),
  });
}

function group<G extends object>(value: G | undefined, option: string): Partial<G> {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidOptionError(option, 'an object', value);
  }
  return value;
}

function integer(value: unknown, option: string, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  if (
    typeof value !== 'number' ||
    !Number.isInteger(value) ||
    value < min ||
    value > MAX_DELAY_MS
  ) {
    throw new InvalidOptionError(option, `an integer from ${min} to ${MAX_DELAY_MS}`, value);
  }
  return value;
}

function fn(value: unknown, option: string): (() => number) | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'function') throw new InvalidOptionError(option, 'a function', value);
  return value as () => number;
}
