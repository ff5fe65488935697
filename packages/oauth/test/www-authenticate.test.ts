import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseWwwAuthenticate } from '../src/www-authenticate.js';

describe('parseWwwAuthenticate', () => {
  it('parses a Bearer challenge with quoted parameters', () => {
    expect(
      parseWwwAuthenticate(
        'Bearer realm="api", error="invalid_token", error_description="expired"',
      ),
    ).toEqual([
      {
        scheme: 'bearer',
        params: { realm: 'api', error: 'invalid_token', error_description: 'expired' },
      },
    ]);
  });

  it('parses several challenges in one header, lower-casing schemes and names', () => {
    expect(
      parseWwwAuthenticate('Bearer realm="api", DPoP ALGS="ES256 PS256", Basic realm=x'),
    ).toEqual([
      { scheme: 'bearer', params: { realm: 'api' } },
      { scheme: 'dpop', params: { algs: 'ES256 PS256' } },
      { scheme: 'basic', params: { realm: 'x' } },
    ]);
  });

  it('parses the RFC 9110 example with escapes and a comma inside a quoted string', () => {
    expect(
      parseWwwAuthenticate(
        'Newauth realm="apps", type=1, title="Login to \\"apps\\", now", Basic realm="simple"',
      ),
    ).toEqual([
      { scheme: 'newauth', params: { realm: 'apps', type: '1', title: 'Login to "apps", now' } },
      { scheme: 'basic', params: { realm: 'simple' } },
    ]);
  });

  it('parses a token68 challenge and a bare scheme', () => {
    expect(parseWwwAuthenticate('Negotiate abc123==, Bearer')).toEqual([
      { scheme: 'negotiate', params: {}, token68: 'abc123==' },
      { scheme: 'bearer', params: {} },
    ]);
  });

  it('keeps the first occurrence of a repeated parameter', () => {
    expect(parseWwwAuthenticate('Bearer error="invalid_token", error="invalid_request"')).toEqual([
      { scheme: 'bearer', params: { error: 'invalid_token' } },
    ]);
  });

  it('skips malformed parts and keeps the rest', () => {
    expect(parseWwwAuthenticate('realm="orphan", Bearer error="invalid_token", @@@, DPoP')).toEqual(
      [
        { scheme: 'bearer', params: { error: 'invalid_token' } },
        { scheme: 'dpop', params: {} },
      ],
    );
  });

  it.each([null, undefined, '', '   ', ',,,'])('returns [] for %j', (header) => {
    expect(parseWwwAuthenticate(header)).toEqual([]);
  });

  it('tolerates an unterminated quoted string', () => {
    expect(parseWwwAuthenticate('Bearer error="invalid_token')).toEqual([
      { scheme: 'bearer', params: { error: 'invalid_token' } },
    ]);
  });

  it('never throws and returns at most 32 challenges for any input', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 400 }), (header) => {
        const challenges = parseWwwAuthenticate(header);
        expect(challenges.length).toBeLessThanOrEqual(32);
        for (const challenge of challenges)
          expect(challenge.scheme).toBe(challenge.scheme.toLowerCase());
      }),
    );
    expect(parseWwwAuthenticate('A, '.repeat(100)).length).toBe(32);
  });

  it('reads back every challenge it is given, whatever the parameter values', () => {
    const token = fc.stringMatching(/^[A-Za-z][A-Za-z0-9_-]{0,10}$/);
    const value = fc.string({ maxLength: 20 });
    const challenge = fc.record({
      scheme: token,
      params: fc.dictionary(token, value, { maxKeys: 4 }),
    });
    fc.assert(
      fc.property(fc.array(challenge, { minLength: 1, maxLength: 5 }), (challenges) => {
        const header = challenges
          .map(({ scheme, params }) => {
            const list = Object.entries(params).map(
              ([name, v]) => `${name}="${v.replace(/["\\]/g, (c) => `\\${c}`)}"`,
            );
            return list.length === 0 ? scheme : `${scheme} ${list.join(', ')}`;
          })
          .join(', ');
        const parsed = parseWwwAuthenticate(header);
        expect(parsed.map((c) => c.scheme)).toEqual(challenges.map((c) => c.scheme.toLowerCase()));
        parsed.forEach((c, i) => {
          const expected: Record<string, string> = {};
          for (const [name, v] of Object.entries(challenges[i]?.params ?? {})) {
            expected[name.toLowerCase()] ??= v;
          }
          expect(c.params).toEqual(expected);
        });
      }),
    );
  });
});
