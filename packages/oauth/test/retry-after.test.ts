/**
 * Regression (issue 14, section 2, "Retry-After is ignored"), end to end: a token endpoint on
 * loopback answers 429 with `Retry-After: 120`; the mint's `TokenEndpointError.retryAfterMs`
 * carries it and core's breaker honours it: one upstream request, then none until the
 * server's time, callers told that time. The clock is injected (both the mint's and the
 * provider's), so no time passes for real.
 *
 * Needs core's retry-hint breaker (branch wt-core, merged into wt-oauth): before it, the
 * provider made 5 token requests and then said `BreakerOpenError.retryAfterMs = 60000`.
 */

import { createRefreshingProvider, isSluiceError, type RefreshingProvider } from '@sluice/core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { AccessToken } from '../src/access-token.js';
import { clientCredentialsMint } from '../src/client-credentials.js';
import { json, startTokenEndpoint, type TokenEndpointServer } from './support/token-endpoint.js';

let server: TokenEndpointServer;
const providers: RefreshingProvider<AccessToken>[] = [];

beforeAll(async () => {
  server = await startTokenEndpoint();
});

afterAll(async () => {
  await server?.close();
});

afterEach(() => {
  for (const provider of providers.splice(0)) provider.close();
  server.requests.length = 0;
});

async function refusal(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: unknown) => error,
  );
}

describe('Retry-After through the breaker', () => {
  it.each([429, 503])(
    'a %i with Retry-After: 120 costs one token request, then none until the server’s time, and callers are told that time',
    async (status) => {
      let clock = 1_800_000_000_000;
      const now = (): number => clock;
      let limited = true;
      server.script(() =>
        limited
          ? json(status, { error: 'slow_down' }, { 'retry-after': '120' })
          : json(200, { access_token: 'fresh', token_type: 'Bearer', expires_in: 3600 }),
      );
      const provider = await createRefreshingProvider<AccessToken>({
        name: 'limited',
        lazy: true,
        now,
        mint: clientCredentialsMint({
          authorizationServer: server.metadata,
          clientId: 'svc',
          clientAuth: { method: 'client_secret_post', clientSecret: 'cs-0123456789' },
          allowInsecureRequests: true,
          now,
        }),
      });
      providers.push(provider);

      const first = await refusal(provider.get());
      expect(first).toMatchObject({ code: 'SLUICE_OAUTH_TOKEN_ENDPOINT', retryAfterMs: 120_000 });
      expect(server.requests).toHaveLength(1);

      for (let i = 0; i < 5; i += 1) {
        const error = await refusal(provider.get());
        expect(isSluiceError(error, 'SLUICE_BREAKER_OPEN')).toBe(true);
        expect((error as { retryAfterMs: number }).retryAfterMs).toBe(120_000);
      }
      clock += 119_000;
      const late = await refusal(provider.get());
      expect((late as { retryAfterMs: number }).retryAfterMs).toBe(1_000);
      expect(server.requests).toHaveLength(1);

      clock += 1_000;
      limited = false;
      await expect(provider.get()).resolves.toMatchObject({ token: 'fresh' });
      expect(server.requests).toHaveLength(2);
    },
  );
});
