/**
 * What `createAuthFetch` does with a resource server's answer: the 401 rules as a pure
 * function of the status, the `WWW-Authenticate` header and the token's scheme.
 */

import { parseWwwAuthenticate } from './www-authenticate.js';

/**
 * - `'renew'`: the token was refused (401 with `error="invalid_token"` or without an error):
 *   invalidate exactly that token, and retry once with a new one if the body can be replayed.
 * - `'nonce'`: a DPoP resource server wants a (new) nonce (`error="use_dpop_nonce"` and a
 *   `DPoP-Nonce` header): resend once with the same token and a proof carrying the nonce.
 * - `'keep'`: return the answer unchanged (any other status, 403 `insufficient_scope`, a 401
 *   with another error such as `invalid_request`, a nonce demand without a nonce).
 */
export type UnauthorizedAction = 'renew' | 'nonce' | 'keep';

/** What {@link decideUnauthorized} looks at. */
export interface UnauthorizedInput {
  /** The answer's HTTP status. */
  readonly status: number;
  /** The answer's `WWW-Authenticate` header, or `null`. */
  readonly wwwAuthenticate: string | null;
  /** How the token was presented. */
  readonly scheme: 'bearer' | 'dpop';
  /** Whether the answer carries a `DPoP-Nonce` header. */
  readonly nonceOffered: boolean;
}

/**
 * Decides what to do with an answer. The `error` looked at is the one of the challenge for
 * the token's own scheme; when that challenge has none (or there is no such challenge), the
 * first challenge that has an `error` speaks. Only a 401 is ever acted upon.
 *
 * @example
 * ```ts
 * decideUnauthorized({
 *   status: 401,
 *   wwwAuthenticate: 'Bearer error="invalid_token"',
 *   scheme: 'bearer',
 *   nonceOffered: false,
 * }); // 'renew'
 * ```
 */
export function decideUnauthorized(input: UnauthorizedInput): UnauthorizedAction {
  if (input.status !== 401) return 'keep';
  const challenges = parseWwwAuthenticate(input.wwwAuthenticate);
  const own = challenges.find((challenge) => challenge.scheme === input.scheme);
  const error =
    own?.params.error ??
    challenges.find((challenge) => challenge.params.error !== undefined)?.params.error;
  if (error === 'use_dpop_nonce') {
    return input.scheme === 'dpop' && input.nonceOffered ? 'nonce' : 'keep';
  }
  return error === undefined || error === 'invalid_token' ? 'renew' : 'keep';
}
