/**
 * The value the mints of this package cache: an access token with its type, scope and, for a
 * DPoP-bound token, the key handle that signs its proofs. It never prints the token.
 */

import { REDACTED } from './redact.js';

/**
 * The DPoP key a token is bound to: oauth4webapi's `DPoPHandle`, which signs the proofs and
 * remembers each server's last nonce. Opaque apart from the key's JWK thumbprint.
 */
export interface DPoPKeyHandle {
  /** The SHA-256 JWK thumbprint of the public key (the token's `cnf.jkt`). */
  calculateThumbprint(): Promise<string>;
}

/** Fields of a new {@link AccessToken}. */
export interface AccessTokenInit {
  /** The access token itself. */
  token: string;
  /** The `token_type` the server answered, such as `'Bearer'` or `'DPoP'` (any case). */
  tokenType: string;
  /** The granted `scope`, when the server said. */
  scope?: string | undefined;
  /** When the token stops being served, epoch ms (the credential's `expiresAt`). */
  expiresAt?: number | undefined;
  /** RFC 8693 `issued_token_type` of a token-exchange answer. */
  issuedTokenType?: string | undefined;
  /** The DPoP key handle the token is bound to (`tokenType` `'DPoP'`). */
  dpop?: DPoPKeyHandle | undefined;
}

/** JSON and `util.inspect` view of an {@link AccessToken}: everything but the token. */
export interface AccessTokenView {
  /** Always `'[redacted]'`. */
  readonly token: typeof REDACTED;
  /** As {@link AccessToken.tokenType}. */
  readonly tokenType: string;
  /** As {@link AccessToken.scope}. */
  readonly scope: string | undefined;
  /** As {@link AccessToken.expiresAt}, epoch ms. */
  readonly expiresAt: number | undefined;
  /** As {@link AccessToken.issuedTokenType}. */
  readonly issuedTokenType: string | undefined;
}

const INSPECT = Symbol.for('nodejs.util.inspect.custom');

/**
 * An access token as the mints of this package return it (in a `Credential<AccessToken>`).
 * `token` is the secret; `tokenType` says how to present it (`'Bearer'`, or `'DPoP'` with a
 * fresh proof signed by `dpop` on every request). `createAuthFetch` does both for you.
 *
 * The token never prints: `JSON.stringify`, `String()`, template strings and Node's
 * `util.inspect` all show `[redacted]` in its place. Read it with `.token` when you need it.
 *
 * @example
 * ```ts
 * const access = await tokens.get();
 * if (access.tokenType === 'Bearer') {
 *   headers.set('authorization', `Bearer ${access.token}`);
 * }
 * console.log(access); // AccessToken { token: '[redacted]', tokenType: 'Bearer', ... }
 * ```
 */
export class AccessToken {
  readonly #token: string;
  /** How to present the token: `'Bearer'`, `'DPoP'`, or the server's own type otherwise. */
  readonly tokenType: string;
  /** The granted scope, when the server said. */
  readonly scope: string | undefined;
  /** When the token stops being served (epoch ms), as scheduled by the mint; `undefined`: never. */
  readonly expiresAt: number | undefined;
  /** RFC 8693 `issued_token_type`, for a token-exchange answer. */
  readonly issuedTokenType: string | undefined;
  /** The DPoP key handle this token is bound to; `undefined` for a Bearer token. */
  readonly dpop: DPoPKeyHandle | undefined;

  constructor(init: AccessTokenInit) {
    this.#token = init.token;
    this.tokenType = normalizeTokenType(init.tokenType);
    this.scope = init.scope;
    this.expiresAt = init.expiresAt;
    this.issuedTokenType = init.issuedTokenType;
    this.dpop = init.dpop;
    Object.freeze(this);
  }

  /** The access token itself. A secret: never log it. */
  get token(): string {
    return this.#token;
  }

  /** Everything but the token, which reads `[redacted]`. */
  toJSON(): AccessTokenView {
    return {
      token: REDACTED,
      tokenType: this.tokenType,
      scope: this.scope,
      expiresAt: this.expiresAt,
      issuedTokenType: this.issuedTokenType,
    };
  }

  /** `[AccessToken <type>]`: never the token. */
  toString(): string {
    return `[AccessToken ${this.tokenType}]`;
  }

  /** What Node's `util.inspect` (and `console.log`) shows: the JSON view. */
  [INSPECT](): string {
    const view = this.toJSON();
    const fields = Object.entries(view)
      .filter(([, value]) => value !== undefined)
      .map(([key, value]) => `${key}: ${typeof value === 'string' ? `'${value}'` : value}`);
    return `AccessToken { ${fields.join(', ')} }`;
  }
}

/** `'Bearer'` and `'DPoP'` in their RFC spelling; `'N_A'` upper case; others as given. */
export function normalizeTokenType(tokenType: string): string {
  switch (tokenType.toLowerCase()) {
    case 'bearer':
      return 'Bearer';
    case 'dpop':
      return 'DPoP';
    case 'n_a':
      return 'N_A';
    default:
      return tokenType;
  }
}

/**
 * Why `token` cannot be sent in an `Authorization` header, or `undefined` when it can. A token
 * must be visible ASCII (RFC 6750's `b64token` and RFC 9110's `token68` are subsets of it):
 * a CR, LF or NUL would inject headers or be refused by `fetch`, a space would split the
 * credentials. The reason names the class of character, never the token.
 */
export function unpresentableReason(token: string): string | undefined {
  if (token === '') return 'it is empty';
  const bad = /[^\x21-\x7e]/.exec(token);
  if (bad === null) return undefined;
  const char = bad[0];
  if (char === '\r' || char === '\n' || char === '\0') {
    return 'it contains a CR, LF or NUL character';
  }
  if (char === ' ' || char === '\t') return 'it contains white space';
  if (char < ' ' || char === '\x7f') return 'it contains a control character';
  return 'it contains a character outside visible ASCII';
}

/** What `createAuthFetch` needs from a provider's value: the token and how to present it. */
export interface PresentableToken {
  readonly token: string;
  /** `'dpop'` when proofs are needed, else `'bearer'`. */
  readonly scheme: 'bearer' | 'dpop';
  readonly dpop: DPoPKeyHandle | undefined;
}

/**
 * Reads a provider's value: a non-empty string (a Bearer token) or anything shaped like an
 * {@link AccessToken} (duck-typed, so a second copy of this package works too). Returns a
 * description of the shape for the error message when it is neither; never the value.
 */
export function presentableToken(value: unknown): PresentableToken | string {
  if (typeof value === 'string') {
    if (value === '') return 'an empty string';
    const why = unpresentableReason(value);
    if (why !== undefined) return `a token that cannot go in an HTTP header (${why})`;
    return { token: value, scheme: 'bearer', dpop: undefined };
  }
  if (value === null || value === undefined) return String(value);
  if (typeof value !== 'object') return `a ${typeof value}`;
  const { token, tokenType, dpop } = value as {
    token?: unknown;
    tokenType?: unknown;
    dpop?: unknown;
  };
  if (typeof token !== 'string' || token === '') return 'an object without a string `token`';
  if (token === REDACTED) {
    return 'a redacted token (`[redacted]`: a JSON copy of an AccessToken, not the token)';
  }
  const why = unpresentableReason(token);
  if (why !== undefined) return `a token that cannot go in an HTTP header (${why})`;
  const isDPoP = typeof tokenType === 'string' && tokenType.toLowerCase() === 'dpop';
  if (isDPoP && (typeof dpop !== 'object' || dpop === null)) {
    return 'a DPoP token without its `dpop` key handle';
  }
  return isDPoP
    ? { token, scheme: 'dpop', dpop: dpop as DPoPKeyHandle }
    : { token, scheme: 'bearer', dpop: undefined };
}
