/**
 * Starts and stops Debian's `pebble` (Let's Encrypt's small test CA) on loopback, with an
 * outage switch in front of its ACME port.
 *
 * - Ports: four free loopback ports (ACME, management, and the unused http-01/tls-alpn-01
 *   validation ports), chosen per run; a start that loses a port race is retried.
 * - Environment: `PEBBLE_VA_ALWAYS_VALID=1` (the validation authority accepts every challenge
 *   without connecting anywhere, so no challenge server and no `pebble-challtestsrv` DNS are
 *   needed), `PEBBLE_VA_NOSLEEP=1` (no random 0-15 s validation sleeps),
 *   `PEBBLE_WFE_NONCEREJECT=0` (no deliberate `badNonce` answers).
 * - Config: written to a temp dir with `certificateValidityPeriod` (seconds; read by pebble
 *   2.4, which logs "Using certificate validity period of N seconds").
 * - TLS: pebble's listeners use a per-run self-signed certificate (Debian ships no test certs);
 *   issued certificates chain to pebble's per-run root, read from `/roots/0`.
 */

import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { isTransientNetworkError, poll } from '@sluice/core';
import { freePort } from './free-port.js';
import { httpsGet } from './https-get.js';
import { createListenerCertificate } from './listener-certificate.js';
import { startTcpGate, type TcpGate } from './tcp-gate.js';

/** Options of {@link startPebble}. */
export interface PebbleOptions {
  /**
   * Lifetime of issued certificates, in seconds (pebble's `certificateValidityPeriod`).
   * @default 20
   */
  certificateValiditySeconds?: number;
  /** The pebble executable. @default the `pebble` found on `PATH` */
  command?: string;
  /** Longest wait for the ACME directory to answer, in milliseconds. @default 15000 */
  startTimeoutMs?: number;
}

/** A running pebble. */
export interface Pebble {
  /** The ACME directory URL, through the outage gate: give this to ACME clients. */
  readonly directoryUrl: string;
  /** The management interface base URL (not behind the gate). */
  readonly managementUrl: string;
  /** PEM certificate of pebble's own HTTPS listeners: the `ca` an ACME client must trust. */
  readonly listenerCaPem: string;
  /** PEM root that issued certificates chain to (`/roots/0`): the `ca` of TLS clients. */
  readonly rootCaPem: string;
  /** The outage switch in front of the ACME port. */
  readonly gate: TcpGate;
  /** New-order requests pebble has logged so far (`POST <newOrder path>`): CA-side count. */
  ordersReceived(): number;
  /** Stops the gate and pebble and deletes the temp dir. Idempotent. */
  stop(): Promise<void>;
}

/** Where `pebble` is on `PATH`, or `undefined` when it is not installed. */
export function findPebble(): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (dir === '') continue;
    const candidate = path.join(dir, 'pebble');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** The hint printed (or thrown in CI) when pebble is missing. */
export const PEBBLE_INSTALL_HINT = 'pebble not installed: apt-get install -y pebble';

const MAX_START_ATTEMPTS = 3;
const LOG_TAIL_LINES = 30;

/**
 * Starts pebble and its gate, waits until the directory answers and reads the issuing root.
 * @throws when pebble is missing, exits early, or does not answer within `startTimeoutMs`.
 */
export async function startPebble(options: PebbleOptions = {}): Promise<Pebble> {
  const { certificateValiditySeconds = 20, startTimeoutMs = 15_000 } = options;
  if (!Number.isInteger(certificateValiditySeconds) || certificateValiditySeconds < 2) {
    throw new RangeError(
      `certificateValiditySeconds must be an integer >= 2, got ${certificateValiditySeconds}`,
    );
  }
  const command = options.command ?? findPebble();
  if (command === undefined) throw new Error(PEBBLE_INSTALL_HINT);

  const dir = await mkdtemp(path.join(tmpdir(), 'sluice-pebble-'));
  try {
    const listener = await createListenerCertificate();
    await writeFile(path.join(dir, 'cert.pem'), listener.certPem);
    await writeFile(path.join(dir, 'key.pem'), listener.keyPem, { mode: 0o600 });
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await launch(command, dir, listener.certPem, certificateValiditySeconds, {
          startTimeoutMs,
        });
      } catch (error) {
        const portRace =
          error instanceof PebbleExitError && /address already in use/.test(error.log);
        if (!portRace || attempt >= MAX_START_ATTEMPTS) throw error;
      }
    }
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

class PebbleExitError extends Error {
  readonly log: string;
  constructor(code: number | null, signal: string | null, log: string) {
    super(`pebble exited early (code ${code}, signal ${signal}):\n${log}`);
    this.name = 'PebbleExitError';
    this.log = log;
  }
}

async function launch(
  command: string,
  dir: string,
  listenerCaPem: string,
  validitySeconds: number,
  { startTimeoutMs }: { startTimeoutMs: number },
): Promise<Pebble> {
  const [acmePort, managementPort, httpPort, tlsPort] = [
    await freePort(),
    await freePort(),
    await freePort(),
    await freePort(),
  ];
  const configPath = path.join(dir, 'pebble-config.json');
  const config = {
    pebble: {
      listenAddress: `127.0.0.1:${acmePort}`,
      managementListenAddress: `127.0.0.1:${managementPort}`,
      certificate: path.join(dir, 'cert.pem'),
      privateKey: path.join(dir, 'key.pem'),
      httpPort,
      tlsPort,
      ocspResponderURL: '',
      externalAccountBindingRequired: false,
      certificateValidityPeriod: validitySeconds,
    },
  };
  await writeFile(configPath, `${JSON.stringify(config, null, 2)}\n`);

  const child = spawn(command, ['-config', configPath, '-strict=false'], {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      PEBBLE_VA_ALWAYS_VALID: '1',
      PEBBLE_VA_NOSLEEP: '1',
      PEBBLE_WFE_NONCEREJECT: '0',
    },
  });
  const killOnExit = (): void => {
    child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);

  const tail: string[] = [];
  const requests = new Map<string, number>();
  const onLine = (line: string): void => {
    tail.push(line);
    if (tail.length > LOG_TAIL_LINES) tail.shift();
    const match = /\s(GET|HEAD|POST) (\S+) -> calling handler/.exec(line);
    if (match !== null) {
      const key = `${match[1]} ${match[2]}`;
      requests.set(key, (requests.get(key) ?? 0) + 1);
    }
  };
  if (child.stdout !== null) createInterface({ input: child.stdout }).on('line', onLine);
  if (child.stderr !== null) createInterface({ input: child.stderr }).on('line', onLine);

  const exited = new Promise<PebbleExitError>((resolve) => {
    child.once('exit', (code, signal) =>
      resolve(new PebbleExitError(code, signal, tail.join('\n'))),
    );
    child.once('error', (error) =>
      resolve(new PebbleExitError(null, null, `${error.message}\n${tail.join('\n')}`)),
    );
  });
  const earlyExit = new AbortController();
  void exited.then((error) => earlyExit.abort(error));

  const directUrl = `https://127.0.0.1:${acmePort}/dir`;
  const managementUrl = `https://127.0.0.1:${managementPort}`;
  let gate: TcpGate | undefined;
  try {
    const directory = await poll(
      async ({ signal }) => {
        try {
          const res = await httpsGet(directUrl, { ca: listenerCaPem, signal, timeoutMs: 2_000 });
          if (res.status !== 200)
            return { status: 'pending', error: new Error(`HTTP ${res.status}`) };
          return { status: 'done', value: JSON.parse(res.body) as { newOrder?: unknown } };
        } catch (error) {
          if (isTransientNetworkError(error)) return { status: 'pending', error };
          throw error;
        }
      },
      {
        initialDelayMs: 50,
        multiplier: 1.5,
        maxDelayMs: 500,
        jitter: 0,
        maxWaitMs: startTimeoutMs,
        signal: earlyExit.signal,
      },
    );
    if (typeof directory.newOrder !== 'string') throw new Error('pebble directory has no newOrder');
    const newOrderKey = `POST ${new URL(directory.newOrder).pathname}`;
    const root = await httpsGet(`${managementUrl}/roots/0`, { ca: listenerCaPem });
    if (root.status !== 200 || !root.body.includes('BEGIN CERTIFICATE')) {
      throw new Error(`pebble /roots/0 answered HTTP ${root.status}`);
    }
    gate = await startTcpGate({ targetPort: acmePort });
    const activeGate = gate;
    let stopped: Promise<void> | undefined;
    return {
      directoryUrl: `https://127.0.0.1:${gate.port}/dir`,
      managementUrl,
      listenerCaPem,
      rootCaPem: root.body,
      gate,
      ordersReceived: () => requests.get(newOrderKey) ?? 0,
      stop(): Promise<void> {
        stopped ??= (async () => {
          await activeGate.close();
          await terminate(child, exited);
          process.off('exit', killOnExit);
          await rm(dir, { recursive: true, force: true });
        })();
        return stopped;
      },
    };
  } catch (error) {
    await gate?.close();
    await terminate(child, exited);
    process.off('exit', killOnExit);
    throw earlyExit.signal.aborted ? earlyExit.signal.reason : error;
  }
}

/** SIGTERM, then SIGKILL if pebble has not exited within 3 s. */
async function terminate(child: ChildProcess, exited: Promise<unknown>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => resolve('late'), 3_000);
  });
  if ((await Promise.race([exited, late])) === 'late') {
    child.kill('SIGKILL');
    await exited;
  }
  clearTimeout(timer);
}
