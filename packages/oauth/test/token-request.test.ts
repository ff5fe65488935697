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
import { parseRetryAfter } from '../src/token-error.js';
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

  it('keeps a description that names the client id (not a secret) under client_secret_basic', async () => {
    server.script(() =>
      json(401, { error: 'invalid_client', error_description: 'client svc-billing is disabled' }),
    );
    const error = await rejection(
      clientCredentialsMint(
        mintOptions({
          clientId: 'svc-billing',
          clientAuth: { method: 'client_secret_basic', clientSecret: SECRET },
        }),
      )(context()),
    );
    expect(error).toMatchObject({ oauthErrorDescription: 'client svc-billing is disabled' });
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

  it('makes a 503 with an HTML body a transient error without an OAuth code, and a past Retry-After no hint', async () => {
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
      retryAfterMs: undefined,
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

describe('issue 14: answers the mint must refuse', () => {
  it.each([
    ['LF and an injected header', 'tok-0123456789\nX-Injected: 1'],
    ['CR', 'tok-0123456789\rabc'],
    ['NUL', 'tok-0123456789\u0000abc'],
    ['a space', 'tok-0123456789 abc'],
    ['a tab', 'tok-0123456789\tabc'],
    ['DEL', 'tok-0123456789\u007fabc'],
    ['non-ASCII', 'tok-0123456789é'],
  ])(
    'refuses an unpresentable access token (%s) with a typed error that never contains it',
    async (_name, token) => {
      server.script(() => json(200, { access_token: token, token_type: 'Bearer', expires_in: 60 }));
      const error = await rejection(clientCredentialsMint(mintOptions())(context()));
      expect(error).toBeInstanceOf(InvalidTokenResponseError);
      expect((error as Error).message).toMatch(/cannot be sent in an HTTP header/);
      const shown = `${(error as Error).message} ${JSON.stringify(error)} ${inspect(error, { showHidden: true })}`;
      expect(shown).not.toContain('tok-0123');
    },
  );

  it('refuses token_type DPoP from a mint without DPoP (it could never present it)', async () => {
    server.script(() => json(200, { access_token: 'dpop-bound-0123', token_type: 'DPoP' }));
    const error = await rejection(clientCredentialsMint(mintOptions())(context()));
    expect(error).toBeInstanceOf(InvalidTokenResponseError);
    expect((error as Error).message).toMatch(/token_type is DPoP but this mint has no DPoP key/);
  });

  it.each([
    ['"3600abc"', '3600abc'],
    ['"3600"', '3600'],
    ['true', true],
    ['null', null],
    ['an array', [3600]],
    ['-1', -1],
  ])('refuses expires_in %s: only a JSON number is a lifetime', async (_name, expiresIn) => {
    server.script(() =>
      json(200, { access_token: 'a-token', token_type: 'Bearer', expires_in: expiresIn }),
    );
    const error = await rejection(clientCredentialsMint(mintOptions())(context()));
    expect(error).toBeInstanceOf(InvalidTokenResponseError);
    expect((error as Error).message).toMatch(/"expires_in" must be a non-negative JSON number/);
  });

  it('accepts a numeric expires_in, fractional included', async () => {
    const now = 1_800_000_000_000;
    server.script(() => json(200, { access_token: 'a', token_type: 'Bearer', expires_in: 59.5 }));
    const credential = await clientCredentialsMint(mintOptions({ now: () => now }))(context());
    expect(credential.expiresAt).toBe(now + 59_500);
  });
});

describe('issue 14: an abort while the token response body is read', () => {
  it("rejects with the signal's reason, not InvalidTokenResponseError", async () => {
    const { createServer } = await import('node:http');
    const stalling = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"access_token":"a-tok');
      // the rest never comes
    });
    await new Promise<void>((resolve) => stalling.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = stalling.address() as import('node:net').AddressInfo;
      const origin = `http://127.0.0.1:${port}`;
      let answered!: () => void;
      const headersIn = new Promise<void>((resolve) => {
        answered = resolve;
      });
      const controller = new AbortController();
      const pending = clientCredentialsMint(
        mintOptions({
          authorizationServer: { issuer: origin, token_endpoint: `${origin}/token` },
          // Resolves once the answer's headers are in: the body is still arriving.
          fetch: async (url, init) => {
            const response = await globalThis.fetch(url, init);
            answered();
            return response;
          },
        }),
      )({ signal: controller.signal, reason: 'initial' });
      const settled = rejection(pending);
      await headersIn;
      const reason = new Error('caller gave up');
      controller.abort(reason);
      expect(await settled).toBe(reason);
    } finally {
      stalling.closeAllConnections();
      await new Promise<void>((resolve) => stalling.close(() => resolve()));
    }
  });
});

describe('issue 14: Retry-After', () => {
  it.each([
    ['120', 120_000],
    [' 7 ', 7_000],
    ['-5', undefined],
    ['1.5', undefined],
    ['garbage', undefined],
    ['0', undefined],
    ['', undefined],
    ['99999999999999999999', undefined],
    ['Wed, 21 Oct 2015 07:28:00 GMT', undefined], // in the past: no hint
  ])('parseRetryAfter(%j) is %j: a malformed value gives no hint, never 0', (value, expected) => {
    expect(parseRetryAfter(value, () => 1_800_000_000_000)).toBe(expected);
  });

  it('reads an HTTP-date in the future relative to the injected clock', () => {
    const now = Date.parse('Sun, 06 Nov 1994 08:47:37 GMT');
    expect(parseRetryAfter('Sun, 06 Nov 1994 08:49:37 GMT', () => now)).toBe(120_000);
  });

  it.each([
    [429, '120', 120_000],
    [503, '120', 120_000],
    [429, '-5', undefined],
    [503, '1.5', undefined],
    [400, '120', undefined],
  ])('a %i with Retry-After %s carries retryAfterMs %j', async (status, header, expected) => {
    server.script(() => json(status, { error: 'slow_down' }, { 'retry-after': header }));
    const error = await rejection(clientCredentialsMint(mintOptions())(context()));
    expect(error).toBeInstanceOf(TokenEndpointError);
    expect((error as TokenEndpointError).retryAfterMs).toBe(expected);
  });
});

describe('issue 17: an unreachable issuer or an http: issuer', () => {
  it('wraps a refused discovery connection in DiscoveryError naming the host and the cause', async () => {
    const { createServer } = await import('node:net');
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const { port } = probe.address() as import('node:net').AddressInfo;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const error = await rejection(
      clientCredentialsMint({
        ...mintOptions(),
        authorizationServer: undefined as never,
        issuer: `http://127.0.0.1:${port}`,
      })(context()),
    );
    expect(error).toBeInstanceOf(DiscoveryError);
    expect((error as Error).message).toBe(
      `discovery of http://127.0.0.1:${port}/ failed: could not reach 127.0.0.1:${port} (ECONNREFUSED)`,
    );
    expect(error).toMatchObject({ transient: true, status: undefined });
    expect((error as Error).cause).toBeInstanceOf(TypeError);
  });

  it('names an unknown host (ENOTFOUND) in the DiscoveryError, not transient', async () => {
    const dns = Object.assign(new Error('getaddrinfo ENOTFOUND auth.nowhere.invalid'), {
      code: 'ENOTFOUND',
    });
    const fetch = async (): Promise<Response> => {
      throw new TypeError('fetch failed', { cause: dns });
    };
    const error = await rejection(
      clientCredentialsMint({
        ...mintOptions(),
        authorizationServer: undefined as never,
        issuer: 'https://auth.nowhere.invalid',
        fetch,
      })(context()),
    );
    expect((error as Error).message).toBe(
      'discovery of https://auth.nowhere.invalid/ failed: could not reach auth.nowhere.invalid (ENOTFOUND)',
    );
    expect(error).toMatchObject({ code: 'SLUICE_OAUTH_DISCOVERY', transient: false });
  });

  it('shows the refused http: issuer URL, without its credentials or query', () => {
    let error: unknown;
    try {
      clientCredentialsMint({
        ...mintOptions(),
        authorizationServer: undefined as never,
        issuer: 'http://admin:pa55word@auth.example.com/realms/x?key=k3y',
        allowInsecureRequests: false,
      });
    } catch (caught) {
      error = caught;
    }
    expect((error as Error).message).toBe(
      'option `clientCredentialsMint.issuer` must be an https: URL (or set allowInsecureRequests); received "http://auth.example.com/realms/x"',
    );
  });
});
