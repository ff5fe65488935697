/**
 * The token request every mint shares, against the tests' own token endpoint: the DPoP nonce
 * retry (exactly one), the error mapping of odd answers, redaction of echoed secrets, and
 * discovery failures.
 */

import { inspect } from 'node:util';
import type { MintContext } from '@sluice/core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { AccessToken } from '../src/access-token.js';
import {
  type ClientCredentialsMintOptions,
  clientCredentialsMint,
} from '../src/client-credentials.js';
import { DiscoveryError, InvalidTokenResponseError, TokenEndpointError } from '../src/errors.js';
import { claimsOf, fakeJwt } from './support/jwt.js';
import { json, startTokenEndpoint, type TokenEndpointServer } from './support/token-endpoint.js';

let server: TokenEndpointServer;

beforeAll(async () => {
  server = await startTokenEndpoint();
});

afterAll(async () => {
  await server?.close();
});

afterEach(() => {
  server.requests.length = 0;
  server.failDiscovery(false);
});

const context = (): MintContext<AccessToken> => ({
  signal: AbortSignal.timeout(10_000),
  reason: 'initial',
});
const SECRET = 'client-secret-0123456789abcdef';

function mintOptions(
  overrides: Partial<ClientCredentialsMintOptions> = {},
): ClientCredentialsMintOptions {
  return {
    authorizationServer: server.metadata,
    clientId: 'svc',
    clientAuth: { method: 'client_secret_post', clientSecret: SECRET },
    allowInsecureRequests: true,
    ...overrides,
  };
}

async function rejection(promise: Promise<unknown> | unknown): Promise<unknown> {
  return Promise.resolve(promise).then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: unknown) => error,
  );
}

describe('DPoP nonce', () => {
  it('retries a use_dpop_nonce answer exactly once, with the nonce, then fails with the second answer', async () => {
    let n = 0;
    server.script(() => {
      n += 1;
      return json(400, { error: 'use_dpop_nonce' }, { 'dpop-nonce': `nonce-${n}` });
    });
    const error = await rejection(clientCredentialsMint(mintOptions({ dpop: true }))(context()));
    expect(error).toBeInstanceOf(TokenEndpointError);
    expect(error).toMatchObject({ status: 400, oauthError: 'use_dpop_nonce' });
    expect(server.requests).toHaveLength(2);
    const proofs = server.requests.map((r) => claimsOf(String(r.headers.dpop)));
    expect(proofs[0]?.nonce).toBeUndefined();
    expect(proofs[1]?.nonce).toBe('nonce-1');
    expect(proofs[0]?.jti).not.toBe(proofs[1]?.jti);
  });

  it('does not retry use_dpop_nonce without a DPoP-Nonce header to use', async () => {
    server.script(() => json(400, { error: 'use_dpop_nonce' }));
    await rejection(clientCredentialsMint(mintOptions({ dpop: true }))(context()));
    expect(server.requests).toHaveLength(1);
  });

  it('does not retry use_dpop_nonce for a mint without DPoP', async () => {
    server.script(() => json(400, { error: 'use_dpop_nonce' }, { 'dpop-nonce': 'n' }));
    await rejection(clientCredentialsMint(mintOptions())(context()));
    expect(server.requests).toHaveLength(1);
  });

  it('keeps a DPoP answer without its key bound to nothing when the server ignores the proof', async () => {
    server.script(() => json(200, { access_token: 'plain', token_type: 'Bearer', expires_in: 60 }));
    const credential = await clientCredentialsMint(mintOptions({ dpop: true }))(context());
    expect(credential.value.tokenType).toBe('Bearer');
    expect(credential.value.dpop).toBeUndefined();
  });
});

describe('answers that are not tokens', () => {
  it('redacts every secret a careless server echoes back in error_description', async () => {
    server.script((request) =>
      json(401, {
        error: 'invalid_client',
        error_description: `rejected ${request.rawBody} ${String(request.headers.dpop)}`,
      }),
    );
    const error = await rejection(clientCredentialsMint(mintOptions({ dpop: true }))(context()));
    const shown = `${(error as Error).message} ${JSON.stringify(error)} ${inspect(error)}`;
    expect(shown).toContain('[redacted]');
    expect(shown).not.toContain(SECRET);
    expect(shown).not.toMatch(/eyJ[\w-]+\.[\w-]+/); // the DPoP proof
  });

  it('redacts a private_key_jwt assertion echoed back', async () => {
    const { privateKey } = await crypto.subtle.generateKey(
      { name: 'ECDSA', namedCurve: 'P-256' },
      false,
      ['sign', 'verify'],
    );
    let assertion = '';
    server.script((request) => {
      assertion = request.form.get('client_assertion') ?? '';
      return json(400, {
        error: 'invalid_client',
        error_description: `assertion ${assertion.slice(0, 150)} is not valid`,
      });
    });
    const error = await rejection(
      clientCredentialsMint(mintOptions({ clientAuth: { method: 'private_key_jwt', privateKey } }))(
        context(),
      ),
    );
    expect(assertion).toMatch(/^eyJ/);
    expect((error as TokenEndpointError).oauthErrorDescription).toBe(
      'assertion [redacted] is not valid',
    );
  });

  it('takes the OAuth error from a WWW-Authenticate challenge when the body has none', async () => {
    server.script(() => ({
      status: 401,
      headers: {
        'www-authenticate':
          'Basic realm="token", error="invalid_client", error_description="unknown client"',
      },
      body: 'Unauthorized',
    }));
    const error = await rejection(clientCredentialsMint(mintOptions())(context()));
    expect(error).toMatchObject({
      status: 401,
      oauthError: 'invalid_client',
      oauthErrorDescription: 'unknown client',
    });
  });

  it('makes a 503 with an HTML body a transient error without an OAuth code', async () => {
    server.script(() => ({
      status: 503,
      headers: { 'content-type': 'text/html', 'retry-after': 'Wed, 21 Oct 2015 07:28:00 GMT' },
      body: '<h1>down</h1>',
    }));
    const error = await rejection(clientCredentialsMint(mintOptions())(context()));
    expect(error).toMatchObject({
      status: 503,
      transient: true,
      oauthError: undefined,
      retryAfterMs: 0,
    });
  });

  it('refuses a redirect instead of following it', async () => {
    server.script(() => ({ status: 302, headers: { location: 'http://127.0.0.1:9/elsewhere' } }));
    const error = await rejection(clientCredentialsMint(mintOptions())(context()));
    expect(error).toMatchObject({ status: 302, transient: false });
    expect(server.requests).toHaveLength(1);
  });

  it('fails a 200 with an unknown token_type with InvalidTokenResponseError that carries no body', async () => {
    server.script(() => json(200, { access_token: 'leaky-access-token', token_type: 'mac' }));
    const error = await rejection(clientCredentialsMint(mintOptions())(context()));
    expect(error).toBeInstanceOf(InvalidTokenResponseError);
    expect((error as Error).cause).toBeUndefined();
    expect(`${inspect(error)} ${JSON.stringify(error)}`).not.toContain('leaky-access-token');
  });

  it('fails a 200 without access_token with the client library code', async () => {
    server.script(() => json(200, { token_type: 'Bearer' }));
    const error = await rejection(clientCredentialsMint(mintOptions())(context()));
    expect(error).toMatchObject({
      code: 'SLUICE_OAUTH_INVALID_TOKEN_RESPONSE',
      clientCode: 'OAUTH_INVALID_RESPONSE',
    });
  });

  it('fails a 200 that is not JSON', async () => {
    server.script(() => ({ status: 200, headers: { 'content-type': 'text/plain' }, body: 'ok' }));
    const error = await rejection(clientCredentialsMint(mintOptions())(context()));
    expect(error).toMatchObject({ code: 'SLUICE_OAUTH_INVALID_TOKEN_RESPONSE' });
  });

  it('reads an error body no larger than 64 KiB', async () => {
    server.script(() =>
      json(400, { error: 'invalid_request', error_description: 'x'.repeat(1_000_000) }),
    );
    const error = await rejection(clientCredentialsMint(mintOptions())(context()));
    // The body was cut, so it is not JSON any more: the status alone is reported.
    expect(error).toMatchObject({ status: 400, oauthError: undefined });
  });
});

describe('lifetime from the answer', () => {
  it('schedules a JWT without expires_in by exp, minus the skew', async () => {
    const now = 1_800_000_000_000;
    server.script(() =>
      json(200, { access_token: fakeJwt({ exp: now / 1000 + 600 }), token_type: 'Bearer' }),
    );
    const credential = await clientCredentialsMint(
      mintOptions({ now: () => now, skewSeconds: 60 }),
    )(context());
    expect(credential.expiresAt).toBe(now + 540_000);
  });
});

describe('the clock', () => {
  it.each([
    ['returns NaN', () => Number.NaN, /returned NaN/],
    ['returns a string', () => '1700000000000' as unknown as number, /returned a string/],
    [
      'throws',
      () => {
        throw new Error('clock broken');
      },
      /threw/,
    ],
  ])('fails the mint with InvalidClockError when it %s', async (_label, now, message) => {
    server.script(() => json(200, { access_token: 'a', token_type: 'Bearer', expires_in: 60 }));
    const error = await rejection(clientCredentialsMint(mintOptions({ now }))(context()));
    expect(error).toMatchObject({ code: 'SLUICE_INVALID_CLOCK' });
    expect((error as Error).message).toMatch(message);
  });
});

describe('discovery failures', () => {
  const discovered = (
    overrides: Partial<ClientCredentialsMintOptions> = {},
  ): ClientCredentialsMintOptions => {
    const { authorizationServer: _unused, ...rest } = mintOptions(overrides);
    return { ...rest, issuer: server.issuer };
  };

  it('is a DiscoveryError, transient for a 503, and is not cached', async () => {
    server.script(() => json(200, { access_token: 'a', token_type: 'Bearer' }));
    const mint = clientCredentialsMint(discovered());
    server.failDiscovery(true);
    const error = await rejection(mint(context()));
    expect(error).toBeInstanceOf(DiscoveryError);
    expect(error).toMatchObject({ status: 503, transient: true, issuer: `${server.issuer}/` });
    server.failDiscovery(false);
    await expect(mint(context())).resolves.toMatchObject({ value: { tokenType: 'Bearer' } });
  });

  it('keeps using stale metadata when a re-discovery fails, and tries again a minute later', async () => {
    server.script(() => json(200, { access_token: 'a', token_type: 'Bearer' }));
    let now = 1_800_000_000_000;
    const mint = clientCredentialsMint(discovered({ now: () => now, discoveryTtlSeconds: 600 }));
    const before = server.discoveries();
    await mint(context());
    now += 600_000;
    server.failDiscovery(true);
    await expect(mint(context())).resolves.toBeDefined(); // the token endpoint still works
    expect(server.discoveries() - before).toBe(2);
    now += 59_000;
    await mint(context());
    expect(server.discoveries() - before).toBe(2);
    now += 1_000;
    await mint(context());
    expect(server.discoveries() - before).toBe(3);
  });
});
