import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decideUnauthorized, type UnauthorizedInput } from '../src/unauthorized.js';

const bearer = (wwwAuthenticate: string | null, status = 401): UnauthorizedInput => ({
  status,
  wwwAuthenticate,
  scheme: 'bearer',
  nonceOffered: false,
});
const dpop = (wwwAuthenticate: string | null, nonceOffered = true): UnauthorizedInput => ({
  status: 401,
  wwwAuthenticate,
  scheme: 'dpop',
  nonceOffered,
});

describe('decideUnauthorized', () => {
  it.each([
    ['401 Bearer error="invalid_token"', bearer('Bearer error="invalid_token"'), 'renew'],
    ['401 Bearer without an error parameter', bearer('Bearer realm="api"'), 'renew'],
    ['401 without WWW-Authenticate', bearer(null), 'renew'],
    ['401 with an unparseable WWW-Authenticate', bearer('@@@'), 'renew'],
    ['401 Bearer error="invalid_request"', bearer('Bearer error="invalid_request"'), 'keep'],
    ['401 Bearer error="insufficient_scope"', bearer('Bearer error="insufficient_scope"'), 'keep'],
    [
      '403 Bearer error="insufficient_scope"',
      bearer('Bearer error="insufficient_scope"', 403),
      'keep',
    ],
    ['403 Bearer error="invalid_token"', bearer('Bearer error="invalid_token"', 403), 'keep'],
    ['500', bearer(null, 500), 'keep'],
    ['200', bearer('Bearer error="invalid_token"', 200), 'keep'],
    ['a Bearer token told to use a DPoP nonce', bearer('DPoP error="use_dpop_nonce"'), 'keep'],
    ['DPoP error="use_dpop_nonce" with a nonce', dpop('DPoP error="use_dpop_nonce"'), 'nonce'],
    [
      'DPoP error="use_dpop_nonce" without a nonce',
      dpop('DPoP error="use_dpop_nonce"', false),
      'keep',
    ],
    ['DPoP error="invalid_token"', dpop('DPoP error="invalid_token"'), 'renew'],
    ['DPoP without an error', dpop('DPoP algs="ES256"'), 'renew'],
    ['DPoP error="invalid_dpop_proof"', dpop('DPoP error="invalid_dpop_proof"'), 'keep'],
    [
      'the own scheme speaks over another challenge',
      dpop('Bearer error="invalid_request", DPoP error="invalid_token"'),
      'renew',
    ],
    [
      'another challenge speaks when the own one has no error',
      bearer('Bearer realm="api", DPoP error="invalid_request"'),
      'keep',
    ],
  ] as const)('%s: %s', (_label, input, expected) => {
    expect(decideUnauthorized(input)).toBe(expected);
  });

  it('acts on nothing but a 401', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 100, max: 599 }).filter((status) => status !== 401),
        fc.option(fc.string(), { nil: null }),
        fc.constantFrom('bearer' as const, 'dpop' as const),
        fc.boolean(),
        (status, wwwAuthenticate, scheme, nonceOffered) => {
          expect(decideUnauthorized({ status, wwwAuthenticate, scheme, nonceOffered })).toBe(
            'keep',
          );
        },
      ),
    );
  });

  it('never asks a Bearer token for a nonce resend', () => {
    fc.assert(
      fc.property(
        fc.option(fc.string(), { nil: null }),
        fc.boolean(),
        (wwwAuthenticate, nonceOffered) => {
          expect(
            decideUnauthorized({ status: 401, wwwAuthenticate, scheme: 'bearer', nonceOffered }),
          ).not.toBe('nonce');
        },
      ),
    );
  });
});
