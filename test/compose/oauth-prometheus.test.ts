/**
 * @sluice/oauth reported by @sluice/prometheus: a client-credentials provider against a real
 * oidc-provider, a resource server that validates its tokens, a prom-client registry, and
 * `promtool check metrics` on every scrape. Time, where it is not the behaviour, is an
 * injected clock shared by the provider and the mint.
 */

import { BreakerOpenError, createRefreshingProvider, type MintReason } from '@sluice/core';
import { type AccessToken, clientCredentialsMint, createAuthFetch } from '@sluice/oauth';
import { createPrometheusReporter } from '@sluice/prometheus';
import { Registry } from 'prom-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  API,
  type AuthorizationServer,
  startAuthorizationServer,
} from '../../packages/oauth/test/support/authorization-server.js';
import {
  type ResourceServer,
  startResourceServer,
} from '../../packages/oauth/test/support/resource-server.js';
import { checkMetrics } from '../support/promtool.js';
import { binariesAvailable } from './support/binaries.js';
import { jwtSignature, SecretSentinel } from './support/sentinel.js';

let as: AuthorizationServer;
let rs: ResourceServer;
const closers: Array<() => unknown> = [];

const TTL_SECONDS = 300;

function samples(text: string, metric: RegExp): Array<{ line: string; value: number }> {
  return text
    .split('\n')
    .filter((line) => metric.test(line))
    .map((line) => ({ line, value: Number(line.slice(line.lastIndexOf(' ') + 1)) }));
}

describe.skipIf(!binariesAvailable({ promtool: true }))('oauth x prometheus', () => {
  beforeAll(async () => {
    as = await startAuthorizationServer({ accessTokenTtlSeconds: TTL_SECONDS });
    rs = await startResourceServer(as.issuer, API);
  });

  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close();
    as.setTokenFault(undefined);
    rs.behave(undefined);
    rs.requests.length = 0;
  });

  afterAll(async () => {
    await Promise.allSettled([rs?.close(), as?.close()]);
  });

  async function setup(now: () => number) {
    const registry = new Registry();
    const metrics = createPrometheusReporter({ registry, now });
    const reasons: MintReason[] = [];
    const provider = await createRefreshingProvider<AccessToken>({
      name: 'billing-api',
      now,
      reporter: {
        ...metrics,
        onRefreshStart: (event) => {
          reasons.push(event.reason);
          metrics.onRefreshStart?.(event);
        },
      },
      mint: clientCredentialsMint({
        issuer: as.issuer,
        clientId: as.basic.clientId,
        clientAuth: { method: 'client_secret_basic', clientSecret: as.basic.clientSecret },
        resource: API,
        allowInsecureRequests: true,
        now,
      }),
    });
    metrics.observe(provider);
    closers.push(
      () => metrics.unregister(),
      () => provider.close(),
    );
    return { registry, provider, reasons };
  }

  it('a 401 through createAuthFetch replaces the token once, counted as an invalidated refresh; the scrape lints clean and holds neither token nor client secret', async () => {
    const { registry, provider, reasons } = await setup(() => Date.now());
    const api = createAuthFetch(provider, { allowInsecureRequests: true });
    const first = await provider.get();
    rs.revoke(first.token);
    const response = await api(`${rs.url}/invoices`);
    expect(response.status).toBe(200);
    const second = await provider.get();
    expect(second.token).not.toBe(first.token);
    expect(reasons).toEqual(['initial', 'invalidated']);

    const text = await registry.metrics();
    expect(
      samples(text, /^sluice_refreshes_total\{.*reason="invalidated"/).map((s) => s.value),
    ).toEqual([1]);
    const sentinel = new SecretSentinel();
    sentinel.add('client secret', as.basic.clientSecret);
    sentinel.add('first access token', jwtSignature(first.token));
    sentinel.add('second access token', jwtSignature(second.token));
    sentinel.inspect('prometheus text', text);
    sentinel.expectClean();
    const lint = await checkMetrics(text);
    expect(lint.output).toBe('');
    expect(lint.code).toBe(0);
  });

  it("a 429 with Retry-After: 120 is one token request: the breaker opens for the server's 120 s, callers are told that time, refusals are counted and the breaker gauge shows open", async () => {
    let now = Date.UTC(2030, 0, 1);
    const { registry, provider } = await setup(() => now);
    now += (TTL_SECONDS + 1) * 1000; // the token has expired on the provider's clock
    as.setTokenFault({ status: 429, retryAfter: '120' });
    const before = as.tokenRequests();

    const first = await provider.get().catch((error: unknown) => error);
    expect(first).toMatchObject({ code: 'SLUICE_OAUTH_TOKEN_ENDPOINT', retryAfterMs: 120_000 });
    const refusals: unknown[] = [];
    for (let i = 0; i < 4; i++)
      refusals.push(await provider.get().catch((error: unknown) => error));
    expect(as.tokenRequests() - before).toBe(1);
    for (const refusal of refusals) {
      expect(refusal).toBeInstanceOf(BreakerOpenError);
      expect((refusal as BreakerOpenError).retryAfterMs).toBe(120_000);
    }

    const text = await registry.metrics();
    expect(
      samples(text, /^sluice_breaker_state\{.*name="billing-api".*state="open"/).map(
        (s) => s.value,
      ),
    ).toEqual([1]);
    const refused = samples(text, /^sluice_\w*refus\w*\{[^}]*name="billing-api"/);
    expect(refused.map((s) => s.value)).toEqual([4]);
    const lint = await checkMetrics(text);
    expect(lint.code).toBe(0);

    // The server's time has passed: the next caller's mint is the probe, and it succeeds.
    as.setTokenFault(undefined);
    now += 120_000;
    expect((await provider.get()).tokenType).toBe('Bearer');
    expect(as.tokenRequests() - before).toBe(2);
  });
});
