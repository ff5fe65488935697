/**
 * One fleet member for `storage-fleet.test.ts`: a Storage client (google-auth-library 9
 * inside) whose token comes from `googleTokens(new Compute())` coordinated through a shared
 * redis-server. `GCE_METADATA_HOST` comes from the parent's environment.
 */

import { createRequire } from 'node:module';
import { Storage, type StorageOptions } from '@google-cloud/storage';
import { createRedisCoordinator } from '@sluice/redis';
import { Compute } from 'google-auth-library';
import { Redis } from 'ioredis';
import { serveFleetChild } from '../../../../test/support/sdk-fleet.js';
import { googleTokens } from '../../src/index.js';

interface Config {
  readonly redisPort: number;
  readonly keyPrefix: string;
  readonly apiEndpoint: string;
}

const v9 = createRequire(createRequire(import.meta.url).resolve('@google-cloud/storage'))(
  'google-auth-library',
) as typeof import('google-auth-library');

serveFleetChild<Config>(async (config) => {
  const redis = new Redis({ port: config.redisPort, host: '127.0.0.1' });
  redis.on('error', () => {});
  const fleet = createRedisCoordinator({ redis, keyPrefix: config.keyPrefix });
  const tokens = googleTokens(new Compute(), {
    wrapMint: (mint) => fleet.wrap('gcp-storage', mint),
  });
  const storage = new Storage({
    apiEndpoint: config.apiEndpoint,
    useAuthWithCustomEndpoint: true,
    projectId: 'sluice-test',
    retryOptions: { autoRetry: false },
    authClient: tokens.attach(new v9.OAuth2Client()) as unknown as NonNullable<
      StorageOptions['authClient']
    >,
  });
  return {
    async go() {
      const [bucket] = await storage.bucket('reports').getMetadata();
      return String(bucket.name);
    },
    async close() {
      tokens.provider.close();
      await fleet.close();
      redis.disconnect();
    },
  };
});
