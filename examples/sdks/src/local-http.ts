/** A loopback HTTP server on a free port, closed with its connections. */

import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface LocalServer {
  readonly port: number;
  readonly url: string;
  close(): Promise<void>;
}

export async function serve(handler: http.RequestListener): Promise<LocalServer> {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs `count` calls one after another; returns how many failed. */
export async function failures(count: number, call: () => Promise<unknown>): Promise<number> {
  let failed = 0;
  for (let i = 0; i < count; i++) {
    try {
      await call();
    } catch {
      failed += 1;
    }
  }
  return failed;
}
