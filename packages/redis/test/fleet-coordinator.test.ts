/**
 * The fleet protocol's behaviours, each on a handful of instances (separate connections and
 * coordinators) against a real redis-server.
 */

import {
  createKeyedProvider,
  createRefreshingProvider,
  isSluiceError,
  type MintContext,
} from '@sluice/core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createRedisCoordinator, RelayedMintError } from '../src/index.js';
import {
  createInstanceWith,
  createIssuer,
  type Instance,
  IssuerError,
  recordingReporter,
  sleep,
  until,
} from './support/fleet.js';
import { type RedisServer, redisAvailable, startRedisServer } from './support/redis-server.js';

let server: RedisServer;
let open: Instance[] = [];
let prefixCounter = 0;

/** Instances sharing one fresh key prefix (one fleet per test). */
function fleet(
  count: number,
  options: Omit<Parameters<typeof createInstanceWith>[1], 'coordinator'> & {
    coordinator?: Parameters<typeof createInstanceWith>[1]['coordinator'];
  },
): Instance[] {
  const keyPrefix = `fleet-${++prefixCounter}:`;
  const made = Array.from({ length: count }, () =>
    createInstanceWith(server.client(), {
      ...options,
      coordinator: { keyPrefix, ...options.coordinator },
    }),
  );
  open.push(...made);
  return made;
}

describe.skipIf(!redisAvailable())('the fleet protocol', () => {
  beforeAll(async () => {
    server = await startRedisServer();
  });
  afterEach(async () => {
    await Promise.all(open.map((instance) => instance.close()));
    open = [];
  });
  afterAll(async () => {
    await server?.stop();
  });

  it("followers adopt the leader's credential: ten instances, one upstream mint, one value", async () => {
    const issuer = createIssuer({ lifetimeMs: 10_000, delay: 100 });
    const instances = fleet(10, { issuer });
    const providers = await Promise.all(instances.map((instance) => instance.start()));
    const values = await Promise.all(providers.map((provider) => provider.get()));
    expect(issuer.attempts).toBe(1);
    expect(new Set(values).size).toBe(1);
    const leaders = instances.filter((instance) => instance.events.count('leased') === 1);
    expect(leaders).toHaveLength(1);
    expect(instances.reduce((n, i) => n + i.events.count('adopted'), 0)).toBe(9);
  });

  it('an instance that starts later adopts the stored credential, and refreshes adopt the first refresh', async () => {
    const issuer = createIssuer({ lifetimeMs: 1_500, delay: 5 });
    const provider = { refreshAt: 0.5, jitter: 0, schedule: 'timer' as const };
    const [a, b] = fleet(2, { issuer, provider, coordinator: { refreshAt: 0.5 } }) as [
      Instance,
      Instance,
    ];
    const first = await (await a.start()).get();
    await sleep(200);
    expect(await (await b.start()).get()).toBe(first);
    expect(issuer.attempts).toBe(1);
    // A falls due first (750 ms) and refreshes; B (due at about 850 ms) adopts A's token.
    await until(() => issuer.attempts === 2, 3_000, "A's refresh");
    await until(() => b.events.count('adopted') === 2, 3_000, "B's refresh");
    expect(issuer.attempts).toBe(2);
    expect(await b.provider?.get()).toBe(await a.provider?.get());
    expect(await b.provider?.get()).not.toBe(first);
  });

  it('invalidate(rejected): the rejecting instance never adopts the rejected token again; a late invalidation adopts the replacement without a mint', async () => {
    const issuer = createIssuer({ lifetimeMs: 60_000, delay: 20 });
    const [a, b] = fleet(2, { issuer }) as [Instance, Instance];
    const pa = await a.start();
    const pb = await b.start();
    const rejected = await pa.get();
    expect(await pb.get()).toBe(rejected);
    expect(pa.invalidate(rejected)).toBe(true);
    const replacement = await pa.get();
    expect(replacement).not.toBe(rejected);
    expect(issuer.attempts).toBe(2);
    // B learns of the 401 later: it must not mint, and must not adopt the rejected token.
    expect(pb.invalidate(rejected)).toBe(true);
    expect(await pb.get()).toBe(replacement);
    expect(issuer.attempts).toBe(2);
    expect(b.events.of('adopted').at(-1)).toMatchObject({ reason: 'invalidated' });
  });

  it('a failed mint is shared: a second instance confirms it, then every other follower gets the same code with the issuer error as cause, without calling the issuer', async () => {
    const issuer = createIssuer({ lifetimeMs: 60_000, delay: 100 });
    issuer.failing = 503;
    const instances = fleet(6, {
      issuer,
      coordinator: { failureBackoff: { initialDelayMs: 5_000 } },
    });
    const outcomes = await Promise.allSettled(instances.map((instance) => instance.start()));
    expect(issuer.attempts).toBe(2);
    const errors = outcomes.map((o) => (o.status === 'rejected' ? o.reason : undefined));
    const own = errors.filter((e) => e instanceof IssuerError);
    const relayed = errors.filter((e): e is RelayedMintError => e instanceof RelayedMintError);
    expect(own).toHaveLength(2);
    expect(relayed).toHaveLength(4);
    for (const error of relayed) {
      expect(error.code).toBe('ISSUER_UNAVAILABLE');
      expect(error.cause).toMatchObject({ name: 'IssuerError', status: 503 });
      expect(error.countsTowardsBreaker).toBe(false);
      expect(error.retryAfterMs).toBeGreaterThan(0);
      expect(error.retryAfterMs).toBeLessThanOrEqual(10_000);
    }
    const recorded = instances.flatMap((i) => i.events.of('failureRecorded'));
    expect(recorded.map((e) => e.confirmed).sort()).toEqual([false, true]);
  });

  it("one misbehaving instance cannot fail the fleet: its failure binds only itself until a second instance sees the issuer fail, and the fleet's next mint succeeds", async () => {
    const issuer = createIssuer({ lifetimeMs: 60_000, delay: 5 });
    const keyPrefix = `fleet-${++prefixCounter}:`;
    const broken = createRedisCoordinator({ redis: server.client(), keyPrefix });
    const brokenMint = broken.wrap<string>('api', () => {
      throw Object.assign(new Error('invalid_client'), { code: 'INVALID_CLIENT' });
    });
    await expect(createRefreshingProvider({ name: 'api', mint: brokenMint })).rejects.toThrow(
      'invalid_client',
    );
    const [healthy] = fleet(1, { issuer, coordinator: { keyPrefix } }) as [Instance];
    const token = await (await healthy.start()).get();
    expect(issuer.attempts).toBe(1);
    expect(healthy.events.count('relayed')).toBe(0);
    // The healthy instance's 'stored' notification ends the window the broken one honoured:
    // it adopts the stored token (its own mint is never called again).
    const mint = broken.wrap<string>('api', () => {
      throw new Error('never called: the stored token is adopted');
    });
    let adopted: string | undefined;
    for (let i = 0; i < 100 && adopted === undefined; i++) {
      try {
        adopted = (await mint({ signal: new AbortController().signal, reason: 'initial' })).value;
      } catch (error) {
        expect(error).toBeInstanceOf(RelayedMintError);
        await sleep(10);
      }
    }
    expect(adopted).toBe(token);
    expect(issuer.attempts).toBe(1);
    await broken.close();
  });

  it("relayed failures never count towards a follower's local breaker: once the issuer is back it is served at once, with no cooldown", async () => {
    const issuer = createIssuer({ lifetimeMs: 60_000, delay: 5 });
    issuer.failing = 503;
    const instances = fleet(3, {
      issuer,
      provider: { lazy: true, breaker: { failureThreshold: 1, cooldownMs: 60_000 } },
      coordinator: { failureBackoff: { initialDelayMs: 300, maxDelayMs: 300 } },
    });
    const providers = await Promise.all(instances.map((i) => i.start()));
    // Two instances confirm the outage; the third only ever gets relayed failures.
    await expect(providers[0]?.get()).rejects.toBeInstanceOf(IssuerError);
    await expect(providers[1]?.get()).rejects.toBeInstanceOf(IssuerError);
    const follower = providers[2];
    for (let i = 0; i < 5; i++)
      await expect(follower?.get()).rejects.toBeInstanceOf(RelayedMintError);
    expect(issuer.attempts).toBe(2);
    expect(follower?.snapshot().breaker.state).toBe('closed');
    expect(providers[0]?.snapshot().breaker.state).toBe('open');
    issuer.failing = undefined;
    await sleep(400); // the window passes
    expect(await follower?.get()).toMatch(/^token-/);
    expect(issuer.attempts).toBe(3);
  });

  it('Redis unreachable: every instance falls back to the local policy (reported), and the fallback credential is offered to the store once Redis is back', async () => {
    const issuer = createIssuer({ lifetimeMs: 60_000, delay: 5 });
    const spare = await startRedisServer();
    const port = spare.port;
    await spare.stop(); // nothing listens on `port` now
    const events = recordingReporter();
    const { Redis } = await import('ioredis');
    const redis = new Redis({ port, host: '127.0.0.1', retryStrategy: () => 50 });
    redis.on('error', () => {});
    const coordinator = createRedisCoordinator({ redis, reporter: events.reporter });
    const provider = await createRefreshingProvider({
      name: 'api',
      mint: coordinator.wrap<string>('api', (context: MintContext<string>) => issuer.mint(context)),
    });
    const token = await provider.get();
    expect(events.of('fallback')[0]).toMatchObject({ name: 'api', reason: 'store-unavailable' });
    expect(issuer.attempts).toBe(1);
    const revived = await startRedisServer({ port });
    try {
      const admin = revived.client();
      await until(() => redis.status === 'ready', 5_000, 'the reconnect');
      const stored = async () => admin.hget('sluice:{api}:cred', 'id');
      for (let i = 0; i < 100 && (await stored()) === null; i++) await sleep(20);
      expect(await stored()).not.toBeNull();
      // Another instance now adopts the fallback credential instead of minting.
      const other = createInstanceWith(revived.client(), { issuer });
      open.push(other);
      expect(await (await other.start()).get()).toBe(token);
      expect(issuer.attempts).toBe(1);
    } finally {
      provider.close();
      await coordinator.close();
      redis.disconnect();
      await revived.stop();
    }
  });

  it("close() leaves nothing running: no timer, no waiter, its pub/sub connection closed, the caller's client open; a wrapped mint called afterwards mints locally (reported)", async () => {
    const issuer = createIssuer({ lifetimeMs: 60_000, delay: 5 });
    const admin = server.client();
    const subscribers = async () =>
      ((await admin.client('LIST')) as string).split('\n').filter((line) => / sub=1 /.test(line))
        .length;
    const before = await subscribers();
    const [instance] = fleet(1, { issuer }) as [Instance];
    const listeners = () =>
      ['ready', 'close', 'end', 'error'].map((event) => instance.redis.listenerCount(event));
    const ownListeners = [0, 0, 0, 1]; // the harness's own 'error' listener
    await instance.start();
    await until(() => instance.coordinator.snapshot().store === 'available', 1_000, 'ready');
    for (let i = 0; i < 50 && (await subscribers()) === before; i++) await sleep(10);
    expect(await subscribers()).toBe(before + 1);
    expect(listeners()).toEqual([1, 1, 0, 1]); // the coordinator listens for reconnects
    await instance.coordinator.close();
    expect(instance.coordinator.snapshot()).toMatchObject({
      closed: true,
      timers: 0,
      waiting: 0,
      leasesHeld: 0,
    });
    expect(await subscribers()).toBe(before);
    expect(listeners()).toEqual(ownListeners); // no listener of the coordinator's left behind
    expect(instance.redis.status).toBe('ready');
    expect(await instance.redis.ping()).toBe('PONG');
    await instance.coordinator.close(); // idempotent
    expect(await instance.provider?.refresh()).toMatchObject({ value: expect.any(String) });
    expect(instance.events.of('fallback').at(-1)).toMatchObject({ reason: 'closed' });
  });

  it("a provider closed while its instance waits for another's lease ends that wait at once; nothing is left waiting", async () => {
    const issuer = createIssuer({ lifetimeMs: 60_000, delay: 100 });
    let release: () => void = () => {};
    issuer.delay = () => new Promise<void>((resolve) => (release = resolve));
    const [leader, follower] = fleet(2, { issuer }) as [Instance, Instance];
    const leading = leader.start();
    await until(() => leader.events.count('leased') === 1, 2_000, 'the lease');
    const following = follower.start({ lazy: true });
    const provider = await following;
    const waiting = provider.get();
    await until(() => follower.coordinator.snapshot().waiting === 1, 2_000, 'the wait');
    provider.close();
    await expect(waiting).rejects.toMatchObject({ code: 'SLUICE_PROVIDER_CLOSED' });
    await until(() => follower.coordinator.snapshot().waiting === 0, 1_000, 'the wait to end');
    release();
    await leading;
  });

  it('keyed: each key is its own fleet credential (one mint per key for the whole fleet), with keyOf', async () => {
    const issuer = createIssuer({ lifetimeMs: 60_000, delay: 30 });
    const keyPrefix = `fleet-${++prefixCounter}:`;
    const coordinators = Array.from({ length: 3 }, () =>
      createRedisCoordinator({ redis: server.client(), keyPrefix }),
    );
    const keyOf = (key: { tenant: string }) => key.tenant;
    const providers = coordinators.map((coordinator) =>
      createKeyedProvider<{ tenant: string }, string>({
        keyOf,
        mint: coordinator.wrapKeyed('tenants', (_key, context) => issuer.mint(context), { keyOf }),
      }),
    );
    const tenants = ['a', 'b', 'c/with:odd{chars}'];
    const values = await Promise.all(
      providers.flatMap((provider) => tenants.map((tenant) => provider.get({ tenant }))),
    );
    expect(issuer.attempts).toBe(3);
    for (let t = 0; t < tenants.length; t++) {
      expect(new Set(values.filter((_, i) => i % tenants.length === t)).size).toBe(1);
    }
    for (const provider of providers) provider.close();
    await Promise.all(coordinators.map((c) => c.close()));
  });

  it('reporter events never carry the credential value, and a throwing reporter changes nothing', async () => {
    const issuer = createIssuer({ lifetimeMs: 60_000, delay: 20 });
    const keyPrefix = `fleet-${++prefixCounter}:`;
    const thrower = new Proxy(
      {},
      {
        get: () => () => {
          throw new Error('reporter bug');
        },
      },
    );
    const hostile = createRedisCoordinator({
      redis: server.client(),
      keyPrefix,
      reporter: {
        onLeased: () => {
          throw new Error('x');
        },
        onStored: () => Promise.reject(new Error('y')),
        onAdopted: (thrower as { onAdopted: () => void }).onAdopted,
      },
    });
    const [watched] = fleet(1, { issuer, coordinator: { keyPrefix } }) as [Instance];
    const a = await createRefreshingProvider({
      name: 'api',
      mint: hostile.wrap<string>('api', (context) => issuer.mint(context)),
    });
    const token = await a.get();
    expect(await (await watched.start()).get()).toBe(token);
    expect(JSON.stringify(watched.events.events)).not.toContain(token);
    a.close();
    await hostile.close();
  });

  it('a clock that returns NaN makes the mint fall back to the local policy instead of guessing', async () => {
    const issuer = createIssuer({ lifetimeMs: 60_000, delay: 5 });
    const events = recordingReporter();
    const coordinator = createRedisCoordinator({
      redis: server.client(),
      keyPrefix: `fleet-${++prefixCounter}:`,
      now: () => Number.NaN,
      reporter: events.reporter,
    });
    const mint = coordinator.wrap<string>('api', (context) => issuer.mint(context));
    const credential = await mint({ signal: new AbortController().signal, reason: 'initial' });
    expect(credential.value).toMatch(/^token-/);
    expect(events.of('fallback')).toEqual([{ name: 'api', reason: 'invalid-clock' }]);
    await coordinator.close();
  });

  it('a leader whose mint returns an invalid credential records a failure, so followers do not mint it again', async () => {
    const keyPrefix = `fleet-${++prefixCounter}:`;
    let calls = 0;
    const coordinators = Array.from({ length: 3 }, () =>
      createRedisCoordinator({ redis: server.client(), keyPrefix }),
    );
    const outcomes = await Promise.allSettled(
      coordinators.map((coordinator) =>
        createRefreshingProvider({
          name: 'api',
          mint: coordinator.wrap<string>('api', async () => {
            calls++;
            await sleep(50);
            return { value: 'x', expiresAt: Number.NaN };
          }),
        }),
      ),
    );
    expect(calls).toBe(2); // the leader, and the instance that confirmed it
    expect(outcomes.every((o) => o.status === 'rejected')).toBe(true);
    const codes = outcomes.map((o) =>
      o.status === 'rejected' ? (o.reason as { code: string }).code : '',
    );
    expect(codes.sort()).toEqual([
      'SLUICE_INVALID_CREDENTIAL',
      'SLUICE_INVALID_CREDENTIAL',
      'SLUICE_INVALID_CREDENTIAL',
    ]);
    expect(outcomes.some((o) => o.status === 'rejected' && isSluiceError(o.reason))).toBe(true);
    await Promise.all(coordinators.map((c) => c.close()));
  });
});
