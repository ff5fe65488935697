/**
 * Four processes, each with its own S3Client and `awsCredentials(fromHttp(...))`, sharing a
 * real redis-server through `@sluice/redis`: one credential-source call for the fleet.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FleetChild, forkFleetChild } from '../../../test/support/sdk-fleet.js';
import {
  type RedisServer,
  redisAvailable,
  startRedisServer,
} from '../../redis/test/support/redis-server.js';
import {
  accessKeyFor,
  type CredentialSource,
  type LocalS3,
  startCredentialSource,
  startLocalS3,
} from './support/local-aws.js';

describe.skipIf(!redisAvailable())('awsCredentials in a fleet', () => {
  let redis: RedisServer;
  let source: CredentialSource;
  let s3: LocalS3;
  const children: FleetChild[] = [];

  beforeAll(async () => {
    [redis, source, s3] = await Promise.all([
      startRedisServer(),
      startCredentialSource(),
      startLocalS3(),
    ]);
  });

  afterAll(async () => {
    await Promise.all(children.map((child) => child.stop()));
    await Promise.all([redis?.stop(), source?.close(), s3?.close()]);
  });

  it('4 processes sharing a redis-server make 1 credential-source call, and every one gets the Date expiration back', async () => {
    const config = {
      redisPort: redis.port,
      keyPrefix: `aws-fleet-${process.pid}`,
      sourceUrl: source.url,
      endpoint: s3.endpoint,
    };
    children.push(
      ...(await Promise.all(
        Array.from({ length: 4 }, () =>
          forkFleetChild('packages/aws/test/support/fleet-child.ts', config),
        ),
      )),
    );
    const answers = await Promise.all(children.map((child) => child.go()));
    expect(answers).toEqual(Array(4).fill(`${accessKeyFor(1)} true`));
    expect(source.calls).toBe(1);
    expect(s3.accessKeys).toEqual(Array(4).fill(accessKeyFor(1)));
  });
});
