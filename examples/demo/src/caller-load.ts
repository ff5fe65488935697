/**
 * The caller side of the demo: steady load on a provider, with what each phase's callers got
 * (served, failed fast, other errors, latencies).
 */

import { isSluiceError, type RefreshingProvider } from '@sluice/core';
import type { AccessToken } from '@sluice/oauth';
import type { Timeline } from './timeline.js';

/** What the callers of one phase got. */
export interface PhaseStats {
  /** Calls that resolved with a token. */
  served: number;
  /** Calls that failed fast with `BreakerOpenError` (no mint, no request). */
  breakerOpen: number;
  /** Calls that rejected with anything else (a mint's own error, for example). */
  otherErrors: number;
  /** Calls that rejected although a valid token was cached when they were made. */
  errorsWhileValid: number;
  /** Latency of every served call, in milliseconds. */
  servedMs: number[];
  /** The slowest `BreakerOpenError`, in milliseconds. */
  maxFastFailMs: number;
  /** Token requests that reached the server during the phase. */
  tokenRequests: number;
  /** The distinct messages of `otherErrors`. */
  otherErrorMessages: Set<string>;
}

/** Options of {@link callInLoop}. */
export interface LoadOptions {
  /** Concurrent `get` calls per tick. */
  callersPerTick: number;
  /** Pause between ticks, in milliseconds. */
  tickMs: number;
  /** Stop after this many milliseconds even if `done` never says so. */
  deadlineMs: number;
  /** Called before each tick with the milliseconds since the loop started; true stops it. */
  done: (elapsedMs: number) => boolean;
}

/**
 * Calls `get` `callersPerTick` times concurrently every `tickMs` until `done` says so (or
 * `deadlineMs` passes), printing a `callers` row on the timeline every second. Every token
 * served is added to `seenTokens` (the token strings, kept in memory only, to check the output never shows one).
 */
export async function callInLoop(
  provider: RefreshingProvider<AccessToken>,
  timeline: Timeline,
  tokenRequests: () => number,
  seenTokens: Set<string>,
  options: LoadOptions,
): Promise<PhaseStats> {
  const stats = emptyStats();
  const requestsBefore = tokenRequests();
  const startedAt = performance.now();
  let window = { served: 0, failed: 0, at: startedAt };

  const call = async (): Promise<void> => {
    const validBefore = provider.peek() !== undefined;
    const t0 = performance.now();
    try {
      const { token } = await provider.get();
      const ms = performance.now() - t0;
      stats.served += 1;
      window.served += 1;
      stats.servedMs.push(ms);
      seenTokens.add(token);
    } catch (error) {
      const ms = performance.now() - t0;
      window.failed += 1;
      if (validBefore) stats.errorsWhileValid += 1;
      if (isSluiceError(error, 'SLUICE_BREAKER_OPEN')) {
        stats.breakerOpen += 1;
        stats.maxFastFailMs = Math.max(stats.maxFastFailMs, ms);
      } else {
        stats.otherErrors += 1;
        stats.otherErrorMessages.add(error instanceof Error ? error.message : String(error));
      }
    }
  };

  for (;;) {
    const elapsed = performance.now() - startedAt;
    if (options.done(elapsed) || elapsed > options.deadlineMs) break;
    await Promise.all(Array.from({ length: options.callersPerTick }, call));
    const now = performance.now();
    if (now - window.at >= 1_000) {
      const snapshot = provider.snapshot();
      timeline.callers(
        `last ${((now - window.at) / 1000).toFixed(1)} s: ${window.served} served, ${window.failed} failed`,
        {
          lifetimeSeconds:
            snapshot.expiresAt === null ? undefined : (snapshot.expiresAt - Date.now()) / 1000,
          breaker: snapshot.breaker.state,
        },
      );
      window = { served: 0, failed: 0, at: now };
    }
    await sleep(options.tickMs);
  }
  stats.tokenRequests = tokenRequests() - requestsBefore;
  return stats;
}

/** `median x ms, max y ms` of a list of latencies. */
export function latency(samples: readonly number[]): string {
  if (samples.length === 0) return '—';
  const sorted = [...samples].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)] as number;
  const max = sorted[sorted.length - 1] as number;
  return `median ${median.toFixed(2)} ms, max ${max.toFixed(2)} ms`;
}

export function emptyStats(): PhaseStats {
  return {
    served: 0,
    breakerOpen: 0,
    otherErrors: 0,
    errorsWhileValid: 0,
    servedMs: [],
    maxFastFailMs: 0,
    tokenRequests: 0,
    otherErrorMessages: new Set(),
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
