/**
 * Redis helpers of the compose suite: a client of a test redis-server that is connected
 * before it is used, for the tests' own admin, MONITOR and subscriber connections (the
 * replicas' coordinators get fresh, still-connecting clients, as they do when they boot).
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
