/**
 * @sluice/tls behind @sluice/redis: on-demand certificates shared across a fleet. Two
 * "replicas" (two TLS servers, each with its own SNI callback, keyed provider, coordinator and
 * ioredis client) on one real redis-server; certificates from a local CA (as the tls tests
 * use), stored with `tlsCertificateCodec`, encrypted at rest. Real TLS handshakes on both
 * replicas verify the served chain against the CA.
 */

import { randomBytes } from 'node:crypto';
import type { Credential, KeyedMint } from '@sluice/core';
import { createRedisCoordinator, type FleetCoordinator, tlsCertificateCodec } from '@sluice/redis';
import { createSniCallback, type TlsCertificate } from '@sluice/tls';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  type RedisServer,
  redisAvailable,
  startRedisServer,
} from '../../packages/redis/test/support/redis-server.js';
import { createLocalCa, type LocalCa } from '../../packages/tls/test/support/local-ca.js';
import {
  handshake,
  startServer,
  type TestServer,
} from '../../packages/tls/test/support/tls-harness.js';

let redis: RedisServer;
let ca: LocalCa;
const closers: Array<() => unknown> = [];
let prefixes = 0;

const encryption = { keys: [{ id: 'tls-1', key: randomBytes(32) }] };
const HOSTS = ['api.fleet.test', 'www.fleet.test'];

/** The local CA as an on-demand issuer, counting issuances per name. */
function countingIssuer() {
  const issued = new Map<string, number>();
  const serials: string[] = [];
  const mint: KeyedMint<string, TlsCertificate> = async (servername) => {
    issued.set(servername, (issued.get(servername) ?? 0) + 1);
    const leaf = await ca.issue(servername, 3_600_000);
    serials.push(leaf.serial);
    return {
      value: leaf.certificate,
      expiresAt: leaf.notAfter,
    } satisfies Credential<TlsCertificate>;
  };
  return { mint, issued, serials };
}

describe.skipIf(!redisAvailable())('tls x redis', () => {
  beforeAll(async () => {
    redis = await startRedisServer(); // stopped by PID in afterAll
    ca = await createLocalCa();
  });

  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close();
  });

  afterAll(async () => {
    await redis?.stop();
  });

  async function replica(keyPrefix: string, mint: KeyedMint<string, TlsCertificate>) {
    const fleet: FleetCoordinator = createRedisCoordinator({
      redis: redis.client(),
      keyPrefix,
      encryption,
    });
    const sni = createSniCallback({
      name: 'edge',
      certificates: fleet.wrapKeyed('certificates', mint, { codec: tlsCertificateCodec }),
      allow: (servername) => HOSTS.includes(servername),
    });
    const server: TestServer = await startServer(sni);
    closers.push(
      () => fleet.close(),
      () => sni.close(),
      () => server.close(),
    );
    return server;
  }

  it('keyed certificates across a fleet: two replicas complete real TLS handshakes with the same certificate, issued once per name', async () => {
    const keyPrefix = `tls-redis-${++prefixes}:`;
    const issuer = countingIssuer();
    const a = await replica(keyPrefix, issuer.mint);
    const b = await replica(keyPrefix, issuer.mint);

    for (const host of HOSTS) {
      const first = await handshake(a.port, host, ca.caPem);
      const second = await handshake(b.port, host, ca.caPem);
      const again = await handshake(a.port, host, ca.caPem);
      for (const result of [first, second, again]) {
        expect(result).toMatchObject({ ok: true, cn: host, san: `DNS:${host}` });
      }
      // The same leaf on both replicas: the second adopted what the first issued.
      expect(second.ok && first.ok && second.serial === first.serial).toBe(true);
      expect(issuer.issued.get(host)).toBe(1);
    }
    expect(issuer.serials).toHaveLength(HOSTS.length);
  });

  it('replicas booting at once share one issuance per name (the boot herd is one order)', async () => {
    const keyPrefix = `tls-redis-${++prefixes}:`;
    const issuer = countingIssuer();
    const [a, b] = await Promise.all([
      replica(keyPrefix, issuer.mint),
      replica(keyPrefix, issuer.mint),
    ]);
    const results = await Promise.all(
      HOSTS.flatMap((host) => [a, b].map((server) => handshake(server.port, host, ca.caPem))),
    );
    for (const result of results) expect(result.ok).toBe(true);
    for (const host of HOSTS) expect(issuer.issued.get(host)).toBe(1);
  });

  it('the private key of a shared certificate is never in Redis in clear under encryption', async () => {
    const keyPrefix = `tls-redis-${++prefixes}:`;
    const issuer = countingIssuer();
    let privateKey = '';
    const mint: KeyedMint<string, TlsCertificate> = async (servername, context) => {
      const credential = await issuer.mint(servername, context);
      privateKey = String(credential.value.key);
      return credential;
    };
    const a = await replica(keyPrefix, mint);
    expect((await handshake(a.port, HOSTS[0] as string, ca.caPem)).ok).toBe(true);
    const admin = redis.client();
    const keys = await admin.keys(`${keyPrefix}*`);
    expect(keys.length).toBeGreaterThan(0);
    const body = privateKey
      .split('\n')
      .filter((line) => !line.startsWith('-----'))
      .join('');
    for (const key of keys) {
      const type = await admin.type(key);
      const dump =
        type === 'hash' ? JSON.stringify(await admin.hgetall(key)) : String(await admin.get(key));
      expect(dump).not.toContain(body.slice(0, 40));
      expect(dump).not.toContain('PRIVATE KEY');
    }
  });
});
