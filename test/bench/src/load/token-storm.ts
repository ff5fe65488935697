/**
 * Token storm: one refreshing provider in front of the real OAuth server on loopback, and
 * a sustained open-loop `get` rate. Every `get` must be served from the cache (fast, no
 * error) while exactly one background refresh runs per refresh period.
 */

import { createRefreshingProvider } from '@sluice/core';
import { LatencySamples } from './latency.js';
import { type MintRecord, type OAuthServer, recordedMint } from './oauth.js';
import { runOpenLoop } from './open-loop.js';
import { atMost, between, latencyThresholds, phase, type ScenarioResult } from './scenario.js';
import { dueDelayRangeMs, expectedMints, type TokenStormConfig } from './thresholds.js';

export async function runTokenStorm(
  server: OAuthServer,
  config: TokenStormConfig,
): Promise<ScenarioResult> {
  const log: MintRecord[] = [];
  const provider = await createRefreshingProvider({
    name: 'load-token-storm',
    mint: recordedMint(server, log),
    refreshAt: config.refreshAt,
    jitter: config.jitter,
    refreshFloorMs: config.refreshFloorMs,
    mintTimeoutMs: 5_000,
  });
  const total = Math.floor((config.ratePerSecond * config.durationMs) / 1000);
  const ok = new LatencySamples(total);
  let errors = 0;
  let wrongValue = 0;
  let settled = 0;
  const tokensBefore = server.tokensIssued();
  const windowStart = Date.now();

  const loop = await runOpenLoop({
    ratePerSecond: config.ratePerSecond,
    durationMs: config.durationMs,
    batchIntervalMs: config.batchIntervalMs,
    fire: () => {
      const started = performance.now();
      provider.get().then(
        (token) => {
          ok.push(performance.now() - started);
          if (typeof token !== 'string' || token.length === 0) wrongValue += 1;
          settled += 1;
        },
        () => {
          errors += 1;
          settled += 1;
        },
      );
    },
  });
  const windowEnd = Date.now();
  // Let the last calls and any mint in flight settle before counting.
  while (settled < loop.issued || provider.snapshot().mintInFlight) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  provider.close();

  const inWindow = log.filter((m) => m.startedAt >= windowStart && m.startedAt <= windowEnd);
  const mints = inWindow.length;
  const expiredMints = inWindow.filter((m) => m.reason !== 'proactive').length;
  const failedMints = inWindow.filter((m) => m.ok !== true).length;
  const range = expectedMints(config);
  const latency = ok.summary();
  const failures = errors + wrongValue;
  const errorRate = loop.issued === 0 ? 0 : failures / loop.issued;
  const [earliest, latest] = dueDelayRangeMs(config, config.tokenTtlSeconds * 1000);
  const starts = inWindow.map((m) => m.startedAt);
  const periods = starts.slice(1).map((at, i) => at - (starts[i] as number));

  return {
    id: 'token-storm',
    title: 'Token storm',
    setup: `1 provider, oidc-provider on loopback, ${config.tokenTtlSeconds} s tokens, refreshAt ${config.refreshAt}, jitter ${config.jitter}, refreshFloorMs ${config.refreshFloorMs}`,
    load: `${config.ratePerSecond.toLocaleString('en-US')} get/s (batch every ${config.batchIntervalMs} ms)`,
    durationMs: config.durationMs,
    wallMs: Math.round(loop.wallMs),
    mints,
    phases: [phase('all gets', loop.issued, failures, latency)],
    thresholds: [
      ...latencyThresholds('get', latency, config.thresholds),
      atMost('error rate', errorRate, config.thresholds.maxErrorRate),
      between(`mints in window (expected ${range.expected})`, mints, range.min, range.max),
      atMost('mints not proactive (expired/initial)', expiredMints, 0),
      atMost('failed mints', failedMints, 0),
    ],
    details: {
      issued: loop.issued,
      batches: loop.batches,
      scheduleLag: loop.scheduleLag,
      dueDelayRangeMs: [earliest, latest],
      expectedMints: range,
      refreshPeriodsMs: periods,
      tokensIssuedByServer: server.tokensIssued() - tokensBefore,
      mintDurationsMs: inWindow.map((m) => (m.endedAt ?? Number.NaN) - m.startedAt),
    },
  };
}
