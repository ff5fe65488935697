/**
 * A small token endpoint of the tests' own on `node:http`: serves a discovery document and
 * answers token requests with whatever the test scripts (a refresh-token grant with rotation,
 * a server that always wants a new DPoP nonce, odd errors). Every request is recorded.
 */

import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Answer } from './resource-server.js';

/** A token request as the endpoint saw it. */
export interface TokenRequest {
  readonly form: URLSearchParams;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly rawBody: string;
}

/** Answers one token request. */
export type TokenScript = (request: TokenRequest) => Answer | Promise<Answer>;

/** A running endpoint. */
export interface TokenEndpointServer {
  readonly issuer: string;
  readonly tokenEndpoint: string;
  /** Metadata to pass as `authorizationServer` (no discovery). */
  readonly metadata: { readonly issuer: string; readonly token_endpoint: string };
  readonly requests: TokenRequest[];
  /** Discovery requests so far. */
  discoveries(): number;
  /** While on, discovery answers 503. */
  failDiscovery(on: boolean): void;
  /** Sets how token requests are answered. */
  script(next: TokenScript): void;
  close(): Promise<void>;
}

/** A JSON answer. */
export function json(status: number, body: unknown, headers: Record<string, string> = {}): Answer {
  return {
    status,
    headers: { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers },
    body: JSON.stringify(body),
  };
}

/** Starts the endpoint on a free loopback port. */
export async function startTokenEndpoint(): Promise<TokenEndpointServer> {
  const requests: TokenRequest[] = [];
  let script: TokenScript = () => json(400, { error: 'unsupported_grant_type' });
  let discoveries = 0;
  let discoveryDown = false;
  let issuer = '';
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const send = (answer: Answer) => {
        res.writeHead(answer.status, answer.headers);
        res.end(answer.body ?? '');
      };
      if (req.method === 'GET' && req.url === '/.well-known/openid-configuration') {
        discoveries += 1;
        send(
          discoveryDown
            ? json(503, { error: 'temporarily_unavailable' })
            : json(200, { issuer, token_endpoint: `${issuer}/token` }),
        );
        return;
      }
      if (req.method !== 'POST' || req.url !== '/token') {
        send({ status: 404 });
        return;
      }
      const rawBody = Buffer.concat(chunks).toString('utf8');
      const request: TokenRequest = {
        form: new URLSearchParams(rawBody),
        headers: req.headers,
        rawBody,
      };
      requests.push(request);
      Promise.resolve()
        .then(() => script(request))
        .then(send, (error: unknown) => send({ status: 500, body: String(error) }));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  issuer = `http://127.0.0.1:${port}`;
  let closing: Promise<void> | undefined;
  return {
    issuer,
    tokenEndpoint: `${issuer}/token`,
    metadata: { issuer, token_endpoint: `${issuer}/token` },
    requests,
    discoveries: () => discoveries,
    failDiscovery(on) {
      discoveryDown = on;
    },
    script(next) {
      script = next;
    },
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
