/**
 * Handshake storm: a TLS server on loopback whose SNICallback is `@sluice/tls`, and many
 * servernames, each issued on first use by a local CA. Cold phase: every name's first
 * handshakes arrive together (they must share one mint); warm phase: a sustained open-loop
 * handshake rate over random names, all served from the cache. The clients run in a worker
 * thread, so the server's thread is the one under load; every handshake verifies the chain
 * and the name.
 */

import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
import { Worker } from 'node:worker_threads';
import { createSniCallback } from '../../../../packages/tls/src/index.js';
import { createLocalCa } from '../../../../packages/tls/test/support/local-ca.js';
import { LatencySamples } from './latency.js';
import { atMost, between, latencyThresholds, phase, type ScenarioResult } from './scenario.js';
import type { HandshakeConfig } from './thresholds.js';

/** What the client worker reports for one phase. */
interface ClientReport {
  readonly latenciesMs: number[];
  readonly errors: number;
  readonly firstErrors: string[];
  readonly wallMs: number;
}

// The client: groups of handshakes offered at a fixed rate (open loop), one batch every
// `batchIntervalMs`; latency from connect() to 'secureConnect'.
const CLIENT = `
const tls = require('node:tls');
const { parentPort } = require('node:worker_threads');
parentPort.on('message', ({ port, caPem, groups, groupsPerSecond, batchIntervalMs }) => {
  const latenciesMs = [];
  const firstErrors = [];
  let errors = 0, settled = 0, issued = 0, expected = 0;
  for (const group of groups) expected += group.length;
  const started = performance.now();
  const finish = () => {
    if (settled === expected && issued === groups.length) {
      parentPort.postMessage({ latenciesMs, errors, firstErrors, wallMs: performance.now() - started });
    }
  };
  const one = (servername) => {
    const t0 = performance.now();
    const socket = tls.connect({ host: '127.0.0.1', port, servername, ca: [caPem] });
    socket.once('secureConnect', () => {
      latenciesMs.push(performance.now() - t0);
      settled++;
      socket.destroy();
      finish();
    });
    socket.once('error', (error) => {
      errors++;
      settled++;
      if (firstErrors.length < 5) firstErrors.push(servername + ': ' + error.message);
      socket.destroy();
      finish();
    });
  };
  const perMs = groupsPerSecond / 1000;
  const tick = () => {
    const owed = Math.min(groups.length, Math.floor((performance.now() - started) * perMs) + 1);
    while (issued < owed) for (const name of groups[issued++]) one(name);
    if (issued < groups.length) setTimeout(tick, batchIntervalMs);
  };
  tick();
});
`;

export async function runHandshakeStorm(config: HandshakeConfig): Promise<ScenarioResult> {
  const ca = await createLocalCa();
  const names = Array.from({ length: config.names }, (_, i) => `host-${i}.load.sluice.example`);
  const allowed = new Set(names);
  const mintsPerName = new Map<string, number>();
  let mintErrors = 0;
  const sni = createSniCallback({
    name: 'load-handshake',
    certificates: async (servername) => {
      mintsPerName.set(servername, (mintsPerName.get(servername) ?? 0) + 1);
      try {
        const leaf = await ca.issue(servername);
        return { value: leaf.certificate, expiresAt: leaf.notAfter };
      } catch (error) {
        mintErrors += 1;
        throw error;
      }
    },
    allow: (servername) => allowed.has(servername),
    maxKeys: config.names * 2,
  });
  const server = tls.createServer({ SNICallback: sni }, (socket) => {
    socket.on('error', () => {});
    socket.end();
  });
  server.on('tlsClientError', () => {});
  await new Promise<void>((resolve) => {
    server.listen({ port: 0, host: '127.0.0.1', backlog: 2048 }, resolve);
  });
  const port = (server.address() as AddressInfo).port;
  const worker = new Worker(CLIENT, { eval: true });

  const drive = (groups: string[][], groupsPerSecond: number): Promise<ClientReport> => {
    const reply = new Promise<ClientReport>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    worker.postMessage({
      port,
      caPem: ca.caPem,
      groups,
      groupsPerSecond,
      batchIntervalMs: config.batchIntervalMs,
    });
    return reply;
  };

  try {
    const coldGroups = names.map((name) => Array<string>(config.coldPerName).fill(name));
    const cold = await drive(coldGroups, config.ratePerSecond / config.coldPerName);
    const mintsAfterCold = total(mintsPerName);
    const warmCount = Math.floor((config.ratePerSecond * config.warmDurationMs) / 1000);
    let seed = 0x5eed;
    const warmGroups = Array.from({ length: warmCount }, () => {
      seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0;
      return [names[seed % names.length] as string];
    });
    const warm = await drive(warmGroups, config.ratePerSecond);
    const mints = total(mintsPerName);
    const coldLatency = summarize(cold.latenciesMs);
    const warmLatency = summarize(warm.latenciesMs);
    const coldCalls = config.names * config.coldPerName;
    const errorRate = (cold.errors + warm.errors) / (coldCalls + warmCount);
    const maxPerName = Math.max(0, ...mintsPerName.values());

    return {
      id: 'handshake',
      title: 'Handshake storm',
      setup: `tls.createServer + createSniCallback, ${config.names} servernames issued on demand by a local ECDSA CA, clients in a worker thread`,
      load: `${config.ratePerSecond} handshakes/s; cold: ${config.coldPerName} at once per name`,
      durationMs: (coldCalls / config.ratePerSecond) * 1000 + config.warmDurationMs,
      wallMs: Math.round(cold.wallMs + warm.wallMs),
      mints,
      phases: [
        phase(`cold (${config.names} names)`, coldCalls, cold.errors, coldLatency),
        phase('warm (random names)', warmCount, warm.errors, warmLatency),
      ],
      thresholds: [
        ...latencyThresholds('cold handshake', coldLatency, { p99Ms: config.thresholds.coldP99Ms }),
        ...latencyThresholds('warm handshake', warmLatency, {
          p50Ms: config.thresholds.warmP50Ms,
          p99Ms: config.thresholds.warmP99Ms,
        }),
        atMost('handshake error rate', errorRate, config.thresholds.maxErrorRate),
        between('mints (one per name)', mints, config.names, config.names),
        atMost('mints for one name', maxPerName, 1),
        atMost('mints in the warm phase', mints - mintsAfterCold, 0),
      ],
      details: {
        coldWallMs: Math.round(cold.wallMs),
        warmWallMs: Math.round(warm.wallMs),
        mintErrors,
        firstErrors: [...cold.firstErrors, ...warm.firstErrors],
      },
    };
  } finally {
    await worker.terminate();
    sni.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

function total(counts: Map<string, number>): number {
  let sum = 0;
  for (const count of counts.values()) sum += count;
  return sum;
}

function summarize(values: readonly number[]): ReturnType<LatencySamples['summary']> {
  const samples = new LatencySamples(values.length);
  for (const value of values) samples.push(value);
  return samples.summary();
}
