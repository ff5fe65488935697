/**
 * The errors `@sluice/tls` raises itself. Each has a stable string `code`; messages are for
 * people. Errors from the certificate mint (and the core's `BreakerOpenError`,
 * `MintTimeoutError`, `ProviderClosedError`) reach the handshake callback unchanged.
 */

import { SluiceError } from '@sluice/core';

/** The stable codes of the errors `@sluice/tls` raises. */
export type TlsErrorCode =
  | 'SLUICE_TLS_SERVERNAME_INVALID'
  | 'SLUICE_TLS_SERVERNAME_REFUSED'
  | 'SLUICE_TLS_HANDSHAKE_TIMEOUT'
  | 'SLUICE_TLS_CERTIFICATE_EXPIRED'
  | 'SLUICE_TLS_CERTIFICATE_NOT_YET_VALID';

/**
 * The base of every error `@sluice/tls` raises: a `SluiceError` with a `SLUICE_TLS_` code, so
 * core's `isSluiceError` matches it too. Check it with {@link isTlsError} rather than
 * `instanceof`, so errors from a second copy of the package still match.
 */
export class TlsError extends SluiceError<TlsErrorCode> {}

/**
 * The SNI servername is not a valid DNS hostname (empty, too long, an IP literal, non-ASCII,
 * bad characters, ...). No mint and no `allow()` call were made for it.
 */
export class ServernameInvalidError extends TlsError {
  declare readonly code: 'SLUICE_TLS_SERVERNAME_INVALID';
  /** What is wrong with the name, such as `'ip-literal'` or `'label-too-long'`. */
  readonly problem: ServernameProblem;
  /** The offered name, truncated to 80 characters and escaped: safe to log. */
  readonly servername: string;

  constructor(servername: string, problem: ServernameProblem) {
    super('SLUICE_TLS_SERVERNAME_INVALID', `invalid TLS servername ${servername}: ${problem}`);
    this.problem = problem;
    this.servername = servername;
  }
}

/** Why a servername is not a valid DNS hostname. */
export type ServernameProblem =
  | 'not-a-string'
  | 'empty'
  | 'too-long'
  | 'non-ascii'
  | 'ip-literal'
  | 'empty-label'
  | 'label-too-long'
  | 'bad-character'
  | 'bad-hyphen'
  | 'numeric-tld'
  | 'single-label';

/** The `allow()` decision refused the (valid) servername; no mint was made. */
export class ServernameRefusedError extends TlsError {
  declare readonly code: 'SLUICE_TLS_SERVERNAME_REFUSED';
  /** The normalized servername. */
  readonly servername: string;

  constructor(servername: string) {
    super('SLUICE_TLS_SERVERNAME_REFUSED', `TLS servername ${servername} is not allowed`);
    this.servername = servername;
  }
}

/**
 * The handshake waited `timeoutMs` for a certificate (or an `allow()` decision) and gave up.
 * The shared mint, if one runs, is not aborted: it keeps going for the next handshakes.
 */
export class HandshakeTimeoutError extends TlsError {
  declare readonly code: 'SLUICE_TLS_HANDSHAKE_TIMEOUT';
  /** The deadline that elapsed, in milliseconds. */
  readonly timeoutMs: number;
  /** The normalized servername. */
  readonly servername: string;

  constructor(servername: string, timeoutMs: number) {
    super(
      'SLUICE_TLS_HANDSHAKE_TIMEOUT',
      `no certificate for ${servername} within the ${timeoutMs} ms handshake deadline`,
    );
    this.timeoutMs = timeoutMs;
    this.servername = servername;
  }
}

/**
 * The certificate provider handed out a certificate whose leaf is past its `notAfter` (its
 * credential's `expiresAt` was later than the certificate's own expiry). It is never served;
 * the credential is invalidated so a later handshake mints a new one.
 */
export class CertificateExpiredError extends TlsError {
  declare readonly code: 'SLUICE_TLS_CERTIFICATE_EXPIRED';
  /** The leaf certificate's `notAfter`, in epoch milliseconds. */
  readonly notAfter: number;

  constructor(servername: string, notAfter: number) {
    super(
      'SLUICE_TLS_CERTIFICATE_EXPIRED',
      `the certificate cached for ${servername} expired at ${new Date(notAfter).toISOString()}`,
    );
    this.notAfter = notAfter;
  }
}

/**
 * A certificate whose leaf is not valid yet (its `notBefore` is after the server's clock):
 * verifying clients would refuse it with `CERT_NOT_YET_VALID`, so it is never served. A
 * freshly minted one fails the mint (counted by the breaker, reported as a refresh failure);
 * a cached one (after the clock stepped back) is invalidated so the next handshake mints.
 */
export class CertificateNotYetValidError extends TlsError {
  declare readonly code: 'SLUICE_TLS_CERTIFICATE_NOT_YET_VALID';
  /** The leaf certificate's `notBefore`, in epoch milliseconds. */
  readonly notBefore: number;

  constructor(servername: string, notBefore: number) {
    super(
      'SLUICE_TLS_CERTIFICATE_NOT_YET_VALID',
      `the certificate for ${servername} is not valid before ${new Date(notBefore).toISOString()}; check the server's clock and the issuer's`,
    );
    this.notBefore = notBefore;
  }
}

/**
 * True when `error` is a `@sluice/tls` error, optionally with the given code. Checks `code`,
 * not the class, so errors from a duplicate copy of the package still match.
 *
 * @example
 * ```ts
 * server.on('tlsClientError', (error) => {
 *   if (isTlsError(error, 'SLUICE_TLS_SERVERNAME_REFUSED')) refusedCounter.inc();
 * });
 * ```
 */
export function isTlsError<C extends TlsErrorCode>(
  error: unknown,
  code?: C,
): error is TlsError & {
  /** The code asked for. */
  code: C;
} {
  if (typeof error !== 'object' || error === null) return false;
  const actual = (error as { code?: unknown }).code;
  if (typeof actual !== 'string' || !actual.startsWith('SLUICE_TLS_')) return false;
  return code === undefined || actual === code;
}
