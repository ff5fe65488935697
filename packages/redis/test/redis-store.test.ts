/**
 * The coordination contract's Redis implementation, operation by operation, against a real
 * redis-server: the atomic decisions of the Lua scripts on the server's clock.
 */

import type { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { CoordinationStore, StoredRecord } from '../src/index.js';
import { credentialKeys, eventsChannel } from '../src/redis/keys.js';
import { createRedisStore } from '../src/redis/redis-store.js';
import { NO_EXPIRY_TTL_MS } from '../src/redis/scripts.js';
import { type RedisServer, redisAvailable, startRedisServer } from './support/redis-server.js';

const PREFIX = 'contract:';
let server: RedisServer;
let redis: Redis;
let store: CoordinationStore;
let counter = 0;
/** A fresh credential reference per test, so tests never see each other's keys. */
let ref = '';

function record(
  fields: Partial<StoredRecord> & { expiresInMs: number },
  now: number,
): StoredRecord {
  const { expiresInMs, ...rest } = fields;
  return {
    id: `id-${++counter}`,
    expiresAt: now + expiresInMs,
    dueAt: now + Math.round(expiresInMs * 0.8),
    generation: String(counter),
    keyId: '',
    payload: '"value"',
    ...rest,
  };
}

async function serverNow(): Promise<number> {
  const [seconds, micros] = (await redis.time()) as unknown as [string, string];
  return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
}

describe.skipIf(!redisAvailable())('the Redis coordination store', () => {
  beforeAll(async () => {
    server = await startRedisServer();
    redis = server.client();
    store = createRedisStore({ redis, keyPrefix: PREFIX });
  });
  afterAll(async () => {
    await store?.close();
    await server?.stop();
  });
  beforeEach(() => {
    ref = `cred-${++counter}`;
  });

  const lease = (token: string, exclude: string[] = [], instanceId = 'i1', leaseMs = 5_000) =>
    store.loadOrLease(ref, { token, leaseMs, instanceId, exclude, maxFailureWindowMs: 60_000 });

  describe('loadOrLease', () => {
    it('takes the lease (SET NX PX) on an empty store and answers the server clock', async () => {
      const before = await serverNow();
      const answer = await lease('t1');
      expect(answer).toMatchObject({ kind: 'lease', storedId: undefined });
      expect(answer.now).toBeGreaterThanOrEqual(before);
      const keys = credentialKeys(PREFIX, ref);
      expect(await redis.get(keys.lease)).toBe('t1');
      const ttl = await redis.pttl(keys.lease);
      expect(ttl).toBeGreaterThan(4_000);
      expect(ttl).toBeLessThanOrEqual(5_000);
    });

    it("a second caller sees another's lease, with its remaining time, and does not take it", async () => {
      await lease('t1');
      const answer = await lease('t2');
      expect(answer.kind).toBe('leased');
      expect(answer.kind === 'leased' && answer.leaseTtlMs).toBeGreaterThan(0);
      expect(await redis.get(credentialKeys(PREFIX, ref).lease)).toBe('t1');
    });

    it('adopts a stored credential that is neither excluded, due nor expired', async () => {
      const now = await serverNow();
      await lease('t1');
      const stored = record({ expiresInMs: 60_000 }, now);
      expect(
        await store.store(ref, { token: 't1', record: stored, replaceable: [] }),
      ).toMatchObject({ outcome: 'stored' });
      const answer = await lease('t2');
      expect(answer).toMatchObject({ kind: 'value', record: stored });
    });

    it('never adopts an excluded id, a due credential or an expired one: it leases instead', async () => {
      const now = await serverNow();
      await lease('t1');
      const stored = record({ expiresInMs: 60_000 }, now);
      await store.store(ref, { token: 't1', record: stored, replaceable: [] });
      expect(await lease('t2', [stored.id])).toMatchObject({ kind: 'lease', storedId: stored.id });
      await store.release(ref, 't2');

      const due = record({ expiresInMs: 60_000, dueAt: now - 1 }, now);
      await redis.del(credentialKeys(PREFIX, ref).credential);
      await store.store(ref, { token: '', record: due, replaceable: [] });
      expect(await lease('t3')).toMatchObject({ kind: 'lease', storedId: due.id });
    });

    it('a due but still valid credential is answered instead of a failure window or of another’s lease, never instead of a free lease', async () => {
      const now = await serverNow();
      const due = record({ expiresInMs: 60_000, dueAt: now - 1 }, now);
      await store.store(ref, { token: '', record: due, replaceable: [] });
      // A free lease: taken (that is how a due credential gets refreshed).
      expect(await lease('t1', [], 'A')).toMatchObject({ kind: 'lease', storedId: due.id });
      // Another's lease: the valid credential instead of a wait, unless it is excluded.
      expect(await lease('t2', [], 'B')).toMatchObject({ kind: 'value', record: due });
      expect(await lease('t3', [due.id], 'B')).toMatchObject({ kind: 'leased' });
      // A failure window this instance honours: the valid credential instead of the failure.
      await store.fail(ref, {
        token: 't1',
        instanceId: 'A',
        seenId: due.id,
        keyId: '',
        payload: '{"name":"E","message":"m"}',
        initialWindowMs: 60_000,
        maxWindowMs: 60_000,
        jitterSample: 0,
        stickyMs: 0,
      });
      expect(await lease('t4', [], 'A')).toMatchObject({ kind: 'value', record: due });
      expect(await lease('t5', [due.id], 'A')).toMatchObject({ kind: 'failed' });
    });

    it('adopts a credential that never expires (expiresAt Infinity round-trips as inf), kept in Redis for one day, not forever', async () => {
      const forever: StoredRecord = {
        id: 'forever',
        expiresAt: Number.POSITIVE_INFINITY,
        dueAt: Number.POSITIVE_INFINITY,
        generation: '1',
        keyId: '',
        payload: '"x"',
      };
      await store.store(ref, { token: '', record: forever, replaceable: [] });
      expect(await lease('t1')).toMatchObject({ kind: 'value', record: forever });
      // Never expiring, yet not kept forever: a one-day TTL (NO_EXPIRY_TTL_MS).
      const ttl = await redis.pttl(credentialKeys(PREFIX, ref).credential);
      expect(ttl).toBeGreaterThan(NO_EXPIRY_TTL_MS - 60_000);
      expect(ttl).toBeLessThanOrEqual(NO_EXPIRY_TTL_MS);
    });
  });

  describe('store: compare-and-set on expiresAt', () => {
    it('expires the stored credential in Redis at its expiresAt (PEXPIREAT)', async () => {
      const now = await serverNow();
      await store.store(ref, {
        token: '',
        record: record({ expiresInMs: 30_000 }, now),
        replaceable: [],
      });
      const ttl = await redis.pttl(credentialKeys(PREFIX, ref).credential);
      expect(ttl).toBeGreaterThan(28_000);
      expect(ttl).toBeLessThanOrEqual(30_000);
    });

    it('an older (earlier-expiring) credential never overwrites a newer one, and the refusal returns the newer', async () => {
      const now = await serverNow();
      const newer = record({ expiresInMs: 60_000 }, now);
      const older = record({ expiresInMs: 30_000 }, now);
      expect(await store.store(ref, { token: '', record: newer, replaceable: [] })).toMatchObject({
        outcome: 'stored',
      });
      const refused = await store.store(ref, { token: '', record: older, replaceable: [] });
      expect(refused).toMatchObject({ outcome: 'refused', current: newer });
      const equal = record({ expiresInMs: 60_000, expiresAt: newer.expiresAt }, now);
      expect(await store.store(ref, { token: '', record: equal, replaceable: [] })).toMatchObject({
        outcome: 'refused',
      });
      const newest = record({ expiresInMs: 90_000 }, now);
      expect(await store.store(ref, { token: '', record: newest, replaceable: [] })).toMatchObject({
        outcome: 'stored',
      });
      expect(await redis.hget(credentialKeys(PREFIX, ref).credential, 'id')).toBe(newest.id);
    });

    it('replaces a credential named replaceable (invalidated) even with a later expiry', async () => {
      const now = await serverNow();
      const rejected = record({ expiresInMs: 60_000 }, now);
      await store.store(ref, { token: '', record: rejected, replaceable: [] });
      const replacement = record({ expiresInMs: 30_000 }, now);
      expect(
        await store.store(ref, { token: '', record: replacement, replaceable: [rejected.id] }),
      ).toMatchObject({ outcome: 'stored' });
    });

    it('refuses a credential that has already expired on the server clock', async () => {
      const now = await serverNow();
      const expired = record({ expiresInMs: -1 }, now);
      expect(await store.store(ref, { token: '', record: expired, replaceable: [] })).toMatchObject(
        {
          outcome: 'expired',
        },
      );
      expect(await redis.exists(credentialKeys(PREFIX, ref).credential)).toBe(0);
    });

    it("releases only the writer's own lease (compare-and-delete) and publishes 'stored <ref>'", async () => {
      const subscriber = server.client();
      const messages: string[] = [];
      subscriber.on('message', (_channel: string, message: string) => messages.push(message));
      await subscriber.subscribe(eventsChannel(PREFIX));
      const now = await serverNow();
      await lease('owner');
      await store.store(ref, {
        token: 'intruder',
        record: record({ expiresInMs: 60_000 }, now),
        replaceable: [],
      });
      expect(await redis.get(credentialKeys(PREFIX, ref).lease)).toBe('owner');
      await store.store(ref, {
        token: 'owner',
        record: record({ expiresInMs: 90_000 }, now),
        replaceable: [],
      });
      expect(await redis.exists(credentialKeys(PREFIX, ref).lease)).toBe(0);
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(messages).toEqual([`stored ${ref}`, `stored ${ref}`]);
      subscriber.disconnect();
    });
  });

  describe('renew and release', () => {
    it('renew extends only the lease its token holds', async () => {
      await lease('owner', [], 'i1', 1_000);
      expect(await store.renew(ref, 'other', 60_000)).toBe(false);
      expect(await store.renew(ref, 'owner', 60_000)).toBe(true);
      expect(await redis.pttl(credentialKeys(PREFIX, ref).lease)).toBeGreaterThan(50_000);
    });

    it("release cannot delete another's lease", async () => {
      await lease('owner');
      expect(await store.release(ref, 'other')).toBe(false);
      expect(await redis.get(credentialKeys(PREFIX, ref).lease)).toBe('owner');
      expect(await store.release(ref, 'owner')).toBe(true);
      expect(await redis.exists(credentialKeys(PREFIX, ref).lease)).toBe(0);
    });
  });

  describe('fail: the shared failure window', () => {
    const fail = (token: string, instanceId: string, seenId?: string) =>
      store.fail(ref, {
        token,
        instanceId,
        seenId,
        keyId: '',
        payload: JSON.stringify({ name: 'IssuerError', message: 'HTTP 503', code: 'E503' }),
        initialWindowMs: 10_000,
        maxWindowMs: 40_000,
        jitterSample: 0,
        stickyMs: 40_000,
      });

    it('one instance’s failure binds only itself; a second instance confirms it for everyone', async () => {
      await lease('t1', [], 'A');
      const first = await fail('t1', 'A');
      expect(first).toMatchObject({ outcome: 'recorded', failures: 1, confirmed: false });
      expect(await redis.exists(credentialKeys(PREFIX, ref).lease)).toBe(0);
      // A honours its own failure; B does not yet: B takes the lease and tries itself.
      expect(await lease('t2', [], 'A')).toMatchObject({ kind: 'failed' });
      expect(await lease('t3', [], 'B')).toMatchObject({ kind: 'lease' });
      const second = await fail('t3', 'B');
      expect(second).toMatchObject({ outcome: 'recorded', failures: 2, confirmed: true });
      const answer = await lease('t4', [], 'C');
      expect(answer).toMatchObject({ kind: 'failed', failure: { failures: 2 } });
      expect(answer.kind === 'failed' && JSON.parse(answer.failure.payload)).toMatchObject({
        code: 'E503',
      });
    });

    it('doubles the window with each consecutive failure up to the cap, with a Redis-side TTL', async () => {
      const windows: number[] = [];
      for (let i = 0; i < 4; i++) {
        await redis.hset(credentialKeys(PREFIX, ref).failure, 'retryAt', '0'); // window over
        const answer = await fail(`t${i}`, 'A');
        if (answer.outcome !== 'recorded') throw new Error('not recorded');
        windows.push(answer.retryAt - answer.now);
      }
      expect(windows).toEqual([10_000, 20_000, 40_000, 40_000]);
      const ttl = await redis.pttl(credentialKeys(PREFIX, ref).failure);
      expect(ttl).toBeGreaterThan(70_000);
      expect(ttl).toBeLessThanOrEqual(80_000);
    });

    it('is superseded, and records nothing, when a fresh credential was stored since the lease', async () => {
      const now = await serverNow();
      await lease('t1', [], 'A');
      const fresh = record({ expiresInMs: 60_000 }, now);
      await store.store(ref, { token: '', record: fresh, replaceable: [] });
      expect(await fail('t1', 'A', undefined)).toMatchObject({ outcome: 'superseded' });
      expect(await redis.exists(credentialKeys(PREFIX, ref).failure)).toBe(0);
    });

    it('a successful store clears the failure record', async () => {
      await fail('t1', 'A');
      await fail('t2', 'B');
      const now = await serverNow();
      await store.store(ref, {
        token: '',
        record: record({ expiresInMs: 60_000 }, now),
        replaceable: [],
      });
      expect(await redis.exists(credentialKeys(PREFIX, ref).failure)).toBe(0);
    });
  });

  describe('keys', () => {
    it('every key of one credential carries the same hash tag, and references never contain a brace', () => {
      const keys = credentialKeys(PREFIX, 'billing%7Bx%7D/tenant-1');
      const tags = Object.values(keys).map((key) => /\{([^}]*)\}/.exec(key)?.[1]);
      expect(new Set(tags)).toEqual(new Set(['billing%7Bx%7D/tenant-1']));
    });
  });
});
