/**
 * One secret sentinel across all packages (issue 14, section 5). Every package's paths run
 * with sentinel secrets (client secret, refresh token, access token, private key, encryption
 * key, DPoP key) and every rendering of everything they let out is searched for the secrets,
 * their 8-character prefixes and their common encodings (see ./support/sentinel.ts):
 * errors (message, fields, cause chain, JSON, util.inspect), reporter events of core, fleet
 * and TLS, spans (attributes, events, status) from an in-memory exporter, Prometheus text,
 * OpenTelemetry metric exports, Effect causes, and the Redis MONITOR and pub/sub traffic under
 * encryption.
 *
 * Servers are hostile on purpose: the token endpoint and the resource server echo each secret
 * they received in every encoding `echoesOf` knows. A new code path joins by running inside
 * one of these tests (or a new one) with `sentinel.inspect(...)` on what it lets out.
 */

import { randomBytes, webcrypto } from 'node:crypto';
import { type Credential, createRefreshingProvider, type Mint, withMintTraits } from '@sluice/core';
import { makeCredentialProvider } from '@sluice/effect';
import {
  type AccessToken,
  accessTokenCodec,
  type ClientAuthOptions,
  type ClientCredentialsMintOptions,
  clientCredentialsMint,
  createAuthFetch,
  refreshTokenMint,
  tokenExchangeMint,
} from '@sluice/oauth';
import { traceKeyedMint } from '@sluice/opentelemetry';
import {
  createRedisCoordinator,
  type EncryptionOptions,
  FLEET_REPORTER_HOOKS,
  type FleetCoordinator,
} from '@sluice/redis';
import { createSniCallback, type TlsCertificate } from '@sluice/tls';
import { Cause, Effect, Exit } from 'effect';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runTest } from '../../packages/effect/test/support/harness.js';
import {
  json,
  startTokenEndpoint,
  type TokenEndpointServer,
} from '../../packages/oauth/test/support/token-endpoint.js';
import {
  type RedisServer,
  redisAvailable,
  startRedisServer,
} from '../../packages/redis/test/support/redis-server.js';
import { createLocalCa } from '../../packages/tls/test/support/local-ca.js';
import { handshake, startServer } from '../../packages/tls/test/support/tls-harness.js';
import { readyClient } from './support/redis.js';
import { echoesOf, SecretSentinel, sentinelSecret } from './support/sentinel.js';
import {
  echoingResourceServer,
  failure,
  startMonitor,
  telemetry,
} from './support/sentinel-paths.js';

const CLIENT_SECRET = sentinelSecret('client-secret');
const REFRESH_TOKEN = sentinelSecret('refresh-token');
const ROTATED_REFRESH_TOKEN = sentinelSecret('rotated-refresh');
const ACCESS_TOKEN = sentinelSecret('access-token');
const ACTOR_TOKEN = sentinelSecret('actor-token');
const SUBJECT_TOKEN = sentinelSecret('subject-token');
const ENCRYPTION_TEXT = `EK${randomBytes(15).toString('hex')}`; // 32 ASCII bytes
const ENCRYPTION: EncryptionOptions = {
  keys: [{ id: 'sentinel', key: new Uint8Array(Buffer.from(ENCRYPTION_TEXT, 'latin1')) }],
};

let privateKey: CryptoKey;
let privateKeyD = '';
let dpopKeyPair: CryptoKeyPair;
let dpopKeyD = '';

/** A sentinel knowing every secret of this file. */
function newSentinel(): SecretSentinel {
  const sentinel = new SecretSentinel();
  sentinel.add('client secret', CLIENT_SECRET);
  sentinel.add('refresh token', REFRESH_TOKEN);
  sentinel.add('rotated refresh token', ROTATED_REFRESH_TOKEN);
  sentinel.add('access token', ACCESS_TOKEN);
  sentinel.add('actor token', ACTOR_TOKEN);
  sentinel.add('subject token', SUBJECT_TOKEN);
  sentinel.add('encryption key', ENCRYPTION_TEXT);
  sentinel.add('encryption key (base64)', Buffer.from(ENCRYPTION_TEXT).toString('base64'));
  sentinel.add('encryption key (hex)', Buffer.from(ENCRYPTION_TEXT).toString('hex'));
  sentinel.add('private key (JWK d)', privateKeyD);
  sentinel.add('DPoP private key (JWK d)', dpopKeyD);
  return sentinel;
}

/** Every secret any request to our servers carried, in every encoding, as one echo. */
function echoAll(received: string): string {
  const secrets = [CLIENT_SECRET, REFRESH_TOKEN, ROTATED_REFRESH_TOKEN, ACCESS_TOKEN, ACTOR_TOKEN];
  const parts: string[] = [];
  for (const secret of secrets) {
    for (const { encoding, text } of echoesOf(secret)) parts.push(`${encoding}: ${text}`);
  }
  return `${parts.join(' | ')} | request was: ${received}`;
}

let endpoint: TokenEndpointServer;
/** Coordinators open now (their leases are awaited before a MONITOR transcript is read). */
const liveFleets: FleetCoordinator[] = [];
const closers: Array<() => unknown> = [];

beforeAll(async () => {
  const ec = { name: 'ECDSA', namedCurve: 'P-256' } as const;
  const clientKeys = (await webcrypto.subtle.generateKey(ec, true, [
    'sign',
    'verify',
  ])) as CryptoKeyPair;
  privateKey = clientKeys.privateKey;
  privateKeyD = String((await webcrypto.subtle.exportKey('jwk', privateKey)).d);
  dpopKeyPair = (await webcrypto.subtle.generateKey(ec, true, ['sign', 'verify'])) as CryptoKeyPair;
  dpopKeyD = String((await webcrypto.subtle.exportKey('jwk', dpopKeyPair.privateKey)).d);
  endpoint = await startTokenEndpoint();
});

afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
  endpoint.failDiscovery(false);
});

afterAll(async () => {
  await endpoint?.close();
});

function mintOptions(
  overrides: Partial<ClientCredentialsMintOptions> = {},
): ClientCredentialsMintOptions {
  return {
    issuer: endpoint.issuer,
    clientId: 'sentinel-client',
    clientAuth: { method: 'client_secret_post', clientSecret: CLIENT_SECRET },
    allowInsecureRequests: true,
    ...overrides,
  } as ClientCredentialsMintOptions;
}

/** An access-token answer. */
function issue(token = ACCESS_TOKEN, extra: Record<string, unknown> = {}) {
  return json(200, { access_token: token, token_type: 'Bearer', expires_in: 3600, ...extra });
}

describe('secret sentinel: @sluice/oauth', () => {
  it('successful mints (client credentials with each secret method, private_key_jwt, refresh token with rotation, token exchange): the credential, snapshot, events, spans and metrics carry no secret', async () => {
    const sentinel = newSentinel();
    const t = telemetry(sentinel);
    endpoint.script((request) =>
      request.form.get('grant_type') === 'refresh_token'
        ? issue(ACCESS_TOKEN, { refresh_token: ROTATED_REFRESH_TOKEN })
        : issue(),
    );
    const auths: ClientAuthOptions[] = [
      { method: 'client_secret_basic', clientSecret: CLIENT_SECRET },
      { method: 'client_secret_post', clientSecret: CLIENT_SECRET },
      { method: 'client_secret_jwt', clientSecret: CLIENT_SECRET },
      { method: 'private_key_jwt', privateKey },
    ];
    const mints: Array<[string, Mint<AccessToken>]> = auths.map((clientAuth) => [
      `client-credentials ${clientAuth.method}`,
      clientCredentialsMint(mintOptions({ clientAuth })),
    ]);
    let rotated = '';
    mints.push([
      'refresh-token',
      refreshTokenMint({
        ...mintOptions(),
        refreshToken: REFRESH_TOKEN,
        onRotation: (next) => {
          rotated = next;
        },
      }),
    ]);
    mints.push([
      'token-exchange',
      tokenExchangeMint({ ...mintOptions(), subjectToken: SUBJECT_TOKEN, actorToken: ACTOR_TOKEN }),
    ]);
    for (const [name, mint] of mints) {
      const provider = await createRefreshingProvider<AccessToken>({
        name,
        mint: t.trace(mint, name),
        reporter: t.reporter,
      });
      t.observe(provider);
      closers.push(() => provider.close());
      const credential = await provider.getCredential();
      expect(credential.value.token).toBe(ACCESS_TOKEN);
      sentinel.inspect(`${name}: credential`, credential);
      sentinel.inspect(`${name}: snapshot`, provider.snapshot());
      await provider.refresh();
    }
    expect(rotated).toBe(ROTATED_REFRESH_TOKEN);
    await t.finish();
    expect(sentinel.inspected).toBeGreaterThan(20);
    sentinel.expectClean();
  });

  it('every error class of @sluice/oauth, with a server echoing every secret in every encoding: no secret in any rendering of the error, the events, spans or metrics', async () => {
    const sentinel = newSentinel();
    const t = telemetry(sentinel);
    /** Builds the mint inside the check too: some refusals come at construction. */
    const run = async (
      where: string,
      answer: Parameters<TokenEndpointServer['script']>[0],
      build: () => Mint<AccessToken>,
    ) => {
      endpoint.script(answer);
      const error = await failure(sentinel, where, async () => {
        const mint = build();
        return createRefreshingProvider<AccessToken>({
          name: where,
          mint: t.trace(mint, where),
          reporter: t.reporter,
        });
      });
      expect(error, where).toBeInstanceOf(Error);
    };
    const echo = (status: number, error: string) => (request: { rawBody: string }) =>
      json(status, {
        error,
        error_description: echoAll(request.rawBody),
        error_uri: `https://errors.example/${encodeURIComponent(echoAll(request.rawBody))}`,
      });

    // One echo at a time, so a server answer cut short still shows each one.
    const echoing: Array<[string, string, () => Mint<AccessToken>]> = [
      ['client secret', CLIENT_SECRET, () => clientCredentialsMint(mintOptions())],
      [
        'refresh token',
        REFRESH_TOKEN,
        () => refreshTokenMint({ ...mintOptions(), refreshToken: REFRESH_TOKEN }),
      ],
      [
        'subject token',
        SUBJECT_TOKEN,
        () => tokenExchangeMint({ ...mintOptions(), subjectToken: SUBJECT_TOKEN }),
      ],
      [
        'actor token',
        ACTOR_TOKEN,
        () =>
          tokenExchangeMint({
            ...mintOptions(),
            subjectToken: SUBJECT_TOKEN,
            actorToken: ACTOR_TOKEN,
          }),
      ],
    ];
    for (const [label, secret, build] of echoing) {
      for (const { encoding, text } of echoesOf(secret)) {
        await run(
          `TokenEndpointError echoing the ${label} ${encoding}`,
          () => json(400, { error: 'invalid_grant', error_description: `rejected ${text} here` }),
          build,
        );
      }
    }

    // TokenEndpointError: client authentication refused, grants refused, outages.
    for (const method of [
      'client_secret_basic',
      'client_secret_post',
      'client_secret_jwt',
    ] as const) {
      await run(`TokenEndpointError invalid_client (${method})`, echo(401, 'invalid_client'), () =>
        clientCredentialsMint(mintOptions({ clientAuth: { method, clientSecret: CLIENT_SECRET } })),
      );
    }
    // private_key_jwt holds no shared secret: the server can only echo what it was sent.
    await run(
      'TokenEndpointError invalid_client (private_key_jwt)',
      (request) =>
        json(401, {
          error: 'invalid_client',
          error_description: echoesOf(request.rawBody)
            .map(({ text }) => text)
            .join(' | '),
        }),
      () =>
        clientCredentialsMint(
          mintOptions({ clientAuth: { method: 'private_key_jwt', privateKey } }),
        ),
    );
    await run('TokenEndpointError invalid_grant (refresh token)', echo(400, 'invalid_grant'), () =>
      refreshTokenMint({ ...mintOptions(), refreshToken: REFRESH_TOKEN }),
    );
    await run(
      'TokenEndpointError invalid_grant (token exchange with actor token)',
      echo(400, 'invalid_grant'),
      () =>
        tokenExchangeMint({
          ...mintOptions(),
          subjectToken: SUBJECT_TOKEN,
          actorToken: ACTOR_TOKEN,
        }),
    );
    await run(
      'TokenEndpointError 503 with Retry-After',
      (request) => ({
        ...echo(503, 'temporarily_unavailable')(request),
        headers: { 'content-type': 'application/json', 'retry-after': '120' },
      }),
      () => clientCredentialsMint(mintOptions()),
    );
    await run(
      'TokenEndpointError non-JSON body echoing the request',
      (request) => ({
        status: 500,
        headers: { 'content-type': 'text/html' },
        body: `<h1>${echoAll(request.rawBody)}</h1>`,
      }),
      () => clientCredentialsMint(mintOptions()),
    );

    // InvalidTokenResponseError and UnsupportedTokenError: answers the client refuses.
    await run(
      'InvalidTokenResponseError expires_in not a number',
      () => issue(ACCESS_TOKEN, { expires_in: '3600abc' }),
      () => clientCredentialsMint(mintOptions()),
    );
    await run(
      'InvalidTokenResponseError token with CR LF',
      () => issue(`${ACCESS_TOKEN}\r\nX-Injected: 1`),
      () => clientCredentialsMint(mintOptions()),
    );
    await run(
      'InvalidTokenResponseError token with NUL',
      () => issue(`${ACCESS_TOKEN}\u0000`),
      () => clientCredentialsMint(mintOptions()),
    );
    await run(
      'InvalidTokenResponseError no token_type',
      () => json(200, { access_token: ACCESS_TOKEN, expires_in: 60 }),
      () => clientCredentialsMint(mintOptions()),
    );
    await run(
      'UnsupportedTokenError DPoP token without DPoP',
      () => issue(ACCESS_TOKEN, { token_type: 'DPoP' }),
      () => clientCredentialsMint(mintOptions()),
    );
    await run(
      'UnsupportedTokenError N_A from token exchange',
      () =>
        issue(ACCESS_TOKEN, {
          token_type: 'N_A',
          issued_token_type: 'urn:ietf:params:oauth:token-type:id_token',
        }),
      () => tokenExchangeMint({ ...mintOptions(), subjectToken: SUBJECT_TOKEN }),
    );
    await run(
      'RotationHookError',
      () => issue(ACCESS_TOKEN, { refresh_token: ROTATED_REFRESH_TOKEN }),
      () =>
        refreshTokenMint({
          ...mintOptions(),
          refreshToken: REFRESH_TOKEN,
          onRotation: (next) => {
            throw new Error(`could not save ${next.slice(0, 3)}`); // a careless hook
          },
        }),
    );

    // DiscoveryError, InsecureRequestError, unreachable servers.
    endpoint.failDiscovery(true);
    await run(
      'DiscoveryError',
      () => issue(),
      () => clientCredentialsMint(mintOptions()),
    );
    endpoint.failDiscovery(false);
    await run(
      'InsecureRequestError',
      () => issue(),
      () => clientCredentialsMint({ ...mintOptions(), allowInsecureRequests: false }),
    );
    await run(
      'unreachable token endpoint',
      () => issue(),
      () =>
        clientCredentialsMint(
          mintOptions({
            issuer: undefined,
            authorizationServer: {
              issuer: 'http://127.0.0.1:9',
              token_endpoint: 'http://127.0.0.1:9/token',
            },
          } as never),
        ),
    );
    await t.finish();
    sentinel.expectClean();
  });

  it('InvalidOptionError: a secret put in the wrong option is described by type only', async () => {
    const sentinel = newSentinel();
    const wrong: Array<[string, () => unknown]> = [
      [
        'clientAuth as a string',
        () => clientCredentialsMint(mintOptions({ clientAuth: CLIENT_SECRET as never })),
      ],
      [
        'clientAuth.method',
        () =>
          clientCredentialsMint(mintOptions({ clientAuth: { method: CLIENT_SECRET } as never })),
      ],
      [
        'clientAuth.clientSecret not a string',
        () =>
          clientCredentialsMint(
            mintOptions({
              clientAuth: { method: 'client_secret_basic', clientSecret: [CLIENT_SECRET] } as never,
            }),
          ),
      ],
      [
        'privateKey as a string',
        () =>
          clientCredentialsMint(
            mintOptions({
              clientAuth: { method: 'private_key_jwt', privateKey: CLIENT_SECRET } as never,
            }),
          ),
      ],
      [
        'dpop as a string',
        () => clientCredentialsMint(mintOptions({ dpop: CLIENT_SECRET as never })),
      ],
      [
        'dpop.keyPair as a string',
        () => clientCredentialsMint(mintOptions({ dpop: { keyPair: CLIENT_SECRET } as never })),
      ],
      [
        'additionalParameters value not a string',
        () =>
          clientCredentialsMint(
            mintOptions({ additionalParameters: { x: [REFRESH_TOKEN] } as never }),
          ),
      ],
      [
        'additionalParameters as a string',
        () => clientCredentialsMint(mintOptions({ additionalParameters: REFRESH_TOKEN as never })),
      ],
      [
        'refreshToken as an object',
        () =>
          refreshTokenMint({ ...mintOptions(), refreshToken: { token: REFRESH_TOKEN } as never }),
      ],
      [
        'subjectToken as an object',
        () => tokenExchangeMint({ ...mintOptions(), subjectToken: { t: SUBJECT_TOKEN } as never }),
      ],
      [
        'actorToken as a number-like object',
        () =>
          tokenExchangeMint({
            ...mintOptions(),
            subjectToken: SUBJECT_TOKEN,
            actorToken: [ACTOR_TOKEN] as never,
          }),
      ],
      [
        'encryption key of the wrong size',
        () =>
          createRedisCoordinator({
            redis: {} as never,
            encryption: { keys: [{ id: 'k', key: Buffer.from(`${ENCRYPTION_TEXT}x`) }] },
          }),
      ],
    ];
    // Short secrets too: 0.1.0 echoed any value of up to 16 characters.
    const SHORT = sentinel.add('short secret', sentinelSecret('s').slice(0, 12));
    wrong.push(
      [
        'clientAuth as a short string',
        () => clientCredentialsMint(mintOptions({ clientAuth: SHORT as never })),
      ],
      [
        'clientAuth.method short',
        () => clientCredentialsMint(mintOptions({ clientAuth: { method: SHORT } as never })),
      ],
      [
        'privateKey as a short string',
        () =>
          clientCredentialsMint(
            mintOptions({ clientAuth: { method: 'private_key_jwt', privateKey: SHORT } as never }),
          ),
      ],
      [
        'dpop as a short string',
        () => clientCredentialsMint(mintOptions({ dpop: SHORT as never })),
      ],
      [
        'additionalParameters as a short string',
        () => clientCredentialsMint(mintOptions({ additionalParameters: SHORT as never })),
      ],
    );
    for (const [where, build] of wrong) {
      const error = await failure(sentinel, `InvalidOptionError: ${where}`, build);
      expect(error, where).toBeInstanceOf(Error);
    }
    sentinel.expectClean();
  });

  it('401s through createAuthFetch from a resource server echoing the token: events, spans, metrics and every rejection of createAuthFetch carry no secret', async () => {
    const sentinel = newSentinel();
    const t = telemetry(sentinel);
    endpoint.script(() => issue());
    const resource = await echoingResourceServer(echoAll);
    closers.push(() => resource.close());
    const provider = await createRefreshingProvider<AccessToken>({
      name: 'api',
      mint: t.trace(clientCredentialsMint(mintOptions()), 'api'),
      reporter: t.reporter,
    });
    t.observe(provider);
    closers.push(() => provider.close());
    const api = createAuthFetch(provider, { allowInsecureRequests: true });
    const response = await api(`${resource.url}/x`);
    expect(response.status).toBe(401);
    await response.body?.cancel();
    await failure(sentinel, 'createAuthFetch data: URL', () => api('data:text/plain,hello'));
    await failure(sentinel, 'createAuthFetch file: URL', () => api('file:///etc/hostname'));
    await failure(sentinel, 'createAuthFetch https to a closed port', () =>
      api('https://127.0.0.1:9/x'),
    );
    await failure(sentinel, 'createAuthFetch http without the opt-in', () =>
      createAuthFetch(provider)(`${resource.url}/x`),
    );
    const notAllowed = await failure(sentinel, 'OriginNotAllowedError', () =>
      createAuthFetch(provider, {
        allowInsecureRequests: true,
        allowedOrigins: ['http://127.0.0.1:1'],
      })(`${resource.url}/x?token=${encodeURIComponent(ACCESS_TOKEN)}`),
    );
    expect(notAllowed).toMatchObject({ code: 'SLUICE_OAUTH_ORIGIN_NOT_ALLOWED' });
    const stored = accessTokenCodec.encode(await provider.get());
    const codecErrors: unknown[] = [];
    codecErrors.push(
      await failure(sentinel, 'AccessTokenCodecError (truncated)', () =>
        accessTokenCodec.decode(stored.slice(0, -3)),
      ),
    );
    codecErrors.push(
      await failure(sentinel, 'AccessTokenCodecError (unpresentable token)', () =>
        accessTokenCodec.decode(stored.replace('access-token', 'access\\r\\ntoken')),
      ),
    );
    codecErrors.push(
      await failure(sentinel, 'AccessTokenCodecError (redacted copy)', () =>
        accessTokenCodec.encode(JSON.parse(JSON.stringify(provider.peek()?.value)) as AccessToken),
      ),
    );
    for (const error of codecErrors)
      expect(error).toMatchObject({ code: 'SLUICE_OAUTH_TOKEN_CODEC' });
    const aborted = new AbortController();
    aborted.abort(new Error('caller gave up'));
    await failure(sentinel, 'createAuthFetch aborted', () =>
      api(`${resource.url}/x`, { signal: aborted.signal }),
    );
    await t.finish();
    sentinel.expectClean();
  });

  it('DPoP: proofs, nonces and a 401 for a DPoP token: no rendering carries the DPoP private key or the token', async () => {
    const sentinel = newSentinel();
    const t = telemetry(sentinel);
    let nonceAsked = false;
    endpoint.script((request) => {
      if (!nonceAsked) {
        nonceAsked = true;
        return json(
          400,
          { error: 'use_dpop_nonce', error_description: echoAll(String(request.headers.dpop)) },
          { 'dpop-nonce': 'n-1' },
        );
      }
      return issue(ACCESS_TOKEN, { token_type: 'DPoP' });
    });
    const provider = await createRefreshingProvider<AccessToken>({
      name: 'dpop-api',
      mint: t.trace(
        clientCredentialsMint(mintOptions({ dpop: { keyPair: dpopKeyPair } })),
        'dpop-api',
      ),
      reporter: t.reporter,
    });
    closers.push(() => provider.close());
    sentinel.inspect('DPoP credential', await provider.getCredential());
    const resource = await echoingResourceServer(echoAll, 'DPoP');
    closers.push(() => resource.close());
    const response = await createAuthFetch(provider, { allowInsecureRequests: true })(
      `${resource.url}/x`,
    );
    await response.body?.cancel();
    endpoint.script((request) =>
      json(401, {
        error: 'invalid_dpop_proof',
        error_description: echoAll(String(request.headers.dpop)),
      }),
    );
    await failure(sentinel, 'DPoP refresh refused', () => provider.refresh());
    await t.finish();
    sentinel.expectClean();
  });

  it("core's own errors around an echoing OAuth failure (BreakerOpenError and its cause, MintTimeoutError, ProviderClosedError) carry no secret", async () => {
    const sentinel = newSentinel();
    const t = telemetry(sentinel);
    let now = Date.UTC(2030, 0, 1);
    endpoint.script(() => issue());
    const provider = await createRefreshingProvider<AccessToken>({
      name: 'core-errors',
      now: () => now,
      reporter: t.reporter,
      breaker: { failureThreshold: 2, cooldownMs: 60_000 },
      mint: t.trace(clientCredentialsMint(mintOptions({ now: () => now })), 'core-errors'),
    });
    t.observe(provider);
    closers.push(() => provider.close());
    now += 2 * 3_600_000; // expired on the provider's clock
    endpoint.script((request) =>
      json(400, { error: 'invalid_client', error_description: echoAll(request.rawBody) }),
    );
    for (let i = 0; i < 3; i++) await failure(sentinel, `failed mint ${i}`, () => provider.get());
    const open = await failure(sentinel, 'BreakerOpenError', () => provider.get());
    expect(open).toMatchObject({ code: 'SLUICE_BREAKER_OPEN' });
    sentinel.inspect('snapshot with lastError', provider.snapshot());

    let release = () => {};
    endpoint.script(() => new Promise((resolve) => (release = () => resolve(issue()))));
    const slow = await createRefreshingProvider<AccessToken>({
      name: 'slow',
      mintTimeoutMs: 50,
      reporter: t.reporter,
      mint: clientCredentialsMint(mintOptions()),
    }).catch((error: unknown) => error);
    sentinel.inspect('MintTimeoutError', slow);
    expect(slow).toMatchObject({ code: 'SLUICE_MINT_TIMEOUT' });
    release();
    provider.close();
    await failure(sentinel, 'ProviderClosedError', () => provider.get());
    for (const bad of [
      { value: ACCESS_TOKEN, expiresAt: `in an hour ${ACCESS_TOKEN}` },
      { value: ACCESS_TOKEN, expiresAt: Number.NaN },
      {
        value: ACCESS_TOKEN,
        refreshAfter: Number.POSITIVE_INFINITY,
        expiresAt: Date.now() + 60_000,
      },
      ACCESS_TOKEN,
    ]) {
      const error = await failure(sentinel, 'InvalidCredentialError', () =>
        createRefreshingProvider({ name: 'invalid', mint: () => bad as never }),
      );
      expect(error).toMatchObject({ code: 'SLUICE_INVALID_CREDENTIAL' });
    }
    await t.finish();
    sentinel.expectClean();
  });

  it('an OAuth failure inside an Effect layer: the MintFailed cause, pretty-printed, carries no secret', async () => {
    const sentinel = newSentinel();
    endpoint.script((request) =>
      json(401, { error: 'invalid_client', error_description: echoAll(request.rawBody) }),
    );
    const mint = clientCredentialsMint(mintOptions());
    const exit = await runTest(
      Effect.exit(
        makeCredentialProvider<AccessToken, unknown, never>({
          name: 'effect-api',
          mint: () =>
            Effect.tryPromise({
              try: (signal) => Promise.resolve(mint({ signal, reason: 'initial' })),
              catch: (e) => e,
            }),
        }),
      ),
    );
    expect(Exit.isFailure(exit)).toBe(true);
    sentinel.inspect('Effect exit', exit);
    if (Exit.isFailure(exit)) sentinel.inspect('Cause.pretty', Cause.pretty(exit.cause));
    sentinel.expectClean();
  });
});

describe('secret sentinel: @sluice/tls', () => {
  it('certificate failures (expired, not yet valid, a key that does not match): errors and handshake events never carry the private key', async () => {
    const sentinel = newSentinel();
    const t = telemetry(sentinel);
    const ca = await createLocalCa();
    const good = await ca.issue('other.sentinel.test');
    const keys: string[] = [];
    const mint = async (servername: string) => {
      const now = Date.now();
      const leaf = servername.startsWith('expired')
        ? await ca.issue(servername, 1_000, now - 3_600_000)
        : servername.startsWith('future')
          ? await ca.issue(servername, 3_600_000, now + 3_600_000)
          : await ca.issue(servername);
      const key = String(leaf.certificate.key);
      keys.push(key);
      const certificate: TlsCertificate = servername.startsWith('mismatch')
        ? { key: good.certificate.key, cert: leaf.certificate.cert }
        : leaf.certificate;
      return { value: certificate, expiresAt: leaf.notAfter };
    };
    const sni = createSniCallback({
      name: 'edge',
      certificates: traceKeyedMint(mint, { name: 'edge', tracerProvider: t.tracerProvider }),
      allow: () => true,
      reporter: {
        ...t.reporter,
        ...sentinel.reporter('tls reporter', ['onServernameRefused', 'onHandshakeFailure']),
      },
    });
    const server = await startServer(sni);
    closers.push(
      () => server.close(),
      () => sni.close(),
    );
    for (const name of [
      'expired.sentinel.test',
      'future.sentinel.test',
      'mismatch.sentinel.test',
      'bad_name!',
    ]) {
      const result = await handshake(server.port, name, ca.caPem);
      sentinel.inspect(`handshake ${name}`, result);
    }
    // ServernameRefusedError (allow() says no) and HandshakeTimeoutError (a slow issuer).
    const slow = createSniCallback({
      name: 'edge-slow',
      certificates: async (servername: string) => {
        await new Promise((resolve) => setTimeout(resolve, 300));
        return mint(servername);
      },
      allow: (servername) => !servername.startsWith('refused'),
      handshakeTimeoutMs: 50,
      reporter: sentinel.reporter('tls reporter (slow)', [
        'onServernameRefused',
        'onHandshakeFailure',
      ]),
    });
    const slowServer = await startServer(slow);
    closers.push(
      () => slowServer.close(),
      () => slow.close(),
    );
    for (const name of ['refused.sentinel.test', 'slow.sentinel.test']) {
      sentinel.inspect(`handshake ${name}`, await handshake(slowServer.port, name, ca.caPem));
    }
    expect(slowServer.records.map((r) => (r.error as { code?: string } | null)?.code)).toEqual([
      'SLUICE_TLS_SERVERNAME_REFUSED',
      'SLUICE_TLS_HANDSHAKE_TIMEOUT',
    ]);
    server.records.push(...slowServer.records);
    for (const record of server.records)
      sentinel.inspect(`sni answer ${record.servername}`, record.error);
    for (const [i, key] of [...keys, String(good.certificate.key)].entries()) {
      const body = key
        .split('\n')
        .filter((line) => line !== '' && !line.startsWith('-----'))
        .join('');
      sentinel.add(`TLS private key ${i}`, body.slice(40)); // past the fixed PKCS#8 header
    }
    // The keys became known after the fact: look at everything again.
    for (const record of server.records)
      sentinel.inspect(`sni answer ${record.servername} (again)`, record.error);
    await t.finish();
    sentinel.expectClean();
  });
});

describe.skipIf(!redisAvailable())('secret sentinel: @sluice/redis', () => {
  let redis: RedisServer;
  let prefixes = 0;

  beforeAll(async () => {
    redis = await startRedisServer(); // stopped by PID in afterAll
  });

  afterAll(async () => {
    await redis?.stop();
  });

  async function fleetOf(
    server: RedisServer,
    keyPrefix: string,
    sentinel: SecretSentinel,
    encrypted: boolean,
  ) {
    const fleet = createRedisCoordinator({
      redis: server.client(),
      keyPrefix,
      reporter: sentinel.reporter('fleet reporter', FLEET_REPORTER_HOOKS),
      ...(encrypted ? { encryption: ENCRYPTION } : {}),
    });
    liveFleets.push(fleet);
    closers.push(() => {
      liveFleets.splice(liveFleets.indexOf(fleet), 1);
      return fleet.close();
    });
    return fleet;
  }

  async function replica(
    fleet: FleetCoordinator,
    t: ReturnType<typeof telemetry>,
    mint = clientCredentialsMint(mintOptions()),
  ) {
    const provider = await createRefreshingProvider<AccessToken>({
      name: 'billing-api',
      reporter: t.reporter,
      minRefreshIntervalMs: 0, // tests invalidate tokens minted a moment ago
      mint: fleet.wrap('billing-api', t.trace(mint, 'billing-api')),
    });
    t.observe(provider);
    closers.push(() => provider.close());
    return provider;
  }

  it('under encryption, a MONITOR connection and a pub/sub subscriber never see the access token, the refresh token, the client secret or the encryption key while replicas mint, adopt, invalidate, refresh and fail', async () => {
    const sentinel = newSentinel();
    const t = telemetry(sentinel);
    const keyPrefix = `sentinel-${++prefixes}:`;
    const monitor = await startMonitor(redis, () => liveFleets);
    const subscriber = await readyClient(redis);
    const published: string[] = [];
    subscriber.on('message', (channel: string, message: string) =>
      published.push(`${channel} ${message}`),
    );
    await subscriber.subscribe(`${keyPrefix}events`);
    endpoint.script(() => issue());
    const a = await replica(await fleetOf(redis, keyPrefix, sentinel, true), t);
    const b = await replica(await fleetOf(redis, keyPrefix, sentinel, true), t);
    const value = await b.get();
    expect(value.token).toBe(ACCESS_TOKEN);
    expect(a.invalidate(await a.get())).toBe(true);
    await a.get();
    // A refresh-token grant behind the same coordinator: its refresh token never goes to Redis.
    endpoint.script((request) =>
      request.form.get('grant_type') === 'refresh_token'
        ? issue(ACCESS_TOKEN, { refresh_token: ROTATED_REFRESH_TOKEN })
        : issue(),
    );
    const refreshFleet = await fleetOf(redis, keyPrefix, sentinel, true);
    const refreshing = await createRefreshingProvider<AccessToken>({
      name: 'refresh-api',
      reporter: t.reporter,
      mint: refreshFleet.wrap(
        'refresh-api',
        refreshTokenMint({ ...mintOptions(), refreshToken: REFRESH_TOKEN }),
      ),
    });
    closers.push(() => refreshing.close());
    await refreshing.refresh();
    endpoint.script((request) =>
      json(503, { error: 'temporarily_unavailable', error_description: echoAll(request.rawBody) }),
    );
    await failure(sentinel, 'fleet refresh during an outage', () => a.refresh());
    await failure(sentinel, 'relayed failure', () => b.refresh());
    await monitor.settle();
    const lines = await monitor.stop();
    await subscriber.quit();
    expect(lines.length).toBeGreaterThan(5);
    sentinel.inspect('MONITOR transcript', lines.join('\n'));
    sentinel.inspect('pub/sub messages', published.join('\n'));
    await t.finish();
    sentinel.expectClean();
  });

  it('fleet error classes (DecryptError from a foreign key, UnshareableMintError, CodecError from a lossy codec, StoreTimeoutError from a paused Redis) and their events carry no secret or key', async () => {
    const sentinel = newSentinel();
    const t = telemetry(sentinel);
    const keyPrefix = `sentinel-${++prefixes}:`;
    endpoint.script(() => issue());
    const writer = await replica(await fleetOf(redis, keyPrefix, sentinel, true), t);
    await writer.get();

    // DecryptError: a replica with another keyring reads the stored ciphertext.
    const foreign = createRedisCoordinator({
      redis: redis.client(),
      keyPrefix,
      encryption: { keys: [{ id: 'other', key: randomBytes(32) }] },
      reporter: sentinel.reporter('foreign fleet reporter', FLEET_REPORTER_HOOKS),
    });
    closers.push(() => foreign.close());
    const reader = await replica(foreign, t);
    sentinel.inspect('foreign replica credential', await reader.getCredential());
    expect(sentinel.events).toContain('foreign fleet reporter.onDecryptFailed');

    // UnshareableMintError: a DPoP mint refused at wrap().
    await failure(sentinel, 'UnshareableMintError', () =>
      foreign.wrap('dpop', clientCredentialsMint(mintOptions({ dpop: { keyPair: dpopKeyPair } }))),
    );

    // CodecError: a codec whose round trip loses the value (decode gives undefined).
    const lossy = withMintTraits(
      (): Credential<string> => ({ value: ACCESS_TOKEN, expiresAt: Date.now() + 60_000 }),
      { codec: { encode: (value: string) => `${value}`, decode: () => undefined as never } },
    );
    const lossyProvider = await createRefreshingProvider<string>({
      name: 'lossy',
      mint: foreign.wrap('lossy', lossy),
    });
    closers.push(() => lossyProvider.close());
    expect(await lossyProvider.get()).toBe(ACCESS_TOKEN); // its own mint, never a lossy copy
    expect(sentinel.events).toContain('foreign fleet reporter.onStoreError');

    // StoreTimeoutError: Redis frozen (SIGSTOP) while a replica needs it.
    const own = await startRedisServer();
    try {
      const frozenFleet = await fleetOf(own, keyPrefix, sentinel, false);
      const frozen = await replica(frozenFleet, t);
      own.pause();
      await failure(sentinel, 'refresh with Redis frozen', () => frozen.refresh());
      own.resume();
      expect(sentinel.events).toContain('fleet reporter.onFallback');
    } finally {
      await own.stop();
    }
    await t.finish();
    sentinel.expectClean();
  });

  it('the MONITOR check can fail: without encryption a MONITOR connection does see the token (so any shared Redis should be encrypted)', async () => {
    const sentinel = newSentinel();
    const t = telemetry(sentinel);
    const monitor = await startMonitor(redis, () => liveFleets);
    endpoint.script(() => issue());
    const provider = await replica(
      await fleetOf(redis, `sentinel-${++prefixes}:`, sentinel, false),
      t,
    );
    expect((await provider.get()).token).toBe(ACCESS_TOKEN);
    await monitor.settle();
    sentinel.inspect('MONITOR transcript (plaintext)', (await monitor.stop()).join('\n'));
    await t.finish();
    expect(sentinel.leaks().map((leak) => `${leak.where}: ${leak.secret}`)).toEqual([
      'MONITOR transcript (plaintext): access token',
    ]);
  });

  for (const encrypted of [false, true]) {
    const mode = encrypted ? 'encrypted' : 'plaintext';
    it(`store errors (${mode}): a real READONLY after a failover, a WRONGTYPE key and a killed Redis reach onStoreError and onFallback without command arguments`, async () => {
      const sentinel = newSentinel();
      const t = telemetry(sentinel);
      const own = await startRedisServer();
      const primary = await startRedisServer();
      try {
        const keyPrefix = `sentinel-${++prefixes}:`;
        endpoint.script(() => issue());
        const fleet = await fleetOf(own, keyPrefix, sentinel, encrypted);
        const provider = await replica(fleet, t);
        await provider.get();

        // WRONGTYPE: a string where the credential's hash lives.
        const admin = await readyClient(own);
        const credentialKey = (await admin.keys(`${keyPrefix}*`)).find((key) =>
          key.endsWith(':cred'),
        );
        expect(credentialKey).toBeDefined();
        await admin.set(credentialKey as string, `planted ${ACCESS_TOKEN.slice(0, 2)}`);
        await failure(sentinel, 'refresh over a WRONGTYPE key', () => provider.refresh());

        // READONLY: the server becomes a replica (a failover demoted it); writes are refused.
        await admin.del(credentialKey as string);
        await admin.replicaof('127.0.0.1', String(primary.port));
        await expect(admin.set(`${keyPrefix}probe`, 'x')).rejects.toThrow(/READONLY/);
        const beforeReadonly = sentinel.events.length;
        await failure(sentinel, 'refresh against a READONLY replica', () => provider.refresh());
        // The demoted server refused a write: reported (onStoreError / onFallback).
        expect(sentinel.events.slice(beforeReadonly).join(' ')).toMatch(/onStoreError|onFallback/);
        await admin.replicaof('NO', 'ONE');

        // Killed: every store operation fails; the replica mints locally.
        await own.kill();
        await failure(sentinel, 'refresh with Redis killed', () => provider.refresh());
        expect(sentinel.events).toContain('fleet reporter.onFallback');
        await t.finish();
        sentinel.expectClean();
      } finally {
        await own.stop();
        await primary.stop();
      }
    });
  }
});
