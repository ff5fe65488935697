/**
 * Issue row: "unknown key id; ciphertext moved to another name" must show a miss, reported; no
 * crash, no plaintext. And the rest of "secrets at rest": what sits in Redis, rotation, codecs.
 */

import { createKeyedProvider, createRefreshingProvider, type MintContext } from '@sluice/core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  createRedisCoordinator,
  type EncryptionOptions,
  type FleetCoordinator,
  tlsCertificateCodec,
} from '../../src/index.js';
import { credentialKeys } from '../../src/redis/keys.js';
import { createIssuer, type Issuer, recordingReporter } from '../support/fleet.js';
import { type RedisServer, redisAvailable, startRedisServer } from '../support/redis-server.js';

const k1 = { id: 'k1', key: new Uint8Array(32).fill(1) };
const k2 = { id: 'k2', key: new Uint8Array(32).fill(2) };

let server: RedisServer;
let closers: Array<() => unknown> = [];
let prefixCounter = 0;

/** One instance of the `name` credential with its own connection and keyring. */
async function instance(
  keyPrefix: string,
  issuer: Issuer,
  encryption: EncryptionOptions | undefined,
  name = 'api',
) {
  const events = recordingReporter();
  const coordinator: FleetCoordinator = createRedisCoordinator({
    redis: server.client(),
    keyPrefix,
    reporter: events.reporter,
    ...(encryption === undefined ? {} : { encryption }),
  });
  const provider = await createRefreshingProvider<string>({
    name,
    mint: coordinator.wrap<string>(name, (context: MintContext<string>) => issuer.mint(context)),
  });
  closers.push(
    () => provider.close(),
    () => coordinator.close(),
  );
  return { provider, events, coordinator };
}

describe.skipIf(!redisAvailable())('secrets at rest', () => {
  beforeAll(async () => {
    server = await startRedisServer();
  });
  afterEach(async () => {
    for (const close of closers) await close();
    closers = [];
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('with encryption, Redis holds an AES-GCM ciphertext under the newest key id, never the token; instances sharing the keyring adopt it', async () => {
    const keyPrefix = `enc-${++prefixCounter}:`;
    const issuer = createIssuer({ lifetimeMs: 60_000 });
    const a = await instance(keyPrefix, issuer, { keys: [k2, k1] });
    const token = await a.provider.get();
    const admin = server.client();
    const stored = await admin.hgetall(credentialKeys(keyPrefix, 'api').credential);
    expect(stored.kid).toBe('k2');
    expect(JSON.stringify(stored)).not.toContain(token);
    expect(Buffer.from(stored.val ?? '', 'base64').toString('latin1')).not.toContain(token);
    const b = await instance(keyPrefix, issuer, { keys: [k1, k2] });
    expect(await b.provider.get()).toBe(token);
    expect(issuer.attempts).toBe(1);
  });

  it('an unknown key id is a miss, reported without the value: the instance mints its own and nothing crashes', async () => {
    const keyPrefix = `enc-${++prefixCounter}:`;
    const issuer = createIssuer({ lifetimeMs: 60_000 });
    const a = await instance(keyPrefix, issuer, { keys: [k2] });
    const token = await a.provider.get();
    const b = await instance(keyPrefix, issuer, { keys: [k1] });
    const own = await b.provider.get();
    expect(own).not.toBe(token);
    expect(issuer.attempts).toBe(2);
    const [failed] = b.events.of('decryptFailed');
    expect(failed).toMatchObject({ name: 'api', error: { problem: 'unknown-key', keyId: 'k2' } });
    expect(JSON.stringify(b.events.events)).not.toContain(token);
    expect(String((failed?.error as Error | undefined)?.message)).not.toContain(token);
  });

  it('a ciphertext copied under another credential fails authentication: a miss, reported, never the plaintext', async () => {
    const keyPrefix = `enc-${++prefixCounter}:`;
    const issuer = createIssuer({ lifetimeMs: 60_000 });
    const billing = await instance(keyPrefix, issuer, { keys: [k1] }, 'billing');
    const token = await billing.provider.get();
    const admin = server.client();
    const source = credentialKeys(keyPrefix, 'billing').credential;
    const target = credentialKeys(keyPrefix, 'payroll').credential;
    await admin.hset(target, await admin.hgetall(source));
    await admin.pexpire(target, 60_000);
    const payroll = await instance(keyPrefix, issuer, { keys: [k1] }, 'payroll');
    const own = await payroll.provider.get();
    expect(own).not.toBe(token);
    expect(payroll.events.of('decryptFailed')).toEqual([
      { name: 'payroll', error: expect.objectContaining({ problem: 'authentication-failed' }) },
    ]);
    // The moved record was replaced by payroll's own credential.
    expect(await admin.hget(target, 'id')).not.toBe(await admin.hget(source, 'id'));
  });

  it('with encryption on, a record stored in clear is a miss (it could have been planted)', async () => {
    const keyPrefix = `enc-${++prefixCounter}:`;
    const issuer = createIssuer({ lifetimeMs: 60_000 });
    const plain = await instance(keyPrefix, issuer, undefined);
    const token = await plain.provider.get();
    const sealed = await instance(keyPrefix, issuer, { keys: [k1] });
    expect(await sealed.provider.get()).not.toBe(token);
    expect(sealed.events.of('decryptFailed')[0]).toMatchObject({
      error: { problem: 'unencrypted' },
    });
  });

  it('failure records are sealed too: the issuer error message is not in Redis in clear', async () => {
    const keyPrefix = `enc-${++prefixCounter}:`;
    const issuer = createIssuer({ lifetimeMs: 60_000 });
    issuer.failing = 503;
    await expect(instance(keyPrefix, issuer, { keys: [k1] })).rejects.toThrow('HTTP 503');
    const admin = server.client();
    const failure = await admin.hgetall(credentialKeys(keyPrefix, 'api').failure);
    expect(failure.kid).toBe('k1');
    expect(JSON.stringify(failure)).not.toContain('503');
  });

  it('the TLS codec stores { key, cert } pairs (buffers come back as PEM strings), encrypted, per key', async () => {
    const keyPrefix = `enc-${++prefixCounter}:`;
    let issued = 0;
    const coordinators = [0, 1].map(() =>
      createRedisCoordinator({ redis: server.client(), keyPrefix, encryption: { keys: [k1] } }),
    );
    const pem = (label: string, host: string) =>
      `-----BEGIN ${label}-----\n${Buffer.from(host).toString('base64')}\n-----END ${label}-----\n`;
    const providers = coordinators.map((coordinator) =>
      createKeyedProvider<string, { key: string | Buffer; cert: string | Buffer }>({
        mint: coordinator.wrapKeyed<string, { key: string | Buffer; cert: string | Buffer }>(
          'certificates',
          async (host: string) => {
            issued++;
            return {
              value: { key: Buffer.from(pem('PRIVATE KEY', host)), cert: pem('CERTIFICATE', host) },
              expiresAt: Date.now() + 60_000,
            };
          },
          { codec: tlsCertificateCodec },
        ),
      }),
    );
    await providers[0]?.get('a.example');
    const adopted = await providers[1]?.get('a.example');
    expect(issued).toBe(1);
    expect(adopted).toEqual({
      key: pem('PRIVATE KEY', 'a.example'),
      cert: pem('CERTIFICATE', 'a.example'),
    });
    for (const provider of providers) provider.close();
    await Promise.all(coordinators.map((c) => c.close()));
  });
});
