/**
 * A token endpoint on a free loopback port that answers `POST /token` with an OAuth-shaped
 * JSON body (`access_token`, `expires_in`), and can be switched into an outage (HTTP 503).
 * A stand-in for the issuer, so the example needs nothing but Node; `examples/demo` runs the
 * same flow against a real OAuth server (oidc-provider).
 */

import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A running token endpoint. */
export interface TokenEndpoint {
  /** `http://127.0.0.1:<port>/token`. */
  readonly url: string;
  /** While true, every request gets HTTP 503. */
  outage: boolean;
  /** Requests received so far. */
  readonly requests: number;
  /** Stops the server. */
  close(): Promise<void>;
}

/** Starts the endpoint; tokens live `expiresInSeconds`. */
export async function startTokenEndpoint(expiresInSeconds = 3600): Promise<TokenEndpoint> {
  let requests = 0;
  const endpoint = {
    url: '',
    outage: false,
    get requests() {
      return requests;
    },
    close: () => Promise.resolve(),
  };
  const server = createServer((request, response) => {
    requests += 1;
    request.resume();
    if (request.method !== 'POST' || request.url !== '/token') {
      response.writeHead(404).end();
    } else if (endpoint.outage) {
      response.writeHead(503, { 'content-type': 'application/json' });
      response.end('{"error":"temporarily_unavailable"}');
    } else {
      response.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      const token = randomBytes(16).toString('base64url');
      response.end(
        JSON.stringify({ access_token: token, token_type: 'Bearer', expires_in: expiresInSeconds }),
      );
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/token`;
  endpoint.close = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  return endpoint;
}
