/**
 * The errors of fleet coordination. Only {@link RelayedMintError} ever reaches a caller (it is
 * what a follower's waiters get when the fleet's mint failed); the others are what the
 * coordinator reports when the store misbehaves, while callers are served by the fallback.
 */

import { SluiceError } from '@sluice/core';

/** The codes this package adds. */
export type FleetErrorCode =
  | 'SLUICE_FLEET_RELAYED_FAILURE'
  | 'SLUICE_FLEET_STORE_TIMEOUT'
  | 'SLUICE_FLEET_STORE_UNAVAILABLE'
  | 'SLUICE_FLEET_DECRYPT_FAILED';

/** The fields of a failed mint that travel through the store; never a credential. */
export interface SerializedMintError {
  /** The error's `name`. */
  readonly name: string;
  /** Its message, truncated to 500 characters. */
  readonly message: string;
  /** Its `code`, when it is a string. */
  readonly code?: string;
  /** Its `status` (an HTTP status), when it is a number. */
  readonly status?: number;
}

/** Longest error message kept in the store, in characters. */
const MAX_MESSAGE_LENGTH = 500;

/**
 * The fleet's last mint of this credential failed (on another instance, or on this one) and
 * its failure window is still running, so this instance did not call the issuer.
 *
 * `code` is the failed mint's own `code` (a `TokenEndpointError`'s, `SLUICE_MINT_TIMEOUT`,
 * `ECONNRESET`, ...), so code that switches on codes behaves the same on every instance; it is
 * `SLUICE_FLEET_RELAYED_FAILURE` when that error had none. `cause` is the issuer's error as
 * the failing instance saw it (rebuilt from its name, message, code and HTTP status; the
 * original object on the instance that failed). `countsTowardsBreaker` is `false`: a
 * provider's breaker counts only the mints it attempted itself.
 */
export class RelayedMintError extends SluiceError<string> {
  /** Always `false`: `@sluice/core` does not count this failure towards the breaker. */
  readonly countsTowardsBreaker = false as const;
  /** Milliseconds until the failure window ends and one instance tries the issuer again. */
  readonly retryAfterMs: number;
  /** Consecutive failed mints the fleet has recorded for this credential. */
  readonly failures: number;

  constructor(
    original: SerializedMintError,
    cause: unknown,
    retryAfterMs: number,
    failures: number,
    options?: { name?: string },
  ) {
    super(
      original.code ?? 'SLUICE_FLEET_RELAYED_FAILURE',
      `${label(options?.name)}the fleet's last mint failed (${original.name}: ${original.message}); the next attempt is in ${retryAfterMs} ms`,
      { cause },
    );
    this.retryAfterMs = retryAfterMs;
    this.failures = failures;
  }
}

/** A store operation did not answer within `commandTimeoutMs`. Reported, never thrown to callers. */
export class StoreTimeoutError extends SluiceError<'SLUICE_FLEET_STORE_TIMEOUT'> {
  /** The operation that timed out (`loadOrLease`, `store`, ...). */
  readonly operation: string;
  /** The timeout that elapsed, in milliseconds. */
  readonly timeoutMs: number;

  constructor(operation: string, timeoutMs: number) {
    super(
      'SLUICE_FLEET_STORE_TIMEOUT',
      `coordination store did not answer ${operation} within ${timeoutMs} ms`,
    );
    this.operation = operation;
    this.timeoutMs = timeoutMs;
  }
}

/**
 * The store is known to be unreachable (its connection is down, or the store breaker is open
 * after repeated failures). Reported, never thrown to callers.
 */
export class StoreUnavailableError extends SluiceError<'SLUICE_FLEET_STORE_UNAVAILABLE'> {
  constructor(problem: string, options?: { cause?: unknown }) {
    super('SLUICE_FLEET_STORE_UNAVAILABLE', `coordination store unavailable: ${problem}`, options);
  }
}

/** Why a stored value could not be read. */
export type DecryptProblem =
  /** The record names a key id the keyring does not hold. */
  | 'unknown-key'
  /** The ciphertext failed authentication: tampered, or sealed for another credential. */
  | 'authentication-failed'
  /** The payload is not a ciphertext this keyring writes. */
  | 'malformed'
  /** The codec could not decode the value. */
  | 'undecodable'
  /** Encryption is on but the record was stored in clear (planted, or from before encryption). */
  | 'unencrypted';

/**
 * A stored value could not be decrypted or decoded: an unknown key id, a ciphertext that fails
 * authentication (tampered, or copied from another credential), or a codec that cannot read
 * it. Reported and treated as a miss; the message never contains the value.
 */
export class DecryptError extends SluiceError<'SLUICE_FLEET_DECRYPT_FAILED'> {
  /** Why the value could not be read. */
  readonly problem: DecryptProblem;
  /** The key id the record named (`''` for a record stored in clear). */
  readonly keyId: string;

  constructor(problem: DecryptProblem, keyId: string) {
    super(
      'SLUICE_FLEET_DECRYPT_FAILED',
      `stored value could not be read (${problem}${keyId === '' ? '' : `, key id ${JSON.stringify(keyId)}`})`,
    );
    this.problem = problem;
    this.keyId = keyId;
  }
}

/**
 * The fields of `error` that may travel through the store: its name, message (truncated),
 * string `code` and numeric `status`. Safe on any thrown value.
 */
export function serializeMintError(error: unknown): SerializedMintError {
  try {
    if (typeof error !== 'object' || error === null) {
      return { name: 'Error', message: truncate(String(error)) };
    }
    const { name, message, code, status } = error as {
      name?: unknown;
      message?: unknown;
      code?: unknown;
      status?: unknown;
    };
    return {
      name: typeof name === 'string' && name !== '' ? truncate(name) : 'Error',
      message: typeof message === 'string' ? truncate(message) : '',
      ...(typeof code === 'string' ? { code: truncate(code) } : {}),
      ...(typeof status === 'number' && Number.isFinite(status) ? { status } : {}),
    };
  } catch {
    return { name: 'Error', message: 'unreadable error' };
  }
}

/** Rebuilds the relayed issuer error from its serialised fields, as the `cause` of a relay. */
export function rebuildMintError(fields: SerializedMintError): Error {
  const error = new Error(fields.message);
  error.name = fields.name;
  if (fields.code !== undefined) Object.assign(error, { code: fields.code });
  if (fields.status !== undefined) Object.assign(error, { status: fields.status });
  return error;
}

/** Parses a stored error; `undefined` when it is not one. */
export function parseMintError(text: string): SerializedMintError | undefined {
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed !== 'object' || parsed === null) return undefined;
    const { name, message, code, status } = parsed as Record<string, unknown>;
    if (typeof name !== 'string' || typeof message !== 'string') return undefined;
    return {
      name,
      message,
      ...(typeof code === 'string' ? { code } : {}),
      ...(typeof status === 'number' ? { status } : {}),
    };
  } catch {
    return undefined;
  }
}

function truncate(text: string): string {
  return text.length > MAX_MESSAGE_LENGTH ? `${text.slice(0, MAX_MESSAGE_LENGTH)}...` : text;
}

function label(name: string | undefined): string {
  return name === undefined || name === '' ? '' : `[${name}] `;
}
