/**
 * The client side of the example: one HTTPS request to the on-demand server for a servername,
 * verifying the served chain against pebble's issuing root, and what it saw.
 */

import https from 'node:https';
import type { DetailedPeerCertificate, PeerCertificate, TLSSocket } from 'node:tls';

/** Options of {@link probe}. */
export interface ProbeOptions {
  /** The server's loopback port. Required. */
  port: number;
  /** The SNI name to ask for (and to check the certificate against). Required. */
  servername: string;
  /** The only trusted root, PEM (pebble's `/roots/0`). Required. */
  ca: string;
  /** Gives up after this many milliseconds. @default 15000 */
  timeoutMs?: number;
}

/** What a successful probe saw. */
export interface ProbeResult {
  /** Hex serial number of the leaf served. */
  readonly serialNumber: string;
  /** The leaf's notAfter, epoch ms. */
  readonly notAfter: number;
  /** SHA-256 fingerprint of the root the verified chain ends at. */
  readonly rootFingerprint256: string;
  /** The response body. */
  readonly body: string;
  /** From connect to the end of the response, in milliseconds. */
  readonly durationMs: number;
}

/**
 * GETs `/` over TLS with `servername` as SNI and the `Host`, with full verification (chain to
 * `ca`, name match). Rejects when the handshake fails, the server refuses the name, or the
 * chain does not verify.
 */
export function probe(options: ProbeOptions): Promise<ProbeResult> {
  const { port, servername, ca, timeoutMs = 15_000 } = options;
  const startedAt = performance.now();
  return new Promise((resolve, reject) => {
    const request = https.get(
      {
        host: '127.0.0.1',
        port,
        servername,
        ca,
        agent: false,
        path: '/',
        headers: { host: servername },
        timeout: timeoutMs,
      },
      (response) => {
        const socket = response.socket as TLSSocket;
        const leaf = socket.getPeerCertificate(true);
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', reject);
        response.on('end', () =>
          resolve({
            serialNumber: leaf.serialNumber,
            notAfter: Date.parse(leaf.valid_to),
            rootFingerprint256: rootOf(leaf).fingerprint256,
            body: Buffer.concat(chunks).toString('utf8'),
            durationMs: Math.round(performance.now() - startedAt),
          }),
        );
      },
    );
    request.on('timeout', () =>
      request.destroy(
        Object.assign(new Error(`probe of ${servername} timed out`), { code: 'ETIMEDOUT' }),
      ),
    );
    request.on('error', reject);
  });
}

/** The last certificate of the chain Node verified (a root is its own issuer). */
function rootOf(leaf: DetailedPeerCertificate): PeerCertificate {
  let current = leaf;
  for (let depth = 0; depth < 10; depth += 1) {
    const issuer = current.issuerCertificate as DetailedPeerCertificate | undefined;
    if (
      issuer === undefined ||
      issuer === current ||
      issuer.fingerprint256 === current.fingerprint256
    ) {
      return current;
    }
    current = issuer;
  }
  return current;
}
