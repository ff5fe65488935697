/**
 * clientCredentialsMint against a real oidc-provider on loopback: every client
 * authentication method, resource indicators issuing JWT access tokens, DPoP with required
 * nonces, discovery, and the token endpoint's errors.
 */

import { inspect } from 'node:util';
import {
  createRefreshingProvider,
  isSluiceError,
  isTransientNetworkError,
  type MintContext,
} from '@sluice/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AccessToken } from '../src/access-token.js';
import {
  type ClientCredentialsMintOptions,
  clientCredentialsMint,
} from '../src/client-credentials.js';
import { isOAuthError, TokenEndpointError } from '../src/errors.js';
import {
  API,
  type AuthorizationServer,
  startAuthorizationServer,
} from './support/authorization-server.js';
import { claimsOf } from './support/jwt.js';
import { recordingFetch } from './support/recording-fetch.js';

let as: AuthorizationServer;

beforeAll(async () => {
  as = await startAuthorizationServer({ accessTokenTtlSeconds: 300 });
});

afterAll(async () => {
  await as?.close();
});

const context = (): MintContext<AccessToken> => ({
  signal: AbortSignal.timeout(10_000),
  reason: 'initial',
});

function basicOptions(
  overrides: Partial<ClientCredentialsMintOptions> = {},
): ClientCredentialsMintOptions {
  const options: ClientCredentialsMintOptions = {
    issuer: as.issuer,
    clientId: as.basic.clientId,
    clientAuth: { method: 'client_secret_basic', clientSecret: as.basic.clientSecret },
    allowInsecureRequests: true,
    ...overrides,
  };
  // Metadata given up front replaces discovery.
  if (overrides.authorizationServer !== undefined && !('issuer' in overrides))
    delete options.issuer;
  return options;
}

/** A loopback port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const { createServer } = await import('node:net');
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as import('node:net').AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function rejection(promise: Promise<unknown> | unknown): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

describe('client authentication', () => {
  it('client_secret_basic sends the secret in HTTP Basic and never in the body', async () => {
    const recorder = recordingFetch();
    const before = as.issued(as.basic.clientId);
    const credential = await clientCredentialsMint(basicOptions({ fetch: recorder.fetch }))(
      context(),
    );
    expect(credential.value.token).not.toBe('');
    expect(as.issued(as.basic.clientId) - before).toBe(1);
    const token = recorder.sent.find((r) => r.method === 'POST');
    expect(token?.headers.get('authorization')).toMatch(/^Basic /);
    expect(token?.body.has('client_secret')).toBe(false);
  });

  it('client_secret_post sends client_id and client_secret in the body and no Authorization', async () => {
    const recorder = recordingFetch();
    const before = as.issued(as.post.clientId);
    await clientCredentialsMint({
      issuer: as.issuer,
      clientId: as.post.clientId,
      clientAuth: { method: 'client_secret_post', clientSecret: as.post.clientSecret },
      allowInsecureRequests: true,
      fetch: recorder.fetch,
    })(context());
    expect(as.issued(as.post.clientId) - before).toBe(1);
    const token = recorder.sent.find((r) => r.method === 'POST');
    expect(token?.headers.has('authorization')).toBe(false);
    expect(token?.body.get('client_secret')).toBe(as.post.clientSecret);
  });

  it('client_secret_jwt signs an HS256 assertion with the secret, which never travels', async () => {
    const recorder = recordingFetch();
    const before = as.issued(as.secretJwt.clientId);
    await clientCredentialsMint({
      issuer: as.issuer,
      clientId: as.secretJwt.clientId,
      clientAuth: { method: 'client_secret_jwt', clientSecret: as.secretJwt.clientSecret },
      allowInsecureRequests: true,
      fetch: recorder.fetch,
    })(context());
    expect(as.issued(as.secretJwt.clientId) - before).toBe(1);
    const token = recorder.sent.find((r) => r.method === 'POST');
    expect(token?.body.get('client_assertion_type')).toBe(
      'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
    );
    expect(token?.body.toString()).not.toContain(as.secretJwt.clientSecret);
  });

  it('private_key_jwt signs a fresh assertion with the private key for every mint', async () => {
    const recorder = recordingFetch();
    const before = as.issued(as.privateKeyJwt.clientId);
    const mint = clientCredentialsMint({
      issuer: as.issuer,
      clientId: as.privateKeyJwt.clientId,
      clientAuth: {
        method: 'private_key_jwt',
        privateKey: as.privateKeyJwt.privateKey,
        keyId: 'client-key-1',
      },
      allowInsecureRequests: true,
      fetch: recorder.fetch,
    });
    await mint(context());
    await mint(context());
    expect(as.issued(as.privateKeyJwt.clientId) - before).toBe(2);
    const assertions = recorder.sent
      .filter((r) => r.method === 'POST')
      .map((r) => r.body.get('client_assertion') ?? '');
    expect(assertions).toHaveLength(2);
    const [first, second] = assertions.map(claimsOf);
    expect(first?.iss).toBe(as.privateKeyJwt.clientId);
    expect(first?.aud).toBe(as.issuer);
    expect(first?.jti).not.toBe(second?.jti); // the server's replay detection would refuse a reuse
  });

  it('rejects a wrong secret with a permanent TokenEndpointError invalid_client that never echoes it', async () => {
    const wrong = 'wrong-secret-value-0123456789';
    const error = await rejection(
      clientCredentialsMint(
        basicOptions({ clientAuth: { method: 'client_secret_basic', clientSecret: wrong } }),
      )(context()),
    );
    expect(error).toBeInstanceOf(TokenEndpointError);
    expect(error).toMatchObject({
      code: 'SLUICE_OAUTH_TOKEN_ENDPOINT',
      grantType: 'client_credentials',
      status: 401,
      oauthError: 'invalid_client',
      statusClass: 'failed',
      transient: false,
    });
    expect(isSluiceError(error)).toBe(true);
    for (const shown of [(error as Error).message, JSON.stringify(error), inspect(error)]) {
      expect(shown).not.toContain(wrong);
    }
  });
});

describe('resource indicators', () => {
  it('gets a JWT access token for the requested resource, expiring at now + expires_in', async () => {
    let now = 1_800_000_000_000;
    const credential = await clientCredentialsMint(
      basicOptions({ resource: API, scope: 'api:read', now: () => now }),
    )(context());
    now += 1; // the credential was computed with the clock reading at the answer
    const claims = claimsOf(credential.value.token);
    expect(claims.aud).toBe(API);
    expect(claims.scope).toBe('api:read');
    expect(credential.value.scope).toBe('api:read');
    expect(credential.expiresAt).toBe(1_800_000_000_000 + as.accessTokenTtlSeconds * 1000);
    expect(credential.value.expiresAt).toBe(credential.expiresAt);
  });

  it('gets an opaque token without a resource indicator', async () => {
    const credential = await clientCredentialsMint(basicOptions())(context());
    expect(credential.value.token.split('.')).toHaveLength(1);
    expect(credential.value.tokenType).toBe('Bearer');
  });

  it('pulls the expiry earlier by skewSeconds', async () => {
    const now = 1_800_000_000_000;
    const credential = await clientCredentialsMint(
      basicOptions({ resource: API, skewSeconds: 30, now: () => now }),
    )(context());
    expect(credential.expiresAt).toBe(now + (as.accessTokenTtlSeconds - 30) * 1000);
  });
});

describe('DPoP with required nonces', () => {
  const dpopOptions = (
    overrides: Partial<ClientCredentialsMintOptions> = {},
  ): ClientCredentialsMintOptions => ({
    issuer: as.issuer,
    clientId: as.dpop.clientId,
    clientAuth: { method: 'client_secret_basic', clientSecret: as.dpop.clientSecret },
    resource: API,
    dpop: true,
    allowInsecureRequests: true,
    ...overrides,
  });

  it("answers the server's use_dpop_nonce with exactly one retry and gets a DPoP-bound token", async () => {
    const requests = as.tokenRequests();
    const refusals = as.refusals().length;
    const credential = await clientCredentialsMint(dpopOptions())(context());
    expect(as.tokenRequests() - requests).toBe(2);
    expect(as.refusals().slice(refusals)).toEqual(['use_dpop_nonce']);
    expect(credential.value.tokenType).toBe('DPoP');
    const jkt = await credential.value.dpop?.calculateThumbprint();
    expect(claimsOf(credential.value.token).cnf).toEqual({ jkt });
  });

  it('keeps one key pair per mint and reuses the nonce it learnt', async () => {
    const mint = clientCredentialsMint(dpopOptions());
    const first = await mint(context());
    const requests = as.tokenRequests();
    const second = await mint(context());
    expect(as.tokenRequests() - requests).toBe(1); // the cached nonce is still good
    expect(claimsOf(second.value.token).cnf).toEqual(claimsOf(first.value.token).cnf);
    expect(second.value.dpop).toBe(first.value.dpop);

    const other = await clientCredentialsMint(dpopOptions())(context());
    expect(claimsOf(other.value.token).cnf).not.toEqual(claimsOf(first.value.token).cnf);
  });

  it('binds the token to a key pair brought by the caller', async () => {
    const keyPair = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, [
      'sign',
      'verify',
    ]);
    const credential = await clientCredentialsMint(dpopOptions({ dpop: { keyPair } }))(context());
    const jwk = await crypto.subtle.exportKey('jwk', keyPair.publicKey);
    const expected = await thumbprint(jwk);
    expect(claimsOf(credential.value.token).cnf).toEqual({ jkt: expected });
  });

  it('is refused without DPoP by a client that requires DPoP-bound tokens', async () => {
    const error = await rejection(clientCredentialsMint(dpopOptions({ dpop: false }))(context()));
    expect(error).toMatchObject({
      code: 'SLUICE_OAUTH_TOKEN_ENDPOINT',
      status: 400,
      oauthError: 'invalid_grant',
      transient: false,
    });
  });
});

describe('token endpoint faults', () => {
  it('turns a 503 into a transient TokenEndpointError with the OAuth error', async () => {
    as.setTokenFault({ status: 503 });
    try {
      const error = await rejection(clientCredentialsMint(basicOptions())(context()));
      expect(error).toMatchObject({
        status: 503,
        oauthError: 'temporarily_unavailable',
        statusClass: 'pending',
        transient: true,
        retryAfterMs: undefined,
      });
    } finally {
      as.setTokenFault(undefined);
    }
  });

  it('turns a 429 into a transient error carrying Retry-After in milliseconds', async () => {
    as.setTokenFault({ status: 429, retryAfter: '7' });
    try {
      const error = await rejection(clientCredentialsMint(basicOptions())(context()));
      expect(error).toMatchObject({ status: 429, transient: true, retryAfterMs: 7_000 });
    } finally {
      as.setTokenFault(undefined);
    }
  });

  it("wraps an unreachable token endpoint in UnreachableError naming the host and the cause, still transient for core's isTransientNetworkError", async () => {
    const port = await closedPort();
    const error = await rejection(
      clientCredentialsMint(
        basicOptions({
          authorizationServer: {
            issuer: `http://127.0.0.1:${port}`,
            token_endpoint: `http://127.0.0.1:${port}/token`,
          },
        }),
      )(context()),
    );
    expect(isOAuthError(error, 'SLUICE_OAUTH_UNREACHABLE')).toBe(true);
    expect(error).toMatchObject({
      host: `127.0.0.1:${port}`,
      causeCode: 'ECONNREFUSED',
      transient: true,
    });
    expect((error as Error).message).toBe(
      `could not reach the token endpoint at 127.0.0.1:${port} (ECONNREFUSED)`,
    );
    expect((error as Error).cause).toBeInstanceOf(TypeError);
    expect(isTransientNetworkError(error)).toBe(true);
  });

  it('reports the failure code through a provider and keeps serving nothing it did not get', async () => {
    const codes: Array<string | undefined> = [];
    as.setTokenFault({ status: 503 });
    try {
      const error = await rejection(
        createRefreshingProvider({
          name: 'oauth-test',
          mint: clientCredentialsMint(basicOptions()),
          reporter: { onRefreshFailure: (event) => codes.push(event.code) },
        }),
      );
      expect(isOAuthError(error, 'SLUICE_OAUTH_TOKEN_ENDPOINT')).toBe(true);
      expect(codes).toEqual(['SLUICE_OAUTH_TOKEN_ENDPOINT']);
    } finally {
      as.setTokenFault(undefined);
    }
  });
});

describe('discovery', () => {
  it('discovers once and reuses the metadata for later mints', async () => {
    const mint = clientCredentialsMint(basicOptions());
    const before = as.discoveryRequests();
    await mint(context());
    await mint(context());
    await mint(context());
    expect(as.discoveryRequests() - before).toBe(1);
  });

  it('discovers again once discoveryTtlSeconds has passed on the injected clock', async () => {
    let now = 1_800_000_000_000;
    const mint = clientCredentialsMint(basicOptions({ discoveryTtlSeconds: 60, now: () => now }));
    const before = as.discoveryRequests();
    await mint(context());
    now += 59_000;
    await mint(context());
    expect(as.discoveryRequests() - before).toBe(1);
    now += 1_000;
    await mint(context());
    expect(as.discoveryRequests() - before).toBe(2);
  });

  it('makes no discovery request when authorizationServer metadata is given', async () => {
    const before = as.discoveryRequests();
    const credential = await clientCredentialsMint(
      basicOptions({
        authorizationServer: { issuer: as.issuer, token_endpoint: as.tokenEndpoint },
      }),
    )(context());
    expect(credential.value.token).not.toBe('');
    expect(as.discoveryRequests() - before).toBe(0);
  });

  it("runs discovery under the mint's signal: aborting the only waiting mint aborts the request", async () => {
    const release = as.holdDiscovery();
    const controller = new AbortController();
    const reason = new Error('mint timed out');
    try {
      const before = as.discoveryRequests();
      const pending = clientCredentialsMint(basicOptions())({
        signal: controller.signal,
        reason: 'initial',
      });
      await until(() => as.discoveryRequests() > before);
      controller.abort(reason);
      await expect(pending).rejects.toBe(reason);
      await until(() => as.abortedDiscoveries() > 0);
    } finally {
      release();
    }
  });

  it('shares one discovery between concurrent mints; one aborting leaves the other served', async () => {
    const release = as.holdDiscovery();
    const mint = clientCredentialsMint(basicOptions());
    const aborted = new AbortController();
    const before = as.discoveryRequests();
    const abortedBefore = as.abortedDiscoveries();
    const first = mint({ signal: aborted.signal, reason: 'initial' });
    const second = mint(context());
    await until(() => as.discoveryRequests() > before);
    aborted.abort(new Error('gave up'));
    await expect(first).rejects.toThrow('gave up');
    release();
    await expect(second).resolves.toMatchObject({ value: { tokenType: 'Bearer' } });
    expect(as.discoveryRequests() - before).toBe(1);
    expect(as.abortedDiscoveries()).toBe(abortedBefore);
  });
});

describe('options', () => {
  it.each([
    ['clientCredentialsMint.clientId', { clientId: '' }],
    ['clientCredentialsMint.issuer', { issuer: 'not a url' }],
    ['clientCredentialsMint.issuer', { issuer: undefined }],
    [
      'clientCredentialsMint.issuer',
      {
        issuer: 'http://127.0.0.1/',
        authorizationServer: { issuer: 'x', token_endpoint: 'http://127.0.0.1/token' },
      },
    ],
    [
      'clientCredentialsMint.authorizationServer.token_endpoint',
      { authorizationServer: { issuer: 'x', token_endpoint: 'ftp://127.0.0.1/token' } },
    ],
    ['clientCredentialsMint.clientAuth.method', { clientAuth: { method: 'tls_client_auth' } }],
    [
      'clientCredentialsMint.clientAuth.privateKey',
      { clientAuth: { method: 'private_key_jwt', privateKey: 'pem' } },
    ],
    ['clientCredentialsMint.scope', { scope: 42 }],
    ['clientCredentialsMint.resource', { resource: [] }],
    ['clientCredentialsMint.resource[1]', { resource: ['a', ''] }],
    ['clientCredentialsMint.fallbackLifetimeSeconds', { fallbackLifetimeSeconds: 0 }],
    ['clientCredentialsMint.skewSeconds', { skewSeconds: -1 }],
    ['clientCredentialsMint.discovery', { discovery: 'webfinger' }],
    ['clientCredentialsMint.discoveryTtlSeconds', { discoveryTtlSeconds: Number.NaN }],
    ['clientCredentialsMint.dpop.algorithm', { dpop: { algorithm: 'HS256' } }],
    ['clientCredentialsMint.now', { now: 5 }],
    ['clientCredentialsMint.additionalParameters.x', { additionalParameters: { x: 1 } }],
    ['clientCredentialsMint.audience', { audience: '' }],
  ])('rejects a bad %s with InvalidOptionError naming it', (option, overrides) => {
    let thrown: unknown;
    try {
      clientCredentialsMint(basicOptions(overrides as Partial<ClientCredentialsMintOptions>));
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toMatchObject({ code: 'SLUICE_INVALID_OPTION', option });
  });

  it('refuses an http: issuer unless allowInsecureRequests is set', () => {
    expect(() => clientCredentialsMint(basicOptions({ allowInsecureRequests: false }))).toThrow(
      expect.objectContaining({ option: 'clientCredentialsMint.issuer' }),
    );
  });

  it('never echoes a secret given with the wrong type', () => {
    let thrown: unknown;
    try {
      clientCredentialsMint(
        basicOptions({
          clientAuth: {
            method: 'client_secret_basic',
            clientSecret: 987654321 as unknown as string,
          },
        }),
      );
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toMatchObject({ option: 'clientCredentialsMint.clientAuth.clientSecret' });
    expect((thrown as Error).message).not.toContain('987654321');
  });
});

describe('issue 14: short secrets put in the wrong option are never echoed', () => {
  const SHORT = 'hunter2!'; // 8 characters: InvalidOptionError echoed strings up to 16
  it.each([
    ['clientAuth as a string', 'clientCredentialsMint.clientAuth', { clientAuth: SHORT }],
    [
      'clientAuth.method',
      'clientCredentialsMint.clientAuth.method',
      { clientAuth: { method: SHORT } },
    ],
    [
      'clientAuth.privateKey',
      'clientCredentialsMint.clientAuth.privateKey',
      { clientAuth: { method: 'private_key_jwt', privateKey: SHORT } },
    ],
    [
      'clientAuth.clientSecret',
      'clientCredentialsMint.clientAuth.clientSecret',
      { clientAuth: { method: 'client_secret_post', clientSecret: ['hunter2!'] } },
    ],
    ['dpop as a string', 'clientCredentialsMint.dpop', { dpop: SHORT }],
    ['dpop.algorithm', 'clientCredentialsMint.dpop.algorithm', { dpop: { algorithm: SHORT } }],
    ['dpop.keyPair', 'clientCredentialsMint.dpop.keyPair', { dpop: { keyPair: SHORT } }],
    [
      'an additionalParameters value',
      'clientCredentialsMint.additionalParameters.api_key',
      { additionalParameters: { api_key: 12345678 } },
    ],
    [
      'additionalParameters itself',
      'clientCredentialsMint.additionalParameters',
      { additionalParameters: SHORT },
    ],
  ])('%s is described by type only', (_name, option, overrides) => {
    let thrown: unknown;
    try {
      clientCredentialsMint(basicOptions(overrides as Partial<ClientCredentialsMintOptions>));
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toMatchObject({ code: 'SLUICE_INVALID_OPTION' });
    expect((thrown as { option?: string }).option?.startsWith(option)).toBe(true);
    const shown = `${(thrown as Error).message} ${inspect(thrown)}`;
    expect(shown).not.toContain('hunter2');
    expect(shown).not.toContain('12345678');
  });
});

async function until(condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met within 5 s');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

async function thumbprint(jwk: JsonWebKey): Promise<string> {
  const canonical = JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y });
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(canonical));
  return Buffer.from(digest).toString('base64url');
}
