/**
 * Unknown option keys are refused in every options object of this package (issue 17 §4):
 * the error names the key with its path and the nearest valid key, and never the value,
 * which may be a secret. In plain JavaScript a misspelt key was otherwise dropped without a
 * word (`clientAuth.kid` for `keyId`, and a server with several keys answered
 * `invalid_client`).
 */

import { isSluiceError, UnknownOptionError } from '@sluice/core';
import { describe, expect, it } from 'vitest';
import { createAuthFetch } from '../src/auth-fetch.js';
import { clientCredentialsMint } from '../src/client-credentials.js';
import { refreshTokenMint } from '../src/refresh-token.js';
import { tokenExchangeMint } from '../src/token-exchange.js';
import { leaksOf, renderings } from './support/leaks.js';

const SECRET = 'sk_live_9Xq2Lw7Rt4Zp';

const base = {
  issuer: 'https://auth.example.com',
  clientId: 'billing',
  clientAuth: { method: 'client_secret_basic', clientSecret: SECRET },
} as const;

function refusal(fn: () => unknown): UnknownOptionError {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(UnknownOptionError);
  expect(isSluiceError(caught, 'SLUICE_INVALID_OPTION')).toBe(true);
  return caught as UnknownOptionError;
}

/** The refusal names `option` and `suggestion`, and no rendering shows `secret`. */
function expectRefused(
  fn: () => unknown,
  option: string,
  suggestion: string | undefined,
  secret: string,
): void {
  const error = refusal(fn);
  expect(error.option).toBe(option);
  expect(error.suggestion).toBe(suggestion);
  expect(error.message).toContain(`\`${option}\``);
  if (suggestion !== undefined) expect(error.message).toContain(`did you mean \`${suggestion}\`?`);
  expect(leaksOf(renderings(error), secret)).toEqual([]);
}

async function signingKey(): Promise<CryptoKey> {
  const pair = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, [
    'sign',
    'verify',
  ]);
  return pair.privateKey;
}

describe('unknown option keys', () => {
  it('refuses an unknown option key, naming it and the nearest valid one, without its value (clientAuth private_key_jwt: kid)', async () => {
    const privateKey = await signingKey();
    const kid = 'kid-secret-0f3a9c2e71';
    expectRefused(
      () =>
        clientCredentialsMint({
          ...base,
          clientAuth: { method: 'private_key_jwt', privateKey, kid },
        } as never),
      'clientCredentialsMint.clientAuth.kid',
      'keyId',
      kid,
    );
  });

  it('refuses an unknown option key, naming it and the nearest valid one, without its value (clientAuth with a secret)', () => {
    expectRefused(
      () =>
        clientCredentialsMint({
          ...base,
          clientAuth: { method: 'client_secret_post', clientSecret: 'x', secret: SECRET },
        } as never),
      'clientCredentialsMint.clientAuth.secret',
      'clientSecret',
      SECRET,
    );
    // A key of another method is refused too: `none` takes no secret.
    expectRefused(
      () =>
        clientCredentialsMint({
          ...base,
          clientAuth: { method: 'none', clientSecret: SECRET },
        } as never),
      'clientCredentialsMint.clientAuth.clientSecret',
      undefined,
      SECRET,
    );
  });

  it('refuses an unknown option key, naming it and the nearest valid one, without its value (clientCredentialsMint)', () => {
    expectRefused(
      () => clientCredentialsMint({ ...base, audiance: SECRET } as never),
      'clientCredentialsMint.audiance',
      'audience',
      SECRET,
    );
    expectRefused(
      () => clientCredentialsMint({ ...base, client_secret: SECRET } as never),
      'clientCredentialsMint.client_secret',
      undefined,
      SECRET,
    );
  });

  it('refuses an unknown option key, naming it and the nearest valid one, without its value (refreshTokenMint)', () => {
    expectRefused(
      () => refreshTokenMint({ ...base, refresh_token: SECRET } as never),
      'refreshTokenMint.refresh_token',
      'refreshToken',
      SECRET,
    );
  });

  it('refuses an unknown option key, naming it and the nearest valid one, without its value (tokenExchangeMint)', () => {
    expectRefused(
      () => tokenExchangeMint({ ...base, subjectToken: 'x', subjectTokn: SECRET } as never),
      'tokenExchangeMint.subjectTokn',
      'subjectToken',
      SECRET,
    );
  });

  it('refuses an unknown option key, naming it and the nearest valid one, without its value (dpop options)', async () => {
    const { privateKey, publicKey } = await crypto.subtle.generateKey(
      { name: 'ECDSA', namedCurve: 'P-256' },
      true,
      ['sign', 'verify'],
    );
    expectRefused(
      () =>
        clientCredentialsMint({
          ...base,
          dpop: { keypair: { privateKey, publicKey }, algorithm: 'ES256' },
        } as never),
      'clientCredentialsMint.dpop.keypair',
      'keyPair',
      SECRET,
    );
  });

  it('refuses an unknown option key, naming it and the nearest valid one, without its value (discovery options)', () => {
    expectRefused(
      () => clientCredentialsMint({ ...base, discoveryTtlSecond: 60 } as never),
      'clientCredentialsMint.discoveryTtlSecond',
      'discoveryTtlSeconds',
      SECRET,
    );
  });

  it('refuses an unknown option key, naming it and the nearest valid one, without its value (createAuthFetch)', () => {
    const provider = { get: async () => 'token', invalidate: () => false };
    expectRefused(
      () => createAuthFetch(provider, { allowedOrigin: [`https://${SECRET}.example`] } as never),
      'createAuthFetch.allowedOrigin',
      'allowedOrigins',
      SECRET,
    );
  });

  it('still accepts every documented option of a mint', async () => {
    const privateKey = await signingKey();
    expect(() =>
      clientCredentialsMint({
        ...base,
        clientAuth: { method: 'private_key_jwt', privateKey, keyId: 'k1' },
        discovery: 'oauth2',
        discoveryTtlSeconds: 60,
        scope: 'read',
        resource: 'https://api.example.com',
        additionalParameters: { vendor: 'x' },
        dpop: { algorithm: 'ES256' },
        fallbackLifetimeSeconds: 300,
        skewSeconds: 5,
        now: () => 1,
        fetch: globalThis.fetch,
        allowInsecureRequests: false,
        audience: 'api',
      }),
    ).not.toThrow();
  });
});
