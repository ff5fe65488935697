/**
 * Local stand-ins for what the Azure SDK talks to, on loopback: an App Service style managed
 * identity endpoint (what `ManagedIdentityCredential` calls when `IDENTITY_ENDPOINT` and
 * `IDENTITY_HEADER` are set) and a Blob service over HTTPS with a self-signed certificate
 * made at start (the bearer-token policy refuses `http:`). Both count what they receive.
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

/** The secret `ManagedIdentityCredential` must send as `X-IDENTITY-HEADER`. */
export const IDENTITY_HEADER = 'sluice-test-identity-header';

/** One request the identity endpoint received. */
export interface IdentityCall {
  readonly resource: string | null;
  /** Whether the request carried the right `X-IDENTITY-HEADER`. */
  readonly authorized: boolean;
  /** Every query parameter, for the claims checks. */
  readonly query: Record<string, string>;
  /** The token answered, or `null` for a failure. */
  readonly token: string | null;
}

/** How the identity endpoint answers. */
export interface IdentityBehaviour {
  /** `ok` answers a token; a number answers that HTTP status with an error body. */
  status: 'ok' | number;
  /** Lifetime of the tokens answered, in seconds. */
  lifetimeSeconds: number;
}

/** A running identity endpoint. */
export interface IdentityEndpoint {
  /** The value for `IDENTITY_ENDPOINT`. */
  readonly url: string;
  readonly calls: IdentityCall[];
  readonly behaviour: IdentityBehaviour;
  close(): Promise<void>;
}

/**
 * Starts an App Service managed identity endpoint (API version 2019-08-01): `GET ?resource=`
 * with `X-IDENTITY-HEADER`, answering `{ access_token, expires_on, resource, token_type }`
 * with `expires_on` in epoch seconds on this process's clock.
 */
export async function startIdentityEndpoint(
  behaviour: Partial<IdentityBehaviour> = {},
): Promise<IdentityEndpoint> {
  const state: IdentityBehaviour = { status: 'ok', lifetimeSeconds: 3600, ...behaviour };
  const calls: IdentityCall[] = [];
  let minted = 0;
  const server = http.createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    const query = Object.fromEntries(url.searchParams);
    const authorized = request.headers['x-identity-header'] === IDENTITY_HEADER;
    const ok = state.status === 'ok' && authorized;
    const token = ok ? `msi-token-${++minted}` : null;
    calls.push({ resource: url.searchParams.get('resource'), authorized, query, token });
    response.setHeader('content-type', 'application/json');
    if (!ok) {
      response.statusCode = authorized ? (state.status as number) : 401;
      response.end(JSON.stringify({ error: 'unavailable', error_description: 'test failure' }));
      return;
    }
    response.end(
      JSON.stringify({
        access_token: token,
        expires_on: String(Math.floor(Date.now() / 1000) + state.lifetimeSeconds),
        resource: url.searchParams.get('resource'),
        token_type: 'Bearer',
      }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/msi/token`,
    calls,
    behaviour: state,
    close: () => closeServer(server),
  };
}

/** One request the storage server received. */
export interface StorageRequest {
  readonly method: string;
  readonly path: string;
  /** The bearer token presented, or `null`. */
  readonly token: string | null;
  readonly status: number;
}

/** A running Blob service stand-in. */
export interface StorageServer {
  /** The account URL for `BlobServiceClient`. */
  readonly url: string;
  /** The server's certificate (PEM), to trust. */
  readonly certificatePem: string;
  readonly requests: StorageRequest[];
  /**
   * Tokens answered 401 with a CAE challenge (`error="insufficient_claims"`, base64 claims
   * {@link CAE_CLAIMS}), as a revoked token is.
   */
  readonly revoked: Set<string>;
  /**
   * A `BlobServiceClient` for this server that trusts its certificate, with its own
   * pipeline (and so its own bearer-token cache), as `new BlobServiceClient(url, credential)`.
   */
  blobClient(credential: TokenCredential): BlobServiceClient;
  close(): Promise<void>;
}

/** The claims of the CAE challenge the storage server sends (decoded). */
export const CAE_CLAIMS = '{"access_token":{"nbf":{"essential":true,"value":"1700000000"}}}';

/**
 * Starts an HTTPS server answering every Blob request 200 (a container's properties) when a
 * bearer token is presented, 401 without one or for a revoked token.
 */
export async function startStorageServer(): Promise<StorageServer> {
  const { certPem, keyPem } = await selfSignedCertificate();
  const requests: StorageRequest[] = [];
  const revoked = new Set<string>();
  const server = https.createServer({ cert: certPem, key: keyPem }, (request, response) => {
    const auth = request.headers.authorization ?? '';
    const token = auth.startsWith('Bearer ') ? auth.slice('Bearer '.length) : null;
    const path = new URL(request.url ?? '/', 'https://127.0.0.1').pathname;
    let status = 200;
    if (token === null) {
      status = 401;
    } else if (revoked.has(token)) {
      status = 401;
      response.setHeader(
        'www-authenticate',
        `Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", error="insufficient_claims", claims="${Buffer.from(CAE_CLAIMS).toString('base64')}"`,
      );
    }
    requests.push({ method: request.method ?? '', path, token, status });
    response.statusCode = status;
    response.setHeader('x-ms-version', '2025-11-05');
    response.setHeader('x-ms-request-id', String(requests.length));
    response.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const url = `https://127.0.0.1:${port}/devstoreaccount1`;
  return {
    url,
    certificatePem: certPem,
    requests,
    revoked,
    blobClient: (credential) => trustingBlobClient(url, certPem, credential),
    close: () => closeServer(server),
  };
}

/**
 * A `BlobServiceClient` for `url` that trusts `certificatePem`, with its own pipeline (and so
 * its own bearer-token cache), as `new BlobServiceClient(url, credential)` would be.
 */
export function trustingBlobClient(
  url: string,
  certificatePem: string,
  credential: TokenCredential,
): BlobServiceClient {
  const inner = createDefaultHttpClient();
  const trusting: HttpClient = {
    sendRequest(request) {
      request.tlsSettings = { ...request.tlsSettings, ca: certificatePem };
      return inner.sendRequest(request);
    },
  };
  // Storage's `httpClient` option takes a core-http (v1) client; the pipeline keeps the
  // core-rest-pipeline client it sends through here, so a trusting one goes in there.
  const pipeline = newPipeline(credential);
  (pipeline as unknown as { _coreHttpClient: HttpClient })._coreHttpClient = trusting;
  return new BlobServiceClient(url, pipeline);
}

/** One token request the Entra endpoint received. */
export interface EntraCall {
  /** The `claims` form parameter (JSON), or `null`. */
  readonly claims: string | null;
  readonly token: string;
}

/** A running Microsoft Entra ID stand-in (the client-credentials flow only). */
export interface EntraEndpoint {
  /** The `authorityHost` option of `@azure/identity` credentials. */
  readonly authorityHost: string;
  readonly calls: EntraCall[];
  /** An `HttpClient` (for the credential's `httpClient` option) that trusts this server. */
  readonly httpClient: HttpClient;
  close(): Promise<void>;
}

/**
 * Starts an HTTPS Microsoft Entra ID stand-in for `ClientSecretCredential`: the OpenID
 * configuration of any tenant and a v2.0 token endpoint answering every client-credentials
 * request with a new opaque token for `lifetimeSeconds`.
 */
export async function startEntraEndpoint(lifetimeSeconds = 3600): Promise<EntraEndpoint> {
  const { certPem, keyPem } = await selfSignedCertificate();
  const calls: EntraCall[] = [];
  let origin = '';
  const server = https.createServer({ cert: certPem, key: keyPem }, (request, response) => {
    const url = new URL(request.url ?? '/', 'https://127.0.0.1');
    const tenant = url.pathname.split('/')[1] ?? 'common';
    response.setHeader('content-type', 'application/json');
    if (url.pathname.endsWith('/.well-known/openid-configuration')) {
      response.end(
        JSON.stringify({
          issuer: `${origin}/${tenant}/v2.0`,
          authorization_endpoint: `${origin}/${tenant}/oauth2/v2.0/authorize`,
          token_endpoint: `${origin}/${tenant}/oauth2/v2.0/token`,
          jwks_uri: `${origin}/${tenant}/discovery/v2.0/keys`,
        }),
      );
      return;
    }
    let body = '';
    request.on('data', (chunk: Buffer) => {
      body += chunk.toString();
    });
    request.on('end', () => {
      const form = new URLSearchParams(body);
      const token = `entra-token-${calls.length + 1}`;
      calls.push({ claims: form.get('claims'), token });
      response.end(
        JSON.stringify({
          token_type: 'Bearer',
          expires_in: lifetimeSeconds,
          ext_expires_in: lifetimeSeconds,
          access_token: token,
        }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const inner = createDefaultHttpClient();
  return {
    authorityHost: origin,
    calls,
    httpClient: {
      sendRequest(request) {
        request.tlsSettings = { ...request.tlsSettings, ca: certPem };
        return inner.sendRequest(request);
      },
    },
    close: () => closeServer(server),
  };
}

async function selfSignedCertificate(): Promise<{ certPem: string; keyPem: string }> {
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
  const keys = (await webcrypto.subtle.generateKey(alg, true, [
    'sign',
    'verify',
  ])) as webcrypto.CryptoKeyPair;
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01',
    name: 'CN=127.0.0.1',
    notBefore: new Date(now - 86_400_000),
    notAfter: new Date(now + 10 * 86_400_000),
    keys,
    signingAlgorithm: alg,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.SubjectAlternativeNameExtension([
        { type: 'ip', value: '127.0.0.1' },
        { type: 'dns', value: 'localhost' },
      ]),
    ],
  });
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
  const keyPem = `-----BEGIN PRIVATE KEY-----\n${Buffer.from(pkcs8)
    .toString('base64')
    .replace(/(.{64})/g, '$1\n')
    .trimEnd()}\n-----END PRIVATE KEY-----\n`;
  return { certPem: cert.toString('pem'), keyPem };
}

function closeServer(server: http.Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}
