/**
 * A seeded, replayable randomized run of several instances against the real server, each
 * behind its own TCP proxy: random gets, invalidations, forced refreshes, partitions of single
 * instances, connection resets, a frozen redis-server, and an issuer that slows down and fails.
 * Invariants:
 * - the stored expiresAt never decreases;
 * - no instance serves an expired token (by the issuer's own record);
 * - every waiter settles.
 *
 * Replay a failure with SLUICE_REDIS_SEED=<seed> (the seed is in the test name); the schedule of
 * actions is a pure function of the seed, their timing on a real server is not.
 */

import { afterEach, describe, expect, it } from 'vitest';
import {
  closeAll,
  createInstanceWith,
  createIssuer,
  expiredServes,
  type Instance,
  sleep,
  until,
  watchStored,
} from '../support/fleet.js';
import { mulberry32 } from '../support/prng.js';
import { type RedisServer, redisAvailable, startRedisServer } from '../support/redis-server.js';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';

const SEEDS =
  process.env.SLUICE_REDIS_SEED === undefined
    ? [20261123, 7]
    : [Number(process.env.SLUICE_REDIS_SEED)];
const INSTANCES = 6;
const RUN_MS = 6_000;

let server: RedisServer | undefined;
let proxies: TcpProxy[] = [];
let instances: Instance[] = [];

afterEach(async () => {
  server?.resume();
  for (const proxy of proxies) proxy.set('pass');
  await closeAll(instances);
  await Promise.all(proxies.map((proxy) => proxy.close()));
  await server?.stop();
  instances = [];
  proxies = [];
  server = undefined;
});

describe.skipIf(!redisAvailable())('randomized fleet', () => {
  for (const seed of SEEDS) {
    it(`seed ${seed}: stored expiry never decreases, nothing expired is served, every waiter settles`, async () => {
      const random = mulberry32(seed);
      const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
      const between = (low: number, high: number) => Math.round(low + random() * (high - low));
      server = await startRedisServer();
      const issuer = createIssuer({ lifetimeMs: 1_500, delay: 5 });
      const jitter = mulberry32(seed ^ 0x5eed);
      for (let i = 0; i < INSTANCES; i++) {
        const proxy = await startTcpProxy(server.port);
        proxies.push(proxy);
        instances.push(
          createInstanceWith(server.client({ port: proxy.port }), {
            issuer,
            provider: {
              refreshAt: 0.5,
              jitter: 0.1,
              schedule: 'timer',
              random: jitter,
              breaker: { failureThreshold: 3, cooldownMs: 300 },
              minRefreshIntervalMs: 100,
            },
            coordinator: {
              refreshAt: 0.5,
              leaseMs: 300,
              mintTimeoutMs: 1_000,
              poll: { initialDelayMs: 30, maxDelayMs: 200 },
              failureBackoff: { initialDelayMs: 50, maxDelayMs: 400 },
              storeBreaker: { failureThreshold: 3, cooldownMs: 300 },
              random: jitter,
            },
          }),
        );
      }
      await until(() => instances.every((i) => i.redis.status === 'ready'), 10_000, 'connections');
      const watcher = watchStored(server.client(), 'sluice:');
      const started = await Promise.allSettled(instances.map((instance) => instance.start()));
      expect(started.every((s) => s.status === 'fulfilled')).toBe(true);

      const waiters: Array<Promise<unknown>> = [];
      let settled = 0;
      const track = (promise: Promise<unknown>) => {
        waiters.push(
          promise.then(
            () => settled++,
            () => settled++,
          ),
        );
      };
      const log: string[] = [];
      const end = Date.now() + RUN_MS;
      while (Date.now() < end) {
        const i = between(0, INSTANCES - 1);
        const instance = instances[i] as Instance;
        const proxy = proxies[i] as TcpProxy;
        const action = pick([
          'get',
          'get',
          'get',
          'get',
          'invalidate',
          'refresh',
          'partition',
          'reset',
          'issuer-fail',
          'issuer-slow',
          'freeze-redis',
        ] as const);
        log.push(`${action}@${i}`);
        switch (action) {
          case 'get':
            track(instance.serve());
            break;
          case 'invalidate': {
            const current = instance.provider?.peek()?.value;
            if (current !== undefined) instance.provider?.invalidate(current);
            track(instance.serve());
            break;
          }
          case 'refresh':
            track(instance.provider?.refresh() ?? Promise.resolve());
            break;
          case 'partition': {
            proxy.set('hold');
            const ms = between(100, 800);
            setTimeout(() => proxy.set('pass'), ms);
            break;
          }
          case 'reset':
            proxy.set('reset');
            setTimeout(() => proxy.set('pass'), between(20, 200));
            break;
          case 'issuer-fail':
            issuer.failing = 503;
            setTimeout(
              () => {
                issuer.failing = undefined;
              },
              between(100, 600),
            );
            break;
          case 'issuer-slow':
            issuer.delay = between(0, 400);
            break;
          case 'freeze-redis': {
            if (random() < 0.5) break; // rarer than the others
            server.pause();
            const frozen = server;
            setTimeout(() => frozen.resume(), between(100, 400));
            break;
          }
        }
        // Background serving keeps every instance busy between actions.
        for (const other of instances) track(other.serve());
        await sleep(between(20, 120));
      }
      // Heal everything, then every waiter must settle.
      issuer.failing = undefined;
      issuer.delay = 5;
      server.resume();
      for (const proxy of proxies) proxy.set('pass');
      await Promise.race([Promise.all(waiters), sleep(10_000)]);
      await watcher.stop();
      const context = `seed ${seed}, actions: ${log.slice(0, 40).join(' ')}...`;
      expect(settled, context).toBe(waiters.length);
      expect(watcher.decreases(), context).toEqual([]);
      expect(expiredServes(instances, issuer), context).toEqual([]);
      expect(
        instances.reduce((n, i) => n + i.served.length, 0),
        context,
      ).toBeGreaterThan(100);
    }, 60_000);
  }
});
