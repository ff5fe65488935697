/**
 * tokenExchangeMint (RFC 8693) against a real oidc-provider whose token-exchange grant is
 * registered with `registerGrantType`, with and without `expires_in`; request shape and the
 * `N_A` token type against the tests' own token endpoint.
 */

import { createRefreshingProvider, type MintContext } from '@sluice/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AccessToken } from '../src/access-token.js';
import { clientCredentialsMint } from '../src/client-credentials.js';
import { TokenEndpointError } from '../src/errors.js';
import {
  TOKEN_EXCHANGE_GRANT_TYPE,
  TOKEN_TYPES,
  type TokenExchangeMintOptions,
  tokenExchangeMint,
} from '../src/token-exchange.js';
import {
  API,
  type AuthorizationServer,
  startAuthorizationServer,
} from './support/authorization-server.js';
import { claimsOf } from './support/jwt.js';
import { json, startTokenEndpoint, type TokenEndpointServer } from './support/token-endpoint.js';

let as: AuthorizationServer;
let own: TokenEndpointServer;

beforeAll(async () => {
  [as, own] = await Promise.all([
    startAuthorizationServer({ accessTokenTtlSeconds: 300 }),
    startTokenEndpoint(),
  ]);
});

afterAll(async () => {
  await Promise.all([as?.close(), own?.close()]);
});

const context = (): MintContext<AccessToken> => ({
  signal: AbortSignal.timeout(10_000),
  reason: 'initial',
});

/** An opaque access token of the basic client: the subject the exchange client trades in. */
async function subjectToken(): Promise<string> {
  const credential = await clientCredentialsMint({
    issuer: as.issuer,
    clientId: as.basic.clientId,
    clientAuth: { method: 'client_secret_basic', clientSecret: as.basic.clientSecret },
    allowInsecureRequests: true,
  })(context());
  return credential.value.token;
}

function exchangeOptions(
  subject: TokenExchangeMintOptions['subjectToken'],
  overrides: Partial<TokenExchangeMintOptions> = {},
): TokenExchangeMintOptions {
  return {
    issuer: as.issuer,
    clientId: as.exchange.clientId,
    clientAuth: { method: 'client_secret_basic', clientSecret: as.exchange.clientSecret },
    subjectToken: subject,
    allowInsecureRequests: true,
    ...overrides,
  };
}

describe('tokenExchangeMint against oidc-provider', () => {
  it('exchanges a subject token for a JWT access token, expiring at now + expires_in', async () => {
    as.exchangeMode = 'jwt';
    const now = 1_800_000_000_000;
    const credential = await tokenExchangeMint(
      exchangeOptions(await subjectToken(), { now: () => now }),
    )(context());
    expect(credential.expiresAt).toBe(now + as.accessTokenTtlSeconds * 1000);
    expect(credential.value.issuedTokenType).toBe(TOKEN_TYPES.accessToken);
    expect(credential.value.tokenType).toBe('Bearer');
    expect(claimsOf(credential.value.token).aud).toBe(API);
  });

  it('schedules a JWT answered without expires_in by its exp claim', async () => {
    as.exchangeMode = 'jwt-without-expires-in';
    const credential = await tokenExchangeMint(exchangeOptions(await subjectToken()))(context());
    const { exp } = claimsOf(credential.value.token) as { exp: number };
    expect(credential.expiresAt).toBe(exp * 1000);
  });

  it('gives an opaque token without expires_in the fallback lifetime', async () => {
    as.exchangeMode = 'opaque-without-expires-in';
    const now = 1_800_000_000_000;
    const credential = await tokenExchangeMint(
      exchangeOptions(await subjectToken(), {
        fallbackLifetimeSeconds: 120,
        skewSeconds: 10,
        now: () => now,
      }),
    )(context());
    expect(credential.value.token.split('.')).toHaveLength(1);
    expect(credential.expiresAt).toBe(now + 110_000);
  });

  it('caches an opaque token without expires_in or fallback with no expiry: only a 401 replaces it', async () => {
    as.exchangeMode = 'opaque-without-expires-in';
    const subject = await subjectToken();
    const provider = await createRefreshingProvider({
      name: 'exchange',
      mint: tokenExchangeMint(exchangeOptions(subject)),
    });
    try {
      expect(provider.snapshot()).toMatchObject({
        status: 'fresh',
        expiresAt: null,
        refreshDueAt: null,
      });
      expect((await provider.getCredential()).expiresAt).toBeUndefined();
    } finally {
      provider.close();
    }
  });

  it("exchanges another provider's current token on every mint", async () => {
    as.exchangeMode = 'jwt';
    const upstream = await createRefreshingProvider({
      name: 'upstream',
      mint: clientCredentialsMint({
        issuer: as.issuer,
        clientId: as.basic.clientId,
        clientAuth: { method: 'client_secret_basic', clientSecret: as.basic.clientSecret },
        allowInsecureRequests: true,
      }),
    });
    const seen: string[] = [];
    const downstream = await createRefreshingProvider({
      name: 'downstream',
      mint: tokenExchangeMint(
        exchangeOptions(async ({ signal }) => {
          const token = await upstream.get({ signal });
          seen.push(token.token);
          return token;
        }),
      ),
    });
    try {
      upstream.invalidate(await upstream.get());
      await downstream.refresh();
      expect(seen).toHaveLength(2);
      expect(seen[1]).not.toBe(seen[0]);
      expect(seen[1]).toBe((await upstream.get()).token);
    } finally {
      downstream.close();
      upstream.close();
    }
  });

  it('refuses an inactive subject token with a permanent invalid_grant that never echoes it', async () => {
    as.exchangeMode = 'jwt';
    const fake = 'x'.repeat(43);
    let error: unknown;
    try {
      await tokenExchangeMint(exchangeOptions(fake))(context());
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(TokenEndpointError);
    expect(error).toMatchObject({
      grantType: TOKEN_EXCHANGE_GRANT_TYPE,
      status: 400,
      oauthError: 'invalid_grant',
      transient: false,
    });
    expect(JSON.stringify(error) + (error as Error).message).not.toContain(fake);
  });
});

describe('tokenExchangeMint request', () => {
  it('sends subject, actor, requested type, audiences and resource', async () => {
    own.script(() =>
      json(200, {
        access_token: 'a-jwt-access-token',
        token_type: 'Bearer',
        issued_token_type: TOKEN_TYPES.jwt,
      }),
    );
    const credential = await tokenExchangeMint({
      authorizationServer: own.metadata,
      clientId: 'gateway',
      clientAuth: { method: 'client_secret_post', clientSecret: 'gateway-secret' },
      subjectToken: () => ({ token: 'the-subject' }),
      subjectTokenType: TOKEN_TYPES.jwt,
      actorToken: async () => 'the-actor',
      requestedTokenType: TOKEN_TYPES.idToken,
      audience: ['ledger', 'audit'],
      resource: 'https://ledger.example',
      allowInsecureRequests: true,
    })(context());
    const form = own.requests.at(-1)?.form as URLSearchParams;
    expect(form.get('grant_type')).toBe(TOKEN_EXCHANGE_GRANT_TYPE);
    expect(form.get('subject_token')).toBe('the-subject');
    expect(form.get('subject_token_type')).toBe(TOKEN_TYPES.jwt);
    expect(form.get('actor_token')).toBe('the-actor');
    expect(form.get('actor_token_type')).toBe(TOKEN_TYPES.accessToken);
    expect(form.get('requested_token_type')).toBe(TOKEN_TYPES.idToken);
    expect(form.getAll('audience')).toEqual(['ledger', 'audit']);
    expect(form.getAll('resource')).toEqual(['https://ledger.example']);
    expect(credential.value).toMatchObject({
      tokenType: 'Bearer',
      issuedTokenType: TOKEN_TYPES.jwt,
    });
    expect(credential.expiresAt).toBeUndefined();
  });

  it.each([
    ['token_type N_A', { token_type: 'N_A', issued_token_type: TOKEN_TYPES.jwt }],
    [
      'an ID token sent as Bearer',
      { token_type: 'Bearer', issued_token_type: TOKEN_TYPES.idToken },
    ],
    [
      'a refresh token sent as Bearer',
      { token_type: 'Bearer', issued_token_type: TOKEN_TYPES.refreshToken },
    ],
  ])(
    'refuses an issued token that is not an access token at the mint (issue 14: N_A was sent as Bearer): %s',
    async (_name, fields) => {
      own.script(() => json(200, { access_token: 'not-an-access-token-0123', ...fields }));
      const error = await Promise.resolve(
        tokenExchangeMint({
          authorizationServer: own.metadata,
          clientId: 'gateway',
          clientAuth: { method: 'none' },
          subjectToken: 'the-subject',
          allowInsecureRequests: true,
        })(context()),
      ).catch((caught: unknown) => caught);
      expect(error).toMatchObject({ code: 'SLUICE_OAUTH_INVALID_TOKEN_RESPONSE' });
      expect((error as Error).message).toMatch(/not an access token/);
      expect((error as Error).message).not.toContain('not-an-access-token');
    },
  );

  it('rejects a subject loader that returns no token, describing it by type only', async () => {
    const mint = tokenExchangeMint({
      authorizationServer: own.metadata,
      clientId: 'gateway',
      clientAuth: { method: 'none' },
      subjectToken: () => 12345678 as unknown as string,
      allowInsecureRequests: true,
    });
    const error = await Promise.resolve(mint(context())).catch((caught: unknown) => caught);
    expect(error).toMatchObject({
      code: 'SLUICE_INVALID_OPTION',
      option: 'tokenExchangeMint.subjectToken',
    });
    expect((error as Error).message).not.toContain('12345678');
  });

  it.each([
    ['tokenExchangeMint.subjectToken', { subjectToken: undefined }],
    ['tokenExchangeMint.subjectToken', { subjectToken: '' }],
    ['tokenExchangeMint.actorTokenType', { actorTokenType: TOKEN_TYPES.jwt }],
    ['tokenExchangeMint.audience', { audience: [] }],
    ['tokenExchangeMint.requestedTokenType', { requestedTokenType: 7 }],
  ])('rejects a bad %s at construction', (option, overrides) => {
    expect(() =>
      tokenExchangeMint({
        authorizationServer: own.metadata,
        clientId: 'gateway',
        clientAuth: { method: 'none' },
        subjectToken: 'subject',
        allowInsecureRequests: true,
        ...(overrides as Partial<TokenExchangeMintOptions>),
      }),
    ).toThrow(expect.objectContaining({ code: 'SLUICE_INVALID_OPTION', option }));
  });
});
