/**
 * Two loopback HTTP servers for the AWS tests: a container-credentials endpoint (what
 * `fromHttp` reads, as on ECS/EKS) that counts its calls and can be told to fail, and a tiny
 * S3 answering ListBuckets and GetObject that records the access key each request was signed
 * with. Both listen on free loopback ports and are closed (connections included) by `close()`.
 */

import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** The container-credentials endpoint. */
export interface CredentialSource {
  /** `AWS_CONTAINER_CREDENTIALS_FULL_URI` for `fromHttp`. */
  readonly url: string;
  /** Requests answered so far (successful or not). */
  readonly calls: number;
  /** Credentials handed out so far; the n-th is `AKIDTEST000n`. */
  readonly issued: number;
  /** Lifetime of the next credentials, in milliseconds from when they are issued. */
  lifetimeMs: number;
  /** The status answered instead of a credential, or `undefined` to issue credentials. */
  failWith: number | undefined;
  close(): Promise<void>;
}

/** The S3 stand-in. */
export interface LocalS3 {
  /** The client's `endpoint`. */
  readonly endpoint: string;
  /** The access key id of every request, in order. */
  readonly accessKeys: string[];
  close(): Promise<void>;
}

async function listen(server: http.Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function closer(server: http.Server): () => Promise<void> {
  return () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
}

/** Access key ids look like AKIDTEST0001; secrets like SECRET-0001-... (for sentinel checks). */
export function accessKeyFor(n: number): string {
  return `AKIDTEST${String(n).padStart(4, '0')}`;
}

export async function startCredentialSource(lifetimeMs = 3_600_000): Promise<CredentialSource> {
  let calls = 0;
  let issued = 0;
  const state = { lifetimeMs, failWith: undefined as number | undefined };
  const server = http.createServer((req, res) => {
    calls += 1;
    req.resume();
    if (state.failWith !== undefined) {
      res.writeHead(state.failWith, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ Code: 'Throttling', Message: 'slow down' }));
      return;
    }
    issued += 1;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        AccessKeyId: accessKeyFor(issued),
        SecretAccessKey: `SECRET-${issued}-do-not-print`,
        Token: `SESSION-${issued}-do-not-print`,
        Expiration: new Date(Date.now() + state.lifetimeMs).toISOString(),
      }),
    );
  });
  const base = await listen(server);
  return {
    url: `${base}/v2/credentials`,
    get calls() {
      return calls;
    },
    get issued() {
      return issued;
    },
    get lifetimeMs() {
      return state.lifetimeMs;
    },
    set lifetimeMs(value) {
      state.lifetimeMs = value;
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

const LIST_BUCKETS = `<?xml version="1.0" encoding="UTF-8"?>
<ListAllMyBucketsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Owner><ID>owner</ID><DisplayName>owner</DisplayName></Owner><Buckets><Bucket><Name>reports</Name><CreationDate>2026-01-01T00:00:00.000Z</CreationDate></Bucket></Buckets></ListAllMyBucketsResult>`;

export async function startLocalS3(): Promise<LocalS3> {
  const accessKeys: string[] = [];
  const server = http.createServer((req, res) => {
    req.resume();
    const auth = req.headers.authorization ?? '';
    const match = /Credential=([^/]+)\//.exec(auth);
    accessKeys.push(match?.[1] ?? '(unsigned)');
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname === '/') {
      res.writeHead(200, { 'content-type': 'application/xml' });
      res.end(LIST_BUCKETS);
      return;
    }
    const body = `object ${url.pathname}`;
    res.writeHead(200, {
      'content-type': 'text/plain',
      'content-length': String(Buffer.byteLength(body)),
      etag: '"1"',
    });
    res.end(body);
  });
  const endpoint = await listen(server);
  return { endpoint, accessKeys, close: closer(server) };
}
