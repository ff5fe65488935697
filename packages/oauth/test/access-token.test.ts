import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { AccessToken, presentableToken } from '../src/access-token.js';

const SECRET = 'eyJhbGciOiJFUzI1NiJ9.secret-payload.signature';

describe('AccessToken', () => {
  const token = new AccessToken({
    token: SECRET,
    tokenType: 'bearer',
    scope: 'api:read',
    expiresAt: 42,
  });

  it('gives the token only through .token', () => {
    expect(token.token).toBe(SECRET);
    expect(Object.keys(token)).not.toContain('token');
  });

  it('never prints the token: JSON, String, template strings, util.inspect', () => {
    for (const shown of [
      JSON.stringify(token),
      String(token),
      `${token}`,
      inspect(token),
      inspect({ nested: token }),
    ]) {
      expect(shown).not.toContain(SECRET);
      expect(shown).not.toContain('secret-payload');
    }
    expect(JSON.parse(JSON.stringify(token))).toEqual({
      token: '[redacted]',
      tokenType: 'Bearer',
      scope: 'api:read',
      expiresAt: 42,
    });
  });

  it('spells the known token types the RFC way', () => {
    expect(new AccessToken({ token: 'x', tokenType: 'dpop' }).tokenType).toBe('DPoP');
    expect(new AccessToken({ token: 'x', tokenType: 'n_a' }).tokenType).toBe('N_A');
    expect(new AccessToken({ token: 'x', tokenType: 'MAC' }).tokenType).toBe('MAC');
  });

  it('is frozen', () => {
    expect(Object.isFrozen(token)).toBe(true);
  });
});

describe('presentableToken', () => {
  it('presents a string as a Bearer token and an AccessToken by its type', () => {
    expect(presentableToken('abc')).toEqual({ token: 'abc', scheme: 'bearer', dpop: undefined });
    expect(presentableToken(new AccessToken({ token: 'abc', tokenType: 'Bearer' }))).toMatchObject({
      scheme: 'bearer',
    });
    const handle = {};
    expect(presentableToken({ token: 'abc', tokenType: 'DPoP', dpop: handle })).toEqual({
      token: 'abc',
      scheme: 'dpop',
      dpop: handle,
    });
  });

  it.each([
    ['', 'an empty string'],
    [42, 'a number'],
    [null, 'null'],
    [undefined, 'undefined'],
    [{}, 'an object without a string `token`'],
    [{ token: 'abc', tokenType: 'DPoP' }, 'a DPoP token without its `dpop` key handle'],
  ])('describes %j by its shape only', (value, shape) => {
    expect(presentableToken(value)).toBe(shape);
  });
});
