/**
 * @sluice/tls benchmark. Run from the repository root:
 *
 *   node --import tsx test/bench/src/tls-handshake.ts
 *
 * 1. Warm-cache full TLS handshakes per second through `createSniCallback` versus a plain
 *    SNICallback that hands back one prebuilt SecureContext (the floor). The server runs on
 *    the main thread; the clients run in a worker thread, so the server's thread is the one
 *    measured. Variants alternate; each round lasts ROUND_MS; the median round counts.
 * 2. `keyed.get` cost with 1 cached key versus 100,000 (median of rounds, ns per call).
 * 3. Heap per cached key of a keyed provider (with gc), and memory per SecureContext.
 *
 * Prints a table and writes bench-results/tls.json. Numbers depend on the machine: compare
 * variants measured in the same run, not across machines.
 */

import { mkdirSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import tls, { type SecureContext } from 'node:tls';
import v8 from 'node:v8';
import vm from 'node:vm';
import { Worker } from 'node:worker_threads';
import { createKeyedProvider } from '@sluice/core';
import { createSniCallback } from '../../../packages/tls/src/index.js';
import { createLocalCa } from '../../../packages/tls/test/support/local-ca.js';
import { describeEnvironment } from './environment.js';

const ROUND_MS = Number(process.env.TLS_BENCH_ROUND_MS ?? 3_000);
const ROUNDS = Number(process.env.TLS_BENCH_ROUNDS ?? 8);
const CONCURRENCY = 16;
const SERVERNAME = 'bench.sluice.example';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

type Sni = (
  servername: string,
  callback: (error: Error | null, ctx?: SecureContext) => void,
) => void;

async function listen(sni: Sni): Promise<{ port: number; close: () => Promise<void> }> {
  const server = tls.createServer({ SNICallback: sni }, (socket) => {
    socket.on('error', () => {});
    socket.end();
  });
  server.on('tlsClientError', () => {});
  await new Promise<void>((resolve) => {
    server.listen({ port: 0, host: '127.0.0.1', backlog: 1024 }, resolve);
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

// The client: a closed loop of CONCURRENCY full handshakes at a time, in a worker thread.
const CLIENT = `
const tls = require('node:tls');
const { parentPort } = require('node:worker_threads');
parentPort.on('message', ({ port, caPem, servername, durationMs, concurrency }) => {
  let done = 0, failed = 0, running = true;
  const deadline = Date.now() + durationMs;
  const one = () => {
    if (!running) return;
    const socket = tls.connect({ host: '127.0.0.1', port, servername, ca: [caPem] });
    socket.once('secureConnect', () => { done++; socket.destroy(); next(); });
    socket.once('error', () => { failed++; socket.destroy(); next(); });
  };
  let live = concurrency;
  const next = () => {
    if (Date.now() < deadline) { one(); return; }
    running = false;
    if (--live === 0) parentPort.postMessage({ done, failed, ms: durationMs });
  };
  for (let i = 0; i < concurrency; i++) one();
});
`;

async function handshakesPerSecond(worker: Worker, port: number, caPem: string): Promise<number> {
  const reply = new Promise<{ done: number; failed: number; ms: number }>((resolve) =>
    worker.once('message', resolve),
  );
  worker.postMessage({
    port,
    caPem,
    servername: SERVERNAME,
    durationMs: ROUND_MS,
    concurrency: CONCURRENCY,
  });
  const { done, failed, ms } = await reply;
  if (failed > 0) throw new Error(`${failed} handshakes failed`);
  return (done * 1000) / ms;
}

async function benchHandshakes(): Promise<Record<string, unknown>> {
  const ca = await createLocalCa();
  const leaf = await ca.issue(SERVERNAME);
  const prebuilt = tls.createSecureContext(leaf.certificate);
  const floor = await listen((_servername, callback) => callback(null, prebuilt));
  const sni = createSniCallback({
    certificates: () => ({ value: leaf.certificate, expiresAt: Date.now() + 3_600_000 }),
    allow: (servername) => servername === SERVERNAME,
  });
  const guarded = await listen(sni);
  const worker = new Worker(CLIENT, { eval: true });
  try {
    // Warm both paths (and the certificate cache) with a short round each.
    const warm = Math.min(ROUND_MS, 1_000);
    for (const port of [floor.port, guarded.port]) {
      await handshakesPerSecondFor(worker, port, ca.caPem, warm);
    }
    const floorRounds: number[] = [];
    const sniRounds: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      // Alternate which variant goes first, so drift hits both equally.
      const order = round % 2 === 0 ? (['floor', 'sni'] as const) : (['sni', 'floor'] as const);
      for (const variant of order) {
        const port = variant === 'floor' ? floor.port : guarded.port;
        (variant === 'floor' ? floorRounds : sniRounds).push(
          await handshakesPerSecond(worker, port, ca.caPem),
        );
      }
    }
    // Each round's pair ran back to back: the median of the pair ratios resists drift in
    // machine load better than the ratio of the two medians.
    const pairRatios = floorRounds.map((floorRate, i) => (sniRounds[i] as number) / floorRate);
    const floorMedian = median(floorRounds);
    const sniMedian = median(sniRounds);
    return {
      roundMs: ROUND_MS,
      rounds: ROUNDS,
      concurrency: CONCURRENCY,
      floorHandshakesPerSecond: Math.round(floorMedian),
      sniHandshakesPerSecond: Math.round(sniMedian),
      floorRounds: floorRounds.map(Math.round),
      sniRounds: sniRounds.map(Math.round),
      sniVsFloor: Number((sniMedian / floorMedian).toFixed(4)),
      sniVsFloorPairedMedian: Number(median(pairRatios).toFixed(4)),
      target: 'sniVsFloorPairedMedian >= 0.95',
    };
  } finally {
    await worker.terminate();
    sni.close();
    await floor.close();
    await guarded.close();
  }
}

async function handshakesPerSecondFor(
  worker: Worker,
  port: number,
  caPem: string,
  durationMs: number,
): Promise<void> {
  const reply = new Promise((resolve) => worker.once('message', resolve));
  worker.postMessage({ port, caPem, servername: SERVERNAME, durationMs, concurrency: CONCURRENCY });
  await reply;
}

/** The warm callback's own cost, without sockets: µs per completed callback. */
async function benchCallback(): Promise<Record<string, unknown>> {
  const ca = await createLocalCa();
  const leaf = await ca.issue(SERVERNAME);
  const prebuilt = tls.createSecureContext(leaf.certificate);
  const sni = createSniCallback({
    certificates: () => ({ value: leaf.certificate, expiresAt: Date.now() + 3_600_000 }),
    allow: (servername) => servername === SERVERNAME,
  });
  const floor: Sni = (_servername, callback) => callback(null, prebuilt);
  const CALLS = 100_000;
  const run = async (callbackFn: Sni): Promise<number> => {
    const started = performance.now();
    for (let i = 0; i < CALLS; i += 100) {
      await Promise.all(
        Array.from(
          { length: 100 },
          () =>
            new Promise<void>((resolve, reject) =>
              callbackFn(SERVERNAME, (error) => (error === null ? resolve() : reject(error))),
            ),
        ),
      );
    }
    return ((performance.now() - started) * 1000) / CALLS;
  };
  await run(sni);
  await run(floor);
  const sniUs: number[] = [];
  const floorUs: number[] = [];
  for (let round = 0; round < 7; round++) {
    sniUs.push(await run(sni));
    floorUs.push(await run(floor));
  }
  sni.close();
  return {
    sniMicrosecondsPerCall: Number(median(sniUs).toFixed(2)),
    floorMicrosecondsPerCall: Number(median(floorUs).toFixed(2)),
  };
}

/**
 * `keyed.get` with 1 versus 100,000 cached keys, two ways:
 * - the same hot key: isolates any per-call work that grows with the number of keys (the
 *   target: flat within 1.3x);
 * - a pseudo-random visiting order: at 100,000 keys every call misses the CPU caches, so it
 *   is also reported against a bare `Map.get` floor visiting the same keys in the same order.
 */
async function benchKeyedGet(): Promise<Record<string, unknown>> {
  const value = { key: 'k', cert: 'c' };
  const result: Record<string, unknown> = {};
  const CALLS = 1_000_000;
  const timed = (call: (i: number) => void): number => {
    const rounds: number[] = [];
    for (let round = 0; round < 9; round++) {
      const started = performance.now();
      for (let i = 0; i < CALLS; i++) call(i);
      rounds.push(((performance.now() - started) * 1e6) / CALLS);
    }
    return Number(median(rounds.slice(2)).toFixed(1));
  };
  for (const keys of [1, 100_000]) {
    const provider = createKeyedProvider<string, typeof value>({
      mint: () => ({ value, expiresAt: Date.now() + 3_600_000 }),
      maxKeys: 200_000,
    });
    const names = Array.from({ length: keys }, (_, i) => `host-${i}.bench.example`);
    for (const name of names) await provider.getCredential(name);
    const order = new Uint32Array(CALLS);
    let seed = 12345;
    for (let i = 0; i < CALLS; i++) {
      seed = (seed * 1_103_515_245 + 12_345) >>> 0;
      order[i] = seed % keys;
    }
    const hot = names[0] as string;
    result[`hotKeyNs_${keys}Keys`] = timed(() => provider.get(hot));
    result[`randomNs_${keys}Keys`] = timed((i) =>
      provider.get(names[order[i] as number] as string),
    );
    const floor = new Map(names.map((name) => [name, { value, lastUsedAt: 0 }]));
    result[`mapFloorNs_${keys}Keys`] = timed((i) => {
      const entry = floor.get(names[order[i] as number] as string) as { lastUsedAt: number };
      entry.lastUsedAt = i;
    });
    provider.close();
  }
  const ratio = (a: string, b: string) =>
    Number(((result[a] as number) / (result[b] as number)).toFixed(3));
  result.hotKeyRatio = ratio('hotKeyNs_100000Keys', 'hotKeyNs_1Keys');
  result.randomRatio = ratio('randomNs_100000Keys', 'randomNs_1Keys');
  result.mapFloorRatio = ratio('mapFloorNs_100000Keys', 'mapFloorNs_1Keys');
  result.target = 'hotKeyRatio <= 1.3';
  return result;
}

async function benchMemory(): Promise<Record<string, unknown>> {
  // SecureContexts first, while the heap is small: their memory is OpenSSL's (RSS), not V8's.
  const ca = await createLocalCa();
  const leaf = await ca.issue('memory.sluice.example');
  const CONTEXTS = 2_000;
  gc();
  gc();
  const beforeContexts = process.memoryUsage().rss;
  const contexts: SecureContext[] = [];
  for (let i = 0; i < CONTEXTS; i++) contexts.push(tls.createSecureContext(leaf.certificate));
  gc();
  const afterContexts = process.memoryUsage().rss;

  const KEYS = 100_000;
  const value = { key: 'k', cert: 'c' };
  const names = Array.from({ length: KEYS }, (_, i) => `host-${i}.memory.example`);
  gc();
  gc();
  const before = process.memoryUsage().heapUsed;
  const provider = createKeyedProvider<string, typeof value>({
    mint: () => ({ value, expiresAt: Date.now() + 3_600_000 }),
    maxKeys: 200_000,
  });
  for (const name of names) await provider.getCredential(name);
  gc();
  gc();
  const after = process.memoryUsage().heapUsed;
  provider.close();
  return {
    keys: KEYS,
    heapBytesPerCachedKey: Math.round((after - before) / KEYS),
    note: 'keyed provider entry with a shared value, servername strings excluded (allocated before)',
    secureContexts: contexts.length,
    rssBytesPerSecureContext: Math.round((afterContexts - beforeContexts) / CONTEXTS),
  };
}

const handshakes = await benchHandshakes();
const callback = await benchCallback();
const keyedGet = await benchKeyedGet();
const memory = await benchMemory();
const results = {
  ...describeEnvironment(),
  command: 'pnpm bench:tls',
  handshakes,
  callback,
  keyedGet,
  memory,
};

console.table({
  'handshakes/s, prebuilt SecureContext (floor)': { value: handshakes.floorHandshakesPerSecond },
  'handshakes/s, createSniCallback (warm)': { value: handshakes.sniHandshakesPerSecond },
  'createSniCallback / floor, ratio of medians': { value: handshakes.sniVsFloor },
  'createSniCallback / floor, paired (target >= 0.95)': {
    value: handshakes.sniVsFloorPairedMedian,
  },
  'callback µs, createSniCallback (warm, no socket)': { value: callback.sniMicrosecondsPerCall },
  'callback µs, prebuilt SecureContext': { value: callback.floorMicrosecondsPerCall },
  'keyed.get ns, same key, 1 key cached': { value: keyedGet.hotKeyNs_1Keys },
  'keyed.get ns, same key, 100,000 keys cached': { value: keyedGet.hotKeyNs_100000Keys },
  'same key: 100,000 / 1 (target <= 1.3)': { value: keyedGet.hotKeyRatio },
  'keyed.get ns, random key of 1 / 100,000': {
    value: `${keyedGet.randomNs_1Keys} / ${keyedGet.randomNs_100000Keys}`,
  },
  'bare Map.get ns, random key of 1 / 100,000': {
    value: `${keyedGet.mapFloorNs_1Keys} / ${keyedGet.mapFloorNs_100000Keys}`,
  },
  'random key: 100,000 / 1, keyed vs bare Map': {
    value: `${keyedGet.randomRatio} vs ${keyedGet.mapFloorRatio}`,
  },
  'heap bytes per cached key': { value: memory.heapBytesPerCachedKey },
  'rss bytes per SecureContext': { value: memory.rssBytesPerSecureContext },
});
const resultsDir = new URL('../../../bench-results/', import.meta.url);
mkdirSync(resultsDir, { recursive: true });
const resultsFile = new URL('tls.json', resultsDir);
writeFileSync(resultsFile, `${JSON.stringify(results, null, 2)}\n`);
console.log(`wrote ${resultsFile.pathname}`);
