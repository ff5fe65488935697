/**
 * A loopback TCP proxy in front of redis-server for network partitions. `pass` relays;
 * `hold` is a partition: connections stay open, nothing is delivered in either direction and
 * new connections are accepted but not connected (like packets dropped and retransmitted);
 * healing (`pass` again) delivers everything held, in order, as TCP would after a partition.
 * `reset` resets every connection and refuses new ones.
 */

import net from 'node:net';

export type ProxyMode = 'pass' | 'hold' | 'reset';

interface Pair {
  readonly client: net.Socket;
  upstream: net.Socket | undefined;
  readonly toUpstream: Buffer[];
  readonly toClient: Buffer[];
}

/** A running proxy. */
export interface TcpProxy {
  readonly port: number;
  mode: ProxyMode;
  /** Switches mode (see the file comment). */
  set(mode: ProxyMode): void;
  /**
   * Points the proxy at another port (a promoted replica): every open connection is closed,
   * so clients reconnect, and reach the new target.
   */
  retarget(port: number): void;
  close(): Promise<void>;
}

/** Starts a proxy on a free loopback port relaying to 127.0.0.1:`targetPort`. */
export async function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  let mode: ProxyMode = 'pass';
  let target = targetPort;
  const pairs = new Set<Pair>();

  const connectUpstream = (pair: Pair): void => {
    const upstream = net.connect({ host: '127.0.0.1', port: target });
    pair.upstream = upstream;
    upstream.setNoDelay(true);
    upstream.on('error', () => pair.client.destroy());
    upstream.on('close', () => pair.client.destroy());
    upstream.on('data', (chunk: Buffer) => {
      if (mode === 'pass') pair.client.write(chunk);
      else pair.toClient.push(chunk);
    });
    for (const chunk of pair.toUpstream.splice(0)) upstream.write(chunk);
  };

  const server = net.createServer((client) => {
    client.setNoDelay(true);
    client.on('error', () => {});
    if (mode === 'reset') {
      client.resetAndDestroy();
      return;
    }
    const pair: Pair = { client, upstream: undefined, toUpstream: [], toClient: [] };
    pairs.add(pair);
    client.on('close', () => {
      pair.upstream?.destroy();
      pairs.delete(pair);
    });
    client.on('data', (chunk: Buffer) => {
      if (mode === 'pass' && pair.upstream !== undefined) pair.upstream.write(chunk);
      else pair.toUpstream.push(chunk);
    });
    if (mode === 'pass') connectUpstream(pair);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as net.AddressInfo).port;

  const proxy: TcpProxy = {
    port,
    mode,
    set(next: ProxyMode): void {
      if (next === mode) return;
      mode = next;
      proxy.mode = next;
      if (next === 'reset') {
        for (const pair of [...pairs]) {
          pair.client.resetAndDestroy();
          pair.upstream?.destroy();
        }
        pairs.clear();
        return;
      }
      if (next === 'pass') {
        for (const pair of pairs) {
          if (pair.upstream === undefined) connectUpstream(pair);
          else for (const chunk of pair.toUpstream.splice(0)) pair.upstream.write(chunk);
          for (const chunk of pair.toClient.splice(0)) pair.client.write(chunk);
        }
      }
    },
    retarget(port: number): void {
      target = port;
      for (const pair of [...pairs]) {
        pair.client.destroy();
        pair.upstream?.destroy();
      }
      pairs.clear();
    },
    close(): Promise<void> {
      return new Promise<void>((resolve) => {
        for (const pair of pairs) {
          pair.client.destroy();
          pair.upstream?.destroy();
        }
        pairs.clear();
        server.close(() => resolve());
      });
    },
  };
  return proxy;
}
