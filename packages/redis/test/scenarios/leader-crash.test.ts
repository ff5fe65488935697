/**
 * Issue row: "the lease holder is killed (kill -9 of its process) mid-mint" must show at most
 * 1 extra mint, and everyone served within lease + mint time.
 */

import type { MintContext } from '@sluice/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisCoordinator } from '../../src/index.js';
import { type ChildInstance, forkInstance } from '../support/child-instance.js';
import { recordingReporter, until } from '../support/fleet.js';
import { type RedisServer, redisAvailable, startRedisServer } from '../support/redis-server.js';

let server: RedisServer;
let children: ChildInstance[] = [];

describe.skipIf(!redisAvailable())('the lease holder crashes', () => {
  beforeAll(async () => {
    server = await startRedisServer();
  });
  afterAll(async () => {
    await Promise.all(children.map((child) => child.stop()));
    await server?.stop();
  });

  it('kill -9 of the leader process mid-mint: 1 extra mint, and every other process is served within lease + poll + mint time', async () => {
    const leaseMs = 500;
    const pollMaxMs = 200;
    const mintMs = 50;
    let requests = 0;
    let leader: ChildInstance | undefined;
    let killedAt = 0;
    children = await Promise.all(
      Array.from({ length: 5 }, () =>
        forkInstance({
          port: server.port,
          keyPrefix: 'crash:',
          leaseMs,
          pollMaxMs,
          onMint: (request) => {
            requests++;
            if (leader === undefined) {
              leader = request.child; // never answered: this process dies mid-mint
              request.child.kill();
              killedAt = Date.now();
              return;
            }
            setTimeout(() => request.answer(`token-${requests}`, 60_000), mintMs);
          },
        }),
      ),
    );
    const served = children.map((child) =>
      child.get().then((value) => ({ child, value, at: Date.now() })),
    );
    await new Promise<void>((resolve) => {
      const check = setInterval(() => {
        if (leader !== undefined) {
          clearInterval(check);
          resolve();
        }
      }, 5);
    });
    const survivors = await Promise.all(served.filter((_, i) => children[i] !== leader));
    expect(requests).toBe(2);
    expect(new Set(survivors.map((s) => s.value))).toEqual(new Set(['token-2']));
    const lastMs = Math.max(...survivors.map((s) => s.at)) - killedAt;
    // lease lapse + one poll at most (+20 % jitter) + the mint, plus IPC and scheduling slack
    expect(lastMs).toBeLessThan(leaseMs + pollMaxMs * 1.2 + mintMs + 750);
  }, 60_000);

  it("a waiter takes over within the lease's remaining TTL: woken by the lapse, not by its poll or a message", async () => {
    const leaderClient = server.client();
    const followerClient = server.client();
    const admin = server.client();
    const events = recordingReporter();
    const keyPrefix = 'ttl:';
    const leader = createRedisCoordinator({ redis: leaderClient, keyPrefix, leaseMs: 600 });
    const follower = createRedisCoordinator({
      redis: followerClient,
      keyPrefix,
      leaseMs: 600,
      // Only the lease's lapse can wake this follower in time: no poll for a minute, and a
      // crashed leader publishes nothing.
      poll: { initialDelayMs: 60_000, maxDelayMs: 60_000 },
      reporter: events.reporter,
    });
    const aborted = new AbortController();
    const context = (signal: AbortSignal): MintContext<string> => ({ signal, reason: 'initial' });
    try {
      let leading = false;
      void leader.wrap<string>('api', () => {
        leading = true;
        return new Promise(() => {}); // never answers: the process "dies" mid-mint
      })(context(aborted.signal));
      await until(() => leading, 5_000, 'the leader to take the lease');
      let minted = 0;
      const following = follower.wrap<string>('api', () => {
        minted++;
        return { value: 'taken-over', expiresAt: Date.now() + 60_000 };
      })(context(new AbortController().signal));
      await until(() => follower.snapshot().waiting === 1, 5_000, 'the follower to wait');
      leaderClient.disconnect(); // the crash, as Redis sees it: renewals stop
      const lease = (await admin.keys(`${keyPrefix}*`)).find((key) => key.includes('lease'));
      expect(lease).toBeDefined();
      expect(await following).toMatchObject({ value: 'taken-over' });
      expect(minted).toBe(1);
      expect(events.of('woken')).toEqual([{ name: 'api', by: 'lease' }]);
      expect(events.count('leased')).toBe(1);
    } finally {
      aborted.abort(new Error('test over'));
      await Promise.all([leader.close(), follower.close()]);
      admin.disconnect();
      followerClient.disconnect();
    }
  }, 30_000);
});
