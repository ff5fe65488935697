/**
 * Redis helpers of the compose suite: a client of a test redis-server that is connected
 * before it is used, as a replica's client is once it has booted. (A coordinator whose
 * client is still connecting falls back to a local mint, by design; the boot race is the
 * subject of @sluice/redis's own scenarios, not of these files.)
 */

import type { Redis } from 'ioredis';
import type { RedisServer } from '../../../packages/redis/test/support/redis-server.js';

/** A new client of `server`, resolved once it is ready (rejects after 10 s). */
export async function readyClient(server: RedisServer): Promise<Redis> {
  const client = server.client();
  if (client.status === 'ready') return client;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('redis client not ready in 10 s')), 10_000);
    client.once('ready', () => {
      clearTimeout(timer);
      resolve();
    });
  });
  return client;
}
