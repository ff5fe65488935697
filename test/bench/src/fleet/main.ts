/**
 * `pnpm bench:fleet`: @sluice/redis against a real redis-server and the demo's real OAuth
 * server (oidc-provider, client_credentials), 1,000 instances in this one process, each with
 * its own Redis connections. Every figure the issue asks for, in one run:
 *
 * 1. `get()` hot path with coordination vs without (mitata, interleaved rounds, ratio);
 * 2. latency the coordinator adds to the mint path (leader: load-or-lease + store; follower:
 *    load-or-lease that adopts), p50 and p99 over a loop on loopback;
 * 3. boot herd: 1,000 instances start together, upstream token requests;
 * 4. steady state over 10 token lifetimes: upstream mints per lifetime and Redis commands per
 *    instance per lifetime (INFO commandstats), with the default policy and with the fleet
 *    policy of docs/fleet.md, and 1,000 uncoordinated providers as the baseline;
 * 5. a 10-minute issuer outage compressed 60x (one minute is one second): fleet-wide upstream
 *    attempts, coordinated and uncoordinated, and errors while a valid token was held.
 *
 * Writes bench-results/fleet.json (with the environment) and prints the tables. Exits 1 only
 * when the boot herd made more than one mint (a broken protocol); the targets are reported.
 * Needs `pnpm build` first (it imports the built packages) and redis-server on PATH.
 */

import { mkdir, writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { type Credential, createRefreshingProvider, type Mint } from '@sluice/core';
import { createRedisCoordinator } from '@sluice/redis';
import { Redis } from 'ioredis';
import { do_not_optimize, measure } from 'mitata';
import { type OAuthServer, startOAuthServer } from '../../../../examples/demo/src/oauth-server.js';
import { createClientCredentialsMint } from '../../../../examples/fleet/src/oauth-mint.js';
import { startRedisServer } from '../../../../packages/redis/test/support/redis-server.js';
import { describeEnvironment } from '../environment.js';
import { median, round } from '../stats.js';
import { formatTable } from '../table.js';
import { closeInstances, openInstances, serve, startProviders } from './instances.js';

const INSTANCES = Number(process.env.SLUICE_FLEET_INSTANCES ?? 1_000);
/**
 * `SLUICE_FLEET_PARTS=latency,takeover` runs only those parts (for a quick look while working
 * on one); the figures of docs/benchmarks.md come from a full run.
 */
const PARTS = new Set(
  (process.env.SLUICE_FLEET_PARTS ?? 'hot,latency,takeover,fleet').split(',').map((p) => p.trim()),
);
/**
 * Uncoordinated providers never interact, so the baseline runs a fifth of the fleet and scales
 * by five: a thousand of them would saturate the in-process OAuth server and undercount.
 */
const BASELINE_INSTANCES = Math.max(1, Math.round(INSTANCES / 5));
const LIFETIMES = 10;
const TOKEN_TTL_SECONDS = 3;
const LIFETIME_MS = TOKEN_TTL_SECONDS * 1_000;
const DEFAULT_POLICY = { refreshAt: 0.8, jitter: 0.1, refreshFloorMs: 0 } as const;
const FLEET_POLICY = { refreshAt: 0.95, jitter: 0.03, refreshFloorMs: 0 } as const;
const log = (line: string): void => void process.stderr.write(`[fleet] ${line}\n`);

/** Milliseconds elapsed while `fn` runs. */
async function timed(fn: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await fn();
  return performance.now() - started;
}

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

/** A JWT access token's `exp`, in epoch ms. */
function jwtExpiry(token: string): number | undefined {
  try {
    const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString());
    return typeof payload.exp === 'number' ? payload.exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}

async function commandStats(admin: Redis): Promise<Record<string, number>> {
  const info = await admin.info('commandstats');
  const calls: Record<string, number> = {};
  for (const match of info.matchAll(/cmdstat_([a-z|]+):calls=(\d+)/g)) {
    calls[match[1] as string] = Number(match[2]);
  }
  return calls;
}

function oauthMint(server: OAuthServer): Mint<string> {
  return createClientCredentialsMint({
    issuer: server.issuer,
    clientId: server.clientId,
    clientSecret: server.clientSecret,
    scope: server.scope,
    resource: server.resource,
    allowInsecureRequests: true,
  });
}

// ------------------------------------------------------------------ 1. hot path

async function hotPath(port: number) {
  log('hot path: get() with and without coordination');
  const redis = new Redis({ port, host: '127.0.0.1' });
  const coordinator = createRedisCoordinator({ redis, keyPrefix: 'hot:' });
  const mint: Mint<string> = () => ({ value: 'token', expiresAt: Date.now() + 3_600_000 });
  const plain = await createRefreshingProvider({ name: 'plain', mint });
  const coordinated = await createRefreshingProvider({
    name: 'coordinated',
    mint: coordinator.wrap('coordinated', mint),
  });
  const rounds: Array<{ plain: number; coordinated: number }> = [];
  for (let warm = 0; warm < 2; warm++) {
    await measure(async () => do_not_optimize(await plain.get()), { min_cpu_time: 100e6 });
    await measure(async () => do_not_optimize(await coordinated.get()), { min_cpu_time: 100e6 });
  }
  for (let round = 0; round < 7; round++) {
    const a = await measure(async () => do_not_optimize(await plain.get()), {
      min_cpu_time: 300e6,
    });
    const b = await measure(async () => do_not_optimize(await coordinated.get()), {
      min_cpu_time: 300e6,
    });
    rounds.push({ plain: a.p50, coordinated: b.p50 });
  }
  plain.close();
  coordinated.close();
  await coordinator.close();
  redis.disconnect();
  const plainNs = median(rounds.map((r) => r.plain));
  const coordinatedNs = median(rounds.map((r) => r.coordinated));
  return {
    plainNs: round(plainNs),
    coordinatedNs: round(coordinatedNs),
    ratio: round(coordinatedNs / plainNs, 3),
    roundRatios: rounds.map((r) => round(r.coordinated / r.plain, 3)),
  };
}

// ------------------------------------------------------------------ 2. mint path latency

async function mintPath(port: number) {
  log('mint path: added latency of the leader and of an adopting follower');
  const redis = new Redis({ port, host: '127.0.0.1' });
  const other = new Redis({ port, host: '127.0.0.1' });
  const leader = createRedisCoordinator({ redis, keyPrefix: 'latency:' });
  const follower = createRedisCoordinator({ redis: other, keyPrefix: 'latency:' });
  let serial = 0;
  const raw: Mint<string> = () => ({ value: `t${++serial}`, expiresAt: Date.now() + 3_600_000 });
  const wrapped = leader.wrap('api', raw);
  const adopting = follower.wrap('api', raw);
  const signal = new AbortController().signal;
  const noopSha = (await redis.script('LOAD', 'return 1')) as string;
  const WARM_UP = 200;
  const ROUNDS = 5;
  const PER_ROUND = 1_000;
  const rawMs: number[] = [];
  const leaderMs: number[] = [];
  const followerMs: number[] = [];
  const roundTripMs: number[] = [];
  let previous: Credential<string> | undefined;
  const bare = async () => {
    const n0 = performance.now();
    await other.evalsha(noopSha, 0);
    roundTripMs.push(performance.now() - n0);
  };
  const follow = async () => {
    const f0 = performance.now();
    await adopting({ signal, reason: 'initial' });
    followerMs.push(performance.now() - f0);
  };
  for (let i = 0; i < WARM_UP + ROUNDS * PER_ROUND; i++) {
    const r0 = performance.now();
    raw({ signal, reason: 'forced' });
    rawMs.push(performance.now() - r0);
    const l0 = performance.now();
    const context =
      previous === undefined
        ? { signal, reason: 'forced' as const }
        : { signal, reason: 'forced' as const, previous };
    previous = await wrapped(context);
    leaderMs.push(performance.now() - l0);
    // The follower and the bare round trip take turns right after the leader (whose store
    // publishes to both subscriber connections), on the same connection, so both meet the
    // same conditions.
    if (i % 2 === 0) {
      await follow();
      await bare();
    } else {
      await bare();
      await follow();
    }
  }
  await leader.close();
  await follower.close();
  redis.disconnect();
  other.disconnect();
  const rawP50 = percentile(rawMs.slice(WARM_UP), 50);
  const window = (values: number[], r: number) =>
    values.slice(WARM_UP + r * PER_ROUND, WARM_UP + (r + 1) * PER_ROUND);
  const all = (values: number[]) => values.slice(WARM_UP);
  const added = (values: number[], p: number) => round(percentile(values, p) - rawP50, 3);
  const stats = (values: number[]) => ({
    p50Ms: added(all(values), 50),
    p99Ms: added(all(values), 99),
  });
  // The yardstick, measured in the same loop: one bare EVALSHA round trip on the follower's
  // connection (nothing subtracted). The ratios hold on any machine; the absolutes do not.
  const roundTrip = {
    p50Ms: round(percentile(all(roundTripMs), 50), 3),
    p99Ms: round(percentile(all(roundTripMs), 99), 3),
  };
  const roundRatios = Array.from({ length: ROUNDS }, (_, r) => {
    const bareP99 = percentile(window(roundTripMs, r), 99);
    return {
      leader: round(added(window(leaderMs, r), 99) / bareP99, 2),
      follower: round(added(window(followerMs, r), 99) / bareP99, 2),
    };
  });
  return {
    samples: ROUNDS * PER_ROUND,
    leader: stats(leaderMs),
    follower: stats(followerMs),
    roundTrip,
    // The median over five rounds of 1,000 of each round's p99 ratio: one burst of the
    // machine's noise moves one round, not the figure.
    leaderP99Ratio: median(roundRatios.map((r) => r.leader)),
    followerP99Ratio: median(roundRatios.map((r) => r.follower)),
    roundRatios,
  };
}

// ------------------------------------------------------------------ 2b. takeover delay

/**
 * A leader "crashes" mid-mint (its connection drops, so its renewals stop and nothing is
 * published) while `followers` instances wait for it. The delay is from the moment its lease
 * lapses in Redis (read with PTTL right after the crash) to the moment a waiter holds the
 * lease again (`onLeased`).
 */
async function takeover(port: number, leaseMs: number, rounds: number, followers = 20) {
  log(`takeover: a crashed leader's ${leaseMs} ms lease, ${rounds} rounds`);
  const admin = new Redis({ port, host: '127.0.0.1' });
  const delays: number[] = [];
  let leasedAt: number | undefined;
  const waiting = Array.from({ length: followers }, () => {
    const redis = new Redis({ port, host: '127.0.0.1' });
    const coordinator = createRedisCoordinator({
      redis,
      keyPrefix: 'takeover:',
      leaseMs,
      reporter: {
        onLeased: () => {
          leasedAt ??= performance.now();
        },
      },
    });
    return { redis, coordinator };
  });
  for (let r = 0; r < rounds; r++) {
    const name = `lease-${leaseMs}-${r}`;
    const leaderRedis = new Redis({ port, host: '127.0.0.1' });
    const leader = createRedisCoordinator({ redis: leaderRedis, keyPrefix: 'takeover:', leaseMs });
    const aborted = new AbortController();
    let leading!: () => void;
    const led = new Promise<void>((resolve) => (leading = resolve));
    const dying = leader.wrap<string>(name, () => {
      leading();
      return new Promise(() => {}); // dies mid-mint
    });
    Promise.resolve(dying({ signal: aborted.signal, reason: 'initial' })).catch(() => {});
    await led;
    const mint: Mint<string> = () => ({ value: 'next', expiresAt: Date.now() + 60_000 });
    const served = waiting.map((w) =>
      w.coordinator.wrap(name, mint)({ signal: new AbortController().signal, reason: 'initial' }),
    );
    await new Promise((resolve) => setTimeout(resolve, 50)); // everyone is waiting
    leasedAt = undefined;
    leaderRedis.disconnect(); // the crash
    const [key] = await admin.keys('takeover:*:lease'); // the one lease held now
    const sentAt = performance.now();
    const pttl = key === undefined ? -2 : Number(await admin.pttl(key));
    const lapseAt = sentAt + pttl; // the earliest it can lapse (Redis read its clock after sentAt)
    await Promise.all(served);
    if (pttl > 0 && leasedAt !== undefined) delays.push(leasedAt - lapseAt);
    aborted.abort(new Error('round over'));
    await leader.close();
  }
  for (const w of waiting) {
    await w.coordinator.close();
    w.redis.disconnect();
  }
  admin.disconnect();
  const sorted = [...delays].sort((a, b) => a - b);
  return {
    leaseMs,
    rounds: delays.length,
    followers,
    meanMs: round(delays.reduce((a, b) => a + b, 0) / Math.max(1, delays.length), 1),
    maxMs: round(sorted.at(-1) ?? Number.NaN, 1),
    delaysMs: delays.map((d) => round(d, 1)),
  };
}

// ------------------------------------------------------------------ 3 + 4. herd and steady state

async function steadyState(
  port: number,
  admin: Redis,
  instances: Awaited<ReturnType<typeof openInstances>>,
  name: string,
  policy: typeof DEFAULT_POLICY | typeof FLEET_POLICY,
) {
  const server = await startOAuthServer({ accessTokenTtlSeconds: TOKEN_TTL_SECONDS });
  try {
    const mint = oauthMint(server);
    const bootMs = await timed(() => startProviders(instances, name, mint, policy));
    const bootMints = server.tokenRequests();
    log(
      `${name}: boot herd of ${instances.length}: ${bootMints} upstream mint(s) in ${round(bootMs)} ms`,
    );
    const serving = serve(instances, 200, jwtExpiry);
    await new Promise((resolve) => setTimeout(resolve, LIFETIME_MS)); // settle one lifetime
    const before = { mints: server.tokenRequests(), stats: await commandStats(admin) };
    await new Promise((resolve) => setTimeout(resolve, LIFETIMES * LIFETIME_MS));
    const after = { mints: server.tokenRequests(), stats: await commandStats(admin) };
    await serving.stop();
    const delta = (command: string) => (after.stats[command] ?? 0) - (before.stats[command] ?? 0);
    const mints = after.mints - before.mints;
    // Round trips of the coordinators: their scripts (commands a script runs inside Redis,
    // TIME and HMGET among them, are counted by Redis too but are not round trips).
    const scripts = delta('evalsha') + delta('eval');
    const publishes = delta('publish');
    void port;
    return {
      policy,
      bootMints,
      bootMs: round(bootMs),
      mints,
      mintsPerLifetime: round(mints / LIFETIMES, 3),
      singleProviderMintsPerLifetime: round(1 / (policy.refreshAt - policy.jitter / 2), 3),
      commandsPerInstancePerLifetime: round(scripts / instances.length / LIFETIMES, 3),
      publishesPerLifetime: round(publishes / LIFETIMES, 2),
      errors: instances.reduce((n, i) => n + i.errors, 0),
      errorsWhileValid: instances.reduce((n, i) => n + i.errorsWhileValid, 0),
    };
  } finally {
    await server.close();
  }
}

async function uncoordinatedSteadyState(count: number) {
  const lifetimes = 5;
  const server = await startOAuthServer({ accessTokenTtlSeconds: TOKEN_TTL_SECONDS });
  const mint = oauthMint(server);
  const providers = await Promise.all(
    Array.from({ length: count }, () =>
      createRefreshingProvider({ name: 'plain', mint, ...DEFAULT_POLICY }),
    ),
  );
  let running = true;
  const loops = providers.map(async (provider, i) => {
    await new Promise((resolve) => setTimeout(resolve, (i / count) * 200));
    while (running) {
      await provider.get().catch(() => {});
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  });
  await new Promise((resolve) => setTimeout(resolve, LIFETIME_MS));
  const before = server.tokenRequests();
  await new Promise((resolve) => setTimeout(resolve, lifetimes * LIFETIME_MS));
  const mints = server.tokenRequests() - before;
  running = false;
  await Promise.all(loops);
  for (const provider of providers) provider.close();
  await server.close();
  const scale = INSTANCES / count;
  return {
    providers: count,
    scaledTo: INSTANCES,
    lifetimes,
    mints,
    mintsPerLifetime: round((mints / lifetimes) * scale, 1),
  };
}

// ------------------------------------------------------------------ 5. outage

const MINUTE = 1_000; // compressed 60x

async function outage(
  instances: Awaited<ReturnType<typeof openInstances>> | undefined,
  count: number,
) {
  const server = await startOAuthServer({ accessTokenTtlSeconds: TOKEN_TTL_SECONDS });
  const mint = oauthMint(server);
  const policy = {
    ...DEFAULT_POLICY,
    breaker: { failureThreshold: 5, cooldownMs: MINUTE },
    minRefreshIntervalMs: Math.round((5 * MINUTE) / 60),
  };
  const plain =
    instances === undefined
      ? await Promise.all(
          Array.from({ length: count }, () =>
            createRefreshingProvider({ name: 'plain', mint, ...policy }),
          ),
        )
      : undefined;
  if (instances !== undefined) await startProviders(instances, 'outage', mint, policy);
  const targets =
    instances ??
    (plain ?? []).map((provider) => ({
      provider,
      served: [] as Array<{ value: string; at: number }>,
      errors: 0,
      errorsWhileValid: 0,
    }));
  const serving = serve(targets as never, 100, jwtExpiry);
  await new Promise((resolve) => setTimeout(resolve, MINUTE));
  server.setOutage(true);
  const before = server.tokenRequests();
  await new Promise((resolve) => setTimeout(resolve, 10 * MINUTE));
  const attempts = server.tokenRequests() - before;
  server.setOutage(false);
  await new Promise((resolve) => setTimeout(resolve, 2 * MINUTE));
  await serving.stop();
  for (const provider of plain ?? []) provider.close();
  await server.close();
  const scale = INSTANCES / count;
  return {
    providers: count,
    attempts: Math.round(attempts * scale),
    errorsWhileValid: targets.reduce((n, t) => n + t.errorsWhileValid, 0),
    servedAfterRecovery: targets.filter((t) => (t.served.at(-1)?.at ?? 0) > Date.now() - MINUTE)
      .length,
  };
}

// ------------------------------------------------------------------ run

/** Ends a run of some parts only, after printing them (nothing is written). */
class PartialRun extends Error {}

const redisServer = await startRedisServer();
const admin = new Redis({ port: redisServer.port, host: '127.0.0.1' });
let exitCode = 0;
try {
  const hot = PARTS.has('hot') ? await hotPath(redisServer.port) : undefined;
  const latency = PARTS.has('latency') ? await mintPath(redisServer.port) : undefined;
  const takeovers = PARTS.has('takeover')
    ? [await takeover(redisServer.port, 1_000, 8), await takeover(redisServer.port, 5_000, 4)]
    : undefined;
  if (!PARTS.has('fleet')) {
    console.log(JSON.stringify({ hot, latency, takeovers }, null, 2));
    throw new PartialRun();
  }
  if (hot === undefined || latency === undefined || takeovers === undefined) {
    throw new Error('a full run needs every part: unset SLUICE_FLEET_PARTS');
  }
  log(`opening ${INSTANCES} instances`);
  const instances = await openInstances(redisServer.port, INSTANCES, {
    failureBackoff: { initialDelayMs: Math.round(MINUTE / 60), maxDelayMs: MINUTE },
  });
  const defaults = await steadyState(redisServer.port, admin, instances, 'default', DEFAULT_POLICY);
  const fleet = await steadyState(redisServer.port, admin, instances, 'fleet', FLEET_POLICY);
  log('outage, coordinated');
  const coordinatedOutage = await outage(instances, INSTANCES);
  const loadAverage = loadavg().map((load) => round(load, 2));
  await closeInstances(instances);
  log('baseline: uncoordinated steady state and outage');
  const baseline = await uncoordinatedSteadyState(BASELINE_INSTANCES);
  const uncoordinatedOutage = await outage(undefined, BASELINE_INSTANCES);
  if (defaults.bootMints !== 1 || fleet.bootMints !== 1) exitCode = 1;

  const results = {
    environment: { ...describeEnvironment(), loadAverage },
    instances: INSTANCES,
    tokenTtlSeconds: TOKEN_TTL_SECONDS,
    lifetimes: LIFETIMES,
    hotPath: hot,
    mintPath: latency,
    takeover: takeovers,
    steadyState: { default: defaults, fleet, uncoordinated: baseline },
    outage: { coordinated: coordinatedOutage, uncoordinated: uncoordinatedOutage },
  };
  await mkdir(new URL('../../../../bench-results/', import.meta.url), { recursive: true });
  await writeFile(
    new URL('../../../../bench-results/fleet.json', import.meta.url),
    `${JSON.stringify(results, null, 2)}\n`,
  );
  const yes = (ok: boolean) => (ok ? 'yes' : 'NO');
  console.log(
    `\n@sluice/redis fleet benchmark: ${INSTANCES} instances, ${TOKEN_TTL_SECONDS} s tokens, ${LIFETIMES} lifetimes; load average ${loadAverage.join(' ')}\n`,
  );
  console.log(
    formatTable(
      ['figure', 'measured', 'target', 'met'],
      [
        [
          'boot herd: upstream mints',
          String(defaults.bootMints),
          '1',
          yes(defaults.bootMints === 1),
        ],
        [
          'mints per lifetime, default policy (0.8 / 0.1)',
          String(defaults.mintsPerLifetime),
          '<= 1.1',
          yes(defaults.mintsPerLifetime <= 1.1),
        ],
        [
          'mints per lifetime, fleet policy (0.95 / 0.03)',
          String(fleet.mintsPerLifetime),
          '<= 1.1',
          yes(fleet.mintsPerLifetime <= 1.1),
        ],
        [
          `mints per lifetime, uncoordinated (${BASELINE_INSTANCES} x ${INSTANCES / BASELINE_INSTANCES})`,
          String(baseline.mintsPerLifetime),
          '(today)',
          '-',
        ],
        [
          'outage 10 min: fleet-wide upstream attempts',
          String(coordinatedOutage.attempts),
          '<= 20',
          yes(coordinatedOutage.attempts <= 20),
        ],
        [
          `outage 10 min: uncoordinated attempts (${BASELINE_INSTANCES} x ${INSTANCES / BASELINE_INSTANCES})`,
          String(uncoordinatedOutage.attempts),
          '(today)',
          '-',
        ],
        [
          'outage: errors while a valid token was held',
          String(coordinatedOutage.errorsWhileValid),
          '0',
          yes(coordinatedOutage.errorsWhileValid === 0),
        ],
        [
          'get() with / without coordination',
          `${hot.ratio}x`,
          '1.0x within noise',
          yes(Math.abs(hot.ratio - 1) <= 0.05),
        ],
        [
          'mint path added latency, leader p99 / bare EVALSHA p99 (median of 5 rounds)',
          `${latency.leaderP99Ratio}x (${latency.roundRatios.map((r) => r.leader).join(' ')})`,
          '<= 2x',
          yes(latency.leaderP99Ratio <= 2),
        ],
        [
          'mint path added latency, follower p99 / bare EVALSHA p99 (median of 5 rounds)',
          `${latency.followerP99Ratio}x (${latency.roundRatios.map((r) => r.follower).join(' ')})`,
          '<= 1x',
          yes(latency.followerP99Ratio <= 1),
        ],
        [
          'mint path added latency p99, leader / follower / bare EVALSHA (all rounds)',
          `${latency.leader.p99Ms} / ${latency.follower.p99Ms} / ${latency.roundTrip.p99Ms} ms`,
          '-',
          '-',
        ],
        [
          'mint path added latency p50, leader / follower / bare EVALSHA',
          `${latency.leader.p50Ms} / ${latency.follower.p50Ms} / ${latency.roundTrip.p50Ms} ms`,
          '-',
          '-',
        ],
        ...takeovers.map((t) => [
          `crashed leader's ${t.leaseMs} ms lease: takeover after it lapsed, mean / max (${t.rounds} rounds)`,
          `${t.meanMs} / ${t.maxMs} ms`,
          '<= 100 ms',
          yes(t.maxMs <= 100),
        ]),
        [
          'Redis commands per instance per lifetime (default)',
          String(defaults.commandsPerInstancePerLifetime),
          '<= 3 + pub/sub',
          yes(defaults.commandsPerInstancePerLifetime <= 3),
        ],
        [
          'Redis commands per instance per lifetime (fleet)',
          String(fleet.commandsPerInstancePerLifetime),
          '<= 3 + pub/sub',
          yes(fleet.commandsPerInstancePerLifetime <= 3),
        ],
      ],
    ),
  );
  console.log('\nbench-results/fleet.json has every figure and the environment.');
} catch (error) {
  if (!(error instanceof PartialRun)) {
    console.error(error);
    exitCode = 1;
  }
} finally {
  admin.disconnect();
  await redisServer.stop();
}
process.exit(exitCode);
