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
  | 'SLUICE_FLEET_DECRYPT_FAILED'
  | 'SLUICE_FLEET_CODEC_FAILED'
  | 'SLUICE_FLEET_UNSHAREABLE_MINT'
  | 'SLUICE_FLEET_STORE_COMMAND_FAILED';

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

/** Longest error message kept in the store or relayed, in characters. */
const MAX_MESSAGE_LENGTH = 500;
/** Longest error name or code kept in the store or relayed, in characters. */
const MAX_NAME_LENGTH = 100;

function isHttpStatus(status: unknown): status is number {
  return typeof status === 'number' && Number.isInteger(status) && status >= 100 && status <= 599;
}

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
      name: typeof name === 'string' && name !== '' ? boundedText(name, MAX_NAME_LENGTH) : 'Error',
      message: typeof message === 'string' ? truncate(message) : '',
      ...(typeof code === 'string' && code !== ''
        ? { code: boundedText(code, MAX_NAME_LENGTH) }
        : {}),
      ...(isHttpStatus(status) ? { status } : {}),
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
    // A record may have been planted: every field is bounded and stripped like our own.
    return {
      name: boundedText(name, MAX_NAME_LENGTH) || 'Error',
      message: boundedText(message),
      ...(typeof code === 'string' && code !== ''
        ? { code: boundedText(code, MAX_NAME_LENGTH) }
        : {}),
      ...(isHttpStatus(status) ? { status } : {}),
    };
  } catch {
    return undefined;
  }
}

/**
 * Text that came from elsewhere (an issuer, a store, a record someone planted), made safe to
 * show: ANSI escape sequences and control characters removed, at most `max` characters
 * (default 500, then `...`). Never throws.
 */
export function boundedText(text: unknown, max = MAX_MESSAGE_LENGTH): string {
  if (typeof text !== 'string') return '';
  // Look at no more than needed: a 1 MB message costs a slice, not a scan of 1 MB.
  const head = text.length > max * 4 ? text.slice(0, max * 4) : text;
  const clean = head
    // biome-ignore lint/suspicious/noControlCharactersInRegex: escape sequences are removed on purpose
    .replace(/\u001b\[[0-?]*[ -/]*[@-~]|\u001b[@-Z\\-_]|\u009b[0-?]*[ -/]*[@-~]/g, '')
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are removed on purpose
    .replace(/[\u0000-\u001f\u007f-\u009f]/g, ' ');
  return clean.length > max || head !== text ? `${clean.slice(0, max)}...` : clean;
}

function truncate(text: string): string {
  return boundedText(text);
}

function label(name: string | undefined): string {
  return name === undefined || name === '' ? '' : `[${name}] `;
}

/** Why a codec could not store or read a value faithfully. */
export type CodecProblem =
  /** `encode` threw, or returned something that is not a string. */
  | 'unencodable'
  /** `decode(encode(value))` is `undefined`, throws, or encodes to a different string. */
  | 'lossy'
  /** `decode` of a stored value returned `undefined`. */
  | 'undecodable';

/**
 * A codec could not store a value faithfully: `encode` threw (`jsonCodec` refuses a class
 * instance, a value with its own `toJSON`, a function, a symbol, a bigint, an `undefined`
 * member or a non-finite number), or the round trip `decode(encode(value))` gave `undefined`
 * or something that encodes differently. The value is never stored: the leader's callers get
 * the credential it minted, the lease is released, and the error is reported through
 * `onStoreError` (operation `encode`). The message names the fix; it never contains the value.
 */
export class CodecError extends SluiceError<'SLUICE_FLEET_CODEC_FAILED'> {
  /** What went wrong. */
  readonly problem: CodecProblem;

  constructor(problem: CodecProblem, detail: string, options?: { cause?: unknown }) {
    super(
      'SLUICE_FLEET_CODEC_FAILED',
      `the credential cannot be shared through the coordinator (${problem}): ${detail}. Give wrap() a codec that stores the value faithfully ({ codec }), or have the mint advertise one (withMintTraits(mint, { codec }))`,
      options,
    );
    this.problem = problem;
  }
}

/**
 * `wrap()` or `wrapKeyed()` was given a mint whose credentials cannot be shared with another
 * process (it carries `withMintTraits(mint, { unshareable: reason })`, as DPoP-bound tokens
 * do): a replica could not present a token it adopted. Thrown at wrap time.
 */
export class UnshareableMintError extends SluiceError<'SLUICE_FLEET_UNSHAREABLE_MINT'> {
  /** The reason the mint gave. */
  readonly reason: string;

  constructor(name: string, reason: string) {
    super(
      'SLUICE_FLEET_UNSHAREABLE_MINT',
      `${label(name)}this mint's credentials cannot be shared by a fleet: ${boundedText(reason)}. Use the mint without the coordinator (each replica mints its own), or share what presenting needs and drop the unshareable trait`,
    );
    this.reason = reason;
  }
}

/**
 * A store command failed, as reported: the error's name, a bounded message, its code (a
 * Redis reply's first word such as `READONLY` or `WRONGTYPE`, or a socket code such as
 * `ECONNRESET`) and the command's name. Never the command's arguments (ioredis attaches them
 * to its errors, and they hold ciphertexts, lease tokens or, in clear mode, credentials).
 */
export class StoreCommandError extends SluiceError<'SLUICE_FLEET_STORE_COMMAND_FAILED'> {
  /** The failed error's `name` (`ReplyError`, `Error`, ...). */
  readonly errorName: string;
  /** Its code: a reply's first word (`READONLY`, `WRONGTYPE`) or a string `code`; or `undefined`. */
  readonly errorCode: string | undefined;
  /** The command's name only (`evalsha`, `subscribe`, ...), when known. */
  readonly command: string | undefined;
  /** Whether the failure concerns one credential's keys (a key of the wrong type), not the store. */
  readonly perKey: boolean;

  constructor(fields: {
    errorName: string;
    message: string;
    errorCode: string | undefined;
    command: string | undefined;
  }) {
    super(
      'SLUICE_FLEET_STORE_COMMAND_FAILED',
      `coordination store command ${fields.command ?? '(unknown)'} failed: ${fields.errorName}: ${fields.message}`,
    );
    this.errorName = fields.errorName;
    this.errorCode = fields.errorCode;
    this.command = fields.command;
    this.perKey = fields.errorCode === 'WRONGTYPE';
  }
}

/**
 * An error from a store, safe to report: our own errors as they are (their causes are
 * sanitised when they are made), anything else rebuilt as a {@link StoreCommandError} from its
 * name, bounded message, code and command name. Never throws.
 */
export function sanitizeStoreError(error: unknown): Error {
  if (
    error instanceof StoreCommandError ||
    error instanceof StoreTimeoutError ||
    error instanceof StoreUnavailableError ||
    error instanceof DecryptError ||
    error instanceof CodecError
  ) {
    return error;
  }
  try {
    if (typeof error !== 'object' || error === null) {
      return new StoreCommandError({
        errorName: 'Error',
        message: boundedText(String(error)),
        errorCode: undefined,
        command: undefined,
      });
    }
    const { name, message, code, command } = error as Record<string, unknown>;
    const text = typeof message === 'string' ? message : '';
    const word = /^([A-Z][A-Z_-]{1,31})(?:\s|$)/.exec(text)?.[1];
    const commandName =
      typeof command === 'object' && command !== null
        ? (command as { name?: unknown }).name
        : undefined;
    return new StoreCommandError({
      errorName:
        typeof name === 'string' && name !== '' ? boundedText(name, MAX_NAME_LENGTH) : 'Error',
      message: boundedText(text),
      errorCode:
        typeof code === 'string' && code !== '' ? boundedText(code, MAX_NAME_LENGTH) : word,
      command:
        typeof commandName === 'string' && /^[A-Za-z.|_-]{1,32}$/.test(commandName)
          ? commandName.toLowerCase()
          : undefined,
    });
  } catch {
    return new StoreCommandError({
      errorName: 'Error',
      message: 'unreadable error',
      errorCode: undefined,
      command: undefined,
    });
  }
}

/** Whether `error` is a {@link CodecError} (also from another copy of this package). */
export function isCodecError(error: unknown): error is CodecError {
  return (
    typeof error === 'object' &&
    error !== null &&
    (error as { code?: unknown }).code === 'SLUICE_FLEET_CODEC_FAILED'
  );
}
