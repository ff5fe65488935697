/**
 * A model-based test of createAuthFetch's shell: any sequence of answers (every status and
 * WWW-Authenticate variant, arbitrary headers, with and without nonces), any body kind,
 * Bearer and DPoP tokens, the invalidation guard on or off, an issuer that hands the same
 * token back, and providers that throw. The shell must follow `decideUnauthorized` step by
 * step and never break its bounds. No network: a fake `fetch` answers.
 */

import { createRefreshingProvider, type RefreshingProvider } from '@sluice/core';
import fc from 'fast-check';
import * as oauth from 'oauth4webapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AccessToken } from '../src/access-token.js';
import { createAuthFetch } from '../src/auth-fetch.js';
import { isReplayableBody } from '../src/request-body.js';
import { decideUnauthorized } from '../src/unauthorized.js';

const RUNS = Number(process.env.SLUICE_MODEL_RUNS ?? 500);
const URL_ = 'https://api.example.test/resource';
let keyPair: CryptoKeyPair;
const providers: RefreshingProvider<unknown>[] = [];

beforeAll(async () => {
  keyPair = await oauth.generateKeyPair('ES256');
});

afterAll(() => {
  for (const provider of providers) provider.close();
});

interface Answer {
  status: number;
  challenge: string | null;
  nonce: boolean;
}

const answer: fc.Arbitrary<Answer> = fc.record({
  status: fc.oneof(
    { weight: 5, arbitrary: fc.constant(401) },
    { weight: 3, arbitrary: fc.constantFrom(200, 204, 403, 404, 500, 503) },
  ),
  challenge: fc.option(
    fc.oneof(
      {
        weight: 6,
        arbitrary: fc.constantFrom(
          'Bearer error="invalid_token"',
          'Bearer realm="api"',
          'Bearer error="invalid_request"',
          'Bearer error="insufficient_scope", scope="admin"',
          'DPoP error="use_dpop_nonce"',
          'DPoP error="invalid_token"',
          'DPoP algs="ES256"',
          'Bearer realm="api", DPoP error="use_dpop_nonce"',
          'Basic realm="x"',
        ),
      },
      { weight: 1, arbitrary: fc.string({ maxLength: 40 }) },
    ),
    { nil: null, freq: 6 },
  ),
  nonce: fc.boolean(),
});

type BodyKind = 'none' | 'string' | 'params' | 'buffer' | 'bytes' | 'blob' | 'form' | 'stream';
const bodyOf = (kind: BodyKind): BodyInit | undefined => {
  switch (kind) {
    case 'none':
      return undefined;
    case 'string':
      return 'text';
    case 'params':
      return new URLSearchParams({ a: '1' });
    case 'buffer':
      return new ArrayBuffer(3);
    case 'bytes':
      return new Uint8Array([1, 2, 3]);
    case 'blob':
      return new Blob(['blob']);
    case 'form': {
      const form = new FormData();
      form.set('f', 'v');
      return form;
    }
    case 'stream':
      return new ReadableStream({
        start(controller) {
          controller.enqueue(new Uint8Array([1]));
          controller.close();
        },
      });
  }
};

interface Sent {
  token: string;
  scheme: string;
  hasProof: boolean;
}

describe('createAuthFetch (model)', () => {
  it('follows decideUnauthorized step by step, within its bounds, for any answers', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(answer, { minLength: 1, maxLength: 4 }),
        fc.constantFrom<'bearer' | 'dpop' | 'string'>('bearer', 'dpop', 'dpop', 'string'),
        fc.constantFrom<BodyKind>(
          'none',
          'string',
          'params',
          'buffer',
          'bytes',
          'blob',
          'form',
          'stream',
        ),
        fc.constantFrom(0, 5_000),
        fc.boolean(),
        async (answers, kind, bodyKind, guardMs, reissueSameToken) => {
          let minted = 0;
          const invalidated: unknown[] = [];
          const dpop = kind === 'dpop' ? oauth.DPoP({}, keyPair) : undefined;
          const provider = await createRefreshingProvider<AccessToken | string>({
            now: () => 1_800_000_000_000,
            minRefreshIntervalMs: guardMs,
            mint: () => {
              minted += 1;
              const token = reissueSameToken ? 'same-token' : `token-${minted}`;
              if (kind === 'string') return { value: token };
              return {
                value: new AccessToken({
                  token,
                  tokenType: kind === 'dpop' ? 'DPoP' : 'Bearer',
                  dpop,
                }),
              };
            },
          });
          providers.push(provider as RefreshingProvider<unknown>);
          const sent: Sent[] = [];
          const returned: Response[] = [];
          const api = createAuthFetch(
            {
              get: (options) => provider.get(options),
              invalidate: (value: AccessToken | string) => {
                invalidated.push(value);
                return provider.invalidate(value);
              },
            },
            {
              fetch: async (_input, init) => {
                const headers = new Headers(init?.headers);
                const authorization = headers.get('authorization') ?? '';
                sent.push({
                  token: authorization.replace(/^\S+ /, ''),
                  scheme: authorization.split(' ')[0]?.toLowerCase() ?? '',
                  hasProof: headers.has('dpop'),
                });
                // Read the body as fetch would: a stream cannot be read twice.
                if (init?.body !== undefined && init.body !== null)
                  await new Response(init.body).arrayBuffer();
                const next = answers[Math.min(sent.length - 1, answers.length - 1)] as Answer;
                const responseHeaders = new Headers({ 'x-seq': String(sent.length) });
                if (next.challenge !== null)
                  responseHeaders.set('www-authenticate', next.challenge);
                if (next.nonce) responseHeaders.set('dpop-nonce', `n-${sent.length}`);
                const response = new Response(next.status === 204 ? null : 'body', {
                  status: next.status,
                  headers: responseHeaders,
                });
                returned.push(response);
                return response;
              },
            },
          );
          const body = bodyOf(bodyKind);
          const init: RequestInit = { method: 'POST' };
          if (body !== undefined) {
            init.body = body;
            if (bodyKind === 'stream') (init as { duplex?: string }).duplex = 'half';
          }
          const replayable = isReplayableBody(body);
          const first = await provider.get();
          const scheme = kind === 'dpop' ? 'dpop' : 'bearer';

          const result = await api(URL_, init);

          // Bounds.
          expect(sent.length).toBeGreaterThanOrEqual(1);
          expect(sent.length).toBeLessThanOrEqual(3);
          if (!replayable) expect(sent.length).toBe(1);
          expect(result).toBe(returned.at(-1));
          expect(minted).toBeLessThanOrEqual(2);
          // Presentation.
          expect(sent[0]?.token).toBe(typeof first === 'string' ? first : first.token);
          for (const request of sent) {
            expect(request.scheme).toBe(scheme);
            expect(request.hasProof).toBe(scheme === 'dpop');
          }
          // Every step is the pure decision's.
          let resends = 0;
          let renewals = 0;
          for (let i = 0; i + 1 < sent.length; i += 1) {
            const previous = answers[Math.min(i, answers.length - 1)] as Answer;
            const action = decideUnauthorized({
              status: previous.status,
              wwwAuthenticate: previous.challenge,
              scheme,
              nonceOffered: previous.nonce,
            });
            if (sent[i + 1]?.token === sent[i]?.token) {
              expect(action).toBe('nonce');
              resends += 1;
            } else {
              expect(action).toBe('renew');
              renewals += 1;
            }
          }
          expect(resends).toBeLessThanOrEqual(1);
          expect(renewals).toBeLessThanOrEqual(1);
          // The last answer ends the call: it is kept, or a budget is spent, or no new token.
          const last = answers[Math.min(sent.length - 1, answers.length - 1)] as Answer;
          const lastAction = decideUnauthorized({
            status: last.status,
            wwwAuthenticate: last.challenge,
            scheme,
            nonceOffered: last.nonce,
          });
          if (lastAction === 'renew') {
            // Whatever happened next, the refused token was offered to invalidate().
            expect(invalidated.length).toBeGreaterThanOrEqual(1);
          }
          if (lastAction === 'keep') expect(invalidated.length).toBe(renewals);
          // invalidate() only ever receives a value the provider served.
          for (const value of invalidated) {
            const token = typeof value === 'string' ? value : (value as AccessToken).token;
            expect(sent.some((request) => request.token === token)).toBe(true);
          }
        },
      ),
      { numRuns: RUNS },
    );
  }, 120_000);

  it('passes any error of a hostile provider through unchanged and sends nothing', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('throws', 'rejects', 'thenable-rejects', 'serves-number', 'serves-empty'),
        async (behaviour) => {
          const failure = new Error(`provider ${behaviour}`);
          let sent = 0;
          const get = (): Promise<AccessToken | string> => {
            switch (behaviour) {
              case 'throws':
                throw failure;
              case 'rejects':
                return Promise.reject(failure);
              case 'thenable-rejects':
                return {
                  // biome-ignore lint/suspicious/noThenProperty: a hostile thenable is the input
                  then: (_ok: unknown, fail: (e: unknown) => void) => fail(failure),
                } as never;
              case 'serves-number':
                return Promise.resolve(7 as never);
              default:
                return Promise.resolve('');
            }
          };
          const api = createAuthFetch(
            { get, invalidate: () => false },
            {
              fetch: async () => {
                sent += 1;
                return new Response('x');
              },
            },
          );
          const error = await api(URL_).then(
            () => undefined,
            (caught: unknown) => caught,
          );
          if (behaviour.startsWith('serves')) {
            expect(error).toMatchObject({ code: 'SLUICE_OAUTH_UNSUPPORTED_TOKEN' });
          } else {
            expect(error).toBe(failure);
          }
          expect(sent).toBe(0);
        },
      ),
    );
  });
});
