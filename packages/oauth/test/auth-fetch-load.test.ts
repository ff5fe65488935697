/**
 * createAuthFetch under load, against the real oidc-provider and resource server: a thousand
 * concurrent callers share one mint, late 401s for a replaced token cost nothing, and a
 * resource server that refuses every token cannot make the provider mint per request (core's
 * invalidation guard, `minRefreshIntervalMs`).
 *
 * Set SLUICE_OAUTH_FIGURES=1 to print the always-401 figures.
 */

import {
  createRefreshingProvider,
  type MintReason,
  type RefreshingProvider,
  type RefreshingProviderOptions,
} from '@sluice/core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { AccessToken } from '../src/access-token.js';
import { type AuthFetchOptions, createAuthFetch, type FetchFunction } from '../src/auth-fetch.js';
import { clientCredentialsMint } from '../src/client-credentials.js';
import {
  API,
  type AuthorizationServer,
  startAuthorizationServer,
} from './support/authorization-server.js';
import { boundedFetch, gatedFetch, until } from './support/fetch-tools.js';
import { type ResourceServer, refuse, startResourceServer } from './support/resource-server.js';

const CONCURRENCY = 64;
let as: AuthorizationServer;
let rs: ResourceServer;
const providers: RefreshingProvider<AccessToken>[] = [];

beforeAll(async () => {
  as = await startAuthorizationServer({ accessTokenTtlSeconds: 300 });
  rs = await startResourceServer(as.issuer, API);
});

afterAll(async () => {
  await Promise.all([rs?.close(), as?.close()]);
});

afterEach(() => {
  for (const provider of providers.splice(0)) provider.close();
  rs.behave(undefined);
  rs.requests.length = 0;
});

async function tokens(
  options: Partial<RefreshingProviderOptions<AccessToken>> & { now?: () => number } = {},
): Promise<{
  provider: RefreshingProvider<AccessToken>;
  mints: MintReason[];
  refusals: () => number;
}> {
  const mints: MintReason[] = [];
  let refusals = 0;
  const provider = await createRefreshingProvider<AccessToken>({
    name: 'load',
    mint: clientCredentialsMint({
      issuer: as.issuer,
      clientId: as.basic.clientId,
      clientAuth: { method: 'client_secret_basic', clientSecret: as.basic.clientSecret },
      resource: API,
      allowInsecureRequests: true,
      ...(options.now === undefined ? {} : { now: options.now }),
    }),
    reporter: {
      onRefreshStart: (event) => mints.push(event.reason),
      onInvalidateRefused: () => {
        refusals += 1;
      },
    },
    ...options,
  });
  providers.push(provider);
  return { provider, mints, refusals: () => refusals };
}

const authFetch = (
  provider: RefreshingProvider<AccessToken>,
  fetch: FetchFunction,
  extra: AuthFetchOptions = {},
) => createAuthFetch(provider, { allowInsecureRequests: true, fetch, ...extra });

describe('createAuthFetch under load', () => {
  it('1,000 concurrent requests with an expired token cause one mint', async () => {
    let now = Date.now();
    const { provider, mints } = await tokens({ now: () => now });
    const issued = as.issued(as.basic.clientId);
    now += 301_000; // past the 300 s token's expiry on the provider's clock
    expect(provider.peek()).toBeUndefined();
    const api = authFetch(provider, boundedFetch(CONCURRENCY));
    const answers = await Promise.all(
      Array.from({ length: 1_000 }, (_, i) => api(`${rs.url}/item/${i}`)),
    );
    expect(answers.every((response) => response.status === 200)).toBe(true);
    expect(mints).toEqual(['initial', 'expired']);
    expect(as.issued(as.basic.clientId) - issued).toBe(1);
    expect(new Set(rs.requests.map((r) => r.token)).size).toBe(1);
  });

  it('a 401 burst of 1,000 for an already replaced token causes zero mints', async () => {
    const { provider, mints } = await tokens();
    const replaced = await provider.get();
    rs.revoke(replaced.token);
    const gate = gatedFetch(boundedFetch(CONCURRENCY));
    const api = authFetch(provider, gate.fetch);
    const calls = Array.from({ length: 1_000 }, (_, i) => api(`${rs.url}/item/${i}`));
    await until(() => gate.held() === 1_000); // every 401 for `replaced` is in flight
    await provider.refresh(); // the token is replaced meanwhile (one forced mint)
    const before = mints.length;
    gate.release();
    const answers = await Promise.all(calls);
    expect(mints.length - before).toBe(0);
    expect(mints).toEqual(['initial', 'forced']);
    expect(answers.every((response) => response.status === 200)).toBe(true); // each retried once
    expect(rs.requests).toHaveLength(2_000);
    expect(rs.requests.filter((r) => r.token === replaced.token)).toHaveLength(1_000);
  });

  it('1,000 concurrent 401s for the current token cause exactly one mint', async () => {
    const { provider, mints } = await tokens();
    rs.revoke((await provider.get()).token);
    const api = authFetch(provider, boundedFetch(CONCURRENCY));
    const answers = await Promise.all(
      Array.from({ length: 1_000 }, (_, i) => api(`${rs.url}/item/${i}`)),
    );
    expect(answers.every((response) => response.status === 200)).toBe(true);
    expect(mints).toEqual(['initial', 'invalidated']);
  });

  it('always-401 guard: 10,000 requests against a server that refuses every token cause a bounded number of mints', async () => {
    // The provider's clock moves 1 ms per request sent: 10,000 requests span 10 s of its time.
    let now = Date.now();
    const started = now;
    const { provider, mints, refusals } = await tokens({
      now: () => now,
      minRefreshIntervalMs: 5_000,
    });
    rs.behave(() => refuse('Bearer', 'invalid_token'));
    const bounded = boundedFetch(CONCURRENCY);
    const api = authFetch(provider, (input, init) => {
      now += 1;
      return bounded(input, init);
    });
    const wallStart = performance.now();
    const statuses = new Map<number, number>();
    for (let wave = 0; wave < 100; wave += 1) {
      const answers = await Promise.all(
        Array.from({ length: 100 }, () => api(`${rs.url}/always-401`)),
      );
      for (const { status } of answers) statuses.set(status, (statuses.get(status) ?? 0) + 1);
    }
    const wallMs = performance.now() - wallStart;
    const spanMs = now - started;
    // One initial mint, one for the first refusal, then at most one per guard interval.
    const bound = 2 + Math.ceil(spanMs / 5_000);
    if (process.env.SLUICE_OAUTH_FIGURES === '1') {
      console.log(
        `always-401: 10,000 calls, ${rs.requests.length} requests, ${mints.length} mints (${mints.join(', ')}), bound ${bound}, ${refusals()} refused invalidations, provider-clock span ${spanMs} ms, wall ${wallMs.toFixed(0)} ms`,
      );
    }
    expect(statuses).toEqual(new Map([[401, 10_000]]));
    expect(mints.length).toBeLessThanOrEqual(bound);
    expect(mints.filter((reason) => reason === 'invalidated').length).toBeGreaterThanOrEqual(2);
    // Retries happen only after a mint: the callers of that wave whose 401 came for the
    // token just replaced retry once with the new one.
    expect(rs.requests.length).toBeLessThanOrEqual(10_000 + (mints.length - 1) * 100);
    expect(refusals()).toBeGreaterThan(9_000);
  }, 180_000);

  it('always-401 without the guard (minRefreshIntervalMs: 0): every request mints, which the guard prevents', async () => {
    const { provider, mints } = await tokens({ minRefreshIntervalMs: 0 });
    rs.behave(() => refuse('Bearer', 'invalid_token'));
    const api = authFetch(provider, boundedFetch(CONCURRENCY));
    for (let i = 0; i < 200; i += 1) await api(`${rs.url}/always-401`);
    expect(mints.length).toBeGreaterThanOrEqual(200);
  });
});
