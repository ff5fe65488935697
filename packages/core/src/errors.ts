/**
 * Every error Sluice raises itself extends {@link SluiceError} and carries a stable
 * string {@link SluiceErrorCode}. Messages are for people; `code` is the API.
 *
 * Errors thrown by a user's own `mint` reach callers unchanged: Sluice never wraps them.
 * No message built here ever contains a credential value.
 */

/** The stable codes of every error Sluice raises. */
export type SluiceErrorCode =
  | 'SLUICE_BREAKER_OPEN'
  | 'SLUICE_MINT_TIMEOUT'
  | 'SLUICE_MINTED_CREDENTIAL_EXPIRED'
  | 'SLUICE_INVALID_CREDENTIAL'
  | 'SLUICE_INVALID_OPTION'
  | 'SLUICE_PROVIDER_CLOSED'
  | 'SLUICE_MAX_WAIT'
  | 'SLUICE_INVALID_CLOCK'
  | 'SLUICE_KEYS_BUSY';

/** Options accepted by every {@link SluiceError} constructor. */
export interface SluiceErrorOptions {
  /** The underlying error, exposed as the standard `cause` property. */
  cause?: unknown;
}

/**
 * The base of every error Sluice raises. Check it with {@link isSluiceError} rather than
 * `instanceof`, so errors from a second copy of the package still match.
 */
export class SluiceError<C extends string = SluiceErrorCode> extends Error {
  /**
   * Stable, machine-readable code; switch on this, never on the message. Every code starts
   * with `SLUICE_`; adapter packages add their own (`SLUICE_TLS_...`).
   */
  readonly code: C;

  constructor(code: C, message: string, options?: SluiceErrorOptions) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.name = new.target.name;
  }
}

/**
 * True when `error` is a Sluice error (its `code` starts with `SLUICE_`, including the codes
 * of adapter packages), optionally with the given code; narrows to the class behind a core
 * code. Works across duplicate copies of the packages because it checks the `code`, not the
 * class.
 *
 * @example
 * ```ts
 * try { await provider.get(); }
 * catch (e) { if (isSluiceError(e, 'SLUICE_BREAKER_OPEN')) retryLater(e.retryAfterMs); }
 * ```
 */
export function isSluiceError(error: unknown): error is SluiceError<string>;
export function isSluiceError<C extends SluiceErrorCode>(
  error: unknown,
  code: C,
): error is SluiceErrorByCode[C];
export function isSluiceError<C extends string>(error: unknown, code: C): error is SluiceError<C>;
export function isSluiceError(error: unknown, code?: string): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const actual = (error as { code?: unknown }).code;
  if (typeof actual !== 'string' || !actual.startsWith('SLUICE_')) return false;
  return code === undefined || actual === code;
}

/**
 * The credential has expired and the circuit breaker is open, so no mint is attempted.
 * `retryAfterMs` says when the breaker admits its next probe; `cause` is the last mint error.
 */
export class BreakerOpenError extends SluiceError {
  declare readonly code: 'SLUICE_BREAKER_OPEN';
  /**
   * Milliseconds until the breaker admits a half-open probe: the rest of the cooldown, or of
   * the issuer's own wait when the last mint error carried a retry hint (`retryAfterMs`,
   * capped by `breaker.maxRetryAfterMs`).
   */
  readonly retryAfterMs: number;

  constructor(retryAfterMs: number, options?: SluiceErrorOptions & { name?: string }) {
    super(
      'SLUICE_BREAKER_OPEN',
      `${label(options?.name)}circuit breaker is open after mint failures and no valid credential is cached; retry in ${retryAfterMs} ms`,
      options,
    );
    this.retryAfterMs = retryAfterMs;
  }
}

/** The mint did not settle within `mintTimeoutMs`; its signal was aborted. */
export class MintTimeoutError extends SluiceError {
  declare readonly code: 'SLUICE_MINT_TIMEOUT';
  /** The timeout that elapsed, in milliseconds. */
  readonly timeoutMs: number;

  constructor(timeoutMs: number, options?: { name?: string }) {
    super(
      'SLUICE_MINT_TIMEOUT',
      `${label(options?.name)}mint did not settle within ${timeoutMs} ms`,
    );
    this.timeoutMs = timeoutMs;
  }
}

/** The mint returned a credential whose `expiresAt` is already in the past. */
export class MintedCredentialExpiredError extends SluiceError {
  declare readonly code: 'SLUICE_MINTED_CREDENTIAL_EXPIRED';
  /** The credential's `expiresAt` (epoch ms). */
  readonly expiresAt: number;
  /** The clock reading it was compared with (epoch ms). */
  readonly now: number;

  constructor(expiresAt: number, now: number, options?: { name?: string }) {
    super(
      'SLUICE_MINTED_CREDENTIAL_EXPIRED',
      expiresAt === now
        ? `${label(options?.name)}mint returned a credential with no lifetime left (expiresAt ${expiresAt} is now): the issuer answered an expires_in of 0, or the mint set expiresAt to the current time`
        : `${label(options?.name)}mint returned a credential that expired ${now - expiresAt} ms ago (expiresAt ${expiresAt}, now ${now}); check the issuer's clock and the expires_in conversion (seconds, not milliseconds)`,
    );
    this.expiresAt = expiresAt;
    this.now = now;
  }
}

/**
 * The mint returned something that is not a credential: not an object, no `value`, or an
 * `expiresAt` that is not a finite number of epoch milliseconds. The message describes the
 * shape, never the value.
 */
export class InvalidCredentialError extends SluiceError {
  declare readonly code: 'SLUICE_INVALID_CREDENTIAL';

  constructor(problem: string, options?: { name?: string }) {
    super(
      'SLUICE_INVALID_CREDENTIAL',
      `${label(options?.name)}mint returned an invalid credential: ${problem}`,
    );
  }
}

/** How {@link InvalidOptionError} describes the value it received. */
export interface InvalidOptionErrorOptions {
  /**
   * `true`: the option holds a secret (a client secret, a token, a private key), so the
   * value is described by its type only (`a string`, `an object`), whatever its length.
   * `false`: the value is public (a URL, a name) and a string is shown in full, up to 200
   * characters (longer ones are cut).
   * @default undefined: strings and bigints up to 16 characters are shown, longer ones by
   * length only (a long one may be a misplaced secret)
   */
  readonly secret?: boolean;
}

/**
 * A programmer error in the options: names the option and describes the bad value.
 * Thrown synchronously at construction (or rejected from the async factory). Pass
 * `{ secret: true }` for an option that holds a secret: the value is then described by its
 * type only, never echoed.
 *
 * @example
 * ```ts
 * import { InvalidOptionError } from '@sluice/core';
 * const error = new InvalidOptionError('clientSecret', 'a non-empty string', 42, { secret: true });
 * error.message; // 'option `clientSecret` must be a non-empty string; received a number'
 * ```
 */
export class InvalidOptionError extends SluiceError {
  declare readonly code: 'SLUICE_INVALID_OPTION';
  /** The option's path, for example `breaker.cooldownMs`. */
  readonly option: string;

  constructor(
    option: string,
    expected: string,
    received: unknown,
    options?: InvalidOptionErrorOptions,
  ) {
    const shown =
      options?.secret === true
        ? describeType(received)
        : options?.secret === false && typeof received === 'string'
          ? JSON.stringify(
              received.length > MAX_PUBLIC_CHARS
                ? `${received.slice(0, MAX_PUBLIC_CHARS - 1)}…`
                : received,
            )
          : describe(received);
    super('SLUICE_INVALID_OPTION', `option \`${option}\` must be ${expected}; received ${shown}`);
    this.option = option;
  }
}

/** The longest public option value {@link InvalidOptionError} shows. */
const MAX_PUBLIC_CHARS = 200;

/** The provider was closed; no further credential is served or minted. */
export class ProviderClosedError extends SluiceError {
  declare readonly code: 'SLUICE_PROVIDER_CLOSED';

  constructor(options?: { name?: string }) {
    super('SLUICE_PROVIDER_CLOSED', `${label(options?.name)}provider is closed`);
  }
}

/**
 * {@link poll} reached `maxWaitMs` before the issuer answered done. `cause` is the last
 * transient error an attempt reported, if any.
 */
export class MaxWaitError extends SluiceError {
  declare readonly code: 'SLUICE_MAX_WAIT';
  /** The deadline that elapsed, in milliseconds. */
  readonly maxWaitMs: number;
  /** How many attempts ran before the deadline. */
  readonly attempts: number;

  constructor(maxWaitMs: number, attempts: number, options?: SluiceErrorOptions) {
    super(
      'SLUICE_MAX_WAIT',
      `still pending after ${attempts} attempt(s) and the ${maxWaitMs} ms deadline`,
      options,
    );
    this.maxWaitMs = maxWaitMs;
    this.attempts = attempts;
  }
}

/**
 * The injected clock (`now`) threw or returned something other than a finite number of epoch
 * milliseconds, so Sluice cannot tell whether a credential is still valid. The call fails
 * with this error instead of risking an expired credential; `cause` is what the clock threw.
 */
export class InvalidClockError extends SluiceError {
  declare readonly code: 'SLUICE_INVALID_CLOCK';

  constructor(problem: string, options?: SluiceErrorOptions & { name?: string }) {
    super(
      'SLUICE_INVALID_CLOCK',
      `${label(options?.name)}the clock (\`now\` option) ${problem}; expected a finite number of epoch milliseconds`,
      options,
    );
  }
}

/**
 * A keyed provider holds `maxKeys` keys and every one of them has callers waiting on its
 * mint, so a new key cannot be added without failing those callers. Retry later, or raise
 * `maxKeys`.
 */
export class KeysBusyError extends SluiceError {
  declare readonly code: 'SLUICE_KEYS_BUSY';
  /** The `maxKeys` option that was reached. */
  readonly maxKeys: number;

  constructor(maxKeys: number, options?: { name?: string }) {
    super(
      'SLUICE_KEYS_BUSY',
      `${label(options?.name)}all ${maxKeys} keys (maxKeys) have callers waiting on their mints; a new key cannot be added until one settles`,
    );
    this.maxKeys = maxKeys;
  }
}

/** The error class behind each code, so {@link isSluiceError} narrows to its fields. */
export interface SluiceErrorByCode {
  /** {@link BreakerOpenError} */
  SLUICE_BREAKER_OPEN: BreakerOpenError;
  /** {@link MintTimeoutError} */
  SLUICE_MINT_TIMEOUT: MintTimeoutError;
  /** {@link MintedCredentialExpiredError} */
  SLUICE_MINTED_CREDENTIAL_EXPIRED: MintedCredentialExpiredError;
  /** {@link InvalidCredentialError} */
  SLUICE_INVALID_CREDENTIAL: InvalidCredentialError;
  /** {@link InvalidOptionError} */
  SLUICE_INVALID_OPTION: InvalidOptionError;
  /** {@link ProviderClosedError} */
  SLUICE_PROVIDER_CLOSED: ProviderClosedError;
  /** {@link MaxWaitError} */
  SLUICE_MAX_WAIT: MaxWaitError;
  /** {@link InvalidClockError} */
  SLUICE_INVALID_CLOCK: InvalidClockError;
  /** {@link KeysBusyError} */
  SLUICE_KEYS_BUSY: KeysBusyError;
}

function label(name: string | undefined): string {
  return name === undefined || name === '' ? '' : `[${name}] `;
}

/** The type of a value, never the value: for options that hold secrets. */
function describeType(value: unknown): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
      return value === '' ? 'an empty string' : 'a string';
    case 'undefined':
      return 'undefined';
    case 'object':
      return Array.isArray(value) ? 'an array' : 'an object';
    default:
      return `a ${typeof value}`;
  }
}

/** A short, safe description of an option value for error messages. */
function describe(value: unknown): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
      // Short strings only: a long one may be a secret passed in the wrong argument.
      return value.length > 16 ? `a string of length ${value.length}` : JSON.stringify(value);
    case 'number':
    case 'boolean':
    case 'undefined':
      return String(value);
    case 'bigint': {
      // Same rule as strings: a long one may be a secret (a key, an account number).
      const digits = String(value);
      return digits.length > 16 ? `a bigint of ${digits.length} digits` : `${digits}n`;
    }
    case 'function':
      return 'a function';
    case 'symbol':
      return 'a symbol';
    default:
      if (Array.isArray(value)) return 'an array';
      if (value instanceof Date) return 'a Date';
      return 'an object';
  }
}
