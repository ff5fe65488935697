/**
 * The lossless codec of {@link AccessToken}, which the mints of this package advertise
 * through core's `withMintTraits`: a fleet coordinator (`@sluice/redis`) stores the real
 * token with it, never the redacted `toJSON()` view.
 */

import type { CredentialCodec, Mint } from '@sluice/core';
import { withMintTraits } from '@sluice/core';
import { AccessToken, unpresentableReason } from './access-token.js';
import { AccessTokenCodecError } from './errors.js';
import { REDACTED } from './redact.js';

/** The encoded form's version tag: a reader refuses any other. */
const VERSION = 1;

/** The largest encoded token read, in characters (a bound on hostile shared state). */
const MAX_ENCODED_CHARS = 256 * 1024;

/**
 * Writes an {@link AccessToken} as a JSON string (`token`, `tokenType`, `scope`, `expiresAt`,
 * `issuedTokenType`) and reads it back as a real `AccessToken` that presents exactly as the
 * original. The encoded text holds the token in clear: a coordinator should encrypt it
 * (`@sluice/redis` does when given a key).
 *
 * `encode` refuses a redacted copy (`token: '[redacted]'`), a DPoP-bound token (its key pair
 * stays in the minting process, so no other process could present it) and anything that is
 * not an `AccessToken`-shaped value. `decode` checks every field's type, refuses a redacted
 * or unpresentable token, and never returns `undefined`.
 *
 * @throws {AccessTokenCodecError} `SLUICE_OAUTH_TOKEN_CODEC`, from either method; the message
 *   never contains the token.
 * @example
 * ```ts
 * import { AccessToken, accessTokenCodec } from '@sluice/oauth';
 * const text = accessTokenCodec.encode(new AccessToken({ token: 'abc', tokenType: 'Bearer' }));
 * accessTokenCodec.decode(text).token; // 'abc'
 * ```
 */
export const accessTokenCodec: CredentialCodec<AccessToken> = Object.freeze({
  encode(value: AccessToken): string {
    if (typeof value !== 'object' || value === null) {
      throw new AccessTokenCodecError(`encode needs an AccessToken, got ${kind(value)}`);
    }
    const { token, tokenType, scope, expiresAt, issuedTokenType, dpop } = value as {
      [K in keyof AccessToken]: unknown;
    };
    if (token === REDACTED) {
      throw new AccessTokenCodecError(
        'encode was given a redacted copy (token "[redacted]", from JSON.stringify), not the token',
      );
    }
    if (dpop !== undefined) {
      throw new AccessTokenCodecError(
        "encode was given a DPoP-bound token: it is bound to this process's DPoP key and cannot be presented elsewhere",
      );
    }
    const checked = check({ token, tokenType, scope, expiresAt, issuedTokenType }, 'encode');
    return JSON.stringify({ v: VERSION, ...checked });
  },

  decode(text: string): AccessToken {
    if (typeof text !== 'string') {
      throw new AccessTokenCodecError(`decode needs a string, got ${kind(text)}`);
    }
    if (text.length > MAX_ENCODED_CHARS) {
      throw new AccessTokenCodecError(
        `decode was given ${text.length} characters (at most ${MAX_ENCODED_CHARS})`,
      );
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new AccessTokenCodecError('decode was given text that is not JSON');
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new AccessTokenCodecError(`decode was given JSON ${kind(parsed)}, not an object`);
    }
    const fields = parsed as Record<string, unknown>;
    if (fields.v !== VERSION) {
      throw new AccessTokenCodecError(
        `decode was given an unknown version (expected v: ${VERSION})`,
      );
    }
    return new AccessToken(check(fields, 'decode'));
  },
});

/** The encodable fields, each checked for its type; never echoes a value. */
function check(
  fields: Record<string, unknown>,
  method: 'encode' | 'decode',
): {
  token: string;
  tokenType: string;
  scope?: string;
  expiresAt?: number;
  issuedTokenType?: string;
} {
  const { token, tokenType, scope, expiresAt, issuedTokenType } = fields;
  if (typeof token !== 'string') {
    throw new AccessTokenCodecError(`${method}: \`token\` is ${kind(token)}, not a string`);
  }
  if (token === REDACTED) {
    throw new AccessTokenCodecError(`${method}: the token is "[redacted]", not a token`);
  }
  const why = unpresentableReason(token);
  if (why !== undefined) {
    throw new AccessTokenCodecError(`${method}: the token cannot go in an HTTP header (${why})`);
  }
  if (typeof tokenType !== 'string' || tokenType === '') {
    throw new AccessTokenCodecError(
      `${method}: \`tokenType\` is ${kind(tokenType)}, not a non-empty string`,
    );
  }
  if (tokenType.toLowerCase() === 'dpop') {
    throw new AccessTokenCodecError(`${method}: a DPoP token cannot be shared without its key`);
  }
  if (scope !== undefined && typeof scope !== 'string') {
    throw new AccessTokenCodecError(`${method}: \`scope\` is ${kind(scope)}, not a string`);
  }
  if (expiresAt !== undefined && (typeof expiresAt !== 'number' || !Number.isFinite(expiresAt))) {
    throw new AccessTokenCodecError(
      `${method}: \`expiresAt\` is ${kind(expiresAt)}, not a finite number`,
    );
  }
  if (issuedTokenType !== undefined && typeof issuedTokenType !== 'string') {
    throw new AccessTokenCodecError(
      `${method}: \`issuedTokenType\` is ${kind(issuedTokenType)}, not a string`,
    );
  }
  return {
    token,
    tokenType,
    ...(scope === undefined ? {} : { scope }),
    ...(expiresAt === undefined ? {} : { expiresAt }),
    ...(issuedTokenType === undefined ? {} : { issuedTokenType }),
  };
}

/** A value's kind for a message: never the value. */
function kind(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'number') return Number.isFinite(value) ? 'a number' : String(value);
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/**
 * Why a DPoP-bound token cannot be shared, as the DPoP-configured mints advertise it.
 * @internal
 */
export const DPOP_UNSHAREABLE =
  "its tokens are DPoP-bound: each is bound to this mint's own DPoP key pair (its cnf.jkt), which never leaves this process, so another process could not present it. Give each instance its own provider, or drop the dpop option to share Bearer tokens";

/**
 * Attaches this package's mint traits: the {@link accessTokenCodec}, or, for a mint with
 * DPoP, `unshareable` with the reason. @internal
 */
export function withAccessTokenTraits(mint: Mint<AccessToken>, dpop: boolean): Mint<AccessToken> {
  return withMintTraits<Mint<AccessToken>, AccessToken>(
    mint,
    dpop ? { unshareable: DPOP_UNSHAREABLE } : { codec: accessTokenCodec },
  );
}
