/**
 * A real OAuth 2.0 authorization server for the tests: oidc-provider on a free loopback port,
 * configured with the client credentials grant, every client-authentication method the
 * mints support, DPoP with required nonces, resource indicators issuing JWT access tokens,
 * and RFC 8693 token exchange registered with `registerGrantType`. A thin `node:http` front
 * counts requests and can inject faults (a 503 outage, a 429, a held discovery answer).
 */

import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Adapter, AdapterPayload, Configuration, errors as OidcErrors } from 'oidc-provider';

export const API = 'urn:sluice:test-api';
export const API_SCOPE = 'api:read api:write';
export const EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
export const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';

/** How the token-exchange grant answers. */
export type ExchangeMode =
  /** A JWT access token for the API, with `expires_in`. */
  | 'jwt'
  /** A JWT access token for the API, without `expires_in` (the client reads `exp`). */
  | 'jwt-without-expires-in'
  /** An opaque token without `expires_in` (the client falls back). */
  | 'opaque-without-expires-in';

/** A registered client: its id, and its secret or private key. */
export interface TestClient {
  readonly clientId: string;
  readonly clientSecret: string;
}

/** A fault the front injects on the token endpoint. */
export type TokenFault =
  | { readonly status: 503; readonly retryAfter?: string }
  | { readonly status: 429; readonly retryAfter?: string };

/** Options of {@link startAuthorizationServer}. */
export interface AuthorizationServerOptions {
  /** Lifetime of client-credentials tokens, seconds. @default 300 */
  accessTokenTtlSeconds?: number;
}

/** A running server. */
export interface AuthorizationServer {
  readonly issuer: string;
  readonly tokenEndpoint: string;
  readonly accessTokenTtlSeconds: number;
  readonly basic: TestClient;
  readonly post: TestClient;
  readonly secretJwt: TestClient;
  readonly privateKeyJwt: { readonly clientId: string; readonly privateKey: CryptoKey };
  /** client_secret_basic, DPoP-bound tokens required. */
  readonly dpop: TestClient;
  /** May use the token-exchange grant. */
  readonly exchange: TestClient;
  /** Exchange answers; change it between tests. */
  exchangeMode: ExchangeMode;
  /** Injects a fault on every token request until cleared with `undefined`. */
  setTokenFault(fault: TokenFault | undefined): void;
  /** Holds discovery answers until the returned function is called. */
  holdDiscovery(): () => void;
  /** Raw POSTs to the token endpoint so far (faults included). */
  tokenRequests(): number;
  /** Tokens issued so far, per client id. */
  issued(clientId?: string): number;
  /** Token requests refused by oidc-provider, with their OAuth error, in order. */
  refusals(): readonly string[];
  /** Discovery requests that reached the server (held ones included). */
  discoveryRequests(): number;
  /** Discovery requests whose connection closed before an answer (aborted by the client). */
  abortedDiscoveries(): number;
  close(): Promise<void>;
}

/** Starts the server and resolves once it listens. Close it in `afterAll`. */
export async function startAuthorizationServer(
  options: AuthorizationServerOptions = {},
): Promise<AuthorizationServer> {
  const ttl = options.accessTokenTtlSeconds ?? 300;
  const { Provider, errors } = await loadOidcProvider();

  let fault: TokenFault | undefined;
  let tokenRequests = 0;
  let discoveryRequests = 0;
  let abortedDiscoveries = 0;
  const held: Array<() => void> = [];
  let holding = false;
  let handler: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;

  const server = createServer((req, res) => {
    const path = req.url?.split('?')[0];
    if (req.method === 'POST' && path === '/token') {
      tokenRequests += 1;
      if (fault !== undefined) {
        req.resume();
        const headers: Record<string, string> = {
          'content-type': 'application/json',
          'cache-control': 'no-store',
        };
        if (fault.retryAfter !== undefined) headers['retry-after'] = fault.retryAfter;
        res.writeHead(fault.status, headers);
        res.end(
          JSON.stringify({
            error: fault.status === 429 ? 'slow_down' : 'temporarily_unavailable',
            error_description: 'injected by the test',
          }),
        );
        return;
      }
    }
    if (req.method === 'GET' && path === '/.well-known/openid-configuration') {
      discoveryRequests += 1;
      if (holding) {
        let answered = false;
        res.on('close', () => {
          if (!answered) abortedDiscoveries += 1;
        });
        held.push(() => {
          answered = true;
          if (!res.destroyed) (handler as typeof handler & object)(req, res);
        });
        return;
      }
    }
    (handler as (req: IncomingMessage, res: ServerResponse) => void)(req, res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const issuer = `http://127.0.0.1:${port}`;

  const secret = () => randomBytes(24).toString('base64url');
  const basic = { clientId: 'basic-client', clientSecret: secret() };
  const post = { clientId: 'post-client', clientSecret: secret() };
  const secretJwt = { clientId: 'secret-jwt-client', clientSecret: secret() };
  const dpop = { clientId: 'dpop-client', clientSecret: secret() };
  const exchange = { clientId: 'exchange-client', clientSecret: secret() };
  const clientKey = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, [
    'sign',
    'verify',
  ]);
  const clientPublicJwk = await crypto.subtle.exportKey('jwk', clientKey.publicKey);
  const privateKeyJwt = { clientId: 'private-key-jwt-client', privateKey: clientKey.privateKey };

  const state = { exchangeMode: 'jwt' as ExchangeMode };
  const configuration = providerConfiguration({
    ttl,
    clients: { basic, post, secretJwt, dpop, exchange },
    privateKeyJwtClient: {
      clientId: privateKeyJwt.clientId,
      jwk: { ...clientPublicJwk, alg: 'ES256', use: 'sig', kid: 'client-key-1' },
    },
    errors,
  });
  const provider = new Provider(issuer, configuration);
  provider.registerGrantType(
    EXCHANGE_GRANT,
    async (ctx) => {
      const params = ctx.oidc.params as Record<string, unknown>;
      if (params.subject_token_type !== ACCESS_TOKEN_TYPE) {
        throw new errors.InvalidRequest('unsupported subject_token_type');
      }
      // The subject must be a live access token this server issued (an opaque one).
      const subject = await provider.ClientCredentials.find(String(params.subject_token));
      if (subject === undefined) throw new errors.InvalidGrant('subject_token is not active');
      const opaque = state.exchangeMode === 'opaque-without-expires-in';
      const token = new provider.ClientCredentials({
        client: ctx.oidc.client,
        scope: 'api:read',
        ...(opaque
          ? {}
          : { resourceServer: new provider.ResourceServer(API, resourceServerInfo(ttl)) }),
      });
      const value = await token.save();
      ctx.body = {
        access_token: value,
        issued_token_type: ACCESS_TOKEN_TYPE,
        token_type: 'Bearer',
        scope: 'api:read',
        ...(state.exchangeMode === 'jwt' ? { expires_in: token.expiration } : {}),
      };
    },
    ['subject_token', 'subject_token_type', 'audience', 'requested_token_type'],
  );

  const issuedBy = new Map<string, number>();
  const refusals: string[] = [];
  provider.on('grant.success', (ctx) => {
    const id = ctx.oidc.client?.clientId ?? '';
    issuedBy.set(id, (issuedBy.get(id) ?? 0) + 1);
  });
  provider.on('grant.error', (_ctx, error) => {
    refusals.push(error.error ?? error.message);
  });
  handler = provider.callback();

  let closing: Promise<void> | undefined;
  return {
    issuer,
    tokenEndpoint: `${issuer}/token`,
    accessTokenTtlSeconds: ttl,
    basic,
    post,
    secretJwt,
    privateKeyJwt,
    dpop,
    exchange,
    get exchangeMode() {
      return state.exchangeMode;
    },
    set exchangeMode(mode: ExchangeMode) {
      state.exchangeMode = mode;
    },
    setTokenFault(next) {
      fault = next;
    },
    holdDiscovery() {
      holding = true;
      return () => {
        holding = false;
        for (const release of held.splice(0)) release();
      };
    },
    tokenRequests: () => tokenRequests,
    issued: (clientId) =>
      clientId === undefined
        ? [...issuedBy.values()].reduce((a, b) => a + b, 0)
        : (issuedBy.get(clientId) ?? 0),
    refusals: () => refusals,
    discoveryRequests: () => discoveryRequests,
    abortedDiscoveries: () => abortedDiscoveries,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

function resourceServerInfo(ttl: number) {
  return {
    audience: API,
    scope: API_SCOPE,
    accessTokenFormat: 'jwt' as const,
    accessTokenTTL: ttl,
    jwt: { sign: { alg: 'ES256' as const } },
  };
}

function providerConfiguration(options: {
  ttl: number;
  clients: Record<'basic' | 'post' | 'secretJwt' | 'dpop' | 'exchange', TestClient>;
  privateKeyJwtClient: { clientId: string; jwk: JsonWebKey & { kid: string } };
  errors: typeof OidcErrors;
}): Configuration {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const signingKey = {
    ...privateKey.export({ format: 'jwk' }),
    alg: 'ES256',
    use: 'sig',
    kid: 'server-es256',
  };
  const { clients } = options;
  const base = {
    response_types: [],
    redirect_uris: [],
    id_token_signed_response_alg: 'ES256' as const,
    scope: API_SCOPE,
  };
  const credentials = { ...base, grant_types: ['client_credentials'] };
  return {
    adapter: MemoryAdapter,
    jwks: { keys: [signingKey] },
    clients: [
      {
        ...credentials,
        client_id: clients.basic.clientId,
        client_secret: clients.basic.clientSecret,
        token_endpoint_auth_method: 'client_secret_basic',
      },
      {
        ...credentials,
        client_id: clients.post.clientId,
        client_secret: clients.post.clientSecret,
        token_endpoint_auth_method: 'client_secret_post',
      },
      {
        ...credentials,
        client_id: clients.secretJwt.clientId,
        client_secret: clients.secretJwt.clientSecret,
        token_endpoint_auth_method: 'client_secret_jwt',
        token_endpoint_auth_signing_alg: 'HS256',
      },
      {
        ...credentials,
        client_id: options.privateKeyJwtClient.clientId,
        token_endpoint_auth_method: 'private_key_jwt',
        token_endpoint_auth_signing_alg: 'ES256',
        jwks: { keys: [options.privateKeyJwtClient.jwk] },
      },
      {
        ...credentials,
        client_id: clients.dpop.clientId,
        client_secret: clients.dpop.clientSecret,
        token_endpoint_auth_method: 'client_secret_basic',
        dpop_bound_access_tokens: true,
      },
      {
        ...base,
        grant_types: [EXCHANGE_GRANT],
        client_id: clients.exchange.clientId,
        client_secret: clients.exchange.clientSecret,
        token_endpoint_auth_method: 'client_secret_basic',
      },
    ],
    scopes: API_SCOPE.split(' '),
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      dPoP: { enabled: true, nonceSecret: randomBytes(32), requireNonce: () => true },
      // A resource indicator gets a JWT access token for the API; no indicator, an opaque one.
      resourceIndicators: {
        enabled: true,
        defaultResource: () => undefined as unknown as string,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx, indicator) => {
          if (indicator !== API) throw new options.errors.InvalidTarget();
          return resourceServerInfo(options.ttl);
        },
      },
    },
    ttl: { ClientCredentials: options.ttl },
  };
}

/** Stored entries per model, at most. */
const MAX_ENTRIES = 10_000;

/** An in-memory adapter with expiry and a bound (replay detection and opaque tokens live here). */
class MemoryAdapter implements Adapter {
  readonly #entries = new Map<string, { payload: AdapterPayload; expiresAt: number }>();

  async upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void> {
    if (this.#entries.size >= MAX_ENTRIES) {
      const oldest = this.#entries.keys().next().value;
      if (oldest !== undefined) this.#entries.delete(oldest);
    }
    const expiresAt =
      expiresIn === undefined ? Number.POSITIVE_INFINITY : Date.now() + expiresIn * 1000;
    this.#entries.set(id, { payload, expiresAt });
  }

  async find(id: string): Promise<AdapterPayload | undefined> {
    const entry = this.#entries.get(id);
    return entry === undefined || entry.expiresAt <= Date.now() ? undefined : entry.payload;
  }

  async findByUserCode(): Promise<AdapterPayload | undefined> {
    return undefined;
  }

  async findByUid(): Promise<AdapterPayload | undefined> {
    return undefined;
  }

  async consume(id: string): Promise<void> {
    const entry = this.#entries.get(id);
    if (entry !== undefined)
      entry.payload = { ...entry.payload, consumed: Math.floor(Date.now() / 1000) };
  }

  async destroy(id: string): Promise<void> {
    this.#entries.delete(id);
  }

  async revokeByGrantId(grantId: string): Promise<void> {
    for (const [key, entry] of this.#entries) {
      if (entry.payload.grantId === grantId) this.#entries.delete(key);
    }
  }
}

type OidcProviderModule = typeof import('oidc-provider');
let loaded: Promise<OidcProviderModule> | undefined;

/**
 * Imports oidc-provider once, dropping the one line it prints at import on Node.js 20 ("Use
 * Node.js v22.x LTS"): 9.x runs on Node 20.12+ (its newest runtime API is `crypto.hash`) and
 * the tests must not be noisy about it. Every other warning still prints.
 */
export function loadOidcProvider(): Promise<OidcProviderModule> {
  loaded ??= (async () => {
    const warn = console.warn;
    console.warn = (...args: unknown[]) => {
      const [first] = args;
      if (typeof first === 'string' && first.includes('Unsupported runtime')) return;
      warn.apply(console, args);
    };
    try {
      return await import('oidc-provider');
    } finally {
      console.warn = warn;
    }
  })();
  return loaded;
}
