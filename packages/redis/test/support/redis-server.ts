/**
 * Starts and stops real `redis-server` processes on free loopback ports, for the tests and
 * the benchmark. Every process is stopped by PID (SIGTERM, then SIGKILL), also when the test
 * process exits early. A missing binary is a skip locally (with the install hint) and a
 * failure under `CI=true`.
 */

import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Cluster, Redis, type RedisOptions } from 'ioredis';

const run = promisify(execFile);

/** The hint shown (or thrown under CI) when redis-server is missing. */
export const REDIS_INSTALL_HINT =
  'redis-server not installed: apt-get install -y redis-server (Debian package, with redis-cli)';

/** Where `name` is on PATH, or undefined. */
export function findBinary(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (dir === '') continue;
    const candidate = path.join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Whether redis tests can run here: true with the binary; under CI=true always (they fail). */
export function redisAvailable(): boolean {
  if (findBinary('redis-server') !== undefined) return true;
  if (process.env.CI === 'true') return true; // let them run and fail with the hint
  if (!warned) {
    warned = true;
    console.warn(`skipping redis tests: ${REDIS_INSTALL_HINT}`);
  }
  return false;
}
let warned = false;

/** A free loopback port (bound and released; a start that loses the race retries). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error('no port'))));
    });
  });
}

/** Options of {@link startRedisServer}. */
export interface RedisServerOptions {
  /** The port; a free one by default. Pass the old port to restart "the same" server. */
  port?: number;
  /** Start with `--cluster-enabled yes`. */
  cluster?: boolean;
  /** More `redis-server` arguments. */
  args?: readonly string[];
}

/** A running redis-server. */
export interface RedisServer {
  readonly port: number;
  readonly pid: number;
  /** A new ioredis client to this server (closed by {@link stop}). */
  client(options?: RedisOptions): Redis;
  /** SIGSTOP: the process freezes with its sockets open. */
  pause(): void;
  /** SIGCONT. */
  resume(): void;
  /**
   * SIGKILL and wait for the exit (data is lost: the server runs without persistence). Its
   * clients are left to reconnect, to a server restarted on the same port for instance.
   */
  kill(): Promise<void>;
  /** SIGTERM (SIGKILL after 3 s), closes its clients; idempotent. */
  stop(): Promise<void>;
}

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/** Starts redis-server on loopback without persistence and waits until it answers PING. */
export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  const binary = findBinary('redis-server');
  if (binary === undefined) throw new Error(REDIS_INSTALL_HINT);
  for (let attempt = 1; ; attempt++) {
    const port = options.port ?? (await freePort());
    try {
      return await launch(binary, port, options);
    } catch (error) {
      const race = error instanceof Error && /in use|Address already/i.test(error.message);
      if (!race || attempt >= (options.port === undefined ? 5 : 20)) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

async function launch(
  binary: string,
  port: number,
  options: RedisServerOptions,
): Promise<RedisServer> {
  const dir = await mkdtemp(path.join(tmpdir(), 'sluice-redis-'));
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--appendonly',
    'no',
    '--protected-mode',
    'no',
    '--daemonize',
    'no',
    '--loglevel',
    'warning',
    '--dir',
    dir,
    '--maxclients',
    '10000',
    ...(options.cluster === true
      ? ['--cluster-enabled', 'yes', '--cluster-config-file', path.join(dir, 'nodes.conf')]
      : []),
    ...(options.args ?? []),
  ];
  const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  let log = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    log = (log + chunk.toString()).slice(-4_000);
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    log = (log + chunk.toString()).slice(-4_000);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const clients = new Set<Redis>();
  const cleanup = async (): Promise<void> => {
    live.delete(child);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await waitForPing(port, child, () => log);
  } catch (error) {
    child.kill('SIGKILL');
    await exited;
    await cleanup();
    throw error;
  }
  let stopping: Promise<void> | undefined;
  const pid = child.pid as number;
  return {
    port,
    pid,
    client(clientOptions: RedisOptions = {}): Redis {
      const client = new Redis({
        port,
        host: '127.0.0.1',
        lazyConnect: false,
        ...clientOptions,
      } as RedisOptions & { replyMapping?: 'legacy' });
      client.on('error', () => {}); // a stopped server is the point of many tests
      clients.add(client);
      return client;
    },
    pause: () => void process.kill(pid, 'SIGSTOP'),
    resume: () => void process.kill(pid, 'SIGCONT'),
    async kill(): Promise<void> {
      if (child.exitCode === null && child.signalCode === null) {
        try {
          process.kill(pid, 'SIGCONT');
        } catch {
          // already gone
        }
        child.kill('SIGKILL');
      }
      await exited;
      live.delete(child);
      await rm(dir, { recursive: true, force: true });
    },
    stop(): Promise<void> {
      stopping ??= (async () => {
        for (const client of clients) client.disconnect();
        clients.clear();
        if (child.exitCode === null && child.signalCode === null) {
          try {
            process.kill(pid, 'SIGCONT');
          } catch {
            // gone
          }
          child.kill('SIGTERM');
          const late = setTimeout(() => child.kill('SIGKILL'), 3_000);
          await exited;
          clearTimeout(late);
        }
        await cleanup();
      })();
      return stopping;
    },
  };
}

async function waitForPing(port: number, child: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`redis-server exited early:\n${log()}`);
    if (await ping(port)) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`redis-server did not answer PING on ${port}:\n${log()}`);
}

function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    socket.setTimeout(500);
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => {
      socket.destroy();
      resolve(data.toString().startsWith('+PONG'));
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

/** A local Redis Cluster of three primaries, made with `redis-cli --cluster create`. */
export interface RedisClusterServers {
  readonly nodes: readonly RedisServer[];
  /** A new ioredis Cluster client (closed by {@link stop}). */
  client(): Cluster;
  stop(): Promise<void>;
}

/** Starts three cluster-enabled servers and joins them into one cluster with all slots. */
export async function startRedisCluster(): Promise<RedisClusterServers> {
  const cli = findBinary('redis-cli');
  if (cli === undefined) throw new Error(REDIS_INSTALL_HINT);
  const nodes: RedisServer[] = [];
  const clients = new Set<Cluster>();
  const stop = async (): Promise<void> => {
    for (const client of clients) client.disconnect();
    await Promise.all(nodes.map((node) => node.stop()));
  };
  try {
    for (let i = 0; i < 3; i++) nodes.push(await startRedisServer({ cluster: true }));
    await run(cli, [
      '--cluster',
      'create',
      ...nodes.map((node) => `127.0.0.1:${node.port}`),
      '--cluster-replicas',
      '0',
      '--cluster-yes',
    ]);
    const deadline = Date.now() + 20_000;
    for (const node of nodes) {
      for (;;) {
        const { stdout } = await run(cli, ['-p', String(node.port), 'cluster', 'info']);
        if (stdout.includes('cluster_state:ok')) break;
        if (Date.now() > deadline) throw new Error(`cluster not ok on ${node.port}: ${stdout}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    nodes,
    client(): Cluster {
      const client = new Cluster(nodes.map((node) => ({ host: '127.0.0.1', port: node.port })));
      client.on('error', () => {});
      clients.add(client);
      return client;
    },
    stop,
  };
}
