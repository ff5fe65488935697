/**
 * One fleet instance in a process of its own, for the scenarios where a process crash or a
 * frozen process is the point (kill -9, SIGSTOP). The parent drives it over IPC and is its
 * issuer: every mint is a request to the parent, which counts it and answers when it chooses.
 *
 * Parent to child: `{ type: 'get' }`. Child to parent: `{ type: 'ready' }`,
 * `{ type: 'mint', id }` (answered with `{ type: 'minted', id, value, lifetimeMs }` or
 * `{ type: 'failed', id }`), `{ type: 'holding', id }` (the answer arrived and the child now
 * waits `holdAfterMintMs` before handing it to the coordinator), `{ type: 'served', value }`,
 * `{ type: 'events', events }`.
 */

import { createRefreshingProvider, type MintContext, type RefreshingProvider } from '@sluice/core';
import { Redis } from 'ioredis';
import { createRedisCoordinator, type FleetReporter } from '../../src/index.js';

interface Config {
  readonly port: number;
  readonly keyPrefix: string;
  readonly leaseMs: number;
  readonly pollMaxMs: number;
  readonly holdAfterMintMs: number;
}

const config = JSON.parse(process.env.SLUICE_INSTANCE ?? '{}') as Config;
const send = (message: object): void => {
  process.send?.(message);
};

const events: Array<{ hook: string; event: object }> = [];
const reporter: FleetReporter = {};
for (const hook of ['onAdopted', 'onLeased', 'onStored', 'onFallback', 'onWoken'] as const) {
  reporter[hook] = ((event: object) => {
    events.push({ hook, event });
  }) as never;
}

const pending = new Map<number, (reply: { value?: string; lifetimeMs?: number }) => void>();
let nextId = 0;

async function mint(context: MintContext<string>) {
  const id = ++nextId;
  const reply = await new Promise<{ value?: string; lifetimeMs?: number }>((resolve) => {
    pending.set(id, resolve);
    send({ type: 'mint', id, reason: context.reason });
  });
  if (reply.value === undefined) throw new Error('issuer failed');
  const credential = { value: reply.value, expiresAt: Date.now() + (reply.lifetimeMs ?? 60_000) };
  if (config.holdAfterMintMs > 0) {
    send({ type: 'holding', id });
    await new Promise((resolve) => setTimeout(resolve, config.holdAfterMintMs));
  }
  return credential;
}

const redis = new Redis({ port: config.port, host: '127.0.0.1' });
redis.on('error', () => {});
const coordinator = createRedisCoordinator({
  redis,
  keyPrefix: config.keyPrefix,
  leaseMs: config.leaseMs,
  poll: { initialDelayMs: 50, maxDelayMs: config.pollMaxMs },
  reporter,
});
let provider: RefreshingProvider<string> | undefined;

process.on(
  'message',
  (message: { type: string; id?: number; value?: string; lifetimeMs?: number }) => {
    if (message.type === 'minted' || message.type === 'failed') {
      const resolve = pending.get(message.id ?? -1);
      pending.delete(message.id ?? -1);
      resolve?.(message.type === 'minted' ? message : {});
    } else if (message.type === 'get') {
      void (async () => {
        provider ??= await createRefreshingProvider({
          name: 'api',
          mint: coordinator.wrap<string>('api', mint),
          lazy: true,
        });
        const value = await provider.get();
        send({ type: 'served', value });
      })().catch((error: unknown) => send({ type: 'error', message: String(error) }));
    } else if (message.type === 'events') {
      send({ type: 'events', events });
    } else if (message.type === 'exit') {
      provider?.close();
      void coordinator.close().then(() => {
        redis.disconnect();
        process.exit(0);
      });
    }
  },
);

redis.once('ready', () => send({ type: 'ready' }));
