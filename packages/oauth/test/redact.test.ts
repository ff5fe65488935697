import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { REDACTED, redactText, secretsOfRequest } from '../src/redact.js';
import { fakeJwt } from './support/jwt.js';
import { ENCODINGS, leaksOf } from './support/leaks.js';

describe('redactText', () => {
  it('replaces a secret as sent, URL-encoded and form-encoded', () => {
    const secret = 'p@ss word/+=';
    const text = `raw ${secret} url ${encodeURIComponent(secret)} form ${new URLSearchParams({ s: secret }).toString().slice(2)}`;
    const out = redactText(text, [secret]);
    expect(out).toBe(`raw ${REDACTED} url ${REDACTED} form ${REDACTED}`);
  });

  it('replaces anything shaped like a JWT, even when it was not sent', () => {
    expect(redactText(`bad assertion ${fakeJwt({ sub: 'x' })} here`, [])).toBe(
      `bad assertion ${REDACTED} here`,
    );
  });

  it('cuts the text to the limit after redaction and drops control characters', () => {
    expect(redactText(`a\nb\u0000c${'x'.repeat(300)}`, [], 20)).toBe(`a b c${'x'.repeat(14)}…`);
  });

  it('never leaves a secret of 4+ characters in the output', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 4, maxLength: 30 }),
        fc.string({ maxLength: 40 }),
        fc.string({ maxLength: 40 }),
        (secret, before, after) => {
          const out = redactText(`${before}${secret}${after}`, [secret], 10_000);
          expect(out.includes(secret)).toBe(false);
        },
      ),
    );
  });
});

describe('redactText in any encoding (issue 14: redaction caught exact copies only)', () => {
  const secret = 'rt_9f&Kq#2 z%Lw+é€x';

  for (const [name, encode] of Object.entries(ENCODINGS)) {
    it(`drops a description echoing the secret ${name}, whole or cut to its first 8+ characters`, () => {
      for (const cut of [undefined, 8, 11]) {
        const part = cut === undefined ? secret : [...secret].slice(0, cut).join('');
        const out = redactText(`invalid grant: ${encode(part)} (see docs)`, [secret]);
        expect(leaksOf([out], secret)).toEqual([]);
      }
    });
  }

  it('drops a description whose echo, cut by the server, is cut again by the length limit', () => {
    const text = `${'x'.repeat(190)} ${secret.slice(0, 12)}`;
    expect(redactText(text, [secret], 200)).toBe(REDACTED);
  });

  it('keeps an ordinary description (bounded, control and bidi characters stripped)', () => {
    expect(redactText('The refresh token\u202e has expired\r\nX-Injected: 1', [secret], 200)).toBe(
      'The refresh token  has expired X-Injected: 1',
    );
  });

  it('drops a description holding a secret shorter than 8 characters, whole', () => {
    expect(redactText('client secret s3cr%33t is wrong', ['s3cr3t'])).toBe(REDACTED);
  });
});

describe('secretsOfRequest', () => {
  it('collects secret form parameters, the Authorization header and the DPoP proof', () => {
    const body = new URLSearchParams({
      grant_type: 'refresh_token',
      refresh_token: 'rt-secret',
      client_secret: 'cs-secret',
      client_id: 'public-id',
    });
    const basic = `Basic ${btoa(`my-client:${encodeURIComponent('s3cr:et')}`)}`;
    const secrets = secretsOfRequest(body, { Authorization: basic, dpop: 'proof-jwt' });
    expect(secrets).toEqual(
      expect.arrayContaining(['rt-secret', 'cs-secret', basic, 's3cr:et', 'proof-jwt']),
    );
    expect(secrets).not.toContain('public-id');
    expect(secrets).not.toContain('my-client');
  });

  it('never throws on odd input', () => {
    expect(secretsOfRequest(undefined, null)).toEqual([]);
    expect(secretsOfRequest('x', { authorization: 'Basic !!!not-base64' })).toEqual([
      'Basic !!!not-base64',
      '!!!not-base64',
    ]);
  });
});
