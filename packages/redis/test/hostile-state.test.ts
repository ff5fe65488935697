/**
 * Shared state is untrusted input: keys planted or broken by someone else in a real
 * redis-server (a failure record, a key of the wrong type, a lease without a TTL) are capped,
 * refused or repaired, never obeyed forever; and store errors never carry a command's
 * arguments.
 */

import { inspect } from 'node:util';
import type { MintContext } from '@sluice/core';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  createRedisCoordinator,
  DecryptError,
  type FleetCoordinator,
  RelayedMintError,
} from '../src/index.js';
import { recordingReporter, sleep } from './support/fleet.js';
import { type RedisServer, redisAvailable, startRedisServer } from './support/redis-server.js';

const KEY = new Uint8Array(32).fill(9);
const TEN_YEARS_MS = 10 * 365 * 86_400_000;

let server: RedisServer;
let admin: Redis;
let open: Array<{ coordinator: FleetCoordinator; redis: Redis }> = [];
let counter = 0;

function instance(options: Partial<Parameters<typeof createRedisCoordinator>[0]> = {}) {
  const keyPrefix = options.keyPrefix ?? `hostile-${++counter}:`;
  const redis = server.client();
  const events = recordingReporter();
  const coordinator = createRedisCoordinator({
    redis,
    reporter: events.reporter,
    ...options,
    keyPrefix,
  });
  open.push({ coordinator, redis });
  let mints = 0;
  const mint = coordinator.wrap<string>('api', async () => {
    mints++;
    return { value: `token-${mints}`, expiresAt: Date.now() + 60_000 };
  });
  const context = (): MintContext<string> => ({
    reason: 'initial',
    signal: new AbortController().signal,
  });
  return {
    keyPrefix,
    events,
    coordinator,
    call: () => Promise.resolve(mint(context())),
    get mints() {
      return mints;
    },
    key: (kind: 'cred' | 'lease' | 'fail', name = 'api') => `${keyPrefix}{${name}}:${kind}`,
  };
}

async function serverNow(): Promise<number> {
  const [seconds, micros] = (await admin.time()) as unknown as [string, string];
  return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
}

/** Plants a failure record as an attacker with write access would. */
async function plantFailure(key: string, retryAt: string, fields: Record<string, string> = {}) {
  const message = `\u001b[31m${'A'.repeat(1_000_000)}\u001b[0m\r\nX-Injected: 1`;
  await admin.hset(key, {
    retryAt,
    failures: '7',
    f1: 'attacker-1',
    f2: 'attacker-2',
    kid: '',
    err: JSON.stringify({
      name: 'TokenEndpointError',
      message,
      code: 'SLUICE_OAUTH_TOKEN_ENDPOINT',
      status: 401,
    }),
    ...fields,
  });
}

describe.skipIf(!redisAvailable())('hostile state in Redis', () => {
  beforeAll(async () => {
    server = await startRedisServer();
    admin = server.client();
  });
  afterEach(async () => {
    await Promise.all(open.map(({ coordinator }) => coordinator.close()));
    for (const { redis } of open) redis.disconnect();
    open = [];
  });
  afterAll(async () => {
    await server?.stop();
  });

  describe('a planted failure record', () => {
    it('in clear mode: the window is capped at failureBackoff.maxDelayMs, the relayed message is bounded and stripped of control characters, retryAt inf gives a finite retryAfterMs, and once the record is deleted the instance reads Redis again and mints', async () => {
      const a = instance({ failureBackoff: { maxDelayMs: 30_000 } });
      await plantFailure(a.key('fail'), String((await serverNow()) + TEN_YEARS_MS));
      const error = await a.call().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(RelayedMintError);
      const relayed = error as RelayedMintError;
      expect(relayed.retryAfterMs).toBeGreaterThan(0);
      expect(relayed.retryAfterMs).toBeLessThanOrEqual(30_000);
      expect(relayed.message.length).toBeLessThan(800);
      // biome-ignore lint/suspicious/noControlCharactersInRegex: looking for them
      expect(relayed.message).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
      expect(String((relayed.cause as Error).message).length).toBeLessThan(520);
      // The cap is written back, so the planted window ends for the whole fleet.
      const retryAt = Number(await admin.hget(a.key('fail'), 'retryAt'));
      expect(retryAt).toBeLessThanOrEqual((await serverNow()) + 30_000);

      await admin.hset(a.key('fail'), 'retryAt', 'inf');
      const inf = (await a.call().catch((e: unknown) => e)) as RelayedMintError;
      expect(inf).toBeInstanceOf(RelayedMintError);
      expect(Number.isFinite(inf.retryAfterMs)).toBe(true);
      expect(inf.retryAfterMs).toBeLessThanOrEqual(30_000);

      await admin.del(a.key('fail'));
      expect(await a.call()).toMatchObject({ value: 'token-1' });
      expect(a.mints).toBe(1);
    });

    for (const [what, fields] of [
      ['in clear', {}],
      [
        'unreadable (a ciphertext that does not open)',
        { kid: 'k1', err: 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' },
      ],
      ['under an unknown key id', { kid: 'k9', err: 'AAAA' }],
    ] as const) {
      it(`with encryption on, a failure record ${what} is refused and reported (onDecryptFailed), never relayed: the instance mints and the success clears it`, async () => {
        const a = instance({ encryption: { keys: [{ id: 'k1', key: KEY }] } });
        await plantFailure(a.key('fail'), String((await serverNow()) + TEN_YEARS_MS), fields);
        expect(await a.call()).toMatchObject({ value: 'token-1' });
        expect(a.events.count('relayed')).toBe(0);
        const reported = a.events.of('decryptFailed');
        expect(reported).toHaveLength(1);
        expect(reported[0]?.error).toBeInstanceOf(DecryptError);
        expect(await admin.exists(a.key('fail'))).toBe(0);
        expect(await admin.hget(a.key('cred'), 'kid')).toBe('k1');
      });
    }
  });

  it('with encryption on, a planted clear failure record never confirms a window: after one genuine failure the count starts at 1, unconfirmed', async () => {
    const a = instance({ encryption: { keys: [{ id: 'k1', key: KEY }] } });
    await plantFailure(a.key('fail'), String((await serverNow()) - 1), { failures: '50' });
    const failing = a.coordinator.wrap<string>('api', async () => {
      throw Object.assign(new Error('issuer answered HTTP 503'), { status: 503 });
    });
    await expect(
      Promise.resolve(failing({ reason: 'initial', signal: new AbortController().signal })),
    ).rejects.toThrow('HTTP 503');
    expect(a.events.of('failureRecorded')).toEqual([
      expect.objectContaining({ failures: 1, confirmed: false }),
    ]);
    expect(await admin.hget(a.key('fail'), 'f2')).toBeNull();
  });

  it('a key of the wrong type at one credential (a string at its hash) is repaired by the next operation, and never opens the store breaker: other credentials stay coordinated', async () => {
    const a = instance({ storeBreaker: { failureThreshold: 2 } });
    await admin.set(a.key('cred'), 'not a hash');
    await admin.hset(a.key('lease'), 'not', 'a string');
    await admin.set(a.key('fail'), 'not a hash either');
    for (let i = 0; i < 3; i++) await a.call();
    expect(a.events.count('fallback')).toBe(0);
    expect(a.events.count('storeState')).toBe(0);
    expect(a.coordinator.snapshot().store).toBe('available');
    expect(await admin.type(a.key('cred'))).toBe('hash');
    expect(a.mints).toBe(1); // repaired and stored once, adopted by the next two calls
    expect(a.events.count('adopted')).toBe(2);
  });

  for (const [what, plant] of [
    ['with no TTL', (key: string) => admin.set(key, 'foreign-token')],
    ['of the wrong type', (key: string) => admin.rpush(key, 'foreign-token')],
  ] as const) {
    it(`a foreign lease ${what} is treated as expired and replaced at once, not waited for (leaseMs + mintTimeoutMs)`, async () => {
      const a = instance({ leaseMs: 60_000, mintTimeoutMs: 60_000 });
      await plant(a.key('lease'));
      expect(await a.call()).toMatchObject({ value: 'token-1' });
      expect(a.events.count('leased')).toBe(1);
      expect(a.events.count('woken')).toBe(0);
      expect(a.events.count('fallback')).toBe(0);
      expect(await admin.exists(a.key('lease'))).toBe(0);
    });
  }

  it('a READONLY reply from a real replica reaches onStoreError and onFallback sanitised: util.inspect of the events shows no credential, ciphertext or lease token', async () => {
    const replica = await startRedisServer({
      args: ['--replicaof', '127.0.0.1', String(server.port)],
    });
    try {
      const events = recordingReporter();
      const redis = replica.client();
      const coordinator = createRedisCoordinator({
        redis,
        reporter: events.reporter,
        keyPrefix: 'ro:',
      });
      open.push({ coordinator, redis });
      const secret = 'plaintext-secret-token-4242';
      const mint = coordinator.wrap<string>('api', async () => ({
        value: secret,
        expiresAt: Date.now() + 60_000,
      }));
      const controller = new AbortController();
      expect(await mint({ reason: 'initial', signal: controller.signal })).toMatchObject({
        value: secret,
      });
      const errors = events.of('storeError');
      expect(errors.length).toBeGreaterThan(0);
      expect(errors[0]?.error).toMatchObject({
        code: 'SLUICE_FLEET_STORE_COMMAND_FAILED',
        errorCode: 'READONLY',
        command: expect.stringMatching(/^eval(sha)?$/),
      });
      expect(events.of('fallback')[0]).toMatchObject({ reason: 'store-unavailable' });
      const rendered = `${inspect(events.events, { depth: 30, showHidden: true })}${JSON.stringify(events.events)}`;
      expect(rendered).toContain('READONLY');
      expect(rendered).not.toContain(secret);
      expect(rendered).not.toContain('"args"');
      expect(rendered).not.toMatch(/args:/);
    } finally {
      await replica.stop();
    }
  });

  it('name collisions: tenant-\\uD800 is refused, so it never shares a Redis key (and a token) with tenant-\\uFFFD in plaintext mode', async () => {
    const keyPrefix = `hostile-${++counter}:`;
    const redis = server.client();
    const coordinator = createRedisCoordinator({ redis, keyPrefix });
    open.push({ coordinator, redis });
    const mint = coordinator.wrapKeyed<string, string>('tenants', async (tenant) => ({
      value: `token-of-${tenant === 'tenant-\uFFFD' ? 'replacement-char' : 'other'}`,
      expiresAt: Date.now() + 60_000,
    }));
    const ctx = () => ({ reason: 'initial' as const, signal: new AbortController().signal });
    expect(await mint('tenant-\uFFFD', ctx())).toMatchObject({
      value: 'token-of-replacement-char',
    });
    await expect(Promise.resolve().then(() => mint('tenant-\uD800', ctx()))).rejects.toMatchObject({
      code: 'SLUICE_INVALID_OPTION',
      option: 'keyOf(key)',
    });
    expect(() => coordinator.wrap('api-\uDC00', async () => ({ value: 'x' }))).toThrow(
      expect.objectContaining({ option: 'name' }),
    );
    expect(() => createRedisCoordinator({ redis, keyPrefix: 'p-\uD800:' })).toThrow(
      expect.objectContaining({ option: 'keyPrefix' }),
    );
    expect(await admin.keys(`${keyPrefix}*`)).toEqual([`${keyPrefix}{tenants/tenant-\uFFFD}:cred`]);
  });

  it('a Redis ACL user with only the documented rights (keys ~<prefix>*, channel &<prefix>events, the listed commands) runs the whole protocol', async () => {
    const keyPrefix = `acl-${++counter}:`;
    let subscribers = 0;
    await admin.call(
      'ACL',
      'SETUSER',
      'fleet',
      'reset',
      'on',
      '>fleet-password',
      `~${keyPrefix}*`,
      `&${keyPrefix}events`,
      ...FLEET_ACL_COMMANDS.split(' '),
    );
    const events = recordingReporter();
    const clients = [0, 1].map(() =>
      server.client({ username: 'fleet', password: 'fleet-password' }),
    );
    const [a, b] = clients.map((redis) => {
      const coordinator = createRedisCoordinator({ redis, keyPrefix, reporter: events.reporter });
      open.push({ coordinator, redis });
      return coordinator.wrap<string>('api', async () => ({
        value: 'acl-token',
        expiresAt: Date.now() + 60_000,
      }));
    }) as [ReturnType<FleetCoordinator['wrap']>, ReturnType<FleetCoordinator['wrap']>];
    const ctx = () => ({ reason: 'initial' as const, signal: new AbortController().signal });
    expect(await a(ctx())).toMatchObject({ value: 'acl-token' });
    expect(await b(ctx())).toMatchObject({ value: 'acl-token' });
    expect(events.count('adopted')).toBe(1);
    // Both pub/sub connections subscribed (a missing channel right is a NOPERM storeError).
    await until(
      () => subscribers >= 2,
      5_000,
      'both subscriptions',
      async () => {
        const [, count] = (await admin.call('PUBSUB', 'NUMSUB', `${keyPrefix}events`)) as [
          string,
          number,
        ];
        subscribers = Number(count);
      },
    );
    expect(events.count('storeError')).toBe(0);
    expect(events.count('fallback')).toBe(0);
  });
});

/** The commands docs/fleet.md lists for a coordinator's ACL user. */
const FLEET_ACL_COMMANDS =
  '+evalsha +eval +time +subscribe +ping +info +type +del +hmget +hset +get +set +pexpire +pexpireat +pttl +exists +publish';

/** Polls `probe` then `condition` every 20 ms until it holds, or throws after `timeoutMs`. */
async function until(
  condition: () => boolean,
  timeoutMs: number,
  what: string,
  probe: () => Promise<void>,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    await probe();
    if (condition()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}
