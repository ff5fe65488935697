/**
 * A real OAuth 2.0 authorization server on loopback, for the demo, the tests and the
 * benchmarks: `oidc-provider` issuing short-lived JWT access tokens with the
 * `client_credentials` grant, behind a small Node HTTP server that counts the token
 * requests reaching it and can be switched to answer 503 ("outage switch").
 */

import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Adapter, AdapterPayload, Configuration } from 'oidc-provider';

/** Options of {@link startOAuthServer}. */
export interface OAuthServerOptions {
  /**
   * Lifetime of the access tokens the server issues, in whole seconds.
   * @default 6
   */
  accessTokenTtlSeconds?: number;
  /**
   * The loopback address to listen on.
   * @default '127.0.0.1'
   */
  host?: string;
  /**
   * The port; 0 picks a free ephemeral one.
   * @default 0
   */
  port?: number;
}

/** A running server; see {@link startOAuthServer}. */
export interface OAuthServer {
  /** The issuer identifier, e.g. `http://127.0.0.1:40123` (discovery lives under it). */
  readonly issuer: string;
  /** The token endpoint's URL. */
  readonly tokenEndpoint: string;
  /** The resource indicator (audience) of the issued access tokens. */
  readonly resource: string;
  /** The scope the client may request. */
  readonly scope: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** The configured access-token lifetime, in seconds. */
  readonly accessTokenTtlSeconds: number;
  /** While on, every token request is answered 503 `temporarily_unavailable`. */
  setOutage(on: boolean): void;
  /** Whether the outage switch is on. */
  outage(): boolean;
  /** Token requests that reached the server so far, whatever their answer (503s included). */
  tokenRequests(): number;
  /** Token requests answered 200, i.e. access tokens issued. */
  tokensIssued(): number;
  /** Stops listening and closes every open connection. Idempotent. */
  close(): Promise<void>;
}

const TOKEN_PATH = '/token';
const RESOURCE = 'urn:sluice:demo-api';
const SCOPE = 'api:read';

/**
 * Starts the server on an ephemeral loopback port and resolves once it listens.
 *
 * oidc-provider's quick-start warnings are avoided by configuration (a generated signing key,
 * our own bounded in-memory adapter, dev interactions off); its one import-time warning about
 * Node.js 20 (its supported floor is 22 LTS) is filtered while the module loads, see
 * {@link loadOidcProvider}.
 *
 * @example
 * ```ts
 * const server = await startOAuthServer({ accessTokenTtlSeconds: 6 });
 * server.setOutage(true); // the token endpoint now answers 503
 * await server.close();
 * ```
 */
export async function startOAuthServer(options: OAuthServerOptions = {}): Promise<OAuthServer> {
  const ttl = options.accessTokenTtlSeconds ?? 6;
  if (!Number.isSafeInteger(ttl) || ttl < 1) {
    throw new RangeError(`accessTokenTtlSeconds must be a positive integer; received ${ttl}`);
  }
  const host = options.host ?? '127.0.0.1';
  const { Provider } = await loadOidcProvider();

  let outage = false;
  let requests = 0;
  let issued = 0;
  let handler: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;

  const server = createServer((req, res) => {
    if (req.method === 'POST' && req.url?.split('?')[0] === TOKEN_PATH) {
      requests += 1;
      if (outage) {
        req.resume(); // drain the form body so the connection can be reused
        res.writeHead(503, {
          'content-type': 'application/json',
          'retry-after': '1',
          'cache-control': 'no-store',
        });
        res.end(
          JSON.stringify({
            error: 'temporarily_unavailable',
            error_description: 'outage switch is on',
          }),
        );
        return;
      }
      res.on('finish', () => {
        if (res.statusCode === 200) issued += 1;
      });
    }
    (handler as (req: IncomingMessage, res: ServerResponse) => void)(req, res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });

  const { port } = server.address() as AddressInfo;
  const issuer = `http://${host}:${port}`;
  const clientId = 'sluice-demo';
  const clientSecret = randomBytes(24).toString('base64url');
  const provider = new Provider(issuer, providerConfiguration({ clientId, clientSecret, ttl }));
  handler = provider.callback();

  let closing: Promise<void> | undefined;
  return {
    issuer,
    tokenEndpoint: `${issuer}${TOKEN_PATH}`,
    resource: RESOURCE,
    scope: SCOPE,
    clientId,
    clientSecret,
    accessTokenTtlSeconds: ttl,
    setOutage(on) {
      outage = on;
    },
    outage: () => outage,
    tokenRequests: () => requests,
    tokensIssued: () => issued,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

function providerConfiguration(options: {
  clientId: string;
  clientSecret: string;
  ttl: number;
}): Configuration {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const signingKey = {
    ...privateKey.export({ format: 'jwk' }),
    alg: 'ES256',
    use: 'sig',
    kid: 'demo-es256',
  };
  return {
    adapter: BoundedMemoryAdapter,
    jwks: { keys: [signingKey] },
    clients: [
      {
        client_id: options.clientId,
        client_secret: options.clientSecret,
        grant_types: ['client_credentials'],
        response_types: [],
        redirect_uris: [],
        token_endpoint_auth_method: 'client_secret_basic',
        id_token_signed_response_alg: 'ES256',
        scope: SCOPE,
      },
    ],
    scopes: [SCOPE],
    routes: { token: TOKEN_PATH },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      // With a resource indicator the client_credentials grant issues a JWT access token
      // (without one, an opaque token); every request gets the one demo API as its audience.
      resourceIndicators: {
        enabled: true,
        defaultResource: () => RESOURCE,
        useGrantedResource: () => true,
        getResourceServerInfo: () => ({
          scope: SCOPE,
          audience: RESOURCE,
          accessTokenFormat: 'jwt',
          accessTokenTTL: options.ttl,
          jwt: { sign: { alg: 'ES256' } },
        }),
      },
    },
    ttl: { ClientCredentials: options.ttl },
  };
}

/** Stored entries the adapter keeps at most, per model. */
const MAX_ENTRIES = 1_000;

/**
 * A minimal in-memory adapter with expiry and a size bound (oidc-provider warns about using
 * its own quick-start one). JWT access tokens are not stored at all; this holds the odd
 * artefact oidc-provider persists.
 */
class BoundedMemoryAdapter implements Adapter {
  readonly #entries = new Map<string, { payload: AdapterPayload; expiresAt: number }>();

  async upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void> {
    const now = Date.now();
    for (const [key, entry] of this.#entries) {
      if (entry.expiresAt <= now) this.#entries.delete(key);
    }
    if (this.#entries.size >= MAX_ENTRIES) {
      const oldest = this.#entries.keys().next().value;
      if (oldest !== undefined) this.#entries.delete(oldest);
    }
    const expiresAt = expiresIn === undefined ? Number.POSITIVE_INFINITY : now + expiresIn * 1000;
    this.#entries.set(id, { payload, expiresAt });
  }

  async find(id: string): Promise<AdapterPayload | undefined> {
    const entry = this.#entries.get(id);
    if (entry === undefined || entry.expiresAt <= Date.now()) return undefined;
    return entry.payload;
  }

  async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
    return this.#findBy((payload) => payload.userCode === userCode);
  }

  async findByUid(uid: string): Promise<AdapterPayload | undefined> {
    return this.#findBy((payload) => payload.uid === uid);
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

  #findBy(predicate: (payload: AdapterPayload) => boolean): AdapterPayload | undefined {
    const now = Date.now();
    for (const entry of this.#entries.values()) {
      if (entry.expiresAt > now && predicate(entry.payload)) return entry.payload;
    }
    return undefined;
  }
}

type OidcProviderModule = typeof import('oidc-provider');
let oidcProviderModule: Promise<OidcProviderModule> | undefined;

/**
 * Imports oidc-provider once. Its module body prints "Unsupported runtime. Use Node.js v22.x
 * LTS" on Node.js 20 (the floor this repository supports); that one line, and only while the
 * module loads, is dropped so a newcomer's first run is not greeted by a warning about
 * nothing they did. Every other warning still prints.
 */
export function loadOidcProvider(): Promise<OidcProviderModule> {
  oidcProviderModule ??= (async () => {
    const warn = console.warn;
    console.warn = (...args: unknown[]) => {
      const [first] = args;
      if (typeof first === 'string' && first.includes('oidc-provider WARNING: Unsupported runtime'))
        return;
      warn.apply(console, args);
    };
    try {
      return await import('oidc-provider');
    } finally {
      console.warn = warn;
    }
  })();
  return oidcProviderModule;
}
