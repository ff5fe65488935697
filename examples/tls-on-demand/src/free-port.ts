/**
 * A free loopback TCP port, for servers (pebble) that cannot report the port they bound.
 */

import net from 'node:net';

/**
 * Binds 127.0.0.1:0, reads the port the kernel chose and releases it. Another process could
 * take the port before the caller binds it; callers that spawn a server retry on "address in
 * use" (see `startPebble`).
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error('no port assigned'))));
    });
  });
}
