/**
 * Unknown option keys are refused in every options object of this package (issue 17 §4):
 * the error names the key with its path and the nearest valid key, and never the value,
 * which may be a secret (an encryption key). In plain JavaScript a misspelt key was otherwise
 * dropped without a word (`leaseMS`, `encryption: { key }`).
 */

import { inspect } from 'node:util';
import { isSluiceError, type Mint, UnknownOptionError } from '@sluice/core';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import {
  type Codec,
  createFleetCoordinator,
  createRedisCoordinator,
  jsonCodec,
} from '../src/index.js';
import { MemoryStore } from './support/memory-store.js';

const SECRET = 'enc_key_7Hq2Zx9Lw4Rt';
const KEY = new Uint8Array(32).fill(7);

// Never connected: refusals happen before the client is used.
const redis = new Redis({ lazyConnect: true, enableOfflineQueue: false });

afterAll(() => {
  redis.disconnect();
});

/** The refusal names `option` and `suggestion`, and no rendering shows `secret`. */
function expectRefused(
  fn: () => unknown,
  option: string,
  suggestion: string | undefined,
  secret = SECRET,
): void {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(UnknownOptionError);
  expect(isSluiceError(caught, 'SLUICE_INVALID_OPTION')).toBe(true);
  const error = caught as UnknownOptionError;
  expect(error.option).toBe(option);
  expect(error.suggestion).toBe(suggestion);
  expect(error.message).toContain(`\`${option}\``);
  for (const rendering of [
    error.message,
    String(error),
    JSON.stringify(error),
    inspect(error, { depth: 9, showHidden: true }),
  ]) {
    expect(rendering).not.toContain(secret.slice(0, 8));
  }
}

const mint: Mint<string> = () => ({ value: 'v', expiresAt: Date.now() + 60_000 });
const keyedMint = (_key: string, _context: unknown) => mint(undefined as never);

describe('unknown option keys', () => {
  it('refuses an unknown option key, naming it and the nearest valid one, without its value (createRedisCoordinator)', () => {
    expectRefused(
      () => createRedisCoordinator({ redis, keyPrefx: SECRET } as never),
      'keyPrefx',
      'keyPrefix',
    );
    expectRefused(
      () => createRedisCoordinator({ redis, leaseMS: 5_000 } as never),
      'leaseMS',
      'leaseMs',
    );
    // `namespace` belongs to createFleetCoordinator: createRedisCoordinator's is keyPrefix.
    expectRefused(
      () => createRedisCoordinator({ redis, namespace: 'x:' } as never),
      'namespace',
      undefined,
    );
  });

  it('refuses an unknown option key, naming it and the nearest valid one, without its value (createFleetCoordinator)', () => {
    expectRefused(
      () => createFleetCoordinator({ store: new MemoryStore(), namespce: SECRET } as never),
      'namespce',
      'namespace',
    );
    expectRefused(
      () => createFleetCoordinator({ store: new MemoryStore(), keyPrefix: 'x:' } as never),
      'keyPrefix',
      undefined,
    );
  });

  it('refuses an unknown option key, naming it and the nearest valid one, without its value (encryption)', () => {
    expectRefused(
      () => createRedisCoordinator({ redis, encryption: { key: SECRET } } as never),
      'encryption.key',
      'keys',
    );
    expectRefused(
      () =>
        createRedisCoordinator({
          redis,
          encryption: { keys: [{ id: 'k1', key: KEY, kid: SECRET }] },
        } as never),
      'encryption.keys[0].kid',
      'id',
    );
  });

  it('refuses an unknown option key, naming it and the nearest valid one, without its value (poll, failureBackoff, storeBreaker)', () => {
    expectRefused(
      () => createRedisCoordinator({ redis, poll: { initialDelay: 100 } } as never),
      'poll.initialDelay',
      'initialDelayMs',
    );
    expectRefused(
      () => createRedisCoordinator({ redis, failureBackoff: { maxDelayMS: 100 } } as never),
      'failureBackoff.maxDelayMS',
      'maxDelayMs',
    );
    expectRefused(
      () => createRedisCoordinator({ redis, storeBreaker: { threshold: 3 } } as never),
      'storeBreaker.threshold',
      'failureThreshold',
    );
  });

  it('refuses an unknown option key, naming it and the nearest valid one, without its value (wrap, wrapKeyed)', async () => {
    const fleet = createFleetCoordinator({ store: new MemoryStore() });
    try {
      expectRefused(
        () => fleet.wrap('api', mint, { codecs: SECRET } as never),
        'wrap.codecs',
        'codec',
      );
      expectRefused(
        () => fleet.wrapKeyed('api', keyedMint, { keyFor: SECRET } as never),
        'wrapKeyed.keyFor',
        'keyOf',
      );
    } finally {
      await fleet.close();
    }
  });

  it('still accepts every documented coordinator option', async () => {
    const fleet = createFleetCoordinator({
      store: new MemoryStore(),
      namespace: 'ns:',
      leaseMs: 5_000,
      mintTimeoutMs: 15_000,
      commandTimeoutMs: 250,
      connectTimeoutMs: 2_000,
      refreshAt: 0.8,
      poll: { initialDelayMs: 200, maxDelayMs: 2_000 },
      failureBackoff: { initialDelayMs: 1_000, maxDelayMs: 60_000 },
      storeBreaker: { failureThreshold: 3, cooldownMs: 5_000 },
      encryption: { keys: [{ id: 'k1', key: KEY }] },
      reporter: {},
      now: () => Date.now(),
      random: () => 0.5,
      timers: { setTimeout: globalThis.setTimeout, clearTimeout: globalThis.clearTimeout },
      instanceId: 'one',
    });
    fleet.wrap('a', mint, { codec: jsonCodec as Codec<string> });
    fleet.wrapKeyed('b', keyedMint, { keyOf: (key) => key });
    await fleet.close();
  });
});
