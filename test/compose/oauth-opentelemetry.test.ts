/**
 * @sluice/oauth traced and measured by @sluice/opentelemetry: a client-credentials mint
 * against a real oidc-provider inside `traceMint`, an in-memory span exporter, a manual metric
 * reader, and a resource server that validates the tokens. Every span and metric export goes
 * through the secret sentinel.
 */

import type { Span, Tracer, TracerProvider } from '@opentelemetry/api';
import { createRefreshingProvider } from '@sluice/core';
import {
  type AccessToken,
  type ClientCredentialsMintOptions,
  clientCredentialsMint,
  createAuthFetch,
} from '@sluice/oauth';
import { createOpenTelemetryReporter, REFRESH_SPAN_NAME, traceMint } from '@sluice/opentelemetry';
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
import { createMetrics, createTracing } from '../../packages/opentelemetry/test/support/otel.js';
import { jwtSignature, SecretSentinel } from './support/sentinel.js';

let as: AuthorizationServer;
let rs: ResourceServer;
const closers: Array<() => unknown> = [];

function mintOptions(overrides: Partial<ClientCredentialsMintOptions> = {}) {
  return {
    issuer: as.issuer,
    clientId: as.basic.clientId,
    clientAuth: { method: 'client_secret_basic', clientSecret: as.basic.clientSecret },
    resource: API,
    allowInsecureRequests: true,
    ...overrides,
  } as ClientCredentialsMintOptions;
}

describe('oauth x opentelemetry', () => {
  beforeAll(async () => {
    as = await startAuthorizationServer({ accessTokenTtlSeconds: 300 });
    rs = await startResourceServer(as.issuer, API);
  });

  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close();
    rs.behave(undefined);
    rs.requests.length = 0;
  });

  afterAll(async () => {
    await Promise.allSettled([rs?.close(), as?.close()]);
  });

  it('a traced OAuth provider: one OK sluice.refresh span per token request (initial, then invalidated after a 401), metrics for both, and no span or metric carries the token or the client secret', async () => {
    const { tracerProvider, spans } = createTracing();
    const metrics = createMetrics();
    const telemetry = createOpenTelemetryReporter({ meterProvider: metrics.meterProvider });
    const provider = await createRefreshingProvider<AccessToken>({
      name: 'billing-api',
      reporter: telemetry,
      mint: traceMint(clientCredentialsMint(mintOptions()), {
        name: 'billing-api',
        tracerProvider,
        reporter: telemetry,
      }),
    });
    telemetry.observe(provider);
    closers.push(
      () => telemetry.shutdown(),
      () => provider.close(),
    );
    const first = await provider.get();
    rs.revoke(first.token);
    const api = createAuthFetch(provider, { allowInsecureRequests: true });
    expect((await api(`${rs.url}/invoices`)).status).toBe(200);
    const second = await provider.get();

    const refreshSpans = spans(REFRESH_SPAN_NAME);
    expect(refreshSpans.map((span) => span.attributes['sluice.refresh.reason'])).toEqual([
      'initial',
      'invalidated',
    ]);
    for (const span of refreshSpans) expect(span.status.code).not.toBe(2); // not ERROR
    const exported = await metrics.collect();
    expect(exported.length).toBeGreaterThan(0);

    const sentinel = new SecretSentinel();
    sentinel.add('client secret', as.basic.clientSecret);
    sentinel.add('first access token', jwtSignature(first.token));
    sentinel.add('second access token', jwtSignature(second.token));
    for (const span of spans()) {
      sentinel.inspect(`span ${span.name}`, {
        attributes: span.attributes,
        events: span.events,
        status: span.status,
        links: span.links,
      });
    }
    sentinel.inspect('metric export', exported);
    sentinel.expectClean();
  });

  it('a refused client (invalid_client): the span is ERROR with error.type and an exception event, the caller gets the TokenEndpointError, and none of it carries the wrong secret', async () => {
    const { tracerProvider, spans } = createTracing();
    const wrongSecret = `wrong-${as.basic.clientSecret.slice(4)}-secret`;
    const refused = await createRefreshingProvider<AccessToken>({
      name: 'refused-api',
      mint: traceMint(
        clientCredentialsMint(
          mintOptions({ clientAuth: { method: 'client_secret_basic', clientSecret: wrongSecret } }),
        ),
        { name: 'refused-api', tracerProvider },
      ),
    }).catch((error: unknown) => error);
    expect(refused).toMatchObject({ code: 'SLUICE_OAUTH_TOKEN_ENDPOINT', status: 401 });
    const [span] = spans(REFRESH_SPAN_NAME);
    expect(span?.status.code).toBe(2); // ERROR
    expect(span?.attributes['error.type']).toBe('SLUICE_OAUTH_TOKEN_ENDPOINT');
    expect(span?.events.map((event) => event.name)).toContain('exception');

    const sentinel = new SecretSentinel();
    sentinel.add('wrong client secret', wrongSecret);
    sentinel.add('client secret', as.basic.clientSecret);
    sentinel.inspect('rejection', refused);
    sentinel.inspect('span', {
      attributes: span?.attributes,
      events: span?.events,
      status: span?.status,
    });
    sentinel.expectClean();
  });

  it('a throwing tracer never changes what callers get: the OAuth token is still minted, served and accepted', async () => {
    const broken = (where: 'startSpan' | 'end'): TracerProvider => ({
      getTracer: (): Tracer =>
        ({
          startSpan: (): Span => {
            if (where === 'startSpan') throw new Error('tracer exploded in startSpan');
            return new Proxy({} as Span, {
              get: (_target, property) =>
                property === 'end'
                  ? () => {
                      throw new Error('tracer exploded in end');
                    }
                  : () => undefined,
            });
          },
          startActiveSpan: () => {
            throw new Error('tracer exploded');
          },
        }) as unknown as Tracer,
    });
    for (const where of ['startSpan', 'end'] as const) {
      const provider = await createRefreshingProvider<AccessToken>({
        name: `broken-${where}`,
        mint: traceMint(clientCredentialsMint(mintOptions()), {
          name: `broken-${where}`,
          tracerProvider: broken(where),
        }),
      });
      closers.push(() => provider.close());
      const api = createAuthFetch(provider, { allowInsecureRequests: true });
      expect((await api(`${rs.url}/invoices`)).status).toBe(200);
    }
  });
});
