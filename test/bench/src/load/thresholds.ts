/**
 * The load tiers and their threshold contracts, in one place.
 *
 * The thresholds are regression guards, not measured baselines: each is set several times
 * looser than what a loaded 2-core machine measures (see docs/load.md for the figures), so
 * scheduling noise does not fail a run, and each still fails on the regression named beside
 * it. The `short` tier runs the same scenarios for a few seconds each with proportionally
 * shorter tokens, outages and cooldowns (it runs in CI); the `full` tier is the one whose
 * figures docs/load.md reports.
 */

export type TierName = 'full' | 'short';

/** The refresh policy under test (the provider's own options). */
export interface RefreshKnobs {
  readonly refreshAt: number;
  readonly jitter: number;
  readonly refreshFloorMs: number;
}

/** Token storm: one provider, a real OAuth server on loopback, a sustained `get` rate. */
export interface TokenStormConfig extends RefreshKnobs {
  readonly tokenTtlSeconds: number;
  readonly ratePerSecond: number;
  readonly durationMs: number;
  readonly batchIntervalMs: number;
  readonly thresholds: {
    /** `get` latency percentiles, ms. A mint per `get` or a blocking refresh breaks these. */
    readonly p50Ms: number;
    readonly p95Ms: number;
    readonly p99Ms: number;
    /** Failed `get`s / all `get`s. Any failure is a regression. */
    readonly maxErrorRate: number;
    /**
     * Extra time a refresh period may take beyond its due point (the tick that notices it
     * plus the mint's round trip), ms. Only widens the lower bound of the mint count.
     */
    readonly periodSlackMs: number;
  };
}

/** Outage and recovery: the same server answers 503 for `outageMs`. */
export interface OutageConfig extends RefreshKnobs {
  readonly tokenTtlSeconds: number;
  readonly ratePerSecond: number;
  readonly batchIntervalMs: number;
  /** Normal service before the outage, ms (shorter than the token's due point). */
  readonly warmMs: number;
  readonly outageMs: number;
  /** Normal service after the outage ends, ms (longer than cooldown + first success). */
  readonly afterMs: number;
  readonly breaker: { readonly failureThreshold: number; readonly cooldownMs: number };
  readonly thresholds: {
    /** Failed `get`s issued while the cached token was still valid. Must be 0. */
    readonly maxErrorsWhileValid: number;
    /**
     * Failure latency once expired with the breaker open, ms: failing fast. The p99 includes
     * the callers that joined a probe (they wait for its 503), hence looser than the p50.
     */
    readonly failP50Ms: number;
    readonly failP99Ms: number;
    /** Successful `get` latency (valid and recovered phases), ms. */
    readonly okP99Ms: number;
    /** A probe may start at most this long after its cooldown elapsed, ms. */
    readonly probeSlackMs: number;
    /** Failed `get`s issued after the first successful mint that ended the outage. Must be 0. */
    readonly maxErrorsAfterRecovery: number;
  };
  /** Gets this close to the token's expiry (ms) race the provider's own clock read: not judged. */
  readonly expiryMarginMs: number;
}

/** Handshake storm: a TLS server whose SNICallback is `@sluice/tls`, many servernames. */
export interface HandshakeConfig {
  /** Distinct servernames, each minted on first use by a local CA. */
  readonly names: number;
  /** Handshakes started at once per name in the cold phase (they must share one mint). */
  readonly coldPerName: number;
  /** Handshakes per second, cold and warm phases (open loop, from a worker thread). */
  readonly ratePerSecond: number;
  readonly warmDurationMs: number;
  readonly batchIntervalMs: number;
  readonly thresholds: {
    readonly coldP99Ms: number;
    readonly warmP50Ms: number;
    readonly warmP99Ms: number;
    /** Failed handshakes / all handshakes. Must be 0. */
    readonly maxErrorRate: number;
  };
}

export interface Tier {
  readonly tokenStorm: TokenStormConfig;
  readonly outage: OutageConfig;
  readonly handshake: HandshakeConfig;
}

const POLICY: Omit<RefreshKnobs, 'refreshFloorMs'> = { refreshAt: 0.8, jitter: 0.1 };

export const TIERS: Readonly<Record<TierName, Tier>> = {
  full: {
    tokenStorm: {
      ...POLICY,
      refreshFloorMs: 1_000,
      tokenTtlSeconds: 5,
      ratePerSecond: 20_000,
      durationMs: 30_000,
      batchIntervalMs: 5,
      thresholds: { p50Ms: 2, p95Ms: 10, p99Ms: 25, maxErrorRate: 0, periodSlackMs: 250 },
    },
    outage: {
      ...POLICY,
      refreshFloorMs: 1_000,
      tokenTtlSeconds: 5,
      ratePerSecond: 20_000,
      batchIntervalMs: 5,
      warmMs: 2_000,
      outageMs: 20_000,
      afterMs: 6_000,
      breaker: { failureThreshold: 3, cooldownMs: 2_000 },
      expiryMarginMs: 10,
      thresholds: {
        maxErrorsWhileValid: 0,
        failP50Ms: 5,
        failP99Ms: 50,
        okP99Ms: 25,
        probeSlackMs: 500,
        maxErrorsAfterRecovery: 0,
      },
    },
    handshake: {
      names: 200,
      coldPerName: 2,
      ratePerSecond: 100,
      warmDurationMs: 20_000,
      batchIntervalMs: 10,
      thresholds: { coldP99Ms: 3_000, warmP50Ms: 100, warmP99Ms: 2_000, maxErrorRate: 0 },
    },
  },
  short: {
    tokenStorm: {
      ...POLICY,
      refreshFloorMs: 500,
      tokenTtlSeconds: 2,
      ratePerSecond: 20_000,
      durationMs: 5_000,
      batchIntervalMs: 5,
      thresholds: { p50Ms: 2, p95Ms: 10, p99Ms: 25, maxErrorRate: 0, periodSlackMs: 250 },
    },
    outage: {
      ...POLICY,
      refreshFloorMs: 500,
      tokenTtlSeconds: 2,
      ratePerSecond: 20_000,
      batchIntervalMs: 5,
      warmMs: 500,
      outageMs: 3_000,
      afterMs: 1_500,
      breaker: { failureThreshold: 3, cooldownMs: 500 },
      expiryMarginMs: 10,
      thresholds: {
        maxErrorsWhileValid: 0,
        failP50Ms: 5,
        failP99Ms: 50,
        okP99Ms: 25,
        probeSlackMs: 250,
        maxErrorsAfterRecovery: 0,
      },
    },
    handshake: {
      names: 50,
      coldPerName: 2,
      ratePerSecond: 50,
      warmDurationMs: 3_000,
      batchIntervalMs: 10,
      thresholds: { coldP99Ms: 3_000, warmP50Ms: 100, warmP99Ms: 2_000, maxErrorRate: 0 },
    },
  },
};

/** The shortest and longest time from a token's issue to its due point, ms. */
export function dueDelayRangeMs(knobs: RefreshKnobs, lifetimeMs: number): [number, number] {
  const cap = lifetimeMs - knobs.refreshFloorMs;
  const earliest = Math.max(0, Math.min(lifetimeMs * (knobs.refreshAt - knobs.jitter), cap));
  const latest = Math.max(0, Math.min(lifetimeMs * knobs.refreshAt, cap));
  return [earliest, latest];
}

/**
 * The mint-count contract of the token storm: with a `get` every few milliseconds a
 * refresh starts at each due point, so refreshes are `period` apart with `period` between
 * the earliest due delay and the latest one plus `periodSlackMs`. A window of `durationMs`
 * holds from floor(duration / longest period) to ceil(duration / shortest period) of them:
 * with 5 s tokens, refreshAt 0.8, jitter 0.1 and a 1 s floor the period is 3.5 to 4.0 s
 * (mean 3.75 s), so 30 s expect 8, accepted 7 to 9 (8 ± 1). The initial mint before the
 * window is not counted. A second mint per period, or one per `get`, exceeds the maximum;
 * refreshing only on expiry (period 5 s: 6) falls below the minimum.
 */
export function expectedMints(config: TokenStormConfig): {
  min: number;
  max: number;
  expected: number;
} {
  const [earliest, latest] = dueDelayRangeMs(config, config.tokenTtlSeconds * 1000);
  const mean = (earliest + latest) / 2;
  return {
    min: Math.floor(config.durationMs / (latest + config.thresholds.periodSlackMs)),
    max: Math.ceil(config.durationMs / earliest),
    expected: Math.round(config.durationMs / mean),
  };
}
