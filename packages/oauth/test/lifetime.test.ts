import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeJwtTimes, tokenExpiresAt } from '../src/lifetime.js';
import { fakeJwt } from './support/jwt.js';

const NOW = 1_700_000_000_000;
const OPAQUE = 'opaque-token-value';
const base = { accessToken: OPAQUE, fallbackLifetimeSeconds: undefined, skewSeconds: 0, now: NOW };

describe('tokenExpiresAt', () => {
  it('uses expires_in when the answer has it, even for a JWT with exp', () => {
    const accessToken = fakeJwt({ exp: NOW / 1000 + 10_000, iat: NOW / 1000 });
    expect(tokenExpiresAt({ ...base, accessToken, expiresInSeconds: 300 })).toEqual({
      expiresAt: NOW + 300_000,
      source: 'expires_in',
    });
  });

  it('reads the JWT exp claim without expires_in', () => {
    const accessToken = fakeJwt({ exp: NOW / 1000 + 600 });
    expect(tokenExpiresAt({ ...base, accessToken, expiresInSeconds: undefined })).toEqual({
      expiresAt: NOW + 600_000,
      source: 'jwt-exp',
    });
  });

  it('takes exp - iat from now when the issuer clock runs ahead of ours', () => {
    // Issued "now" on an issuer clock 120 s ahead: exp is 120 s later than our view of it.
    const accessToken = fakeJwt({ iat: NOW / 1000 + 120, exp: NOW / 1000 + 120 + 300 });
    expect(tokenExpiresAt({ ...base, accessToken, expiresInSeconds: undefined }).expiresAt).toBe(
      NOW + 300_000,
    );
  });

  it('keeps exp when the token was issued earlier (a cached token handed out again)', () => {
    const accessToken = fakeJwt({ iat: NOW / 1000 - 200, exp: NOW / 1000 + 100 });
    expect(tokenExpiresAt({ ...base, accessToken, expiresInSeconds: undefined }).expiresAt).toBe(
      NOW + 100_000,
    );
  });

  it('returns an exp already in the past unchanged, for the provider to reject', () => {
    const accessToken = fakeJwt({ exp: NOW / 1000 - 5 });
    expect(
      tokenExpiresAt({ ...base, accessToken, skewSeconds: 30, expiresInSeconds: undefined }),
    ).toEqual({
      expiresAt: NOW - 5_000,
      source: 'jwt-exp',
    });
  });

  it('falls back to fallbackLifetimeSeconds for an opaque token without expires_in', () => {
    expect(
      tokenExpiresAt({ ...base, fallbackLifetimeSeconds: 900, expiresInSeconds: undefined }),
    ).toEqual({ expiresAt: NOW + 900_000, source: 'fallback' });
  });

  it('gives no expiry when nothing says how long the token lives', () => {
    expect(tokenExpiresAt({ ...base, expiresInSeconds: undefined })).toEqual({
      expiresAt: undefined,
      source: 'none',
    });
  });

  it('pulls the expiry earlier by skewSeconds', () => {
    expect(tokenExpiresAt({ ...base, skewSeconds: 30, expiresInSeconds: 300 }).expiresAt).toBe(
      NOW + 270_000,
    );
  });

  it('never takes more than half the lifetime off for skew', () => {
    expect(tokenExpiresAt({ ...base, skewSeconds: 60, expiresInSeconds: 20 }).expiresAt).toBe(
      NOW + 10_000,
    );
  });

  it('treats a lifetime too large for a number as no expiry', () => {
    expect(tokenExpiresAt({ ...base, expiresInSeconds: 1e308 })).toEqual({
      expiresAt: undefined,
      source: 'expires_in',
    });
  });

  it('never expires later than the lifetime the answer gave, nor earlier than half of it', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 10_000_000 }),
        fc.double({ min: 0, max: 1e6, noNaN: true }),
        (expiresIn, skew) => {
          const { expiresAt } = tokenExpiresAt({
            ...base,
            skewSeconds: skew,
            expiresInSeconds: expiresIn,
          });
          expect(expiresAt).toBeLessThanOrEqual(NOW + expiresIn * 1000);
          expect(expiresAt).toBeGreaterThanOrEqual(NOW + (expiresIn * 1000) / 2);
        },
      ),
    );
  });

  it('never schedules a JWT later than its exp, whatever iat says', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1_000_000 }),
        fc.option(fc.integer({ min: -1_000_000, max: 1_000_000 }), { nil: undefined }),
        (lifetime, iatOffset) => {
          const exp = NOW / 1000 + lifetime;
          const claims = iatOffset === undefined ? { exp } : { exp, iat: NOW / 1000 + iatOffset };
          const { expiresAt, source } = tokenExpiresAt({
            ...base,
            accessToken: fakeJwt(claims),
            expiresInSeconds: undefined,
          });
          expect(source).toBe('jwt-exp');
          expect(expiresAt).toBeLessThanOrEqual(exp * 1000);
        },
      ),
    );
  });
});

describe('decodeJwtTimes', () => {
  it('reads exp and iat from a compact JWS', () => {
    expect(decodeJwtTimes(fakeJwt({ exp: 2_000_000_000, iat: 1_999_999_000 }))).toEqual({
      exp: 2_000_000_000,
      iat: 1_999_999_000,
    });
  });

  it.each([
    ['an opaque token', 'abc.def'],
    ['a JWE (five parts)', 'a.b.c.d.e'],
    ['a payload that is not base64url', 'eyJ.@@@.sig'],
    ['a payload that is not JSON', `h.${Buffer.from('not json').toString('base64url')}.s`],
    ['a JSON array payload', `h.${Buffer.from('[1]').toString('base64url')}.s`],
    ['an exp that is a string', fakeJwt({ exp: '2000000000' })],
    ['an exp that is not finite', `h.${Buffer.from('{"exp":1e999}').toString('base64url')}.s`],
    ['no exp', fakeJwt({ iat: 1 })],
    ['an empty payload', 'h..s'],
    ['invalid UTF-8', `h.${Buffer.from([0xff, 0xfe, 0x7b]).toString('base64url')}.s`],
  ])('returns undefined for %s', (_label, token) => {
    expect(decodeJwtTimes(token)).toBeUndefined();
  });

  it('never throws on arbitrary strings', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), fc.string(), (a, b, c) => {
        decodeJwtTimes(`${a}.${b}.${c}`);
        decodeJwtTimes(a);
      }),
    );
  });
});
