/**
 * `wrap()` and `wrapKeyed()` honour the mint's traits (`withMintTraits` from @sluice/core), and a
 * value a codec cannot store faithfully is never stored or served, against a real redis-server.
 */

import { inspect } from 'node:util';
import {
  type Credential,
  type CredentialCodec,
  createRefreshingProvider,
  isSluiceError,
  withMintTraits,
} from '@sluice/core';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  CodecError,
  createRedisCoordinator,
  type FleetCoordinator,
  jsonCodec,
  UnshareableMintError,
} from '../src/index.js';
import { recordingReporter } from './support/fleet.js';
import { type RedisServer, redisAvailable, startRedisServer } from './support/redis-server.js';

/** Like an OAuth access token: a class whose toJSON redacts the secret. */
class AccessToken {
  readonly token: string;
  constructor(token: string) {
    this.token = token;
  }
  toJSON(): Record<string, string> {
    return { token: '[redacted]' };
  }
}

const accessTokenCodec: CredentialCodec<AccessToken> = {
  encode: (value) => JSON.stringify({ t: value.token }),
  decode: (text) => new AccessToken((JSON.parse(text) as { t: string }).t),
};

const KEY = new Uint8Array(32).fill(7);

let server: RedisServer;
let open: Array<{ coordinator: FleetCoordinator; redis: Redis }> = [];
let counter = 0;

function coordinatorFor(
  keyPrefix: string,
  options: Partial<Parameters<typeof createRedisCoordinator>[0]> = {},
) {
  const redis = server.client();
  const events = recordingReporter();
  const coordinator = createRedisCoordinator({
    redis,
    keyPrefix,
    reporter: events.reporter,
    ...options,
  });
  open.push({ coordinator, redis });
  return { coordinator, events, redis };
}

describe.skipIf(!redisAvailable())('mint traits and faithful codecs', () => {
  beforeAll(async () => {
    server = await startRedisServer();
  });
  afterEach(async () => {
    await Promise.all(open.map(({ coordinator }) => coordinator.close()));
    for (const { redis } of open) redis.disconnect();
    open = [];
  });
  afterAll(async () => {
    await server?.stop();
  });

  for (const encrypted of [false, true]) {
    it(`a class with a redacting toJSON wrapped with the default codec is a codec error: nothing stored, replicas never adopt '[redacted]' (${encrypted ? 'encrypted' : 'clear'})`, async () => {
      const keyPrefix = `traits-${++counter}:`;
      const encryption = encrypted ? { keys: [{ id: 'k1', key: KEY }] } : undefined;
      let minted = 0;
      const replicas = Array.from({ length: 4 }, () =>
        coordinatorFor(keyPrefix, encryption === undefined ? {} : { encryption }),
      );
      const providers = [];
      for (const { coordinator } of replicas) {
        const mint = coordinator.wrap<AccessToken>('billing-api', async () => {
          minted++;
          return { value: new AccessToken(`tok-${minted}-secret`), expiresAt: Date.now() + 60_000 };
        });
        providers.push(await createRefreshingProvider({ name: 'billing-api', mint }));
      }
      const tokens = await Promise.all(providers.map((provider) => provider.get()));
      for (const token of tokens) {
        expect(token).toBeInstanceOf(AccessToken);
        expect(token.token).toMatch(/^tok-\d-secret$/);
      }
      // Nothing was stored, so nothing redacted could be adopted.
      const redis = replicas[0]?.redis as Redis;
      expect(await redis.exists(`${keyPrefix}{billing-api}:cred`)).toBe(0);
      expect(await redis.exists(`${keyPrefix}{billing-api}:lease`)).toBe(0);
      const errors = replicas.flatMap(({ events }) => events.of('storeError'));
      expect(errors.length).toBe(4);
      for (const event of errors) {
        expect(event.operation).toBe('encode');
        const error = event.error as CodecError;
        expect(error).toBeInstanceOf(CodecError);
        expect(isSluiceError(error, 'SLUICE_FLEET_CODEC_FAILED' as never)).toBe(true);
        expect(error.message).toContain('AccessToken');
        expect(error.message).toContain('withMintTraits');
        expect(inspect(event, { depth: 10 })).not.toContain('secret');
      }
      for (const { events } of replicas) expect(events.count('adopted')).toBe(0);
      for (const provider of providers) provider.close();
    });

    it(`a mint advertising its codec (withMintTraits) works with no option: four replicas, one upstream mint, every replica holds the real token (${encrypted ? 'encrypted' : 'clear'})`, async () => {
      const keyPrefix = `traits-${++counter}:`;
      const encryption = encrypted ? { keys: [{ id: 'k1', key: KEY }] } : undefined;
      let minted = 0;
      const issue = withMintTraits(
        async (): Promise<Credential<AccessToken>> => {
          minted++;
          await new Promise((resolve) => setTimeout(resolve, 50));
          return { value: new AccessToken(`real-${minted}`), expiresAt: Date.now() + 60_000 };
        },
        { codec: accessTokenCodec },
      );
      const providers = await Promise.all(
        Array.from({ length: 4 }, () => {
          const { coordinator } = coordinatorFor(
            keyPrefix,
            encryption === undefined ? {} : { encryption },
          );
          return createRefreshingProvider({
            name: 'billing-api',
            mint: coordinator.wrap('billing-api', issue),
          });
        }),
      );
      const tokens = await Promise.all(providers.map((provider) => provider.get()));
      expect(minted).toBe(1);
      for (const token of tokens) {
        expect(token).toBeInstanceOf(AccessToken);
        expect(token.token).toBe('real-1');
      }
      for (const provider of providers) provider.close();
    });
  }

  it('codec precedence: the wrap option, then the mint’s trait codec, then the coordinator’s codec, then jsonCodec', async () => {
    const tagged = (tag: string): CredentialCodec<string> => ({
      encode: (value) => `${tag}:${value}`,
      decode: (text) => {
        if (!text.startsWith(`${tag}:`)) throw new TypeError('not mine');
        return text.slice(tag.length + 1);
      },
    });
    const keyPrefix = `traits-${++counter}:`;
    const { coordinator, redis } = coordinatorFor(keyPrefix, {
      codec: tagged('coordinator') as CredentialCodec<unknown>,
    });
    const plain = async () => ({ value: 'v', expiresAt: Date.now() + 60_000 });
    const traited = () => withMintTraits(async () => plain(), { codec: tagged('trait') });
    const cases: Array<[string, (name: string) => ReturnType<typeof coordinator.wrap<string>>]> = [
      ['option', (name) => coordinator.wrap(name, traited(), { codec: tagged('option') })],
      ['trait', (name) => coordinator.wrap(name, traited())],
      ['coordinator', (name) => coordinator.wrap(name, plain)],
    ];
    for (const [tag, make] of cases) {
      const provider = await createRefreshingProvider({ name: tag, mint: make(tag) });
      expect(await provider.get()).toBe('v');
      expect(await redis.hget(`${keyPrefix}{${tag}}:cred`, 'val')).toBe(`${tag}:v`);
      provider.close();
    }
    // No codec anywhere: JSON.
    const bare = coordinatorFor(`traits-${++counter}:`);
    const provider = await createRefreshingProvider({
      name: 'json',
      mint: bare.coordinator.wrap('json', plain),
    });
    await provider.get();
    expect(await bare.redis.hget(`traits-${counter}:{json}:cred`, 'val')).toBe('"v"');
    provider.close();
    // wrapKeyed honours the trait too.
    const keyed = coordinator.wrapKeyed<string, string>(
      'keyed',
      withMintTraits(async () => plain(), { codec: tagged('trait') }),
    );
    const controller = new AbortController();
    await keyed('k', { reason: 'initial', signal: controller.signal });
    expect(await redis.hget(`${keyPrefix}{keyed/k}:cred`, 'val')).toBe('trait:v');
  });

  it('a mint marked unshareable is refused at wrap() and wrapKeyed() with SLUICE_FLEET_UNSHAREABLE_MINT naming the reason and the fix', () => {
    const { coordinator } = coordinatorFor(`traits-${++counter}:`);
    const mint = withMintTraits(async () => ({ value: 'dpop-bound' }), {
      unshareable: 'DPoP-bound tokens need this process’s private key',
    });
    for (const wrap of [
      () => coordinator.wrap('api', mint),
      () => coordinator.wrapKeyed('api', mint),
      () => coordinator.wrap('api', mint, { codec: jsonCodec as CredentialCodec<string> }),
    ]) {
      let thrown: unknown;
      try {
        wrap();
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(UnshareableMintError);
      expect((thrown as UnshareableMintError).code).toBe('SLUICE_FLEET_UNSHAREABLE_MINT');
      expect((thrown as Error).message).toContain('DPoP-bound tokens need');
      expect((thrown as Error).message).toContain('without the coordinator');
    }
  });

  it('a codec whose decode returns undefined is a codec error: never stored, and a stored value it decodes to undefined is never served', async () => {
    const keyPrefix = `traits-${++counter}:`;
    const forgetful: CredentialCodec<string> = {
      encode: (value) => JSON.stringify(value),
      decode: () => undefined as unknown as string,
    };
    const a = coordinatorFor(keyPrefix);
    const mintA = a.coordinator.wrap<string>(
      'api',
      async () => ({
        value: 'stored-by-a',
        expiresAt: Date.now() + 60_000,
      }),
      { codec: forgetful },
    );
    const pa = await createRefreshingProvider({ name: 'api', mint: mintA });
    expect(await pa.get()).toBe('stored-by-a');
    expect(await a.redis.exists(`${keyPrefix}{api}:cred`)).toBe(0);
    const encodeError = a.events.of('storeError')[0];
    expect(encodeError).toMatchObject({ operation: 'encode' });
    expect((encodeError as { error: CodecError }).error.problem).toBe('lossy');
    pa.close();

    // B stores with JSON; C reads it with the forgetful codec: a reported miss, C mints its own.
    const b = coordinatorFor(keyPrefix);
    const pb = await createRefreshingProvider({
      name: 'api',
      mint: b.coordinator.wrap<string>('api', async () => ({
        value: 'stored-by-b',
        expiresAt: Date.now() + 60_000,
      })),
    });
    expect(await pb.get()).toBe('stored-by-b');
    const c = coordinatorFor(keyPrefix);
    const pc = await createRefreshingProvider({
      name: 'api',
      mint: c.coordinator.wrap<string>(
        'api',
        async () => ({ value: 'minted-by-c', expiresAt: Date.now() + 60_000 }),
        { codec: forgetful },
      ),
    });
    expect(await pc.get()).toBe('minted-by-c');
    expect(c.events.of('decryptFailed')[0]?.error).toMatchObject({ problem: 'undecodable' });
    pb.close();
    pc.close();
  });
});
