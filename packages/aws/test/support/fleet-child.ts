/**
 * One fleet member for `s3-fleet.test.ts`: an S3Client whose credentials come from
 * `awsCredentials(fromHttp(...))` coordinated through a shared redis-server.
 */

import { ListBucketsCommand, S3Client } from '@aws-sdk/client-s3';
import { fromHttp } from '@aws-sdk/credential-providers';
import { createRedisCoordinator } from '@sluice/redis';
import { Redis } from 'ioredis';
import { serveFleetChild } from '../../../../test/support/sdk-fleet.js';
import { awsCredentials } from '../../src/index.js';

interface Config {
  readonly redisPort: number;
  readonly keyPrefix: string;
  readonly sourceUrl: string;
  readonly endpoint: string;
}

serveFleetChild<Config>(async (config) => {
  const redis = new Redis({ port: config.redisPort, host: '127.0.0.1' });
  redis.on('error', () => {});
  const fleet = createRedisCoordinator({ redis, keyPrefix: config.keyPrefix });
  const credentials = awsCredentials(
    fromHttp({ awsContainerCredentialsFullUri: config.sourceUrl, maxRetries: 0 }),
    { wrapMint: (mint) => fleet.wrap('aws-s3-reader', mint) },
  );
  const s3 = new S3Client({
    region: 'us-east-1',
    endpoint: config.endpoint,
    forcePathStyle: true,
    credentials,
  });
  return {
    async go() {
      await s3.send(new ListBucketsCommand({}));
      const identity = await credentials();
      return `${identity.accessKeyId} ${identity.expiration instanceof Date}`;
    },
    async close() {
      s3.destroy();
      credentials.provider.close();
      await fleet.close();
      redis.disconnect();
    },
  };
});
