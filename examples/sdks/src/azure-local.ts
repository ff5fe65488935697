/**
 * What the Azure SDK talks to, on loopback, for the example: an App Service style managed
 * identity endpoint (`IDENTITY_ENDPOINT` / `IDENTITY_HEADER`) and a Blob service over HTTPS
 * with a self-signed certificate made at start (the SDK's bearer policy refuses `http:`).
 */

import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TokenCredential } from '@azure/core-auth';
import { createDefaultHttpClient, type HttpClient } from '@azure/core-rest-pipeline';
import { BlobServiceClient, newPipeline } from '@azure/storage-blob';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as never);

/** The secret the identity endpoint expects in `X-IDENTITY-HEADER`. */
export const IDENTITY_HEADER = 'example-identity-header';

/** A local managed identity endpoint. */
export interface LocalIdentity {
  readonly url: string;
  /** Token requests received so far. */
  calls: number;
  /** Answer 503 instead of a token. */
  failing: boolean;
  close(): Promise<void>;
}

/** Starts the identity endpoint; tokens live `lifetimeSeconds`. */
export async function startLocalIdentity(lifetimeSeconds: number): Promise<LocalIdentity> {
  const state = { calls: 0, failing: false };
  const server = http.createServer((request, response) => {
    state.calls += 1;
    response.setHeader('content-type', 'application/json');
    if (state.failing || request.headers['x-identity-header'] !== IDENTITY_HEADER) {
      response.statusCode = state.failing ? 503 : 401;
      response.end(JSON.stringify({ error: 'unavailable' }));
      return;
    }
    response.end(
      JSON.stringify({
        access_token: `example-token-${state.calls}`,
        expires_on: String(Math.floor(Date.now() / 1000) + lifetimeSeconds),
        resource: new URL(request.url ?? '/', 'http://x').searchParams.get('resource'),
        token_type: 'Bearer',
      }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/msi/token`;
  return Object.assign(state, { url, close: () => close(server) });
}

/** A local Blob service answering every authorised request 200. */
export interface LocalBlobService {
  readonly url: string;
  /** The bearer tokens presented, in order. */
  readonly tokens: string[];
  /** A client trusting the service's self-signed certificate, as `new BlobServiceClient(url, credential)`. */
  client(credential: TokenCredential): BlobServiceClient;
  close(): Promise<void>;
}

/** Starts the Blob service with a fresh self-signed certificate for 127.0.0.1. */
export async function startLocalBlobService(): Promise<LocalBlobService> {
  const { certPem, keyPem } = await selfSigned();
  const tokens: string[] = [];
  const server = https.createServer({ cert: certPem, key: keyPem }, (request, response) => {
    const auth = request.headers.authorization ?? '';
    if (auth.startsWith('Bearer ')) tokens.push(auth.slice(7));
    response.statusCode = auth.startsWith('Bearer ') ? 200 : 401;
    response.setHeader('x-ms-version', '2025-11-05');
    response.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/devstoreaccount1`;
  return {
    url,
    tokens,
    client(credential) {
      const inner = createDefaultHttpClient();
      const trusting: HttpClient = {
        sendRequest: (request) => {
          request.tlsSettings = { ...request.tlsSettings, ca: certPem };
          return inner.sendRequest(request);
        },
      };
      // Only for the self-signed certificate: storage's pipeline keeps its HTTP client here.
      const pipeline = newPipeline(credential);
      (pipeline as unknown as { _coreHttpClient: HttpClient })._coreHttpClient = trusting;
      return new BlobServiceClient(url, pipeline);
    },
    close: () => close(server),
  };
}

async function selfSigned(): Promise<{ certPem: string; keyPem: string }> {
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
  const keys = (await webcrypto.subtle.generateKey(alg, true, [
    'sign',
    'verify',
  ])) as webcrypto.CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01',
    name: 'CN=127.0.0.1',
    notBefore: new Date(Date.now() - 86_400_000),
    notAfter: new Date(Date.now() + 86_400_000),
    keys,
    signingAlgorithm: alg,
    extensions: [new x509.SubjectAlternativeNameExtension([{ type: 'ip', value: '127.0.0.1' }])],
  });
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  const body = pkcs8
    .toString('base64')
    .replace(/(.{64})/g, '$1\n')
    .trimEnd();
  return {
    certPem: cert.toString('pem'),
    keyPem: `-----BEGIN PRIVATE KEY-----\n${body}\n-----END PRIVATE KEY-----\n`,
  };
}

function close(server: http.Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}
