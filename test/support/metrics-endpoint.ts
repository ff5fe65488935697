/**
 * A real HTTP `/metrics` endpoint on a free loopback port, and a scraper for it: what a
 * Prometheus server would do, without one.
 */

import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the endpoint serves: the exposition text and its content type. */
export interface Exposition {
  readonly contentType: string;
  readonly body: string;
}

/** A running endpoint. */
export interface MetricsEndpoint {
  /** `http://127.0.0.1:<port>/metrics`. */
  readonly url: string;
  /** GETs `url` and returns the status, content type and body. */
  scrape(): Promise<{ status: number; contentType: string; body: string }>;
  /** Stops the server (closing idle keep-alive sockets). Idempotent. */
  close(): Promise<void>;
}

/** Starts a server that answers `GET /metrics` with `expose()` and 404 for anything else. */
export function startMetricsEndpoint(expose: () => Promise<Exposition>): Promise<MetricsEndpoint> {
  return startEndpoint((request, response) => {
    if (request.method !== 'GET' || request.url !== '/metrics') {
      response.writeHead(404).end();
      return;
    }
    expose().then(
      ({ contentType, body }) => {
        response.writeHead(200, { 'content-type': contentType }).end(body);
      },
      (error: unknown) => {
        response.writeHead(500, { 'content-type': 'text/plain' }).end(String(error));
      },
    );
  });
}

/** Starts a server on a free loopback port with `listener` (an exporter's own handler, say). */
export async function startEndpoint(listener: RequestListener): Promise<MetricsEndpoint> {
  const server: Server = createServer(listener);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}/metrics`;
  let closed: Promise<void> | undefined;
  return {
    url,
    async scrape() {
      const response = await fetch(url, { headers: { connection: 'close' } });
      return {
        status: response.status,
        contentType: response.headers.get('content-type') ?? '',
        body: await response.text(),
      };
    },
    close() {
      closed ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closed;
    },
  };
}

/** The value of the sample `name{labels}` in an exposition text, or `undefined`. */
export function sampleValue(
  text: string,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)/.exec(line);
    if (match === null || match[1] !== name) continue;
    const found = parseLabels(match[2] ?? '');
    const wanted = Object.entries(labels);
    if (wanted.length === Object.keys(found).length && wanted.every(([k, v]) => found[k] === v)) {
      return Number(match[3]);
    }
  }
  return undefined;
}

/** Every label set of the samples named `name`. */
export function sampleLabels(text: string, name: string): Record<string, string>[] {
  const sets: Record<string, string>[] = [];
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? \S+/.exec(line);
    if (match !== null && match[1] === name) sets.push(parseLabels(match[2] ?? ''));
  }
  return sets;
}

function parseLabels(text: string): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const m of text.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
    labels[m[1] as string] = (m[2] as string).replace(/\\(.)/g, (_, c: string) =>
      c === 'n' ? '\n' : c,
    );
  }
  return labels;
}
