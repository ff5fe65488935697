/**
 * Regression (issue 14, section 2, "Redaction catches exact copies only"): a token endpoint
 * that echoes a secret of the request back, in any encoding and cut anywhere, never gets any
 * 8 characters of it into any rendering of the error (message, fields, cause chain,
 * `JSON.stringify`, `util.inspect`) or of a reporter event. Secrets, inputs and encodings are
 * generated (fast-check); the detector is the tests' own (`support/leaks.ts`).
 */

import { createRefreshingProvider, type Mint, type MintContext } from '@sluice/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AccessToken } from '../src/access-token.js';
import { clientCredentialsMint } from '../src/client-credentials.js';
import { refreshTokenMint } from '../src/refresh-token.js';
import { tokenExchangeMint } from '../src/token-exchange.js';
import { ENCODINGS, leaksOf, renderings } from './support/leaks.js';

const METADATA = { issuer: 'https://as.example', token_endpoint: 'https://as.example/token' };

const context = (): MintContext<AccessToken> => ({
  signal: new AbortController().signal,
  reason: 'initial',
});

/** Characters secrets are drawn from: URL, HTML and JSON specials, spaces, non-ASCII. */
const SECRET_CHARS = Array.from(
  'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~+/=%&#;:"\\\' <>?@!é€😀',
);
const secretArb = fc.string({
  unit: fc.constantFrom(...SECRET_CHARS),
  minLength: 8,
  maxLength: 40,
});
const fillerArb = fc.string({
  unit: fc.constantFrom(...Array.from('abc XYZ:,.()-')),
  maxLength: 12,
});
const encodingArb = fc.constantFrom(...Object.keys(ENCODINGS));
const placeArb = fc.constantFrom('error_description', 'error', 'error_uri', 'challenge');

/** A captured token request. */
interface Sent {
  readonly body: URLSearchParams;
  readonly headers: Headers;
}

/** A mint setup: where the generated secret goes, and how to read back what was sent. */
interface Setup {
  readonly name: string;
  mint(
    secret: string,
    fetch: (url: string, init: RequestInit) => Promise<Response>,
  ): Mint<AccessToken>;
  /** The secret as the request carried it (the assertion is made by the mint). */
  secretOf(secret: string, sent: Sent): string;
}

let signingKey: CryptoKey | undefined;
async function privateKey(): Promise<CryptoKey> {
  signingKey ??= (
    (await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, [
      'sign',
      'verify',
    ])) as CryptoKeyPair
  ).privateKey;
  return signingKey;
}

const base = { authorizationServer: METADATA, clientId: 'some-client' };
const SETUPS: readonly Setup[] = [
  {
    name: 'client secret (client_secret_post)',
    mint: (secret, fetch) =>
      clientCredentialsMint({
        ...base,
        clientAuth: { method: 'client_secret_post', clientSecret: secret },
        fetch,
      }),
    secretOf: (secret) => secret,
  },
  {
    name: 'client secret (client_secret_basic)',
    mint: (secret, fetch) =>
      clientCredentialsMint({
        ...base,
        clientAuth: { method: 'client_secret_basic', clientSecret: secret },
        fetch,
      }),
    secretOf: (secret) => secret,
  },
  {
    name: 'refresh token',
    mint: (secret, fetch) =>
      refreshTokenMint({ ...base, clientAuth: { method: 'none' }, refreshToken: secret, fetch }),
    secretOf: (secret) => secret,
  },
  {
    name: 'subject token',
    mint: (secret, fetch) =>
      tokenExchangeMint({ ...base, clientAuth: { method: 'none' }, subjectToken: secret, fetch }),
    secretOf: (secret) => secret,
  },
  {
    name: 'actor token',
    mint: (secret, fetch) =>
      tokenExchangeMint({
        ...base,
        clientAuth: { method: 'none' },
        subjectToken: 'the-subject',
        actorToken: secret,
        fetch,
      }),
    secretOf: (secret) => secret,
  },
  {
    name: 'DPoP proof',
    mint: (secret, fetch) =>
      clientCredentialsMint({
        ...base,
        clientAuth: { method: 'client_secret_post', clientSecret: `cs-${secret}` },
        dpop: true,
        fetch,
      }),
    secretOf: (_secret, sent) => sent.headers.get('dpop') ?? '',
  },
  {
    name: 'client assertion (private_key_jwt)',
    mint: (_secret, fetch) => {
      let mint: Mint<AccessToken> | undefined;
      return async (c) => {
        const ready =
          mint ??
          clientCredentialsMint({
            ...base,
            clientAuth: { method: 'private_key_jwt', privateKey: await privateKey() },
            fetch,
          });
        mint = ready;
        return ready(c);
      };
    },
    secretOf: (_secret, sent) => sent.body.get('client_assertion') ?? '',
  },
];

/** A token endpoint that echoes `echo(secretAsSent)` at `place`. */
function echoingFetch(
  setup: Setup,
  secret: string,
  place: string,
  echo: (sentSecret: string) => string,
): { fetch: (url: string, init: RequestInit) => Promise<Response>; sent: Sent[] } {
  const sent: Sent[] = [];
  const fetch = async (_url: string, init: RequestInit): Promise<Response> => {
    const request = {
      body: new URLSearchParams(String(init.body ?? '')),
      headers: new Headers(init.headers),
    };
    sent.push(request);
    const text = echo(setup.secretOf(secret, request));
    if (place === 'challenge') {
      const quoted = text.replace(/["\\]/g, '\\$&');
      return new Response('no', {
        status: 401,
        headers: {
          'content-type': 'text/plain',
          'www-authenticate': `Bearer error="invalid_client", error_description="${quoted}"`,
        },
      });
    }
    return new Response(JSON.stringify({ error: 'invalid_request', [place]: text }), {
      status: 400,
      headers: { 'content-type': 'application/json' },
    });
  };
  return { fetch, sent };
}

/** Header values must be Latin-1 without controls: such echoes only go in the body. */
const headerSafe = (text: string): boolean => /^[\x20-\x7e]*$/.test(text);

async function mintError(
  setup: Setup,
  secret: string,
  place: string,
  echo: (sentSecret: string) => string,
): Promise<{ error: unknown; sentSecret: string }> {
  const server = echoingFetch(setup, secret, place, echo);
  const minting = Promise.resolve(setup.mint(secret, server.fetch)(context()));
  const error = await minting.then(
    () => new Error('expected a rejection'),
    (e: unknown) => e,
  );
  const first = server.sent[0];
  return { error, sentSecret: first === undefined ? secret : setup.secretOf(secret, first) };
}

describe('secrets echoed by the token endpoint, in any encoding', () => {
  for (const setup of SETUPS) {
    it(`no 8 characters of the ${setup.name} survive in any rendering of the error, whatever the encoding or cut`, async () => {
      await fc.assert(
        fc.asyncProperty(
          secretArb,
          encodingArb,
          placeArb,
          fc.option(fc.integer({ min: 8, max: 60 }), { nil: undefined }),
          fillerArb,
          fillerArb,
          async (secret, encoding, place, cut, before, after) => {
            const encode = ENCODINGS[encoding] as (text: string) => string;
            const echo = (sentSecret: string): string => {
              const part = cut === undefined ? sentSecret : [...sentSecret].slice(0, cut).join('');
              return `${before}${encode(part)}${after}`;
            };
            // The error's own words (grant names, codes) may share 8 characters with a
            // generated secret by chance: such a secret proves nothing.
            const baseline = await mintError(setup, secret, place, () => 'nothing');
            fc.pre(leaksOf(renderings(baseline.error), baseline.sentSecret).length === 0);
            if (place === 'challenge') fc.pre(headerSafe(echo(baseline.sentSecret)));
            const { error, sentSecret } = await mintError(setup, secret, place, echo);
            expect((error as { code?: unknown }).code).toBe('SLUICE_OAUTH_TOKEN_ENDPOINT');
            expect(leaksOf(renderings(error), sentSecret)).toEqual([]);
          },
        ),
        { numRuns: 120 },
      );
    });
  }

  it('no 8 characters of the secret reach any reporter event of a provider either', async () => {
    const secret = 'cs-5Nq8&Zr#T2!vW%k';
    const events: unknown[] = [];
    for (const encoding of Object.keys(ENCODINGS)) {
      const encode = ENCODINGS[encoding] as (text: string) => string;
      const setup = SETUPS[0] as Setup;
      const server = echoingFetch(setup, secret, 'error_description', (s) => `bad ${encode(s)}`);
      const provider = await createRefreshingProvider<AccessToken>({
        name: 'echo',
        mint: setup.mint(secret, server.fetch) as never,
        lazy: true,
        reporter: new Proxy({}, { get: () => (event: unknown) => events.push(event) }) as never,
      });
      const error = await provider.get().then(
        () => undefined,
        (e: unknown) => e,
      );
      events.push(error);
      await provider.close();
    }
    expect(events.length).toBeGreaterThan(Object.keys(ENCODINGS).length);
    expect(leaksOf(renderings(events), secret)).toEqual([]);
  });
});
