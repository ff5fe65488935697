/**
 * `createAuthFetch`: a drop-in `fetch` that presents a provider's token and handles the 401
 * rules. The decisions are pure (`decideUnauthorized`, `isReplayable`); this file is the
 * effectful shell that sends, invalidates and retries.
 */

import type { CallOptions } from '@sluice/core';
import * as oauth from 'oauth4webapi';
import { type AccessToken, type PresentableToken, presentableToken } from './access-token.js';
import { InsecureRequestError, OriginNotAllowedError, UnsupportedTokenError } from './errors.js';
import { errorText, mayLeak } from './redact.js';
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
   * The `fetch` requests go through (an instrumented one, a proxy's, a test double's). It is
   * called with `redirect: 'manual'` when the caller's mode is `'follow'` (the default):
   * `createAuthFetch` follows redirects itself (see rule 5).
   * @default globalThis.fetch, looked up at each request
   */
  fetch?: FetchFunction;
  /**
   * Allow sending tokens to `http:` URLs. Only ever for a loopback test server: the token
   * would travel in clear text. Without it such a request rejects with
   * `InsecureRequestError` before any token is fetched. Other schemes (`data:`, `file:`,
   * `blob:`, ...) are refused either way.
   * @default false
   */
  allowInsecureRequests?: boolean;
  /**
   * The origins (`https://api.example.com`, scheme + host + port, no path) the token may be
   * sent to. A request to any other origin rejects with `OriginNotAllowedError` before any
   * token is fetched. Without it, where the token goes is the caller's decision: every URL
   * passed to the returned function gets it (over `https:`).
   * @default none (any origin)
   */
  allowedOrigins?: readonly (string | URL)[];
}

/** A `fetch` with the provider's token on every request; see {@link createAuthFetch}. */
export type AuthFetch = (input: FetchInput, init?: RequestInit) => Promise<Response>;

const noop = (): void => {};

/** The most redirects followed, as `fetch` itself does. */
const MAX_REDIRECTS = 20;

/**
 * Wraps `fetch` so every request carries the provider's token, and a refused token is
 * replaced once. The rules, in order:
 *
 * 0. The URL is checked before any token is fetched: `https:` only (`http:` too with
 *    `allowInsecureRequests`; any other scheme never), and on `allowedOrigins` when given.
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
 *    per call (plus redirects), and never a loop.
 * 5. Redirects (with the default `redirect: 'follow'`) are followed here, up to 20, with
 *    `fetch`'s method rules (303, and 301/302 after a POST, become a body-less GET). The
 *    token (and a fresh DPoP proof for the new URL) goes along only while the redirects stay
 *    on the first request's origin: once a redirect leaves it, neither `Authorization` nor
 *    `DPoP` is sent again in that chain, and a 401 from there is returned as it is: only a
 *    401 for a request that carried the token invalidates it. A 307/308 with a stream body
 *    cannot be replayed and is returned. With `redirect: 'manual'` or `'error'` the caller's
 *    mode is used as given. (A browser's `fetch` hides manual redirects: there the opaque
 *    redirect answer is returned.)
 *
 * A failing `get()` (a mint error, an open breaker, the caller's abort) rejects the call with
 * that error. No rejection ever carries the token: a token that cannot go in a header is
 * refused with `UnsupportedTokenError` before anything is sent, and a `fetch` error that
 * would show it is replaced by one that does not. Answers that are not returned have their
 * bodies cancelled.
 *
 * @throws {InvalidOptionError} `SLUICE_INVALID_OPTION` for a bad provider or option.
 * @example
 * ```ts
 * const tokens = await createRefreshingProvider({ mint: clientCredentialsMint(config) });
 * const api = createAuthFetch(tokens, { allowedOrigins: ['https://billing.example.com'] });
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
  const allowed = checkOrigins(checked.allowedOrigins, 'createAuthFetch.allowedOrigins');
  const underlying: FetchFunction = (input, init) => (custom ?? globalThis.fetch)(input, init);

  return async function authFetch(input: FetchInput, init?: RequestInit): Promise<Response> {
    const request = isRequest(input) ? input : undefined;
    const url = targetUrl(input, request);
    const insecureHttp = url.protocol === 'http:' && insecure;
    if (url.protocol !== 'https:' && !insecureHttp) throw new InsecureRequestError(url.protocol);
    if (allowed !== undefined && !allowed.has(url.origin)) {
      throw new OriginNotAllowedError(url.origin);
    }
    const signal = init?.signal ?? request?.signal ?? undefined;
    const call: CallOptions | undefined = signal === undefined ? undefined : { signal };
    const method = (init?.method ?? request?.method ?? 'GET').toUpperCase();
    const replayable = isReplayable(input, init);
    const follow = (init?.redirect ?? request?.redirect ?? 'follow') === 'follow';
    const callerHeaders = (): Headers => new Headers(init?.headers ?? request?.headers);

    /** Sends one request of a redirect chain, with or without the token. */
    const sendHop = async (
      token: PresentableToken,
      hop: Hop,
      withToken: boolean,
    ): Promise<Response> => {
      const headers = hop.headers;
      headers.delete('authorization');
      headers.delete('dpop');
      const go = (): Promise<Response> =>
        hop.first
          ? underlying(input, { ...init, headers, ...(follow ? { redirect: 'manual' } : {}) })
          : underlying(hop.url.href, {
              ...init,
              method: hop.method,
              headers,
              body: hop.body,
              redirect: 'manual',
              ...(signal === undefined ? {} : { signal }),
            });
      if (!withToken) return go();
      if (token.scheme === 'bearer') {
        setHeader(headers, 'authorization', `Bearer ${token.token}`);
        return go();
      }
      return sendWithProof(token, hop.method, hop.url, (proofHeaders) => {
        setHeader(headers, 'authorization', proofHeaders.authorization ?? '');
        setHeader(headers, 'dpop', proofHeaders.dpop ?? '');
        return go();
      });
    };

    /** Sends the request with the token, following redirects; says if the answer's request carried it. */
    const send = async (token: PresentableToken): Promise<Sent> => {
      let hop: Hop = { first: true, url, method, headers: callerHeaders(), body: null };
      let carried = true;
      for (let redirects = 0; ; redirects += 1) {
        const response = await guard(sendHop(token, hop, carried), token.token);
        if (!follow || !isRedirect(response)) return { response, carried };
        const next = nextHop(hop, response, replayable ? init?.body : undefined, replayable);
        if (next === undefined) return { response, carried };
        if (redirects >= MAX_REDIRECTS) {
          discard(response);
          throw new TypeError('fetch failed: redirect count exceeded');
        }
        discard(response);
        // Once the chain leaves the token's origin, the token never travels again in it.
        carried = carried && next.url.origin === url.origin;
        hop = next;
      }
    };
    const decide = (sent: Sent, token: PresentableToken) =>
      sent.carried
        ? decideUnauthorized({
            status: sent.response.status,
            wwwAuthenticate: sent.response.headers.get('www-authenticate'),
            scheme: token.scheme,
            nonceOffered: sent.response.headers.has('dpop-nonce'),
          })
        : 'keep';

    let value = await provider.get(call);
    let token = present(value);
    let nonceResends = 1;
    let renewals = 1;
    for (;;) {
      const sent = await send(token);
      const { response } = sent;
      const action = decide(sent, token);
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

/** One request of a redirect chain. */
interface Hop {
  /** The caller's own request (sent as given), not a redirect's. */
  readonly first: boolean;
  readonly url: URL;
  readonly method: string;
  readonly headers: Headers;
  /** A redirect's body (the caller's replayable one, or none); unused for the first. */
  readonly body: BodyInit | null;
}

/** An answer and whether the request it answers carried the token. */
interface Sent {
  readonly response: Response;
  readonly carried: boolean;
}

function isRedirect(response: Response): boolean {
  return [301, 302, 303, 307, 308].includes(response.status) && response.headers.has('location');
}

/** Body headers dropped when a redirect turns the request into a body-less GET. */
const BODY_HEADERS = ['content-type', 'content-encoding', 'content-language', 'content-location'];

/**
 * The request a redirect answer leads to, by `fetch`'s rules; `undefined` when it cannot be
 * followed (a scheme other than http(s), a body that cannot be sent again).
 */
function nextHop(
  hop: Hop,
  response: Response,
  body: BodyInit | null | undefined,
  replayable: boolean,
): Hop | undefined {
  let url: URL;
  try {
    url = new URL(response.headers.get('location') ?? '', hop.url);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return undefined;
  const headers = new Headers(hop.headers);
  const toGet =
    (response.status === 303 && hop.method !== 'GET' && hop.method !== 'HEAD') ||
    ((response.status === 301 || response.status === 302) && hop.method === 'POST');
  if (toGet) {
    for (const name of BODY_HEADERS) headers.delete(name);
    return { first: false, url, method: 'GET', headers, body: null };
  }
  if (hop.first && !replayable) return undefined; // its body (a stream) is gone
  return {
    first: false,
    url,
    method: hop.method,
    headers,
    body: hop.first ? (body ?? null) : hop.body,
  };
}

/** The `allowedOrigins` option as a set of origins. */
function checkOrigins(value: unknown, option: string): ReadonlySet<string> | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.length === 0) {
    invalid(option, 'a non-empty array of origins such as https://api.example.com', value);
  }
  const origins = new Set<string>();
  value.forEach((item: unknown, index) => {
    const at = `${option}[${index}]`;
    const origin = item instanceof URL || typeof item === 'string' ? parseOrigin(item) : undefined;
    if (origin === undefined) {
      invalid(
        at,
        'an http(s) origin such as https://api.example.com (no path, query or credentials)',
        item,
        false,
      );
    }
    origins.add(origin);
  });
  return origins;
}

/** The origin of an origin-only URL (a `/` path at most), or `undefined`. */
function parseOrigin(item: string | URL): string | undefined {
  let url: URL;
  try {
    url = new URL(item);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return undefined;
  if (url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '') {
    return undefined;
  }
  return url.pathname === '/' ? url.origin : undefined;
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

/** Sets a header the token is in; a failure never shows the value (it holds the token). */
function setHeader(headers: Headers, name: string, value: string): void {
  try {
    headers.set(name, value);
  } catch {
    throw new UnsupportedTokenError(`a token that cannot go in the ${name} header`);
  }
}

/**
 * `sending`, whose rejection never shows the token: an error that would (a `fetch`
 * implementation quoting the header it refused) is replaced by a `TypeError` that names what
 * happened without it. Aborts and network errors pass unchanged.
 */
async function guard(sending: Promise<Response>, token: string): Promise<Response> {
  try {
    return await sending;
  } catch (error) {
    if (mayLeak(errorText(error), [token])) {
      throw new TypeError(
        'fetch failed with an error that showed the access token; it was withheld',
      );
    }
    throw error;
  }
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
