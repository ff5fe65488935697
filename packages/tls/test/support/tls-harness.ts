/**
 * Real TLS servers and clients on loopback for tests: a server whose SNICallback records
 * what the callback under test answered and how long it took, and a client handshake that
 * resolves (never rejects) with what the client saw.
 */

import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import tls from 'node:tls';
import type { SniDone } from '../../src/index.js';

export interface CallbackRecord {
  readonly servername: string;
  readonly error: Error | null;
  /** Server-side time from the SNICallback call to its callback, in ms. */
  readonly latencyMs: number;
  readonly startedAt: number;
}

export interface TestServer {
  readonly port: number;
  /** Every SNICallback answer, in completion order. */
  readonly records: CallbackRecord[];
  /** SNICallback calls started so far. */
  calls(): number;
  close(): Promise<void>;
}

type Sni = (servername: string, callback: SniDone) => void;

export async function startServer(sni: Sni): Promise<TestServer> {
  const records: CallbackRecord[] = [];
  let calls = 0;
  const server = tls.createServer(
    {
      SNICallback: (servername, callback) => {
        calls += 1;
        const startedAt = performance.now();
        sni(servername, (error, context) => {
          records.push({ servername, error, latencyMs: performance.now() - startedAt, startedAt });
          callback(error, context);
        });
      },
    },
    (socket) => {
      socket.on('error', () => {});
      socket.end();
    },
  );
  server.on('tlsClientError', () => {});
  await new Promise<void>((resolve) => {
    server.listen({ port: 0, host: '127.0.0.1', backlog: 4096 }, resolve);
  });
  return {
    port: (server.address() as AddressInfo).port,
    records,
    calls: () => calls,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
      }),
  };
}

export type HandshakeResult =
  | { readonly ok: true; readonly cn: string; readonly san: string; readonly serial: string }
  | { readonly ok: false; readonly error: Error };

/** One full handshake to `port` offering `servername`, verified against `caPem`. */
export function handshake(
  port: number,
  servername: string,
  caPem: string,
  timeoutMs = 10_000,
): Promise<HandshakeResult> {
  return new Promise((resolve) => {
    const socket = tls.connect({ host: '127.0.0.1', port, servername, ca: [caPem] });
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error('client timeout')));
    socket.once('secureConnect', () => {
      const peer = socket.getPeerCertificate();
      resolve({
        ok: true,
        cn: String(peer.subject.CN),
        san: peer.subjectaltname ?? '',
        serial: peer.serialNumber.toLowerCase(),
      });
      socket.destroy();
    });
    socket.on('error', (error) => resolve({ ok: false, error }));
  });
}

/** Calls an SNI callback directly and resolves with what it answered, and how fast. */
export function callDirect(
  sni: Sni,
  servername: string,
): Promise<{ error: Error | null; context: unknown; latencyMs: number }> {
  return new Promise((resolve) => {
    const startedAt = performance.now();
    sni(servername, (error, context) =>
      resolve({ error, context, latencyMs: performance.now() - startedAt }),
    );
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export { type Deferred, deferred } from '../../../core/test/support/fake-clock.js';

/** Waits until `condition()` holds, polling every few ms, or fails after `timeoutMs`. */
export async function until(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(2);
  }
}
