/**
 * One replica of the fleet: a process with its own Redis connection, one coordinator and a
 * provider per API it calls, each refreshed against the real OAuth server. It calls every
 * provider several times a second and reports to the parent, once a second, what it served
 * and what its coordinator reported. Configured by the parent through SLUICE_FLEET_WORKER.
 */

import { createRefreshingProvider, type Mint, type RefreshingProvider } from '@sluice/core';
import { createRedisCoordinator } from '@sluice/redis';
import { Redis } from 'ioredis';
import { createClientCredentialsMint } from './oauth-mint.js';

interface WorkerConfig {
  readonly index: number;
  readonly redisPort: number;
  readonly issuer: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly scope: string;
  readonly resource: string;
  readonly apis: readonly string[];
}

/** What a worker reports every second. */
export interface WorkerReport {
  readonly index: number;
  /** `get()` calls that resolved, and that failed, since the start. */
  readonly served: number;
  readonly failed: number;
  /** Tokens served after their `exp` claim (should stay 0). */
  readonly servedExpired: number;
  /** Fallbacks to the local policy reported by the coordinator since the start. */
  readonly fallbacks: number;
  /** Mints this worker led for the fleet, and tokens it adopted from Redis. */
  readonly led: number;
  readonly adopted: number;
}

const config = JSON.parse(process.env.SLUICE_FLEET_WORKER ?? '{}') as WorkerConfig;
const counts = { served: 0, failed: 0, servedExpired: 0, fallbacks: 0, led: 0, adopted: 0 };

const redis = new Redis({ port: config.redisPort, host: '127.0.0.1', retryStrategy: () => 200 });
redis.on('error', () => {}); // Redis going away is part of the show; the coordinator reports it
const fleet = createRedisCoordinator({
  redis,
  // Generous for a shared CI machine running four of these at once; the default is 250 ms.
  commandTimeoutMs: 1_000,
  reporter: {
    onFallback: () => {
      counts.fallbacks += 1;
    },
    onLeased: () => {
      counts.led += 1;
    },
    onAdopted: () => {
      counts.adopted += 1;
    },
  },
});
const oauthMint = createClientCredentialsMint({
  issuer: config.issuer,
  clientId: config.clientId,
  clientSecret: config.clientSecret,
  scope: config.scope,
  resource: config.resource,
  allowInsecureRequests: true, // plain http, on loopback only
});

/**
 * The OAuth mint, with the expiry taken from the token's own `exp` claim when that is earlier:
 * `expires_in` counts from when the answer arrived, while `exp` counts from the issuer's
 * whole second, so it can end up to a second sooner.
 */
const mint: Mint<string> = async (context) => {
  const credential = await oauthMint(context);
  return {
    value: credential.value,
    expiresAt: Math.min(
      credential.expiresAt ?? Number.POSITIVE_INFINITY,
      expiryOf(credential.value),
    ),
  };
};

/** The `exp` claim of a JWT access token, in epoch ms (never printed, only compared). */
function expiryOf(token: string): number {
  const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as {
    exp?: number;
  };
  return (payload.exp ?? 0) * 1000;
}

const providers: RefreshingProvider<string>[] = [];
let running = true;

async function main(): Promise<void> {
  await new Promise<void>((resolve) => redis.once('ready', () => resolve()));
  process.send?.({ type: 'ready', index: config.index });
  await new Promise<void>((resolve) => process.once('message', () => resolve())); // "go"
  for (const api of config.apis) {
    providers.push(
      await createRefreshingProvider({
        name: api,
        mint: fleet.wrap(api, mint),
        // The fleet's due point comes with each token (refreshAfter); for 5-second tokens:
        // no floor and a small jitter (it delays each replica past the fleet's due point).
        // refreshAt applies only to tokens a worker mints itself while Redis is away.
        refreshAt: 0.9,
        jitter: 0.03,
        refreshFloorMs: 0,
        minRefreshIntervalMs: 500,
      }),
    );
  }
  const report = setInterval(() => {
    process.send?.({ type: 'report', report: { index: config.index, ...counts } });
  }, 250);
  while (running) {
    for (const provider of providers) {
      const at = Date.now();
      provider.get().then(
        (token) => {
          counts.served += 1;
          if (expiryOf(token) <= at) counts.servedExpired += 1;
        },
        () => {
          counts.failed += 1;
        },
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  clearInterval(report);
}

process.on('message', (message: { type?: string }) => {
  if (message.type !== 'stop') return;
  running = false;
  process.send?.({ type: 'report', report: { index: config.index, ...counts } });
  for (const provider of providers) provider.close();
  void fleet.close().then(() => {
    redis.disconnect();
    process.exit(0);
  });
});

main().catch((error: unknown) => {
  console.error(`worker ${config.index}:`, error);
  process.exit(1);
});
