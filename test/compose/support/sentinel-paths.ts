/**
 * The paths of the secret sentinel test that other tests can reuse: the telemetry every
 * provider reports to (Prometheus, OpenTelemetry metrics and spans, a recording reporter),
 * each inspected by `finish()`; a failure catcher; a resource server that echoes what it is
 * sent; a Redis MONITOR transcript.
 */

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  combineReporters,
  type Mint,
  type ObservableProvider,
  REPORTER_HOOKS,
  type Reporter,
} from '@sluice/core';
import { createOpenTelemetryReporter, traceMint } from '@sluice/opentelemetry';
import { createPrometheusReporter } from '@sluice/prometheus';
import type { FleetCoordinator } from '@sluice/redis';
import type { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { createMetrics, createTracing } from '../../../packages/opentelemetry/test/support/otel.js';
import type { RedisServer } from '../../../packages/redis/test/support/redis-server.js';
import { readyClient } from './redis.js';
import type { SecretSentinel } from './sentinel.js';

/** Metrics, spans and reporter events of one test, all inspected by `finish()`. */
export function telemetry(sentinel: SecretSentinel) {
  const registry = new Registry();
  const prometheus = createPrometheusReporter({ registry });
  const tracing = createTracing();
  const metrics = createMetrics();
  const otel = createOpenTelemetryReporter({ meterProvider: metrics.meterProvider });
  const reporter: Reporter = combineReporters(
    prometheus,
    otel,
    sentinel.reporter<Reporter>('core reporter', REPORTER_HOOKS),
  );
  return {
    reporter,
    observe(provider: ObservableProvider) {
      prometheus.observe(provider);
      otel.observe(provider);
    },
    trace<T>(mint: Mint<T>, name: string): Mint<T> {
      return traceMint(mint, { name, tracerProvider: tracing.tracerProvider, reporter: otel });
    },
    tracerProvider: tracing.tracerProvider,
    async finish(): Promise<void> {
      sentinel.inspect('prometheus text', await registry.metrics());
      for (const span of tracing.spans()) {
        sentinel.inspect(`span ${span.name}`, {
          name: span.name,
          attributes: span.attributes,
          events: span.events,
          status: span.status,
          links: span.links,
        });
      }
      sentinel.inspect('opentelemetry metric export', await metrics.collect());
      prometheus.unregister();
      otel.shutdown();
    },
  };
}

/** Settles `run`, inspecting a rejection or throw under `where`; returns the error. */
export async function failure(sentinel: SecretSentinel, where: string, run: () => unknown) {
  try {
    await run();
  } catch (error) {
    sentinel.inspect(where, error);
    return error;
  }
  return undefined;
}

/** A resource server answering 401 to everything, echoing every secret it was sent. */
export async function echoingResourceServer(
  echo: (received: string) => string,
  scheme = 'Bearer',
): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    req.resume();
    const received = `${req.headers.authorization ?? ''} ${req.headers.dpop ?? ''}`;
    const description = echo(received).replace(/["\\\r\n]/g, '');
    res.writeHead(401, {
      'www-authenticate': `${scheme} error="invalid_token", error_description="${description.slice(0, 6000)}"`,
      'content-type': 'text/plain',
    });
    res.end(echo(received));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/**
 * A MONITOR connection to `server`, recording every command until `stop()`. `settle()` waits
 * until none of `fleets()` holds a lease (stores and releases happen after the
 * wrapped mint returns), then until a marker sent afterwards shows in the transcript, so
 * every command before it is in.
 */
export async function startMonitor(
  server: RedisServer,
  fleets: () => readonly FleetCoordinator[],
): Promise<{ settle(): Promise<void>; stop(): Promise<string[]> }> {
  const client: Redis = await readyClient(server);
  const marker: Redis = await readyClient(server);
  const lines: string[] = [];
  const monitor = await client.monitor();
  monitor.on('monitor', (_time: string, args: string[]) => lines.push(args.join(' ')));
  const waitFor = async (condition: () => boolean, what: string) => {
    const deadline = Date.now() + 10_000;
    while (!condition()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  };
  let markers = 0;
  return {
    async settle() {
      await waitFor(() => fleets().every((fleet) => fleet.snapshot().leasesHeld === 0), 'leases');
      const text = `sentinel-marker-${++markers}`;
      await marker.echo(text);
      await waitFor(() => lines.some((line) => line.includes(text)), 'the MONITOR marker');
    },
    async stop() {
      monitor.disconnect();
      marker.disconnect();
      return lines;
    },
  };
}
