/**
 * Outage and recovery: the provider of the token storm, under the same sustained `get`
 * rate, while the OAuth server's token endpoint answers 503 for `outageMs`. The contract:
 * no caller sees the outage while the cached token is valid; once it has expired and the
 * breaker is open, callers fail fast; the breaker admits exactly one probe per window;
 * the first probe after the outage ends brings the token back.
 *
 * The server answers its 503s with `Retry-After: 1`, a retry hint (core 0.3.0): the first
 * failed mint opens the breaker at once for the server's second, and a failed probe for the
 * longer of that second and the cooldown.
 */

import { type BreakerStateName, createRefreshingProvider } from '@sluice/core';
import { LatencySamples } from './latency.js';
import { type MintRecord, type OAuthServer, recordedMint } from './oauth.js';
import { runOpenLoop } from './open-loop.js';
import {
  atMost,
  between,
  latencyThresholds,
  type PhaseResult,
  phase,
  type ScenarioResult,
  type ThresholdResult,
} from './scenario.js';
import type { OutageConfig } from './thresholds.js';

/** The token endpoint's `Retry-After` on its outage 503s (examples/demo's server: 1 s). */
const SERVER_RETRY_AFTER_MS = 1_000;

const PENDING = 0;
const OK = 1;
const FAILED = 2;

export async function runOutage(
  server: OAuthServer,
  config: OutageConfig,
): Promise<ScenarioResult> {
  const log: MintRecord[] = [];
  const breakerChanges: { at: number; from: BreakerStateName; to: BreakerStateName }[] = [];
  const provider = await createRefreshingProvider({
    name: 'load-outage',
    mint: recordedMint(server, log),
    refreshAt: config.refreshAt,
    jitter: config.jitter,
    refreshFloorMs: config.refreshFloorMs,
    breaker: config.breaker,
    mintTimeoutMs: 5_000,
    reporter: {
      onBreakerStateChange: (event) => {
        breakerChanges.push({ at: Date.now(), from: event.from, to: event.to });
      },
    },
  });
  const durationMs = config.warmMs + config.outageMs + config.afterMs;
  const total = Math.floor((config.ratePerSecond * durationMs) / 1000);
  const issuedAt = new Float64Array(total);
  const latencyMs = new Float64Array(total);
  const status = new Uint8Array(total);
  const errorCodes = new Map<string, number>();
  let settled = 0;
  let outageStart = Number.NaN;
  let outageEnd = Number.NaN;
  let tokenExpiresAt = Number.NaN;
  let statusAtOutage = '';

  const loop = await runOpenLoop({
    ratePerSecond: config.ratePerSecond,
    durationMs,
    batchIntervalMs: config.batchIntervalMs,
    onTick: (elapsed) => {
      if (Number.isNaN(outageStart) && elapsed >= config.warmMs) {
        const snapshot = provider.snapshot();
        statusAtOutage = snapshot.status;
        tokenExpiresAt = snapshot.expiresAt ?? Number.NaN;
        outageStart = Date.now();
        server.setOutage(true);
      } else if (Number.isNaN(outageEnd) && elapsed >= config.warmMs + config.outageMs) {
        server.setOutage(false);
        outageEnd = Date.now();
      }
    },
    fire: (index, now) => {
      issuedAt[index] = now;
      const started = performance.now();
      provider.get().then(
        () => {
          latencyMs[index] = performance.now() - started;
          status[index] = OK;
          settled += 1;
        },
        (error: unknown) => {
          latencyMs[index] = performance.now() - started;
          status[index] = FAILED;
          settled += 1;
          const code = String((error as { code?: unknown } | null)?.code ?? 'unknown');
          errorCodes.set(code, (errorCodes.get(code) ?? 0) + 1);
        },
      );
    },
  });
  while (settled < loop.issued || provider.snapshot().mintInFlight) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  provider.close();
  server.setOutage(false);

  // Judge each get by when it was issued against the outage's timeline.
  const validUntil = tokenExpiresAt - config.expiryMarginMs;
  // The first success that ended after the outage did: a probe started in its last moments
  // may reach the server once it answers again, and that probe is the recovery.
  const recovery = log.find(
    (m) => m.ok === true && m.startedAt >= outageStart && (m.endedAt ?? 0) >= outageEnd,
  );
  const recoveredAt = recovery?.endedAt ?? Number.POSITIVE_INFINITY;
  const beforeOk = new LatencySamples(total);
  const validOk = new LatencySamples(total);
  const expiredFail = new LatencySamples(total);
  const afterOk = new LatencySamples(total);
  const counts = {
    before: [0, 0],
    valid: [0, 0],
    expired: [0, 0],
    recovering: [0, 0],
    after: [0, 0],
  };
  for (let i = 0; i < loop.issued; i++) {
    const at = issuedAt[i] as number;
    const failed = status[i] !== OK;
    const latency = latencyMs[i] as number;
    let bucket: keyof typeof counts;
    if (at < outageStart) {
      bucket = 'before';
      if (!failed) beforeOk.push(latency);
    } else if (at < validUntil) {
      bucket = 'valid';
      if (!failed) validOk.push(latency);
    } else if (at < tokenExpiresAt) {
      continue; // within the expiry margin: the provider's clock read decides, not judged
    } else if (at < outageEnd) {
      bucket = 'expired';
      if (failed) expiredFail.push(latency);
    } else if (at <= recoveredAt) {
      bucket = 'recovering';
    } else {
      bucket = 'after';
      if (!failed) afterOk.push(latency);
    }
    const count = counts[bucket];
    count[0] = (count[0] as number) + 1;
    if (failed) count[1] = (count[1] as number) + 1;
  }
  const pending = status.subarray(0, loop.issued).filter((s) => s === PENDING).length;

  // The breaker: opened by the first failed mint (its Retry-After is a retry hint), then one
  // probe per window: the hint after that first failure, the longer of hint and cooldown after.
  const opened = breakerChanges.find((c) => c.to === 'open' && c.at >= outageStart);
  const openedAt = opened?.at ?? Number.POSITIVE_INFINITY;
  const outageMints = log.filter((m) => m.startedAt >= outageStart && m.startedAt <= recoveredAt);
  const beforeOpen = outageMints.filter((m) => m.startedAt <= openedAt);
  const probes = outageMints.filter((m) => m.startedAt > openedAt);
  const gaps: number[] = [];
  for (let i = 0; i < probes.length; i++) {
    const previous = i === 0 ? beforeOpen[beforeOpen.length - 1] : probes[i - 1];
    const probe = probes[i] as MintRecord;
    if (previous?.endedAt !== undefined) gaps.push(probe.startedAt - previous.endedAt);
  }
  const cooldown = config.breaker.cooldownMs;
  const shortestGap = SERVER_RETRY_AFTER_MS;
  const longestGap = Math.max(SERVER_RETRY_AFTER_MS, cooldown);
  const recoveryMs = recoveredAt - outageEnd;
  const recoveryLimit = longestGap + config.tokenTtlSeconds * 1000;
  const whileValidErrors = (counts.before[1] as number) + (counts.valid[1] as number);
  const okLatency = mergeOk([beforeOk, validOk, afterOk]);

  const phases: PhaseResult[] = [
    phase(
      'before the outage',
      counts.before[0] as number,
      counts.before[1] as number,
      beforeOk.summary(),
    ),
    phase(
      'outage, token still valid',
      counts.valid[0] as number,
      counts.valid[1] as number,
      validOk.summary(),
    ),
    phase(
      'outage, token expired',
      counts.expired[0] as number,
      counts.expired[1] as number,
      expiredFail.summary(),
      'failures',
    ),
    phase(
      'outage over, first probe pending',
      counts.recovering[0] as number,
      counts.recovering[1] as number,
      null,
    ),
    phase('recovered', counts.after[0] as number, counts.after[1] as number, afterOk.summary()),
  ];
  const thresholds: ThresholdResult[] = [
    {
      metric: 'token fresh when the outage starts',
      limit: 'fresh',
      measured: statusAtOutage,
      pass: statusAtOutage === 'fresh',
    },
    atMost(
      'errors while the token is valid',
      whileValidErrors,
      config.thresholds.maxErrorsWhileValid,
    ),
    ...latencyThresholds('successful get', okLatency, { p99Ms: config.thresholds.okP99Ms }),
    ...latencyThresholds('failure once expired', expiredFail.summary(), {
      p50Ms: config.thresholds.failP50Ms,
      p99Ms: config.thresholds.failP99Ms,
    }),
    between('mints before the breaker opens (the Retry-After opens it)', beforeOpen.length, 1, 1),
    {
      metric: 'gap between a failure and the next probe',
      limit: `${shortestGap}..${longestGap + config.thresholds.probeSlackMs} ms`,
      measured: gaps.length === 0 ? 'no probes' : `${Math.min(...gaps)}..${Math.max(...gaps)} ms`,
      pass:
        gaps.length > 0 &&
        Math.min(...gaps) >= shortestGap &&
        Math.max(...gaps) <= longestGap + config.thresholds.probeSlackMs,
    },
    atMost('recovery after the outage ends', recoveryMs, recoveryLimit, ' ms'),
    atMost(
      'errors after recovery',
      counts.after[1] as number,
      config.thresholds.maxErrorsAfterRecovery,
    ),
    atMost('gets never settled', pending, 0),
  ];

  return {
    id: 'outage',
    title: 'Outage and recovery',
    setup: `same server and policy, token endpoint 503 for ${config.outageMs / 1000} s, breaker ${config.breaker.failureThreshold} failures / ${cooldown} ms cooldown`,
    load: `${config.ratePerSecond.toLocaleString('en-US')} get/s (batch every ${config.batchIntervalMs} ms)`,
    durationMs,
    wallMs: Math.round(loop.wallMs),
    mints: log.filter((m) => m.reason !== 'initial').length,
    phases,
    thresholds,
    details: {
      issued: loop.issued,
      scheduleLag: loop.scheduleLag,
      timelineMs: {
        outageStart: 0,
        tokenExpires: tokenExpiresAt - outageStart,
        breakerOpened: openedAt - outageStart,
        outageEnd: outageEnd - outageStart,
        recovered: recoveredAt - outageStart,
      },
      probes: probes.length,
      probeGapsMs: gaps,
      recoveryMs,
      errorCodes: Object.fromEntries(errorCodes),
      breakerChanges: breakerChanges.map((c) => ({ ...c, at: c.at - outageStart })),
      mints: log.map((m) => ({
        startedAt: m.startedAt - outageStart,
        durationMs: (m.endedAt ?? Number.NaN) - m.startedAt,
        reason: m.reason,
        ok: m.ok,
      })),
    },
  };
}

function mergeOk(parts: readonly LatencySamples[]): ReturnType<LatencySamples['summary']> {
  const merged = new LatencySamples(parts.reduce((sum, part) => sum + part.count, 0));
  for (const part of parts) {
    part.forEach((ms) => {
      merged.push(ms);
    });
  }
  return merged.summary();
}
