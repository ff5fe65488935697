/**
 * When a freshly issued access token stops being served: the lifetime rules of the mints,
 * as pure functions of the token response and the clock reading.
 */

/** What {@link tokenExpiresAt} decides from. */
export interface LifetimeInput {
  /** The response's `expires_in`, seconds; `undefined` when absent. */
  readonly expiresInSeconds: number | undefined;
  /** The access token (its `exp` claim is read when `expires_in` is absent). */
  readonly accessToken: string;
  /** Used when neither `expires_in` nor a JWT `exp` is there; `undefined`: no expiry. */
  readonly fallbackLifetimeSeconds: number | undefined;
  /** Taken off the lifetime (at most half of it), seconds. */
  readonly skewSeconds: number;
  /** The clock reading the lifetime counts from, epoch ms. */
  readonly now: number;
}

/** Where {@link tokenExpiresAt} took the lifetime from. */
export type LifetimeSource = 'expires_in' | 'jwt-exp' | 'fallback' | 'none';

/** The decision of {@link tokenExpiresAt}. */
export interface TokenLifetime {
  /** Epoch ms at which the token stops being served; `undefined`: never expires. */
  readonly expiresAt: number | undefined;
  /** Which rule decided. */
  readonly source: LifetimeSource;
}

/** The time claims {@link decodeJwtTimes} reads, in epoch seconds. */
export interface JwtTimes {
  /** The `exp` claim: when the token expires. */
  readonly exp: number;
  /** The `iat` claim: when it was issued, when present. */
  readonly iat?: number;
}

/**
 * The expiry of a new token, by the first rule that applies:
 *
 * 1. `expires_in`: `now + expires_in`.
 * 2. else the `exp` claim of a JWT access token (decoded, never verified: it only schedules
 *    the refresh). When the token also has `iat`, the earlier of `exp` and `now + (exp - iat)`,
 *    so an issuer whose clock runs ahead of ours cannot make us keep a token past its real
 *    lifetime.
 * 3. else `now + fallbackLifetimeSeconds`.
 * 4. else no expiry: the token is replaced only when a 401 invalidates it.
 *
 * `skewSeconds` is then taken off, but never more than half the lifetime, so a token shorter
 * than twice the skew is still used for a while. An `exp` already in the past is returned as
 * it is (the provider then rejects it with `MintedCredentialExpiredError`, which points at
 * the clocks).
 *
 * @example
 * ```ts
 * tokenExpiresAt({
 *   expiresInSeconds: 3600,
 *   accessToken: body.access_token,
 *   fallbackLifetimeSeconds: undefined,
 *   skewSeconds: 30,
 *   now: Date.now(),
 * }); // { expiresAt: now + 3_570_000, source: 'expires_in' }
 * ```
 */
export function tokenExpiresAt(input: LifetimeInput): TokenLifetime {
  const decided = decide(input);
  // A lifetime too large for a number (an absurd expires_in) is no expiry at all.
  return decided.expiresAt === undefined || Number.isFinite(decided.expiresAt)
    ? decided
    : { expiresAt: undefined, source: decided.source };
}

function decide(input: LifetimeInput): TokenLifetime {
  const { now } = input;
  const skewMs = input.skewSeconds * 1000;
  if (input.expiresInSeconds !== undefined) {
    return {
      expiresAt: now + shorten(input.expiresInSeconds * 1000, skewMs),
      source: 'expires_in',
    };
  }
  const claims = decodeJwtTimes(input.accessToken);
  if (claims !== undefined) {
    let expiresAt = claims.exp * 1000;
    if (claims.iat !== undefined && claims.iat <= claims.exp) {
      expiresAt = Math.min(expiresAt, now + (claims.exp - claims.iat) * 1000);
    }
    const lifetimeMs = expiresAt - now;
    if (lifetimeMs <= 0) return { expiresAt, source: 'jwt-exp' };
    return { expiresAt: now + shorten(lifetimeMs, skewMs), source: 'jwt-exp' };
  }
  if (input.fallbackLifetimeSeconds !== undefined) {
    const lifetimeMs = input.fallbackLifetimeSeconds * 1000;
    return { expiresAt: now + shorten(lifetimeMs, skewMs), source: 'fallback' };
  }
  return { expiresAt: undefined, source: 'none' };
}

/** The lifetime minus the skew, the skew capped at half the lifetime. */
function shorten(lifetimeMs: number, skewMs: number): number {
  if (!(lifetimeMs > 0)) return lifetimeMs;
  return lifetimeMs - Math.min(skewMs, lifetimeMs / 2);
}

/** The largest JWT payload segment decoded, in characters (a bound on hostile input). */
const MAX_PAYLOAD_CHARS = 64 * 1024;

/**
 * The `exp` (and `iat`) claims of a compact JWS, decoded WITHOUT verifying anything: for
 * scheduling only. `undefined` when the token is not a three-part JWS with a JSON payload
 * holding a finite numeric `exp` (opaque tokens, JWEs, garbage). Never throws.
 *
 * @example
 * ```ts
 * const times = decodeJwtTimes(accessToken); // { exp: 1767225600, iat: 1767222000 } or undefined
 * ```
 */
export function decodeJwtTimes(token: string): JwtTimes | undefined {
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  const payload = parts[1] as string;
  if (payload.length === 0 || payload.length > MAX_PAYLOAD_CHARS) return undefined;
  if (!/^[A-Za-z0-9_-]+$/.test(payload)) return undefined;
  let claims: unknown;
  try {
    const base64 = payload.replace(/-/g, '+').replace(/_/g, '/');
    const binary = atob(base64.padEnd(Math.ceil(base64.length / 4) * 4, '='));
    const bytes = Uint8Array.from(binary, (char) => char.charCodeAt(0));
    claims = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    return undefined;
  }
  if (typeof claims !== 'object' || claims === null || Array.isArray(claims)) return undefined;
  const { exp, iat } = claims as { exp?: unknown; iat?: unknown };
  if (typeof exp !== 'number' || !Number.isFinite(exp)) return undefined;
  if (typeof iat === 'number' && Number.isFinite(iat)) return { exp, iat };
  return { exp };
}
