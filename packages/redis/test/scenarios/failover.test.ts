/**
 * Failover: a primary and its replica (a second redis-server with `--replicaof`). While the
 * leader's mint runs (mid-lease) the replica is promoted (`REPLICAOF NO ONE`) and the primary
 * demoted, so the leader's store reaches a read-only server (mid-store: `READONLY`); then the
 * clients are pointed at the new primary (a proxy in front of them switches its target).
 */

import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  closeAll,
  createFleet,
  createIssuer,
  type Instance,
  sleep,
  until,
} from '../support/fleet.js';
import { type RedisServer, redisAvailable, startRedisServer } from '../support/redis-server.js';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';

let primary: RedisServer;
let replica: RedisServer;
let proxy: TcpProxy;
let instances: Instance[] = [];

async function role(server: RedisServer): Promise<string> {
  const admin = server.client();
  try {
    const info = await admin.info('replication');
    const linkUp = /master_link_status:up/.test(info);
    const name = /role:(\w+)/.exec(info)?.[1] ?? '';
    return name === 'slave' && !linkUp ? 'slave-syncing' : name;
  } finally {
    admin.disconnect();
  }
}

describe.skipIf(!redisAvailable())('failover: a replica promoted mid-lease and mid-store', () => {
  beforeAll(async () => {
    primary = await startRedisServer();
    replica = await startRedisServer({
      args: ['--replicaof', '127.0.0.1', String(primary.port)],
    });
    for (let i = 0; (await role(replica)) !== 'slave'; i++) {
      if (i > 200) throw new Error('the replica never synced');
      await sleep(25);
    }
    proxy = await startTcpProxy(primary.port);
  });
  afterAll(async () => {
    await closeAll(instances);
    await proxy?.close();
    await replica?.stop();
    await primary?.stop();
  });

  it('at most one extra upstream mint, no instance adopts a token older than the one it holds, and the demoted primary’s READONLY errors never carry the token', async () => {
    const issuer = createIssuer({ lifetimeMs: 60_000, delay: 5 });
    let promoted = false;
    issuer.delay = async () => {
      if (promoted) return sleep(5);
      promoted = true;
      // Mid-lease: the leader holds the lease (replicated) while its mint runs.
      const toPrimary = replica.client();
      const toReplica = primary.client();
      await toPrimary.replicaof('NO', 'ONE');
      await toReplica.replicaof('127.0.0.1', String(replica.port));
      while ((await role(primary)) !== 'slave') await sleep(10);
      toPrimary.disconnect();
      toReplica.disconnect();
    };
    instances = await createFleet(
      // Clients of the proxy (closed with the primary's other clients).
      { client: (options) => primary.client({ ...options, port: proxy.port }) },
      4,
      { issuer, coordinator: { keyPrefix: 'failover:' } },
    );
    const starting = instances.map((instance) => instance.start());
    // Mid-store: the leader's compare-and-set reaches the demoted primary.
    await until(
      () =>
        instances.some((instance) =>
          instance.events
            .of('storeError')
            .some((e) => (e.error as { errorCode?: string }).errorCode === 'READONLY'),
        ),
      20_000,
      'a READONLY store error',
    );
    proxy.retarget(replica.port); // the clients are pointed at the new primary
    const providers = await Promise.all(starting);
    const first = await Promise.all(providers.map((provider) => provider.get()));
    expect(issuer.attempts).toBeLessThanOrEqual(2);
    // Served again after everything settled: never older than what each instance held.
    await sleep(300);
    const serial = (token: string) => Number(/^token-(\d+)-/.exec(token)?.[1]);
    for (const [i, provider] of providers.entries()) {
      const now = await provider.get();
      expect(serial(now)).toBeGreaterThanOrEqual(serial(first[i] as string));
    }
    const rendered = instances
      .map((instance) =>
        [
          inspect(instance.events.events, { depth: 30, showHidden: true }),
          JSON.stringify(instance.events.events),
        ].join('\n'),
      )
      .join('\n');
    expect(rendered).toContain('READONLY');
    for (const token of issuer.expiries.keys()) {
      expect(rendered).not.toContain(token);
      expect(rendered).not.toContain(token.slice(0, 8));
    }
  }, 60_000);
});
