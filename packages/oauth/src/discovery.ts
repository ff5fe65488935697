/**
 * Authorization-server metadata, given or discovered (RFC 8414 / OpenID Connect Discovery).
 * Discovery is cached, shared by concurrent mints, and runs under their signals: it is
 * aborted only when every mint waiting for it has given up.
 */

import { isTransientNetworkError, raceSignal } from '@sluice/core';
import * as oauth from 'oauth4webapi';
import { DiscoveryError } from './errors.js';
import { unreachableProblem } from './network.js';
import { publicUrl } from './validate.js';

/**
 * Authorization-server metadata (RFC 8414): at least `issuer` and, for the mints,
 * `token_endpoint`; any other field is kept as given.
 */
export interface AuthorizationServerMetadata {
  /** The issuer identifier. */
  readonly issuer: string;
  /** The token endpoint's URL. */
  readonly token_endpoint?: string;
  /** Any other metadata (`jwks_uri`, `mtls_endpoint_aliases`, ...). */
  readonly [parameter: string]: unknown;
}

/** A `fetch` as the package calls it. */
export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

/** How the discovery document's URL is built from the issuer. */
export type DiscoveryAlgorithm = 'oidc' | 'oauth2';

/** Options of {@link createDiscovery}. @internal */
export interface DiscoveryConfig {
  readonly issuer: URL;
  readonly algorithm: DiscoveryAlgorithm;
  readonly ttlMs: number;
  readonly now: () => number;
  readonly fetch: FetchLike | undefined;
  readonly allowInsecureRequests: boolean;
}

/** Where a mint gets the server's metadata from. @internal */
export interface MetadataSource {
  /** The metadata; rejects with `signal.reason` when `signal` aborts first. */
  get(signal: AbortSignal): Promise<oauth.AuthorizationServer>;
}

/** After a failed re-discovery, the stale metadata is used this long before trying again. */
const STALE_RETRY_MS = 60_000;

/** Metadata given up front: no request. @internal */
export function staticMetadata(metadata: AuthorizationServerMetadata): MetadataSource {
  const frozen = Object.freeze({ ...metadata }) as unknown as oauth.AuthorizationServer;
  const resolved = Promise.resolve(frozen);
  return { get: (signal) => (signal.aborted ? Promise.reject(signal.reason) : resolved) };
}

/**
 * Discovered metadata: fetched by the first mint, cached for `ttlMs`, then fetched again by
 * the next mint. Concurrent mints share one request; it runs under an internal signal that
 * is aborted once every waiting mint's signal has aborted (one mint timing out never fails
 * another's discovery). When a re-discovery fails, the stale metadata keeps being used (the
 * token endpoint may well still work) and discovery is tried again a minute later. A failure
 * with nothing cached is not cached: the next mint tries again. @internal
 */
export function createDiscovery(config: DiscoveryConfig): MetadataSource {
  let cached: oauth.AuthorizationServer | undefined;
  let freshUntil = Number.NEGATIVE_INFINITY;
  let flight:
    | { promise: Promise<oauth.AuthorizationServer>; controller: AbortController; waiters: number }
    | undefined;

  const start = () => {
    const controller = new AbortController();
    const promise = discover(config, controller.signal).then(
      (metadata) => {
        cached = metadata;
        freshUntil = config.now() + config.ttlMs;
        return metadata;
      },
      (error: unknown) => {
        if (cached !== undefined && !controller.signal.aborted) {
          freshUntil = config.now() + Math.min(config.ttlMs, STALE_RETRY_MS);
          return cached;
        }
        throw error;
      },
    );
    const current = { promise, controller, waiters: 0 };
    const clear = () => {
      if (flight === current) flight = undefined;
    };
    promise.then(clear, clear);
    return current;
  };

  return {
    get(signal) {
      if (signal.aborted) return Promise.reject(signal.reason);
      if (cached !== undefined && config.now() < freshUntil) return Promise.resolve(cached);
      flight ??= start();
      const current = flight;
      current.waiters += 1;
      const onAbort = () => {
        current.waiters -= 1;
        if (current.waiters === 0) current.controller.abort(signal.reason);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      return raceSignal(current.promise, signal).finally(() => {
        if (!signal.aborted) current.waiters -= 1;
        signal.removeEventListener('abort', onAbort);
      });
    },
  };
}

/**
 * One discovery request; its failures become {@link DiscoveryError}, an unreachable host
 * included (naming the host and the cause's code); aborts reject with the signal's reason.
 */
async function discover(
  config: DiscoveryConfig,
  signal: AbortSignal,
): Promise<oauth.AuthorizationServer> {
  const issuer = publicUrl(config.issuer);
  const send: FetchLike = async (url, init) => {
    try {
      return await (config.fetch ?? globalThis.fetch)(url, init);
    } catch (error) {
      if (signal.aborted) throw signal.reason;
      // No status, yet a refused or reset connection may well heal: transient says so.
      throw new DiscoveryError(issuer, unreachableProblem(url, error), undefined, {
        cause: error,
        transient: isTransientNetworkError(error),
      });
    }
  };
  const response = await oauth.discoveryRequest(config.issuer, {
    algorithm: config.algorithm,
    signal,
    [oauth.customFetch]: asCustomFetch(send),
    [oauth.allowInsecureRequests]: config.allowInsecureRequests,
  });
  if (response.status !== 200) {
    await response.body?.cancel().catch(() => {});
    throw new DiscoveryError(issuer, `HTTP ${response.status}`, response.status);
  }
  let metadata: oauth.AuthorizationServer;
  try {
    metadata = await oauth.processDiscoveryResponse(config.issuer, response);
  } catch (error) {
    // The document is public metadata: its problems may be shown, and kept as the cause.
    const message = error instanceof Error ? error.message : 'invalid metadata';
    throw new DiscoveryError(issuer, message, undefined, { cause: error });
  }
  if (typeof metadata.token_endpoint !== 'string') {
    throw new DiscoveryError(issuer, 'the metadata has no token_endpoint', undefined);
  }
  return metadata;
}

/** oauth4webapi's `customFetch` from a plain `fetch`-shaped function. @internal */
export function asCustomFetch(
  fetch: FetchLike,
): (url: string, options: oauth.CustomFetchOptions<string, unknown>) => Promise<Response> {
  return (url, options) => fetch(url, options as unknown as RequestInit);
}
