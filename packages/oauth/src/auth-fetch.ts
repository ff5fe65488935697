/**
 * `createAuthFetch`: a drop-in `fetch` that presents a provider's token and handles the 401
 * rules. The decisions are pure (`decideUnauthorized`, `isReplayable`); this file is the
 * effectful shell that sends, invalidates and retries.
 */

import type { CallOptions } from '@sluice/core';
import * as oauth from 'oauth4webapi';
import { type AccessToken, type PresentableToken, presentableToken } from './access-token.js';
import { InsecureRequestError, UnsupportedTokenError } from './errors.js';
import { type FetchInput, isReplayable, isRequest } from './request-body.js';
import { decideUnauthorized } from './unauthorized.js';
import { checkObject, invalid, optionalBoolean, optionalFunction } from './validate.js';

/**
 * What `createAuthFetch` needs from a provider: a `RefreshingProvider<AccessToken>` (from the
 * mints of this package) or `RefreshingProvider<string>` (your own mint's Bearer tokens), or
 * any object with the same two methods (one key of a keyed provider, say).
 */
export interface AuthFetchProvider {
  /** The current token; `createAuthFetch` passes the caller's signal. */
  get(options?: CallOptions): Promise<AccessToken | string>;
  /**
   * Drops exactly `rejected` if it is still the cached token; returns whether it did.
   * `createAuthFetch` calls it with the very value `get()` resolved to (typed `never` here so
   * that any provider's own parameter type fits).
   */
  invalidate(rejected: never): boolean;
}

/** The `fetch` that `createAuthFetch` sends through. */
export type FetchFunction = (input: FetchInput, init?: RequestInit) => Promise<Response>;

/** Options of {@link createAuthFetch}. */
export interface AuthFetchOptions {
  /**
   * The `fetch` requests go through (an instrumented one, a proxy's, a test double's).
   * @default globalThis.fetch, looked up at each request
   */
  fetch?: FetchFunction;
  /**
   * Allow sending tokens to `http:` URLs. Only ever for a loopback test server: the token
   * would travel in clear text. Without it such a request rejects with
   * `InsecureRequestError` before any token is fetched.
   * @default false
   */
  allowInsecureRequests?: boolean;
}

/** A `fetch` with the provider's token on every request; see {@link createAuthFetch}. */
export type AuthFetch = (input: FetchInput, init?: RequestInit) => Promise<Response>;

const noop = (): void => {};

/**
 * Wraps `fetch` so every request carries the provider's token, and a refused token is
 * replaced once. The rules, in order:
 *
 * 1. The token is `get()` with the caller's `signal` (from `init` or the `Request`), which
 *    also goes with the request. A Bearer token goes in `Authorization: Bearer`; a DPoP-bound
 *    `AccessToken` goes in `Authorization: DPoP` with a fresh proof per request (its `dpop`
 *    key handle signs it, with the resource server's last nonce). Any `Authorization` or
 *    `DPoP` header of the caller is replaced.
 * 2. A 401 whose challenge has `error="use_dpop_nonce"` and a `DPoP-Nonce` header (DPoP
 *    tokens only) is resent with the same token and a proof carrying the nonce: once per
 *    call, and only if the body can be replayed (see 3); the nonce is remembered either way.
 * 3. A 401 with `error="invalid_token"`, or with no error (no `WWW-Authenticate` at all
 *    included): `invalidate(thatToken)`, which drops it only if the provider still holds it
 *    (late 401s for a replaced token cost nothing). Then, if the body can be replayed (none,
 *    string, `URLSearchParams`, `ArrayBuffer` or a view, `Blob`, `FormData`), ONE retry with
 *    the provider's current token, unless that is the same token (the invalidation guard
 *    refused, or the issuer handed the same token back): then the 401 is returned. A stream
 *    body (a `ReadableStream`, a `Request`'s own body) is not retried; the 401 is returned.
 * 4. Everything else (403 `insufficient_scope`, a 401 with another error, 5xx, 2xx) is
 *    returned unchanged. The retry's answer is final (a refused retry token is invalidated
 *    too, never retried): at most one nonce resend and one retry, so at most three requests
 *    per call, and never a loop.
 *
 * A failing `get()` (a mint error, an open breaker, the caller's abort) rejects the call with
 * that error. Answers that are not returned have their bodies cancelled.
 *
 * @throws {InvalidOptionError} `SLUICE_INVALID_OPTION` for a bad provider or option.
 * @example
 * ```ts
 * const tokens = await createRefreshingProvider({ mint: clientCredentialsMint(config) });
 * const api = createAuthFetch(tokens);
 * const res = await api('https://billing.example.com/invoices', { signal });
 * ```
 */
export function createAuthFetch(
  provider: AuthFetchProvider,
  options: AuthFetchOptions = {},
): AuthFetch {
  const source = checkObject(provider, 'createAuthFetch.provider');
  if (typeof source.get !== 'function' || typeof source.invalidate !== 'function') {
    invalid('createAuthFetch.provider', 'a provider with get() and invalidate()', provider);
  }
  const checked = checkObject(options, 'createAuthFetch.options');
  const custom = optionalFunction<FetchFunction>(checked.fetch, 'createAuthFetch.fetch');
  const insecure =
    optionalBoolean(checked.allowInsecureRequests, 'createAuthFetch.allowInsecureRequests') ===
    true;
  const underlying: FetchFunction = (input, init) => (custom ?? globalThis.fetch)(input, init);

  return async function authFetch(input: FetchInput, init?: RequestInit): Promise<Response> {
    const request = isRequest(input) ? input : undefined;
    const url = targetUrl(input, request);
    if (url.protocol !== 'https:' && !insecure) throw new InsecureRequestError(url.protocol);
    const signal = init?.signal ?? request?.signal ?? undefined;
    const call: CallOptions | undefined = signal === undefined ? undefined : { signal };
    const method = (init?.method ?? request?.method ?? 'GET').toUpperCase();
    const replayable = isReplayable(input, init);

    const send = async (token: PresentableToken): Promise<Response> => {
      const headers = new Headers(init?.headers ?? request?.headers);
      headers.delete('authorization');
      headers.delete('dpop');
      if (token.scheme === 'bearer') {
        headers.set('authorization', `Bearer ${token.token}`);
        return underlying(input, { ...init, headers });
      }
      return sendWithProof(token, method, url, (proofHeaders) => {
        headers.set('authorization', proofHeaders.authorization ?? '');
        headers.set('dpop', proofHeaders.dpop ?? '');
        return underlying(input, { ...init, headers });
      });
    };
    const decide = (response: Response, token: PresentableToken) =>
      decideUnauthorized({
        status: response.status,
        wwwAuthenticate: response.headers.get('www-authenticate'),
        scheme: token.scheme,
        nonceOffered: response.headers.has('dpop-nonce'),
      });

    let value = await provider.get(call);
    let token = present(value);
    let nonceResends = 1;
    let renewals = 1;
    for (;;) {
      const response = await send(token);
      const action = decide(response, token);
      if (action === 'nonce' && nonceResends > 0 && replayable) {
        nonceResends -= 1;
        discard(response);
        continue;
      }
      if (action !== 'renew') return response;
      provider.invalidate(value as never);
      if (renewals === 0 || !replayable) return response;
      renewals -= 1;
      let nextValue: AccessToken | string;
      let next: PresentableToken;
      try {
        nextValue = await provider.get(call);
        next = present(nextValue);
      } catch (error) {
        discard(response);
        throw error;
      }
      if (next.token === token.token) return response;
      discard(response);
      value = nextValue;
      token = next;
    }
  };
}

/** The request's URL, resolved against the page in a browser. */
function targetUrl(input: FetchInput, request: Request | undefined): URL {
  const href = request?.url ?? (input instanceof URL ? input.href : String(input));
  const base = typeof location === 'undefined' ? undefined : location.href;
  return new URL(href, base);
}

function present(value: unknown): PresentableToken {
  const token = presentableToken(value);
  if (typeof token === 'string') throw new UnsupportedTokenError(token);
  return token;
}

function discard(response: Response): void {
  response.body?.cancel().catch(noop);
}

/**
 * Sends through oauth4webapi's protected-resource request so its DPoP handle signs the proof
 * (method, URL, token hash, the origin's last nonce) and records the next nonce; the request
 * itself is the caller's, sent by `sendWith` with the two headers oauth4webapi built.
 */
async function sendWithProof(
  token: PresentableToken,
  method: string,
  url: URL,
  sendWith: (headers: Record<string, string>) => Promise<Response>,
): Promise<Response> {
  try {
    return await oauth.protectedResourceRequest(token.token, method, url, undefined, null, {
      DPoP: token.dpop as oauth.DPoPHandle, // what the mints put there
      [oauth.allowInsecureRequests]: true, // createAuthFetch has already decided
      [oauth.customFetch]: (_url, built) => sendWith(built.headers),
    });
  } catch (error) {
    // oauth4webapi rejects any answer with a WWW-Authenticate challenge: it is still the answer.
    if (error instanceof oauth.WWWAuthenticateChallengeError) return error.response;
    throw error;
  }
}
