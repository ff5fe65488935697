/**
 * The CA outage switch: a loopback TCP proxy in front of pebble's ACME port that passes
 * connections through, resets them, or holds them open without an answer.
 *
 * It relays bytes (TLS passes through untouched), so the ACME client still verifies pebble's
 * listener certificate, and pebble builds its URLs from the `Host` header, which names the
 * gate: every request of an ACME conversation goes through it.
 */

import net from 'node:net';

/**
 * `'pass'`: relay to the target. `'reset'`: accept, then reset at once (the client sees
 * `ECONNRESET`: a CA that is down). `'hang'`: accept and never answer (a CA that is stuck:
 * only the client's own timeout or abort ends the request).
 */
export type GateMode = 'pass' | 'reset' | 'hang';

/** Options of {@link startTcpGate}. */
export interface TcpGateOptions {
  /** The port connections are relayed to on 127.0.0.1. Required. */
  targetPort: number;
  /** The mode to start in. @default 'pass' */
  mode?: GateMode;
}

/** A running gate. */
export interface TcpGate {
  /** The loopback port the gate listens on. */
  readonly port: number;
  /** The current mode. */
  readonly mode: GateMode;
  /**
   * Switches mode. Leaving `'pass'` resets the relayed connections, so a pooled keep-alive
   * socket cannot bypass the outage; leaving `'hang'` resets the held ones.
   */
  setMode(mode: GateMode): void;
  /** Connections accepted since the start, whatever happened to them. */
  readonly accepted: number;
  /** Stops listening and resets every connection. Idempotent. */
  close(): Promise<void>;
}

/** Starts a gate on 127.0.0.1 with a port chosen by the kernel. */
export async function startTcpGate(options: TcpGateOptions): Promise<TcpGate> {
  const { targetPort } = options;
  let mode: GateMode = options.mode ?? 'pass';
  let accepted = 0;
  const relayed = new Set<net.Socket>();
  const held = new Set<net.Socket>();

  const track = (set: Set<net.Socket>, socket: net.Socket): void => {
    set.add(socket);
    socket.once('close', () => set.delete(socket));
  };
  const resetAll = (set: Set<net.Socket>): void => {
    for (const socket of set) socket.resetAndDestroy();
    set.clear();
  };

  const server = net.createServer((client) => {
    accepted += 1;
    client.on('error', () => {}); // a reset peer is the point of this tool, not a failure
    if (mode === 'reset') {
      client.resetAndDestroy();
      return;
    }
    if (mode === 'hang') {
      track(held, client);
      return;
    }
    const upstream = net.connect({ host: '127.0.0.1', port: targetPort });
    upstream.on('error', () => client.resetAndDestroy());
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    track(relayed, client);
    client.pipe(upstream).pipe(client);
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  if (typeof address !== 'object' || address === null) throw new Error('gate has no address');

  let closed: Promise<void> | undefined;
  return {
    port: address.port,
    get mode() {
      return mode;
    },
    get accepted() {
      return accepted;
    },
    setMode(next: GateMode): void {
      if (next === mode) return;
      if (mode === 'pass') resetAll(relayed);
      if (mode === 'hang') resetAll(held);
      mode = next;
    },
    close(): Promise<void> {
      closed ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        resetAll(relayed);
        resetAll(held);
      });
      return closed;
    },
  };
}
