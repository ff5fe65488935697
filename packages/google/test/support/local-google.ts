/**
 * Two loopback HTTP servers for the Google tests: a GCE metadata server (what
 * `GCE_METADATA_HOST` points google-auth-library at) that counts its token calls and can be
 * told to fail, and a tiny Cloud Storage JSON API that records the bearer token of each
 * request. Both listen on free loopback ports and are closed by `close()`.
 */

import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** The metadata server. */
export interface MetadataServer {
  /** `host:port`, the value of `GCE_METADATA_HOST`. */
  readonly host: string;
  /** Token requests answered so far (successful or not). */
  readonly calls: number;
  /** Tokens issued so far; the n-th is `ya29.test-n`. */
  readonly issued: number;
  /** `expires_in` of the next tokens, in seconds. */
  lifetimeSeconds: number;
  /** The status answered to token requests instead of a token, or `undefined`. */
  failWith: number | undefined;
  close(): Promise<void>;
}

/** The Cloud Storage stand-in. */
export interface LocalStorageApi {
  /** `apiEndpoint` for `Storage`. */
  readonly endpoint: string;
  /** The bearer token of every request, in order (`(none)` when there was no header). */
  readonly tokens: string[];
  close(): Promise<void>;
}

async function listen(server: http.Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

function closer(server: http.Server): () => Promise<void> {
  return () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
}

export function tokenFor(n: number): string {
  return `ya29.test-${n}`;
}

export async function startMetadataServer(lifetimeSeconds = 3600): Promise<MetadataServer> {
  let calls = 0;
  let issued = 0;
  const state = { lifetimeSeconds, failWith: undefined as number | undefined };
  const server = http.createServer((req, res) => {
    req.resume();
    const url = new URL(req.url ?? '/', 'http://localhost');
    const headers = { 'metadata-flavor': 'Google' };
    if (req.headers['metadata-flavor'] !== 'Google') {
      res.writeHead(403, headers);
      res.end('Missing Metadata-Flavor header');
      return;
    }
    if (url.pathname.endsWith('/service-accounts/default/token')) {
      calls += 1;
      if (state.failWith !== undefined) {
        res.writeHead(state.failWith, { ...headers, 'content-type': 'text/plain' });
        res.end('metadata server unavailable');
        return;
      }
      issued += 1;
      res.writeHead(200, { ...headers, 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          access_token: tokenFor(issued),
          expires_in: state.lifetimeSeconds,
          token_type: 'Bearer',
        }),
      );
      return;
    }
    if (url.pathname.endsWith('/project/project-id')) {
      res.writeHead(200, { ...headers, 'content-type': 'text/plain' });
      res.end('sluice-test');
      return;
    }
    // Detection pings (/computeMetadata/v1/instance) and anything else.
    res.writeHead(200, { ...headers, 'content-type': 'text/plain' });
    res.end('ok');
  });
  const port = await listen(server);
  return {
    host: `127.0.0.1:${port}`,
    get calls() {
      return calls;
    },
    get issued() {
      return issued;
    },
    get lifetimeSeconds() {
      return state.lifetimeSeconds;
    },
    set lifetimeSeconds(value) {
      state.lifetimeSeconds = value;
    },
    get failWith() {
      return state.failWith;
    },
    set failWith(value) {
      state.failWith = value;
    },
    close: closer(server),
  };
}

export async function startStorageApi(): Promise<LocalStorageApi> {
  const tokens: string[] = [];
  const server = http.createServer((req, res) => {
    req.resume();
    const auth = req.headers.authorization;
    tokens.push(auth?.startsWith('Bearer ') === true ? auth.slice(7) : '(none)');
    const url = new URL(req.url ?? '/', 'http://localhost');
    const bucket = /\/storage\/v1\/b\/([^/]+)/.exec(url.pathname)?.[1] ?? 'unknown';
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ kind: 'storage#bucket', id: bucket, name: bucket }));
  });
  const port = await listen(server);
  return { endpoint: `http://127.0.0.1:${port}`, tokens, close: closer(server) };
}
