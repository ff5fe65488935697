/**
 * The Azure SDK in processes of its own: the crash scenario (a background refresh failing
 * after expiry with no request waiting) and a fleet of 4 replicas sharing a real
 * redis-server. Children are stopped by PID, also when a test fails.
 */

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  type RedisServer,
  redisAvailable,
  startRedisServer,
} from '../../redis/test/support/redis-server.js';
import {
  type IdentityEndpoint,
  type StorageServer,
  startIdentityEndpoint,
  startStorageServer,
} from './support/azure-endpoints.js';
import { forkSdkProcess, type SdkChild } from './support/sdk-child.js';

const children: SdkChild[] = [];
afterEach(() => {
  for (const child of children.splice(0)) child.kill();
});

const UNHANDLED =
  /unhandled|Failed to refresh access token|ManagedIdentityCredential: Authentication failed/i;

// Three independent processes, each waiting out the SDK's real 3 s retry timer: they run side by
// side (concurrent tests, each with its own `expect` and its own child) instead of one after
// the other, which took a third of this file's time.
describe.concurrent('the crash scenario: a background refresh fails after expiry, no request waiting', () => {
  it('today: the bare ManagedIdentityCredential leaves the rejection unhandled and the process exits with code 1', async ({
    expect,
    onTestFinished,
  }) => {
    const child = forkSdkProcess({ scenario: 'crash', credential: 'bare' });
    onTestFinished(() => child.kill());
    expect(await child.exited).toBe(1);
    expect(child.output()).toMatch(UNHANDLED);
    expect(child.output()).not.toContain('alive');
  });

  it('refreshingTokenCredential: no unhandled rejection and the process stays up', async ({
    expect,
    onTestFinished,
  }) => {
    const child = forkSdkProcess({ scenario: 'crash', credential: 'call-time' });
    onTestFinished(() => child.kill());
    expect(await child.exited).toBe(0);
    expect(child.output()).toContain('alive');
    expect(child.output()).not.toMatch(UNHANDLED);
  });

  it("refreshingTokenCredential with reportedExpiry 'actual': no unhandled rejection either", async ({
    expect,
    onTestFinished,
  }) => {
    const child = forkSdkProcess({ scenario: 'crash', credential: 'actual' });
    onTestFinished(() => child.kill());
    expect(await child.exited).toBe(0);
    expect(child.output()).toContain('alive');
    expect(child.output()).not.toMatch(UNHANDLED);
  });
});

describe.runIf(redisAvailable())('a fleet of 4 processes sharing a redis-server', () => {
  let redis: RedisServer;
  let identity: IdentityEndpoint;
  let storage: StorageServer;
  beforeAll(async () => {
    redis = await startRedisServer();
    identity = await startIdentityEndpoint({ lifetimeSeconds: 3600 });
    storage = await startStorageServer();
  });
  afterAll(async () => {
    await redis?.stop();
    await identity?.close();
    await storage?.close();
  });

  const fleet = async (keyPrefix: string, sluice = true): Promise<SdkChild[]> => {
    const forked = Array.from({ length: 4 }, () =>
      forkSdkProcess({
        scenario: 'fleet',
        sluice,
        redisPort: redis.port,
        keyPrefix,
        identityUrl: identity.url,
        storageUrl: storage.url,
        certificatePem: storage.certificatePem,
      }),
    );
    children.push(...forked);
    await Promise.all(forked.map((child) => child.next('ready')));
    return forked;
  };

  /** Sends every process its Blob request at once; resolves with whether each succeeded. */
  const requestAll = async (forked: readonly SdkChild[]): Promise<unknown[]> => {
    const done = forked.map((child) => child.next('done'));
    for (const child of forked) child.process.send({ type: 'go' });
    return (await Promise.all(done)).map((message) => message.ok);
  };
  const stopAll = async (forked: readonly SdkChild[]): Promise<unknown[]> => {
    for (const child of forked) child.process.send({ type: 'exit' });
    return Promise.all(forked.map((child) => child.exited));
  };

  it('today: 4 processes with the bare ManagedIdentityCredential make 4 identity calls', async () => {
    identity.calls.length = 0;
    const forked = await fleet('azure-fleet-bare:', false);
    expect(await requestAll(forked)).toEqual([true, true, true, true]);
    expect(identity.calls).toHaveLength(4);
    expect(await stopAll(forked)).toEqual([0, 0, 0, 0]);
  });

  it('one identity call for a fleet of 4 processes, each sending its Blob request at once', async () => {
    identity.calls.length = 0;
    storage.requests.length = 0;
    const forked = await fleet('azure-fleet-1:');
    expect(await requestAll(forked)).toEqual([true, true, true, true]);
    expect(identity.calls).toHaveLength(1);
    const token = identity.calls[0]?.token;
    expect(storage.requests.map((request) => request.token)).toEqual(Array(4).fill(token));
    expect(await stopAll(forked)).toEqual([0, 0, 0, 0]);
  });
});
