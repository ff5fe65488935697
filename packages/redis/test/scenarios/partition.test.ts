/**
 * Issue rows, through a TCP proxy in front of redis-server:
 * - "the proxy cuts half the fleet off": the connected half makes 1 mint per lifetime; after
 *   healing the newest credential wins everywhere;
 * - "the proxy cuts the leader off after it minted": its late store loses the compare-and-set
 *   to a newer one; its release cannot delete another's lease.
 */

import { afterEach, describe, expect, it } from 'vitest';
import { credentialKeys } from '../../src/redis/keys.js';
import {
  closeAll,
  createFleet,
  createInstanceWith,
  createIssuer,
  expiredServes,
  type Instance,
  keepServing,
  sleep,
  until,
  watchStored,
} from '../support/fleet.js';
import { type RedisServer, redisAvailable, startRedisServer } from '../support/redis-server.js';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';

const POLICY = { refreshAt: 0.5, jitter: 0, schedule: 'timer' as const };
let server: RedisServer | undefined;
let proxy: TcpProxy | undefined;
let instances: Instance[] = [];

afterEach(async () => {
  proxy?.set('pass');
  await closeAll(instances);
  instances = [];
  await proxy?.close();
  await server?.stop();
  proxy = undefined;
  server = undefined;
});

describe.skipIf(!redisAvailable())('network partitions', () => {
  it('half the fleet cut off: the connected half makes 1 mint per refresh; after healing the stored credential never goes back and every instance converges on it', async () => {
    server = await startRedisServer();
    proxy = await startTcpProxy(server.port);
    const via = proxy;
    const lifetimeMs = 2_000;
    const issuer = createIssuer({ lifetimeMs, delay: 5 });
    const options = {
      issuer,
      provider: POLICY,
      coordinator: { refreshAt: POLICY.refreshAt, storeBreaker: { cooldownMs: 500 } },
    };
    const connected = await createFleet(server, 5, options);
    const cut = await createFleet(
      { client: () => server?.client({ port: via.port }) as never },
      5,
      options,
    );
    instances = [...connected, ...cut];
    const watcher = watchStored(server.client(), 'sluice:');
    await Promise.all(instances.map((instance) => instance.start()));
    const serving = keepServing(instances, 20);
    await sleep(300);

    via.set('hold');
    const connectedBefore = connected.reduce((n, i) => n + i.mints, 0);
    await sleep(1.5 * lifetimeMs); // three refresh intervals
    const connectedDuring = connected.reduce((n, i) => n + i.mints, 0) - connectedBefore;
    expect(connectedDuring).toBeGreaterThanOrEqual(2);
    expect(connectedDuring).toBeLessThanOrEqual(4);
    expect(cut.some((instance) => instance.events.count('fallback') > 0)).toBe(true);

    via.set('pass');
    await sleep(2 * lifetimeMs);
    await serving.stop();
    await watcher.stop();
    expect(watcher.decreases()).toEqual([]);
    // Converged: in the last refresh interval every instance served only stored tokens.
    const since = Date.now() - 0.5 * POLICY.refreshAt * lifetimeMs;
    const recent = instances.flatMap((i) =>
      i.served.filter((s) => s.at >= since).map((s) => s.value),
    );
    expect(recent.length).toBeGreaterThan(0);
    for (const value of recent) expect(watcher.tokens.has(value)).toBe(true);
    expect(new Set(recent).size).toBeLessThanOrEqual(2);
    expect(instances.flatMap((i) => i.errors)).toEqual([]);
    expect(expiredServes(instances, issuer)).toEqual([]);
  }, 30_000);

  it("the leader cut off after it minted: its late store loses to the newer credential, and its late release leaves another instance's lease alone", async () => {
    server = await startRedisServer();
    proxy = await startTcpProxy(server.port);
    const leaseMs = 400;
    const issuer = createIssuer({ lifetimeMs: 60_000, delay: 5 });
    let releaseLeaderMint: () => void = () => {};
    let holdNext: (() => Promise<void>) | undefined = () =>
      new Promise<void>((resolve) => (releaseLeaderMint = resolve));
    issuer.delay = () => {
      const hold = holdNext;
      holdNext = undefined;
      return hold === undefined ? sleep(5) : hold();
    };
    const coordinator = { leaseMs, poll: { initialDelayMs: 50, maxDelayMs: 100 } };
    const leader = createInstanceWith(server.client({ port: proxy.port }), { issuer, coordinator });
    const [b, c] = [0, 1].map(() =>
      createInstanceWith(server?.client() as never, { issuer, coordinator }),
    ) as [Instance, Instance];
    instances = [leader, b, c];
    await until(() => instances.every((i) => i.redis.status === 'ready'), 5_000, 'connections');

    const leaderStarted = leader.start();
    await until(() => leader.events.count('leased') === 1, 5_000, 'the leader to lease');
    proxy.set('hold');
    releaseLeaderMint(); // it minted; its store now sits in the partition
    const leaderToken = await (await leaderStarted).get();
    // B waits out the leader's lease, mints a newer token and stores it.
    const bToken = await (await b.start()).get();
    expect(bToken).not.toBe(leaderToken);
    // C rejects B's token and takes the lease for a new mint, which it holds.
    const cProvider = await c.start();
    expect(await cProvider.get()).toBe(bToken);
    let releaseC: () => void = () => {};
    holdNext = () => new Promise<void>((resolve) => (releaseC = resolve));
    cProvider.invalidate(bToken);
    const cRefresh = cProvider.get();
    await until(() => c.events.count('leased') === 1, 5_000, 'C to lease');
    const admin = server.client();
    const keys = credentialKeys('sluice:', 'api');
    const cLease = await admin.get(keys.lease);
    expect(cLease).not.toBeNull();

    proxy.set('pass');
    expect(await leader.redis.ping()).toBe('PONG'); // everything held before it has now run
    expect(JSON.parse((await admin.hget(keys.credential, 'val')) ?? 'null')).toBe(bToken);
    expect(await admin.get(keys.lease)).toBe(cLease);
    releaseC();
    const cToken = await cRefresh;
    expect(JSON.parse((await admin.hget(keys.credential, 'val')) ?? 'null')).toBe(cToken);
    expect(issuer.attempts).toBe(3);
  }, 30_000);
});
