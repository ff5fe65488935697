/**
 * A credential and the helpers that build and check one.
 */

import { InvalidCredentialError, InvalidOptionError } from './errors.js';

/**
 * A credential as a mint returns it.
 *
 * @typeParam T - the secret itself: an access token string, a `{ key, cert }` pair, ...
 */
export interface Credential<T> {
  /** The secret. Sluice never prints it, logs it or puts it in an error. */
  readonly value: T;
  /**
   * When the credential stops being valid, in epoch milliseconds on the provider's clock
   * (`now`). Absent: it never expires and is never refreshed proactively.
   */
  readonly expiresAt?: number;
  /**
   * The issuer's or a coordinator's own due point, in epoch milliseconds on the provider's
   * clock: when a refresh becomes useful (Azure's `refreshAfterTimestamp`, a metadata
   * server's rotation point, a fleet's shared due point). Absent: the provider's own policy
   * decides.
   *
   * It replaces the `refreshAt` fraction for this credential. Jitter only delays it, by at
   * most `jitter × (refreshAfter − issuedAt)`; it is never later than `refreshFloorMs` before
   * `expiresAt`. In the past (at or before the mint landed): due at once, still served, and
   * refreshed after `minRefreshIntervalMs`. After `expiresAt`: clamped to it. Anything but a
   * finite number fails the mint with `InvalidCredentialError` (`SLUICE_INVALID_CREDENTIAL`)
   * naming `refreshAfter`. See docs/policy.md.
   */
  readonly refreshAfter?: number;
}

/** Options of {@link credentialFromExpiresIn}. */
export interface ExpiresInOptions {
  /**
   * The clock the provider uses, in epoch milliseconds. Pass the provider's own `now`
   * when it is injected, so both agree.
   * @default () => Date.now()
   */
  now?: () => number;
  /**
   * Subtracted from the lifetime to absorb network latency and clock skew, in seconds. It
   * never takes more than half of the lifetime: a token shorter-lived than twice the skew
   * keeps half its life rather than arriving already expired.
   * @default 0
   */
  skewSeconds?: number;
}

/**
 * Builds a {@link Credential} from an OAuth-style `expires_in` (seconds from now).
 * An `expires_in` of `undefined` yields a credential that never expires.
 *
 * @throws {InvalidOptionError} `SLUICE_INVALID_OPTION` when `expiresInSeconds` is not a
 *   finite, non-negative number.
 * @example
 * ```ts
 * const body = await response.json();
 * return credentialFromExpiresIn(body.access_token, body.expires_in, { now: ctx.now });
 * ```
 */
export function credentialFromExpiresIn<T>(
  value: T,
  expiresInSeconds: number | undefined,
  options: ExpiresInOptions = {},
): Credential<T> {
  if (expiresInSeconds === undefined) return { value };
  if (
    typeof expiresInSeconds !== 'number' ||
    !Number.isFinite(expiresInSeconds) ||
    expiresInSeconds < 0
  ) {
    throw new InvalidOptionError(
      'expiresInSeconds',
      'a finite number of seconds >= 0',
      expiresInSeconds,
    );
  }
  const skew = options.skewSeconds ?? 0;
  if (typeof skew !== 'number' || !Number.isFinite(skew) || skew < 0) {
    throw new InvalidOptionError('skewSeconds', 'a finite number of seconds >= 0', skew);
  }
  const now = options.now === undefined ? Date.now() : options.now();
  // The skew never eats more than half the lifetime (an expires_in of 0 stays 0).
  const lifetimeSeconds = expiresInSeconds - Math.min(skew, expiresInSeconds / 2);
  return { value, expiresAt: now + lifetimeSeconds * 1000 };
}

/**
 * Checks what a mint resolved to and returns a frozen copy holding only `value`,
 * `expiresAt` and `refreshAfter`. The thrown message describes the problem, never the value.
 *
 * @internal
 */
export function checkMintedCredential<T>(
  candidate: unknown,
  name: string | undefined,
): Credential<T> {
  const opts = name === undefined ? undefined : { name };
  if (typeof candidate !== 'object' || candidate === null) {
    throw new InvalidCredentialError(
      `expected an object { value, expiresAt? }, received ${candidate === null ? 'null' : typeof candidate}`,
      opts,
    );
  }
  const { value, expiresAt, refreshAfter } = candidate as {
    value?: unknown;
    expiresAt?: unknown;
    refreshAfter?: unknown;
  };
  if (value === undefined) throw new InvalidCredentialError('`value` is missing', opts);
  checkEpochMs(expiresAt, 'expiresAt', opts);
  checkEpochMs(refreshAfter, 'refreshAfter', opts);
  const checked: { value: T; expiresAt?: number; refreshAfter?: number } = { value: value as T };
  if (expiresAt !== undefined) checked.expiresAt = expiresAt as number;
  if (refreshAfter !== undefined) checked.refreshAfter = refreshAfter as number;
  return Object.freeze(checked);
}

/** Throws unless `field` is absent or a finite number of epoch milliseconds. */
function checkEpochMs(field: unknown, label: string, opts: { name: string } | undefined): void {
  if (field === undefined || (typeof field === 'number' && Number.isFinite(field))) return;
  const got =
    field instanceof Date
      ? 'a Date (convert it with date.getTime())'
      : typeof field === 'number'
        ? String(field)
        : field === null
          ? 'null'
          : `a ${typeof field}`;
  throw new InvalidCredentialError(
    `\`${label}\` must be a finite number of epoch milliseconds, received ${got}`,
    opts,
  );
}

/**
 * Milliseconds of validity left at `now`; `undefined` for a credential that never expires.
 */
export function remainingMs(credential: Credential<unknown>, now: number): number | undefined {
  return credential.expiresAt === undefined ? undefined : credential.expiresAt - now;
}

/**
 * Whether `rejected` (a value, or a credential) names `credential`: the same object, or the
 * same value by `Object.is`. Used by `invalidate(rejected)`. @internal
 */
export function isSameCredential<T>(
  credential: Credential<T>,
  rejected: T | Credential<T>,
): boolean {
  if (rejected === credential || Object.is(rejected, credential.value)) return true;
  return (
    typeof rejected === 'object' &&
    rejected !== null &&
    'value' in rejected &&
    Object.is((rejected as Credential<T>).value, credential.value)
  );
}
