/**
 * Four processes, each with its own Storage client and `googleTokens(new Compute())`,
 * sharing a real redis-server through `@sluice/redis`: one metadata token call for the fleet.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FleetChild, forkFleetChild } from '../../../test/support/sdk-fleet.js';
import {
  type RedisServer,
  redisAvailable,
  startRedisServer,
} from '../../redis/test/support/redis-server.js';
import {
  type LocalStorageApi,
  type MetadataServer,
  startMetadataServer,
  startStorageApi,
  tokenFor,
} from './support/local-google.js';

describe.skipIf(!redisAvailable())('googleTokens in a fleet', () => {
  let redis: RedisServer;
  let metadata: MetadataServer;
  let api: LocalStorageApi;
  const children: FleetChild[] = [];
  const saved = process.env.GCE_METADATA_HOST;

  beforeAll(async () => {
    [redis, metadata, api] = await Promise.all([
      startRedisServer(),
      startMetadataServer(),
      startStorageApi(),
    ]);
    process.env.GCE_METADATA_HOST = metadata.host;
  });

  afterAll(async () => {
    await Promise.all(children.map((child) => child.stop()));
    await Promise.all([redis?.stop(), metadata?.close(), api?.close()]);
    if (saved === undefined) delete process.env.GCE_METADATA_HOST;
    else process.env.GCE_METADATA_HOST = saved;
  });

  it('4 processes sharing a redis-server make 1 metadata token call', async () => {
    const config = {
      redisPort: redis.port,
      keyPrefix: `gcp-fleet-${process.pid}`,
      apiEndpoint: api.endpoint,
    };
    children.push(
      ...(await Promise.all(
        Array.from({ length: 4 }, () =>
          forkFleetChild('packages/google/test/support/fleet-child.ts', config),
        ),
      )),
    );
    expect(await Promise.all(children.map((child) => child.go()))).toEqual(
      Array(4).fill('reports'),
    );
    expect(metadata.calls).toBe(1);
    expect(api.tokens).toEqual(Array(4).fill(tokenFor(1)));
  });
});
