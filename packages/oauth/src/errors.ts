/**
 * The errors `@sluice/oauth` raises itself. Each has a stable `SLUICE_OAUTH_*` code (so core's
 * `isSluiceError` matches them too); messages are for people and never contain a client
 * secret, an assertion, a DPoP proof, a refresh token or an access token.
 *
 * Network failures (`fetch`'s `TypeError`, undici's socket errors) and aborts reach the
 * caller unchanged, so core's `isTransientNetworkError` keeps working on them.
 */

import { classifyHttpStatus, type HttpStatusClass, SluiceError } from '@sluice/core';

/** The stable codes of the errors `@sluice/oauth` raises. */
export type OAuthErrorCode =
  | 'SLUICE_OAUTH_TOKEN_ENDPOINT'
  | 'SLUICE_OAUTH_INVALID_TOKEN_RESPONSE'
  | 'SLUICE_OAUTH_DISCOVERY'
  | 'SLUICE_OAUTH_ROTATION_HOOK'
  | 'SLUICE_OAUTH_INSECURE_REQUEST'
  | 'SLUICE_OAUTH_UNSUPPORTED_TOKEN'
  | 'SLUICE_OAUTH_UNREACHABLE'
  | 'SLUICE_OAUTH_ORIGIN_NOT_ALLOWED'
  | 'SLUICE_OAUTH_TOKEN_CODEC';

/**
 * The base of every error `@sluice/oauth` raises: a `SluiceError` with a `SLUICE_OAUTH_` code.
 * Check it with {@link isOAuthError} rather than `instanceof`, so errors from a second copy of
 * the package still match.
 */
export class OAuthError extends SluiceError<OAuthErrorCode> {}

/** The grant a token request was made for, as sent in `grant_type`. */
export type GrantType =
  | 'client_credentials'
  | 'refresh_token'
  | 'urn:ietf:params:oauth:grant-type:token-exchange';

/** What the token endpoint said, as {@link TokenEndpointError} carries it. */
export interface TokenEndpointErrorDetails {
  /** The grant the request was for. */
  readonly grantType: GrantType;
  /** The HTTP status of the answer. */
  readonly status: number;
  /** The OAuth `error` code (`invalid_client`, `invalid_grant`, ...), when the answer had one. */
  readonly oauthError?: string | undefined;
  /**
   * The server's `error_description`, cut to 200 characters, with every secret the request
   * carried (and anything shaped like a JWT) replaced by `[redacted]`.
   */
  readonly oauthErrorDescription?: string | undefined;
  /** The server's `error_uri`, when it sent one. */
  readonly oauthErrorUri?: string | undefined;
  /**
   * The answer's `Retry-After` in milliseconds from when it was read: for a 429 or 5xx with a
   * well-formed value in the future only (a malformed one gives no hint, never 0).
   */
  readonly retryAfterMs?: number | undefined;
}

/**
 * The token endpoint answered something other than a token: an OAuth error (`invalid_client`,
 * `invalid_grant`, `use_dpop_nonce` twice in a row, ...), a 5xx, a 429, a redirect.
 *
 * `statusClass` is core's `classifyHttpStatus(status)`: `'pending'` for 429 and 5xx (worth
 * another try later: `transient` is true), `'failed'` for the rest (a 400 `invalid_client`
 * will not heal by waiting). The message names the grant, the status and the OAuth error;
 * it never contains what the request sent.
 */
export class TokenEndpointError extends OAuthError {
  declare readonly code: 'SLUICE_OAUTH_TOKEN_ENDPOINT';
  /** The grant the request was for. */
  readonly grantType: GrantType;
  /** The HTTP status of the answer. */
  readonly status: number;
  /** Core's `classifyHttpStatus(status)`: `'pending'` (429, 5xx) or `'failed'`. */
  readonly statusClass: HttpStatusClass;
  /** Whether another try later may succeed (`statusClass === 'pending'`). */
  readonly transient: boolean;
  /** The OAuth `error` code, when the answer had one. */
  readonly oauthError: string | undefined;
  /** The redacted `error_description`, when the answer had one. */
  readonly oauthErrorDescription: string | undefined;
  /** The server's `error_uri`, when it sent one. */
  readonly oauthErrorUri: string | undefined;
  /**
   * The answer's `Retry-After` in milliseconds (429 and 5xx only, well-formed only): core's
   * circuit breaker opens at once and makes no upstream call until then (up to its cap).
   */
  readonly retryAfterMs: number | undefined;

  constructor(details: TokenEndpointErrorDetails) {
    const statusClass = classifyHttpStatus(details.status);
    const what = details.oauthError === undefined ? '' : ` ${details.oauthError}`;
    const why =
      details.oauthErrorDescription === undefined ? '' : ` (${details.oauthErrorDescription})`;
    super(
      'SLUICE_OAUTH_TOKEN_ENDPOINT',
      `token endpoint refused the ${details.grantType} grant: HTTP ${details.status}${what}${why}`,
    );
    this.grantType = details.grantType;
    this.status = details.status;
    this.statusClass = statusClass;
    this.transient = statusClass === 'pending';
    this.oauthError = details.oauthError;
    this.oauthErrorDescription = details.oauthErrorDescription;
    this.oauthErrorUri = details.oauthErrorUri;
    this.retryAfterMs = details.retryAfterMs;
  }
}

/**
 * The token endpoint answered 200 but the body is not a usable token response (no
 * `access_token`, an unknown `token_type`, not JSON, an ID token that fails validation).
 * `reason` is oauth4webapi's description of the problem; the body itself is never attached,
 * because it may hold the token.
 */
export class InvalidTokenResponseError extends OAuthError {
  declare readonly code: 'SLUICE_OAUTH_INVALID_TOKEN_RESPONSE';
  /** The grant the request was for. */
  readonly grantType: GrantType;
  /** oauth4webapi's error code (`OAUTH_INVALID_RESPONSE`, ...), when it had one. */
  readonly clientCode: string | undefined;

  constructor(grantType: GrantType, reason: string, clientCode: string | undefined) {
    super(
      'SLUICE_OAUTH_INVALID_TOKEN_RESPONSE',
      `token endpoint answered the ${grantType} grant with an unusable response: ${reason}`,
    );
    this.grantType = grantType;
    this.clientCode = clientCode;
  }
}

/**
 * Authorization-server metadata discovery failed: the issuer's host could not be reached
 * (the message names the host and the cause's code, `cause` is `fetch`'s error), the
 * `.well-known` document answered something other than 200, or it is not valid metadata for
 * the configured issuer (an issuer mismatch, no `token_endpoint`). `status` is the HTTP
 * status when there was an answer; `transient` follows core's `classifyHttpStatus`, or
 * core's `isTransientNetworkError` for an unreachable host. `issuer` never carries
 * credentials, a query or a fragment.
 */
export class DiscoveryError extends OAuthError {
  declare readonly code: 'SLUICE_OAUTH_DISCOVERY';
  /** The issuer whose metadata was requested. */
  readonly issuer: string;
  /** The HTTP status of the discovery answer, when the failure was one. */
  readonly status: number | undefined;
  /** Whether another try later may succeed (429 and 5xx). */
  readonly transient: boolean;

  constructor(
    issuer: string,
    problem: string,
    status: number | undefined,
    options?: { cause?: unknown; transient?: boolean },
  ) {
    super('SLUICE_OAUTH_DISCOVERY', `discovery of ${issuer} failed: ${problem}`, options);
    this.issuer = issuer;
    this.status = status;
    this.transient =
      options?.transient ?? (status !== undefined && classifyHttpStatus(status) === 'pending');
  }
}

/**
 * The `onRotation` hook of {@link refreshTokenMint} threw (or rejected) while storing a
 * rotated refresh token. The new refresh token is kept in memory and used by the next mint
 * (which calls the hook again); the access token of this mint is dropped so the failure
 * shows up in the provider's reporter and breaker. `cause` is the hook's own error, unless
 * it showed the refresh token (a store echoing what it was sent): then a plain `Error` with
 * its `name`, `code` and redacted message takes its place.
 */
export class RotationHookError extends OAuthError {
  declare readonly code: 'SLUICE_OAUTH_ROTATION_HOOK';

  constructor(cause: unknown) {
    super(
      'SLUICE_OAUTH_ROTATION_HOOK',
      'the onRotation hook failed to store the rotated refresh token; the next mint retries it',
      { cause },
    );
  }
}

/**
 * `createAuthFetch` refused to send a token to a URL that is not `https:` (the token would
 * travel in clear text), before any token was fetched. `allowInsecureRequests: true` admits
 * `http:` (for a loopback test server) and nothing else: `data:`, `file:`, `blob:` and every
 * other scheme are always refused.
 */
export class InsecureRequestError extends OAuthError {
  declare readonly code: 'SLUICE_OAUTH_INSECURE_REQUEST';
  /** The refused URL's protocol, such as `'http:'` or `'data:'`. */
  readonly protocol: string;

  constructor(protocol: string) {
    super(
      'SLUICE_OAUTH_INSECURE_REQUEST',
      protocol === 'http:'
        ? 'refusing to send an access token over http: (only https: unless allowInsecureRequests is set)'
        : `refusing to send an access token to a ${describeProtocol(protocol)} URL (only https:, or http: with allowInsecureRequests)`,
    );
    this.protocol = protocol;
  }
}

/** A URL scheme as shown in a message: short and printable, or not shown. */
function describeProtocol(protocol: string): string {
  return /^[a-z][a-z0-9+.-]{0,30}:$/i.test(protocol) ? protocol : 'non-http';
}

/**
 * The token endpoint could not be reached at all (discovery failures of the same kind are a
 * {@link DiscoveryError} with the same message and cause): DNS failed (`ENOTFOUND`), the connection
 * was refused or reset, TLS failed. The message names the host and the cause's code;
 * `cause` is `fetch`'s own error, so core's `isTransientNetworkError` still sees a
 * connection refused or reset (`transient` says the same). The caller's abort is never
 * wrapped: it rejects with the signal's reason.
 */
export class UnreachableError extends OAuthError {
  declare readonly code: 'SLUICE_OAUTH_UNREACHABLE';
  /** The host (and port) that could not be reached. */
  readonly host: string;
  /**
   * The network error's code (`ECONNREFUSED`, `ENOTFOUND`, ...), else the underlying error's
   * short message (`bad port`), when there is one.
   */
  readonly causeCode: string | undefined;
  /** Whether another try later may succeed (core's `isTransientNetworkError` on the cause). */
  readonly transient: boolean;

  constructor(
    host: string,
    details: { causeCode: string | undefined; transient: boolean; cause: unknown },
  ) {
    const why = details.causeCode === undefined ? '' : ` (${details.causeCode})`;
    super('SLUICE_OAUTH_UNREACHABLE', `could not reach the token endpoint at ${host}${why}`, {
      cause: details.cause,
    });
    this.host = host;
    this.causeCode = details.causeCode;
    this.transient = details.transient;
  }
}

/**
 * `createAuthFetch` was given `allowedOrigins` and the request's URL is on none of them: no
 * token was fetched and nothing was sent. `origin` is the refused origin (scheme, host,
 * port; never a path, query or credentials).
 */
export class OriginNotAllowedError extends OAuthError {
  declare readonly code: 'SLUICE_OAUTH_ORIGIN_NOT_ALLOWED';
  /** The refused origin, such as `'https://evil.example'`. */
  readonly origin: string;

  constructor(origin: string) {
    super(
      'SLUICE_OAUTH_ORIGIN_NOT_ALLOWED',
      `refusing to send an access token to ${origin}: it is not in allowedOrigins`,
    );
    this.origin = origin;
  }
}

/**
 * `accessTokenCodec` could not write or read an access token faithfully: `encode` was given
 * a redacted copy (`token: '[redacted]'`, from `JSON.stringify`), a DPoP-bound token (its key
 * cannot leave this process) or something that is no `AccessToken`; `decode` was given text
 * that is not an encoded token, or whose token could not be presented. The message names the
 * problem, never the token.
 */
export class AccessTokenCodecError extends OAuthError {
  declare readonly code: 'SLUICE_OAUTH_TOKEN_CODEC';

  constructor(problem: string) {
    super('SLUICE_OAUTH_TOKEN_CODEC', `cannot encode or decode the access token: ${problem}`);
  }
}

/**
 * The provider given to `createAuthFetch` served something that is neither a string nor an
 * {@link AccessToken} (an empty string, an object without `token`), so no `Authorization`
 * header can be built. The message names the shape, never the value.
 */
export class UnsupportedTokenError extends OAuthError {
  declare readonly code: 'SLUICE_OAUTH_UNSUPPORTED_TOKEN';

  constructor(shape: string) {
    super(
      'SLUICE_OAUTH_UNSUPPORTED_TOKEN',
      `the provider served ${shape}; createAuthFetch needs a non-empty string or an AccessToken`,
    );
  }
}

/** The error class behind each code, so {@link isOAuthError} narrows to its fields. */
export interface OAuthErrorByCode {
  /** {@inheritDoc TokenEndpointError} */
  SLUICE_OAUTH_TOKEN_ENDPOINT: TokenEndpointError;
  /** {@inheritDoc InvalidTokenResponseError} */
  SLUICE_OAUTH_INVALID_TOKEN_RESPONSE: InvalidTokenResponseError;
  /** {@inheritDoc DiscoveryError} */
  SLUICE_OAUTH_DISCOVERY: DiscoveryError;
  /** {@inheritDoc RotationHookError} */
  SLUICE_OAUTH_ROTATION_HOOK: RotationHookError;
  /** {@inheritDoc InsecureRequestError} */
  SLUICE_OAUTH_INSECURE_REQUEST: InsecureRequestError;
  /** {@inheritDoc UnsupportedTokenError} */
  SLUICE_OAUTH_UNSUPPORTED_TOKEN: UnsupportedTokenError;
  /** {@inheritDoc UnreachableError} */
  SLUICE_OAUTH_UNREACHABLE: UnreachableError;
  /** {@inheritDoc OriginNotAllowedError} */
  SLUICE_OAUTH_ORIGIN_NOT_ALLOWED: OriginNotAllowedError;
  /** {@inheritDoc AccessTokenCodecError} */
  SLUICE_OAUTH_TOKEN_CODEC: AccessTokenCodecError;
}

/**
 * True when `error` is a `@sluice/oauth` error, optionally with the given code; narrows to the
 * class behind the code. Checks `code`, not the class, so errors from a duplicate copy of the
 * package still match.
 *
 * @example
 * ```ts
 * try {
 *   await tokens.get();
 * } catch (error) {
 *   if (isOAuthError(error, 'SLUICE_OAUTH_TOKEN_ENDPOINT') && !error.transient) {
 *     alert(`fix the client configuration: ${error.oauthError}`);
 *   }
 * }
 * ```
 */
export function isOAuthError(error: unknown): error is OAuthError;
export function isOAuthError<C extends OAuthErrorCode>(
  error: unknown,
  code: C,
): error is OAuthErrorByCode[C];
export function isOAuthError(error: unknown, code?: OAuthErrorCode): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const actual = (error as { code?: unknown }).code;
  if (typeof actual !== 'string' || !actual.startsWith('SLUICE_OAUTH_')) return false;
  return code === undefined || actual === code;
}
