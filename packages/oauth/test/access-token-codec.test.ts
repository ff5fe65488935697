/**
 * accessTokenCodec and the mint traits (issue 14, section 1): a fleet coordinator stores the
 * real token, never the redacted `toJSON()` view, and a DPoP-configured mint says it cannot
 * be shared at all.
 */

import { mintTraitsOf } from '@sluice/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AccessToken } from '../src/access-token.js';
import { accessTokenCodec } from '../src/access-token-codec.js';
import { clientCredentialsMint } from '../src/client-credentials.js';
import { refreshTokenMint } from '../src/refresh-token.js';
import { tokenExchangeMint } from '../src/token-exchange.js';

const METADATA = { issuer: 'https://as.example', token_endpoint: 'https://as.example/token' };
const TOKEN = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl';

function codecError(run: () => unknown): Error & { code?: string } {
  try {
    run();
  } catch (error) {
    return error as Error & { code?: string };
  }
  throw new Error('expected a codec error');
}

describe('accessTokenCodec', () => {
  it('round-trips every field into a real AccessToken that presents the token', () => {
    const original = new AccessToken({
      token: TOKEN,
      tokenType: 'bearer',
      scope: 'invoices:read',
      expiresAt: 1_800_000_000_000,
      issuedTokenType: 'urn:ietf:params:oauth:token-type:access_token',
    });
    const decoded = accessTokenCodec.decode(accessTokenCodec.encode(original));
    expect(decoded).toBeInstanceOf(AccessToken);
    expect(decoded.token).toBe(TOKEN);
    expect(decoded.toJSON()).toEqual(original.toJSON());
    expect(decoded.dpop).toBeUndefined();
  });

  it('round-trips any presentable token and any optional fields (property)', () => {
    const visible = fc.string({
      unit: fc.integer({ min: 0x21, max: 0x7e }).map((code) => String.fromCharCode(code)),
      minLength: 1,
      maxLength: 200,
    });
    fc.assert(
      fc.property(
        visible.filter((token) => token !== '[redacted]'),
        fc.constantFrom('Bearer', 'bearer', 'MAC', 'N_A'),
        fc.option(fc.string(), { nil: undefined }),
        fc.option(fc.integer({ min: 0, max: 4_000_000_000_000 }), { nil: undefined }),
        fc.option(fc.string(), { nil: undefined }),
        (token, tokenType, scope, expiresAt, issuedTokenType) => {
          const original = new AccessToken({ token, tokenType, scope, expiresAt, issuedTokenType });
          const decoded = accessTokenCodec.decode(accessTokenCodec.encode(original));
          expect(decoded.token).toBe(token);
          expect(decoded.toJSON()).toEqual(original.toJSON());
        },
      ),
    );
  });

  it('refuses to encode the redacted JSON view, naming why (the bug: replicas got "[redacted]")', () => {
    const view = JSON.parse(JSON.stringify(new AccessToken({ token: TOKEN, tokenType: 'Bearer' })));
    const error = codecError(() => accessTokenCodec.encode(view));
    expect(error.code).toBe('SLUICE_OAUTH_TOKEN_CODEC');
    expect(error.message).toMatch(/redacted copy/);
  });

  it('refuses to encode a DPoP-bound token: its key never leaves this process', () => {
    const bound = new AccessToken({
      token: TOKEN,
      tokenType: 'DPoP',
      dpop: { calculateThumbprint: async () => 'jkt' },
    });
    expect(codecError(() => accessTokenCodec.encode(bound)).message).toMatch(/DPoP-bound/);
  });

  it.each([
    ['not JSON', '{'],
    ['JSON null', 'null'],
    ['an array', '[]'],
    ['no version', JSON.stringify({ token: 'abc', tokenType: 'Bearer' })],
    ['a redacted token', JSON.stringify({ v: 1, token: '[redacted]', tokenType: 'Bearer' })],
    ['a numeric token', JSON.stringify({ v: 1, token: 12345678, tokenType: 'Bearer' })],
    ['an unpresentable token', JSON.stringify({ v: 1, token: 'ab\ncd', tokenType: 'Bearer' })],
    ['no tokenType', JSON.stringify({ v: 1, token: 'abc' })],
    ['a DPoP tokenType', JSON.stringify({ v: 1, token: 'abc', tokenType: 'DPoP' })],
    ['a numeric scope', JSON.stringify({ v: 1, token: 'abc', tokenType: 'Bearer', scope: 1 })],
    [
      'a string expiresAt',
      JSON.stringify({ v: 1, token: 'abc', tokenType: 'Bearer', expiresAt: '1' }),
    ],
    [
      'an object issuedTokenType',
      JSON.stringify({ v: 1, token: 'abc', tokenType: 'Bearer', issuedTokenType: {} }),
    ],
  ])('decode refuses %s with a typed error, never returning undefined', (_name, text) => {
    const error = codecError(() => accessTokenCodec.decode(text));
    expect(error.code).toBe('SLUICE_OAUTH_TOKEN_CODEC');
    expect(error.message).not.toContain('12345678');
  });

  it('never shows the token in a codec error', () => {
    const secret = 'secret-token-0123456789';
    const text = JSON.stringify({ v: 1, token: `${secret}\r\n`, tokenType: 'Bearer' });
    expect(codecError(() => accessTokenCodec.decode(text)).message).not.toContain('secret-tok');
  });
});

describe('the mints advertise their traits', () => {
  const common = { authorizationServer: METADATA, clientId: 'svc' };
  const secretAuth = { method: 'client_secret_post', clientSecret: 'cs' } as const;

  it.each([
    ['clientCredentialsMint', () => clientCredentialsMint({ ...common, clientAuth: secretAuth })],
    [
      'tokenExchangeMint',
      () => tokenExchangeMint({ ...common, clientAuth: secretAuth, subjectToken: 'subject' }),
    ],
    [
      'refreshTokenMint (its access tokens; the refresh token stays in the mint)',
      () => refreshTokenMint({ ...common, clientAuth: { method: 'none' }, refreshToken: 'rt' }),
    ],
  ])('%s advertises accessTokenCodec', (_name, build) => {
    expect(mintTraitsOf(build())).toEqual({ codec: accessTokenCodec });
  });

  it.each([
    [
      'clientCredentialsMint',
      () => clientCredentialsMint({ ...common, clientAuth: secretAuth, dpop: true }),
    ],
    [
      'tokenExchangeMint',
      () => tokenExchangeMint({ ...common, clientAuth: secretAuth, subjectToken: 's', dpop: true }),
    ],
    [
      'refreshTokenMint',
      () =>
        refreshTokenMint({
          ...common,
          clientAuth: { method: 'none' },
          refreshToken: 'rt',
          dpop: {},
        }),
    ],
  ])('%s with dpop is unshareable, saying why, and advertises no codec', (_name, build) => {
    const traits = mintTraitsOf(build());
    expect(traits?.codec).toBeUndefined();
    expect(traits?.unshareable).toMatch(/DPoP key pair/);
  });
});
