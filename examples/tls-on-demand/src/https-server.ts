/**
 * The on-demand HTTPS server: no certificate of its own, every one comes from the
 * `SNICallback` at handshake time.
 */

import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { SniCallback } from '@sluice/tls';

/** A running server. */
export interface OnDemandServer {
  /** The loopback port. */
  readonly port: number;
  /** Handshakes that failed on the server side so far (refused name, no certificate, ...). */
  readonly failedHandshakes: number;
  /** Stops accepting, drops open connections and closes the SNI callback. Idempotent. */
  close(): Promise<void>;
}

/** Starts an HTTPS server on 127.0.0.1 (kernel-chosen port) answering with the servername. */
export async function startOnDemandServer(sni: SniCallback): Promise<OnDemandServer> {
  let failedHandshakes = 0;
  const server = https.createServer({ SNICallback: sni, minVersion: 'TLSv1.2' }, (req, res) => {
    const servername = (req.socket as { servername?: string | false }).servername;
    res.writeHead(200, { 'content-type': 'text/plain', connection: 'close' });
    res.end(`hello from ${typeof servername === 'string' ? servername : 'no SNI'}\n`);
  });
  server.on('tlsClientError', () => {
    failedHandshakes += 1;
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  let closed: Promise<void> | undefined;
  return {
    port,
    get failedHandshakes() {
      return failedHandshakes;
    },
    close(): Promise<void> {
      closed ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        sni.close();
      });
      return closed;
    },
  };
}
