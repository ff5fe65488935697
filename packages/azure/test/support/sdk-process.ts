/**
 * An Azure SDK process of its own, for the scenarios where the process is the point: the
 * crash scenario (does an unhandled rejection end it?) and a fleet of replicas sharing a
 * redis-server. Run by `sdk-child.ts` with `SLUICE_AZURE_CHILD` (JSON) describing the scenario.
 */

import { ManagedIdentityCredential } from '@azure/identity';
import FakeTimers from '@sinonjs/fake-timers';
import { refreshingTokenCredential } from '@sluice/azure';
import { createRedisCoordinator } from '@sluice/redis';
import { Redis } from 'ioredis';
import {
  IDENTITY_HEADER,
  startIdentityEndpoint,
  startStorageServer,
  trustingBlobClient,
} from './azure-endpoints.js';

type Config =
  | { readonly scenario: 'crash'; readonly credential: 'bare' | 'call-time' | 'actual' }
  | {
      readonly scenario: 'fleet';
      /** false: the bare `ManagedIdentityCredential`, no coordinator. */
      readonly sluice: boolean;
      readonly redisPort: number;
      readonly keyPrefix: string;
      readonly identityUrl: string;
      readonly storageUrl: string;
      readonly certificatePem: string;
    };

const config = JSON.parse(process.env.SLUICE_AZURE_CHILD ?? '{}') as Config;
const send = (message: object): void => {
  process.send?.(message);
};

if (config.scenario === 'crash') {
  const identity = await startIdentityEndpoint({ lifetimeSeconds: 200 });
  const storage = await startStorageServer(); // its certificate is dated by the real clock
  // The SDK reads Date.now for expiry; its 3 s retry wait stays a real timer.
  const clock = FakeTimers.install({ toFake: ['Date'], now: Date.UTC(2026, 0, 5, 9) });
  process.env.IDENTITY_ENDPOINT = identity.url;
  process.env.IDENTITY_HEADER = IDENTITY_HEADER;
  const msi = new ManagedIdentityCredential({ retryOptions: { maxRetries: 0 } });
  const credential =
    config.credential === 'bare'
      ? msi
      : refreshingTokenCredential(msi, { reportedExpiry: config.credential });
  const client = storage.blobClient(credential);
  await client.getContainerClient('c').getProperties();
  // 30 s left: inside the SDK's 2-minute window. The endpoint fails from now on; one request
  // starts the SDK's background refresh and nobody waits for it afterwards.
  clock.setSystemTime(Date.now() + 170_000);
  identity.behaviour.status = 503;
  await client.getContainerClient('c').getProperties();
  // The token expires while the background refresh waits 3 s to retry.
  clock.setSystemTime(Date.now() + 60_000);
  await new Promise((resolve) => setTimeout(resolve, 3_500));
  console.log(`alive after ${identity.calls.length} identity calls`);
  await identity.close();
  await storage.close();
  process.exit(0);
} else if (config.scenario === 'fleet') {
  process.env.IDENTITY_ENDPOINT = config.identityUrl;
  process.env.IDENTITY_HEADER = IDENTITY_HEADER;
  const redis = new Redis({ port: config.redisPort, host: '127.0.0.1' });
  redis.on('error', () => {});
  const coordinator = createRedisCoordinator({
    redis,
    keyPrefix: config.keyPrefix,
    leaseMs: 10_000,
    poll: { initialDelayMs: 20, maxDelayMs: 200 },
  });
  const msi = new ManagedIdentityCredential();
  const credential = config.sluice
    ? refreshingTokenCredential(msi, { name: 'azure-msi', coordinator })
    : Object.assign(msi, { close() {} });
  const client = trustingBlobClient(config.storageUrl, config.certificatePem, credential);
  process.on('message', (message: { type: string }) => {
    if (message.type === 'go') {
      client
        .getContainerClient('c')
        .getProperties()
        .then(
          () => send({ type: 'done', ok: true }),
          (error: unknown) => send({ type: 'done', ok: false, message: String(error) }),
        );
    } else if (message.type === 'exit') {
      credential.close();
      void coordinator.close().then(() => {
        redis.disconnect();
        process.exit(0);
      });
    }
  });
  redis.once('ready', () => send({ type: 'ready' }));
}
