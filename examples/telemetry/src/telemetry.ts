/**
 * One provider reported to Prometheus (prom-client) and to OpenTelemetry (metrics and
 * traces) at once, through a token endpoint outage and its recovery. `docs/observability.md`
 * quotes the `#region` blocks of this file; `test/docs-sync.test.ts` keeps them in step.
 */

// biome-ignore assist/source/organizeImports: the imports docs/observability.md quotes stay one region
import type { AddressInfo } from 'node:net';
import { context, propagation, SpanKind } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { credentialFromExpiresIn } from '@sluice/core';
import { startTokenEndpoint, type TokenEndpoint } from './token-endpoint.js';
// #region imports
import { createServer, type Server } from 'node:http';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import {
  type Credential,
  combineReporters,
  createRefreshingProvider,
  type MintContext,
} from '@sluice/core';
import { createOpenTelemetryReporter, traceMint } from '@sluice/opentelemetry';
import { createPrometheusReporter } from '@sluice/prometheus';
import { Registry } from 'prom-client';
// #endregion imports

/** What the example observed, for printing and for its test. */
export interface TelemetrySummary {
  /** prom-client's exposition, scraped over HTTP from `/metrics` after the outage. */
  readonly prometheus: string;
  /** The OpenTelemetry metrics as its Prometheus exporter serves them (`/otel-metrics`). */
  readonly opentelemetry: string;
  /** Every ended span: name, its parent's name, and attributes. */
  readonly spans: ReadonlyArray<{
    name: string;
    parent: string | undefined;
    attributes: Record<string, unknown>;
  }>;
  /** Requests the token endpoint received. */
  readonly tokenRequests: number;
}

class TokenEndpointError extends Error {
  readonly code: string;
  constructor(status: number) {
    super(`token endpoint answered HTTP ${status}`);
    this.code = `HTTP_${status}`;
  }
}

/** Runs the scenario and returns what was observed. Cleans up even when it fails. */
export async function runTelemetryExample(): Promise<TelemetrySummary> {
  const cleanup: Array<() => unknown> = [];
  try {
    const endpoint: TokenEndpoint = await startTokenEndpoint();
    cleanup.push(() => endpoint.close());

    const contextManager = new AsyncLocalStorageContextManager().enable();
    context.setGlobalContextManager(contextManager);
    cleanup.push(() => context.disable());

    // #region opentelemetry-setup
    // In production: the NodeSDK (or your own providers) with OTLP exporters.
    const spans = new InMemorySpanExporter();
    const tracerProvider = new BasicTracerProvider({
      spanProcessors: [new SimpleSpanProcessor(spans)],
    });
    const otelExporter = new PrometheusExporter({ preventServerStart: true });
    const meterProvider = new MeterProvider({ readers: [otelExporter] });
    const otel = createOpenTelemetryReporter({ meterProvider });
    // #endregion opentelemetry-setup
    cleanup.push(() => meterProvider.shutdown());
    cleanup.push(() => tracerProvider.shutdown());
    const tracer = tracerProvider.getTracer('example');

    /** The mint: POST to the token endpoint, inside the `sluice.refresh` span. */
    const mintToken = ({ signal }: MintContext<string>): Promise<Credential<string>> =>
      // With @opentelemetry/instrumentation-undici installed this client span is automatic.
      tracer.startActiveSpan('POST /token', { kind: SpanKind.CLIENT }, async (span) => {
        try {
          const headers: Record<string, string> = {};
          propagation.inject(context.active(), headers);
          const response = await fetch(endpoint.url, { method: 'POST', headers, signal });
          if (!response.ok) throw new TokenEndpointError(response.status);
          const body = (await response.json()) as { access_token: string; expires_in: number };
          return credentialFromExpiresIn(body.access_token, body.expires_in, { skewSeconds: 30 });
        } finally {
          span.end();
        }
      });

    // #region provider
    const registry = new Registry();
    const metrics = createPrometheusReporter({ registry });
    const tokens = await createRefreshingProvider({
      name: 'billing-api',
      mint: traceMint(mintToken, { name: 'billing-api', reporter: otel, tracerProvider }),
      reporter: combineReporters(metrics, otel),
      breaker: { failureThreshold: 2, cooldownMs: 200 },
    });
    metrics.observe(tokens);
    otel.observe(tokens);
    // #endregion provider
    cleanup.push(() => tokens.close());

    // #region metrics-endpoint
    const server: Server = createServer((request, response) => {
      if (request.url === '/metrics') {
        registry.metrics().then((text) => {
          response.writeHead(200, { 'content-type': registry.contentType }).end(text);
        });
      } else if (request.url === '/otel-metrics') {
        otelExporter.getMetricsRequestHandler(request, response);
      } else {
        response.writeHead(404).end();
      }
    });
    // #endregion metrics-endpoint
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanup.push(
      () =>
        new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        }),
    );
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

    // Callers use the token inside their own spans; the first mint ran eagerly above.
    await tracer.startActiveSpan('GET /invoices', async (span) => {
      await tokens.get();
      span.end();
    });
    // An outage: two failed refreshes open the breaker; the cached token is still served.
    endpoint.outage = true;
    for (let attempt = 0; attempt < 2; attempt += 1) await tokens.refresh().catch(() => {});
    await tokens.get();
    const duringOutage = await (await fetch(`${base}/metrics`)).text();
    // Recovery: after the cooldown one probe is admitted and closes the breaker.
    endpoint.outage = false;
    await new Promise((resolve) => setTimeout(resolve, 250));
    await tracer.startActiveSpan('POST /reports', async (span) => {
      await tokens.refresh();
      span.end();
    });
    const opentelemetry = await (await fetch(`${base}/otel-metrics`)).text();

    const byId = new Map(spans.getFinishedSpans().map((s) => [s.spanContext().spanId, s.name]));
    return {
      prometheus: duringOutage,
      opentelemetry,
      spans: spans.getFinishedSpans().map((s) => ({
        name: s.name,
        parent:
          s.parentSpanContext === undefined ? undefined : byId.get(s.parentSpanContext.spanId),
        attributes: { ...s.attributes },
      })),
      tokenRequests: endpoint.requests,
    };
  } finally {
    for (const step of cleanup.reverse()) await step();
  }
}
