/**
 * What every mint of this package shares: the options naming the server and the client, and
 * the token request itself (metadata, client authentication, DPoP with one nonce retry, the
 * error mapping, and the lifetime rules that turn the answer into a credential).
 */

import { type Credential, checkKnownKeys, InvalidClockError, raceSignal } from '@sluice/core';
import * as oauth from 'oauth4webapi';
import { AccessToken, normalizeTokenType, unpresentableReason } from './access-token.js';
import { type ClientAuthOptions, resolveClientAuth } from './client-auth.js';
import {
  type AuthorizationServerMetadata,
  asCustomFetch,
  createDiscovery,
  type DiscoveryAlgorithm,
  type FetchLike,
  type MetadataSource,
  staticMetadata,
} from './discovery.js';
import { createDPoPKey, type DPoPAlgorithm, type DPoPKey, type DPoPOptions } from './dpop.js';
import { type GrantType, InvalidTokenResponseError } from './errors.js';
import { tokenExpiresAt } from './lifetime.js';
import { unreachable } from './network.js';
import { secretsOfRequest } from './redact.js';
import { readTokenEndpointError } from './token-error.js';
import {
  checkHttps,
  checkObject,
  checkString,
  checkUrl,
  invalid,
  optionalBoolean,
  optionalFunction,
  optionalParameters,
  optionalPositiveSeconds,
  optionalSeconds,
  optionalString,
  optionalStrings,
} from './validate.js';

/**
 * The options every mint takes: which server, which client, and how the answer's lifetime is
 * read. Give exactly one of `issuer` (the metadata is discovered) and `authorizationServer`
 * (the metadata itself, no discovery).
 */
export interface TokenEndpointOptions {
  /**
   * The issuer identifier; its metadata is discovered from `.well-known` (see `discovery`)
   * on the first mint, cached for `discoveryTtlSeconds`, and must name this issuer.
   * @default none (then `authorizationServer` is required)
   */
  issuer?: string | URL;
  /**
   * The server's metadata, when you have it (at least `issuer` and `token_endpoint`): no
   * discovery request is made.
   * @default none (then `issuer` is required)
   */
  authorizationServer?: AuthorizationServerMetadata;
  /**
   * Which `.well-known` document to discover: `'oidc'` (`/.well-known/openid-configuration`)
   * or `'oauth2'` (RFC 8414 `/.well-known/oauth-authorization-server`).
   * @default 'oidc'
   */
  discovery?: DiscoveryAlgorithm;
  /**
   * How long discovered metadata is reused before the next mint fetches it again, in seconds.
   * If that re-discovery fails, the old metadata keeps being used and discovery is retried a
   * minute later.
   * @default 3600
   */
  discoveryTtlSeconds?: number;
  /** The client's `client_id`. Required. */
  clientId: string;
  /** How the client authenticates at the token endpoint. Required. */
  clientAuth: ClientAuthOptions;
  /**
   * Space-separated scopes to request.
   * @default none (the server's default for the client)
   */
  scope?: string;
  /**
   * RFC 8707 resource indicator(s): the API(s) the token is for. Many servers issue a JWT
   * access token whose audience is the resource.
   * @default none
   */
  resource?: string | readonly string[];
  /**
   * Extra form parameters sent with every token request (a vendor's own, for example).
   * They cannot replace the ones this package sets.
   * @default none
   */
  additionalParameters?: Readonly<Record<string, string>>;
  /**
   * Sender-constrained tokens with DPoP (RFC 9449): `true` generates an ES256 key pair on the
   * first mint and keeps it for the life of the mint (so one key pair per provider); pass
   * options to bring your own key pair or pick the algorithm. A `use_dpop_nonce` answer is
   * retried exactly once with the server's nonce.
   * @default false
   */
  dpop?: boolean | DPoPOptions;
  /**
   * The lifetime, in seconds, of a token whose answer has no `expires_in` and which is not a
   * JWT with an `exp` claim. Without it such a token never expires and is replaced only when
   * a 401 invalidates it.
   * @default none (no expiry)
   */
  fallbackLifetimeSeconds?: number;
  /**
   * Taken off every token's lifetime, in seconds, for clock skew and latency; never more
   * than half the lifetime.
   * @default 0
   */
  skewSeconds?: number;
  /**
   * The clock the lifetime is computed with, in epoch milliseconds. Pass the provider's own
   * `now` when you inject one, so both agree.
   * @default () => Date.now()
   */
  now?: () => number;
  /**
   * The `fetch` used for discovery and token requests (a proxy agent, a test double). It is
   * called with a URL string and a `RequestInit` with `redirect: 'manual'`.
   * @default globalThis.fetch, looked up at each request
   */
  fetch?: FetchLike;
  /**
   * Allow `http:` issuer and endpoint URLs. Only ever for a loopback test server: secrets
   * and tokens would travel in clear text.
   * @default false
   */
  allowInsecureRequests?: boolean;
}

/** The checked, frozen form of {@link TokenEndpointOptions}. @internal */
export interface TokenEndpoint {
  readonly metadata: MetadataSource;
  readonly client: oauth.Client;
  readonly clientAuth: oauth.ClientAuth;
  readonly dpop: DPoPKey | undefined;
  /** scope, resource and the additional parameters, in a fresh copy each call. */
  readonly parameters: () => URLSearchParams;
  readonly fallbackLifetimeSeconds: number | undefined;
  readonly skewSeconds: number;
  readonly now: () => number;
  readonly fetch: FetchLike | undefined;
  readonly allowInsecureRequests: boolean;
  /**
   * Secrets of the configuration itself (the client secret), redacted from every error even
   * when they never travel in a request: `client_secret_jwt` only sends a JWT signed with the
   * secret, yet a hostile server that knows the secret can echo it.
   */
  readonly configuredSecrets: readonly string[];
}

const DPOP_ALGORITHMS: readonly DPoPAlgorithm[] = [
  'ES256',
  'ES384',
  'ES512',
  'PS256',
  'RS256',
  'Ed25519',
];

/**
 * The keys of {@link TokenEndpointOptions}, which every mint takes (a record of the
 * interface's keys: an option added there without a place here does not compile). @internal
 */
const TOKEN_ENDPOINT_RECORD: Record<keyof TokenEndpointOptions, true> = {
  issuer: true,
  authorizationServer: true,
  discovery: true,
  discoveryTtlSeconds: true,
  clientId: true,
  clientAuth: true,
  scope: true,
  resource: true,
  additionalParameters: true,
  dpop: true,
  fallbackLifetimeSeconds: true,
  skewSeconds: true,
  now: true,
  fetch: true,
  allowInsecureRequests: true,
};
const TOKEN_ENDPOINT_KEYS: readonly string[] = Object.freeze(Object.keys(TOKEN_ENDPOINT_RECORD));

/**
 * Checks the shared options of mint `fn` and freezes them. `grantKeys` are the keys of the
 * mint's own options: any other key is refused (`UnknownOptionError`). @internal
 */
export function resolveTokenEndpoint(
  value: unknown,
  fn: string,
  grantKeys: readonly string[],
): TokenEndpoint {
  const options = checkObject(value, fn);
  checkKnownKeys(options, [...TOKEN_ENDPOINT_KEYS, ...grantKeys], fn);
  const at = (name: string) => `${fn}.${name}`;
  const insecure = optionalBoolean(options.allowInsecureRequests, at('allowInsecureRequests'));
  const allowInsecureRequests = insecure === true;
  const now = optionalFunction<() => number>(options.now, at('now')) ?? ((): number => Date.now());
  const fetch = optionalFunction<FetchLike>(options.fetch, at('fetch'));

  let metadata: MetadataSource;
  if (options.issuer !== undefined && options.authorizationServer !== undefined) {
    invalid(at('issuer'), 'absent when authorizationServer is given', options.issuer);
  }
  if (options.authorizationServer !== undefined) {
    const server = checkObject(options.authorizationServer, at('authorizationServer'));
    checkString(server.issuer, at('authorizationServer.issuer'));
    const endpoint = checkUrl(server.token_endpoint, at('authorizationServer.token_endpoint'));
    checkHttps(endpoint, at('authorizationServer.token_endpoint'), allowInsecureRequests);
    metadata = staticMetadata(server as unknown as AuthorizationServerMetadata);
  } else {
    if (options.issuer === undefined) {
      invalid(at('issuer'), 'an issuer URL (or give authorizationServer)', undefined);
    }
    const issuer = checkUrl(options.issuer, at('issuer'));
    checkHttps(issuer, at('issuer'), allowInsecureRequests);
    const algorithm = options.discovery ?? 'oidc';
    if (algorithm !== 'oidc' && algorithm !== 'oauth2') {
      invalid(at('discovery'), "'oidc' or 'oauth2'", algorithm);
    }
    const ttlSeconds = optionalSeconds(options.discoveryTtlSeconds, at('discoveryTtlSeconds'), 0);
    metadata = createDiscovery({
      issuer,
      algorithm,
      ttlMs: (ttlSeconds ?? 3600) * 1000,
      now,
      fetch,
      allowInsecureRequests,
    });
  }

  const clientId = checkString(options.clientId, at('clientId'));
  const clientAuth = resolveClientAuth(options.clientAuth, at('clientAuth'));
  const scope = optionalString(options.scope, at('scope'));
  const resources = optionalStrings(options.resource, at('resource'));
  const additional = optionalParameters(options.additionalParameters, at('additionalParameters'));
  const fallbackLifetimeSeconds = optionalPositiveSeconds(
    options.fallbackLifetimeSeconds,
    at('fallbackLifetimeSeconds'),
  );
  const skewSeconds = optionalSeconds(options.skewSeconds, at('skewSeconds'), 0) ?? 0;

  return Object.freeze({
    metadata,
    client: Object.freeze({ client_id: clientId }),
    clientAuth,
    configuredSecrets: Object.freeze(configuredSecretsOf(options.clientAuth)),
    dpop: resolveDPoP(options.dpop, at('dpop')),
    parameters: () => {
      const parameters = new URLSearchParams(additional);
      if (scope !== undefined) parameters.set('scope', scope);
      if (resources !== undefined) {
        parameters.delete('resource');
        for (const resource of resources) parameters.append('resource', resource);
      }
      return parameters;
    },
    fallbackLifetimeSeconds,
    skewSeconds,
    now,
    fetch,
    allowInsecureRequests,
  });
}

function resolveDPoP(value: unknown, option: string): DPoPKey | undefined {
  if (value === undefined || value === false) return undefined;
  if (value === true) return createDPoPKey({ keyPair: undefined, algorithm: 'ES256' });
  // The dpop option holds a private key: wrong values are described by type only.
  const options = checkObject(value, option, true);
  checkKnownKeys(options, ['keyPair', 'algorithm'], option);
  const algorithm = options.algorithm ?? 'ES256';
  if (!DPOP_ALGORITHMS.includes(algorithm as DPoPAlgorithm)) {
    invalid(`${option}.algorithm`, `one of ${DPOP_ALGORITHMS.join(', ')}`, algorithm, true);
  }
  let keyPair: CryptoKeyPair | undefined;
  if (options.keyPair !== undefined) {
    const pair = checkObject(options.keyPair, `${option}.keyPair`, true) as {
      privateKey?: { type?: unknown };
      publicKey?: { type?: unknown; extractable?: unknown };
    };
    if (pair.privateKey?.type !== 'private') {
      invalid(`${option}.keyPair.privateKey`, 'a private CryptoKey', pair.privateKey, true);
    }
    if (pair.publicKey?.type !== 'public' || pair.publicKey.extractable !== true) {
      invalid(
        `${option}.keyPair.publicKey`,
        'an extractable public CryptoKey',
        pair.publicKey,
        true,
      );
    }
    keyPair = pair as unknown as CryptoKeyPair;
  }
  return createDPoPKey({ keyPair, algorithm: algorithm as DPoPAlgorithm });
}

/** One grant: how its request is sent and its 200 answer processed. @internal */
export interface Grant {
  readonly type: GrantType;
  send(
    as: oauth.AuthorizationServer,
    options: oauth.TokenEndpointRequestOptions,
  ): Promise<Response>;
  process(as: oauth.AuthorizationServer, response: Response): Promise<oauth.TokenEndpointResponse>;
}

/** A processed answer and the credential built from it. @internal */
export interface IssuedToken {
  readonly response: oauth.TokenEndpointResponse;
  readonly credential: Credential<AccessToken>;
}

/**
 * Sends one token request (and, after a DPoP `use_dpop_nonce` answer carrying a nonce,
 * exactly one more) under `signal`, and turns the answer into a credential.
 *
 * @throws {TokenEndpointError} for a non-200 answer.
 * @throws {InvalidTokenResponseError} for a 200 answer that is not a usable token response.
 * @throws {DiscoveryError} when the metadata cannot be discovered.
 * @throws `fetch`'s own errors (network, abort) unchanged.
 * @internal
 */
export async function requestToken(
  endpoint: TokenEndpoint,
  grant: Grant,
  signal: AbortSignal,
): Promise<IssuedToken> {
  const as = await endpoint.metadata.get(signal);
  const dpop =
    endpoint.dpop === undefined ? undefined : await raceSignal(endpoint.dpop.handle(), signal);
  const secrets: string[] = [...endpoint.configuredSecrets];
  const send: FetchLike = async (url, init) => {
    for (const secret of secretsOfRequest(init.body, init.headers)) secrets.push(secret);
    try {
      return await (endpoint.fetch ?? globalThis.fetch)(url, init);
    } catch (error) {
      if (signal.aborted) throw signal.reason;
      throw unreachable(url, error);
    }
  };
  const options: oauth.TokenEndpointRequestOptions = {
    signal,
    [oauth.customFetch]: asCustomFetch(send),
    [oauth.allowInsecureRequests]: endpoint.allowInsecureRequests,
    ...(dpop === undefined ? {} : { DPoP: dpop }),
  };
  for (let attempt = 1; ; attempt += 1) {
    const response = await grant.send(as, options);
    if (response.status === 200) {
      const body = await processAnswer(grant, as, response, signal);
      return { response: body, credential: toCredential(endpoint, grant.type, body, dpop) };
    }
    const error = await readTokenEndpointError(grant.type, response, secrets, endpoint.now);
    const nonceOffered = response.headers.has('dpop-nonce');
    if (
      attempt === 1 &&
      dpop !== undefined &&
      error.oauthError === 'use_dpop_nonce' &&
      nonceOffered
    ) {
      continue; // the handle has cached the nonce: one more try with a proof carrying it
    }
    throw error;
  }
}

/** The client secret of a (validated) `clientAuth`, if it has one. */
function configuredSecretsOf(clientAuth: unknown): string[] {
  const secret = (clientAuth as { clientSecret?: unknown } | undefined)?.clientSecret;
  return typeof secret === 'string' && secret !== '' ? [secret] : [];
}

/** The most of a token response read, in bytes: a bound on a hostile server. */
const MAX_TOKEN_BODY_BYTES = 1024 * 1024;

/**
 * Reads the answer's body under `signal` (an abort rejects with `signal.reason`), checks what
 * oauth4webapi would coerce (`expires_in` must be a JSON number), then runs oauth4webapi's
 * processing on a copy; its errors become {@link InvalidTokenResponseError}.
 */
async function processAnswer(
  grant: Grant,
  as: oauth.AuthorizationServer,
  response: Response,
  signal: AbortSignal,
): Promise<oauth.TokenEndpointResponse> {
  const text = await readBody(grant.type, response, signal);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    // oauth4webapi says it is not JSON, with its own code
  }
  if (typeof raw === 'object' && raw !== null && 'expires_in' in raw) {
    const expiresIn = (raw as { expires_in?: unknown }).expires_in;
    if (typeof expiresIn !== 'number' || !Number.isFinite(expiresIn) || expiresIn < 0) {
      throw new InvalidTokenResponseError(
        grant.type,
        `"expires_in" must be a non-negative JSON number of seconds, not ${describeJson(expiresIn)}`,
        undefined,
      );
    }
  }
  const copy = new Response(text, {
    status: response.status,
    statusText: response.statusText,
    headers: response.headers,
  });
  try {
    return await grant.process(as, copy);
  } catch (error) {
    if (
      error instanceof oauth.OperationProcessingError ||
      error instanceof oauth.UnsupportedOperationError
    ) {
      // Never the cause: oauth4webapi attaches the parsed body, which holds the token.
      throw new InvalidTokenResponseError(grant.type, error.message, error.code);
    }
    // Anything else processing threw may carry the body too: named by its class only.
    const name = error instanceof Error && /^\w{1,60}$/.test(error.name) ? error.name : 'error';
    throw new InvalidTokenResponseError(
      grant.type,
      `the answer could not be processed (${name})`,
      undefined,
    );
  }
}

/** A JSON value's type for a message (never the value: it sits beside the token). */
function describeJson(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'number') return value < 0 ? 'a negative number' : String(value);
  return Array.isArray(value) ? 'an array' : `a ${typeof value}`;
}

/** The answer's body as text, under `signal`; at most {@link MAX_TOKEN_BODY_BYTES}. */
async function readBody(
  grantType: GrantType,
  response: Response,
  signal: AbortSignal,
): Promise<string> {
  const body = response.body;
  if (body === null) return '';
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await raceSignal(reader.read(), signal);
      if (done) break;
      size += value.byteLength;
      if (size > MAX_TOKEN_BODY_BYTES) {
        throw new InvalidTokenResponseError(
          grantType,
          `the body is larger than ${MAX_TOKEN_BODY_BYTES} bytes`,
          undefined,
        );
      }
      chunks.push(value);
    }
  } catch (error) {
    reader.cancel().catch(() => {});
    // An abort while the body streams in is the caller's abort, whatever the stream says.
    if (signal.aborted) throw signal.reason;
    throw error;
  } finally {
    reader.releaseLock();
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return new TextDecoder().decode(bytes);
}

/**
 * The credential of a processed answer, after the checks that only this package can make:
 * the token must be presentable in a header, a `DPoP` token needs this mint's DPoP key, and
 * a token-exchange answer must be an access token.
 */
function toCredential(
  endpoint: TokenEndpoint,
  grantType: GrantType,
  body: oauth.TokenEndpointResponse,
  dpop: oauth.DPoPHandle | undefined,
): Credential<AccessToken> {
  const refuse = (reason: string): never => {
    throw new InvalidTokenResponseError(grantType, reason, undefined);
  };
  const why = unpresentableReason(body.access_token);
  if (why !== undefined) {
    refuse(`the access_token cannot be sent in an HTTP header (${why})`);
  }
  const tokenType = normalizeTokenType(body.token_type);
  if (tokenType === 'DPoP' && dpop === undefined) {
    refuse('token_type is DPoP but this mint has no DPoP key to present it (set the dpop option)');
  }
  const issued = body.issued_token_type;
  if (tokenType === 'N_A') {
    refuse(
      `token_type is N_A: the issued token${typeof issued === 'string' ? ` (${shortUrn(issued)})` : ''} is not an access token and cannot be presented`,
    );
  }
  if (typeof issued === 'string' && NOT_ACCESS_TOKENS.has(issued)) {
    refuse(`issued_token_type is ${shortUrn(issued)}: not an access token`);
  }
  const { expiresAt } = tokenExpiresAt({
    expiresInSeconds: body.expires_in,
    accessToken: body.access_token,
    fallbackLifetimeSeconds: endpoint.fallbackLifetimeSeconds,
    skewSeconds: endpoint.skewSeconds,
    now: readClock(endpoint.now),
  });
  const value = new AccessToken({
    token: body.access_token,
    tokenType: body.token_type,
    scope: body.scope,
    expiresAt,
    issuedTokenType: typeof issued === 'string' ? issued : undefined,
    dpop: body.token_type.toLowerCase() === 'dpop' ? dpop : undefined,
  });
  return expiresAt === undefined ? { value } : { value, expiresAt };
}

/** RFC 8693 token types that are never access tokens (an ID token, a refresh token). */
const NOT_ACCESS_TOKENS: ReadonlySet<string> = new Set([
  'urn:ietf:params:oauth:token-type:id_token',
  'urn:ietf:params:oauth:token-type:refresh_token',
]);

/** A token type URN as shown in a message: only RFC 8693's own (a server's may echo anything). */
function shortUrn(urn: string): string {
  return urn.startsWith('urn:ietf:params:oauth:token-type:') && /^[a-z0-9:_]{1,60}$/.test(urn)
    ? urn
    : 'a token type of its own';
}

/** The `now` option's reading; a clock that throws or lies fails the mint with `InvalidClockError`. */
function readClock(now: () => number): number {
  let value: unknown;
  try {
    value = now();
  } catch (error) {
    throw new InvalidClockError('threw', { cause: error });
  }
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new InvalidClockError(
      `returned ${typeof value === 'number' ? String(value) : `a ${typeof value}`}`,
    );
  }
  return value;
}
