import tls from 'node:tls';
import {
  type BreakerStateChangeEvent,
  type Credential,
  createKeyedProvider,
  InvalidOptionError,
  isSluiceError,
  ProviderClosedError,
} from '@sluice/core';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  type CertificateMint,
  createSniCallback,
  type HandshakeFailureEvent,
  isTlsError,
  type ServernameRefusedEvent,
  type SniCallback,
  type TlsCertificate,
} from '../src/index.js';
import { createLocalCa, type LocalCa } from './support/local-ca.js';
import {
  callDirect,
  deferred,
  handshake,
  sleep,
  startServer,
  type TestServer,
  until,
} from './support/tls-harness.js';

let ca: LocalCa;
const cleanups: Array<() => unknown> = [];

beforeAll(async () => {
  ca = await createLocalCa();
});

afterEach(async () => {
  vi.restoreAllMocks();
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A mint issuing one-hour certificates from the local CA, counting calls per name. */
function countingMint(lifetimeMs = 3_600_000) {
  const calls: string[] = [];
  const mint: CertificateMint = async (servername) => {
    calls.push(servername);
    const leaf = await ca.issue(servername, lifetimeMs);
    return { value: leaf.certificate, expiresAt: Date.now() + lifetimeMs };
  };
  return { mint, calls };
}

function track(sni: SniCallback, server?: TestServer): void {
  cleanups.push(() => sni.close());
  if (server !== undefined) cleanups.push(() => server.close());
}

describe('createSniCallback over real TLS handshakes', () => {
  it('cold start: 1,000 concurrent handshakes across 100 allowed names cost exactly 100 mints', async () => {
    const { mint, calls } = countingMint();
    const names = Array.from({ length: 100 }, (_, i) => `host-${i}.cold.example`);
    const allowed = new Set(names);
    const sni = createSniCallback({
      certificates: mint,
      allow: (servername) => allowed.has(servername),
      handshakeTimeoutMs: 20_000,
      mintTimeoutMs: 20_000,
    });
    const server = await startServer(sni);
    track(sni, server);

    const results = await Promise.all(
      Array.from({ length: 1_000 }, async (_, i) => {
        const servername = names[i % names.length] as string;
        return { servername, result: await handshake(server.port, servername, ca.caPem, 30_000) };
      }),
    );

    expect(calls).toHaveLength(100);
    expect(new Set(calls)).toEqual(allowed);
    for (const { servername, result } of results) {
      expect(result.ok, result.ok ? '' : result.error.message).toBe(true);
      if (!result.ok) continue;
      expect(result.cn).toBe(servername);
      expect(result.san).toBe(`DNS:${servername}`);
    }
    expect(server.records.every((record) => record.error === null)).toBe(true);
    expect(sni.provider.size).toBe(100);
  }, 60_000);

  it('14-hour scenario: an expired certificate and a failing CA cost one mint, then fail fast, then recover after the cooldown', async () => {
    const servername = 'shop.expired.example';
    let caUp = true;
    let gate = deferred<void>();
    const mints: number[] = [];
    const caDown = Object.assign(new Error('CA rate limited this order'), { code: 'CA_DOWN' });
    const breakerChanges: BreakerStateChangeEvent[] = [];
    const failures: HandshakeFailureEvent[] = [];
    const sni = createSniCallback({
      certificates: async (name) => {
        mints.push(Date.now());
        if (!caUp) {
          await gate.promise; // the CA answers when the test says so
          throw caDown;
        }
        const leaf = await ca.issue(name, 3_600_000);
        // A short-lived credential: expires 1 s from now, never proactively refreshed.
        return { value: leaf.certificate, expiresAt: Date.now() + 1_000 };
      },
      allow: (name) => name === servername,
      refreshAt: 1,
      jitter: 0,
      refreshFloorMs: 0,
      breaker: { failureThreshold: 1, cooldownMs: 1_000 },
      handshakeTimeoutMs: 2_000,
      mintTimeoutMs: 5_000,
      reporter: {
        onBreakerStateChange: (event) => breakerChanges.push(event),
        onHandshakeFailure: (event) => failures.push(event),
      },
    });
    const server = await startServer(sni);
    track(sni, server);

    // 1. A first certificate, served.
    const first = await handshake(server.port, servername, ca.caPem);
    expect(first.ok).toBe(true);
    expect(mints).toHaveLength(1);

    // 2. Time passes: the certificate expires; the CA starts failing.
    await sleep(1_100);
    expect(sni.provider.peek(servername)).toBeUndefined();
    caUp = false;
    gate = deferred<void>();
    const cohortStart = server.records.length;
    const cohort = Array.from({ length: 200 }, () => handshake(server.port, servername, ca.caPem));
    await until(() => server.calls() >= 201); // every handshake is waiting on the one mint
    expect(mints).toHaveLength(2);
    gate.resolve();
    const cohortResults = await Promise.all(cohort);

    expect(mints).toHaveLength(2); // ONE mint attempt for 200 handshakes, no retries
    expect(cohortResults.every((result) => !result.ok)).toBe(true); // alert / reset
    const cohortRecords = server.records.slice(cohortStart);
    expect(cohortRecords).toHaveLength(200);
    for (const record of cohortRecords) {
      expect(record.error).toBe(caDown); // the mint's own error, not the handshake deadline's
    }
    expect(breakerChanges.map((event) => event.to)).toEqual(['open']);
    expect(breakerChanges[0]?.key).toBe(servername);

    // 3. The breaker is open: handshakes fail fast, without a mint (latency: pnpm bench:tls).
    const fastStart = server.records.length;
    const fast = await Promise.all(
      Array.from({ length: 50 }, () => handshake(server.port, servername, ca.caPem)),
    );
    expect(fast.every((result) => !result.ok)).toBe(true);
    expect(mints).toHaveLength(2);
    const fastRecords = server.records.slice(fastStart);
    expect(fastRecords).toHaveLength(50);
    for (const record of fastRecords) {
      expect(isSluiceError(record.error, 'SLUICE_BREAKER_OPEN')).toBe(true);
      expect((record.error as Error).cause).toBe(caDown);
    }
    expect(failures.filter((event) => event.code === 'SLUICE_BREAKER_OPEN')).toHaveLength(50);
    expect(failures.filter((event) => event.code === 'CA_DOWN')).toHaveLength(200);

    // 4. The CA recovers; after the cooldown one probe mints and handshakes complete.
    caUp = true;
    await sleep(1_050);
    const recovered = await Promise.all(
      Array.from({ length: 20 }, () => handshake(server.port, servername, ca.caPem)),
    );
    expect(recovered.every((result) => result.ok && result.cn === servername)).toBe(true);
    expect(mints).toHaveLength(3);
    expect(breakerChanges.map((event) => event.to)).toEqual(['open', 'half-open', 'closed']);
  }, 30_000);

  it('refuses malformed and disallowed servernames over real handshakes with zero mints; uppercase is normalized', async () => {
    const { mint, calls } = countingMint();
    const allowCalls: string[] = [];
    const refused: ServernameRefusedEvent[] = [];
    const sni = createSniCallback({
      certificates: mint,
      allow: (servername) => {
        allowCalls.push(servername);
        return servername.endsWith('.good.example');
      },
      handshakeTimeoutMs: 2_000,
      reporter: { onServernameRefused: (event) => refused.push(event) },
    });
    const server = await startServer(sni);
    track(sni, server);

    const offered = [
      ['../etc/passwd', 'SLUICE_TLS_SERVERNAME_INVALID'],
      ['bücher.good.example', 'SLUICE_TLS_SERVERNAME_INVALID'], // unicode without punycode
      ['x_y.good.example', 'SLUICE_TLS_SERVERNAME_INVALID'],
      ['evil.example', 'SLUICE_TLS_SERVERNAME_REFUSED'],
    ] as const;
    for (const [servername, code] of offered) {
      const result = await handshake(server.port, servername, ca.caPem);
      expect(result.ok).toBe(false);
      const record = server.records.at(-1);
      expect(isTlsError(record?.error, code), `${servername}: ${record?.error?.message}`).toBe(
        true,
      );
    }
    expect(calls).toEqual([]);
    expect(allowCalls).toEqual(['evil.example']); // never called for invalid syntax
    expect(refused.map((event) => event.reason)).toEqual([
      'invalid',
      'invalid',
      'invalid',
      'not-allowed',
    ]);
    expect(refused[0]).toMatchObject({ servername: '"../etc/passwd"', problem: 'empty-label' });
    expect(refused[1]?.problem).toBe('non-ascii');

    // Uppercase SNI is normalized, not refused: one mint for the lowercase name.
    const upper = await handshake(server.port, 'WWW.Good.EXAMPLE', ca.caPem);
    expect(upper.ok).toBe(true);
    expect(calls).toEqual(['www.good.example']);
    expect(server.records.at(-1)?.servername).toBe('WWW.Good.EXAMPLE');
  });

  it('a hung CA: the mint is aborted at mintTimeoutMs, waiters are released at handshakeTimeoutMs', async () => {
    const signals: AbortSignal[] = [];
    let abortedAt = 0;
    const startedAt = Date.now();
    const sni = createSniCallback({
      certificates: (_servername, { signal }) => {
        signals.push(signal);
        signal.addEventListener('abort', () => {
          abortedAt = Date.now();
        });
        return new Promise<never>(() => {}); // never answers
      },
      allow: () => true,
      handshakeTimeoutMs: 300,
      mintTimeoutMs: 900,
    });
    const server = await startServer(sni);
    track(sni, server);

    const results = await Promise.all(
      Array.from({ length: 20 }, () => handshake(server.port, 'hung.example', ca.caPem)),
    );
    expect(results.every((result) => !result.ok)).toBe(true);
    expect(server.records).toHaveLength(20);
    for (const record of server.records) {
      expect(isTlsError(record.error, 'SLUICE_TLS_HANDSHAKE_TIMEOUT')).toBe(true);
      expect(record.latencyMs).toBeGreaterThanOrEqual(295); // never before the deadline
    }
    expect(signals).toHaveLength(1);
    expect(signals[0]?.aborted).toBe(false); // handshakes never abort the shared mint

    await until(() => signals[0]?.aborted === true, 3_000);
    expect(abortedAt - startedAt).toBeGreaterThanOrEqual(880);
    expect(isSluiceError(signals[0]?.reason, 'SLUICE_MINT_TIMEOUT')).toBe(true);
    expect(signals).toHaveLength(1); // and nobody retried it
  });

  it('renewal under load: the due certificate is renewed once in the background and no handshake waits', async () => {
    const servername = 'busy.example';
    const renewal = deferred<void>();
    const serials: string[] = [];
    let mints = 0;
    const sni = createSniCallback({
      certificates: async (name) => {
        mints += 1;
        if (mints === 1) {
          const leaf = await ca.issue(name);
          serials.push(leaf.serial);
          return { value: leaf.certificate, expiresAt: Date.now() + 2_000 }; // due at +1 s
        }
        await renewal.promise; // a slow renewal: 300 ms
        const leaf = await ca.issue(name);
        serials.push(leaf.serial);
        return { value: leaf.certificate, expiresAt: Date.now() + 60_000 };
      },
      allow: () => true,
      refreshAt: 0.5,
      jitter: 0,
      refreshFloorMs: 0,
      handshakeTimeoutMs: 2_000,
    });
    const server = await startServer(sni);
    track(sni, server);
    expect((await handshake(server.port, servername, ca.caPem)).ok).toBe(true);

    const results: Array<Promise<Awaited<ReturnType<typeof handshake>>>> = [];
    /** Handshakes started while the renewal was still pending. */
    let duringRenewal = 0;
    let renewed = false;
    const loadStart = Date.now();
    while (Date.now() - loadStart < 2_200) {
      results.push(handshake(server.port, servername, ca.caPem)); // ~100 handshakes/s
      if (mints === 2 && !renewed) duringRenewal = results.length;
      if (mints === 2 && Date.now() - loadStart > 1_300 && !renewed) {
        renewed = true;
        renewal.resolve();
      }
      await sleep(10);
    }
    renewal.resolve();
    const settled = await Promise.all(results);

    expect(mints).toBe(2);
    expect(settled.length).toBeGreaterThan(100);
    expect(settled.every((result) => result.ok)).toBe(true);
    const served = new Set(settled.map((result) => (result.ok ? result.serial : '')));
    expect(served).toEqual(new Set(serials)); // the old certificate, then the renewed one
    // No handshake waited for the renewal: those started while it was pending got the old
    // certificate (a waiter would have received the renewed one). The last few started just
    // before the renewal landed may reach the server after it, so they are not counted.
    expect(duringRenewal).toBeGreaterThan(20);
    const old = settled.slice(0, duringRenewal - 5);
    expect(old.every((result) => result.ok && result.serial === serials[0])).toBe(true);
    expect(server.records.every((record) => record.error === null)).toBe(true);
  }, 20_000);

  it('builds one SecureContext per certificate, not per handshake, with secureContextOptions merged into each', async () => {
    const build = vi.spyOn(tls, 'createSecureContext');
    const { mint } = countingMint();
    const sni = createSniCallback({
      certificates: mint,
      allow: () => true,
      secureContextOptions: { minVersion: 'TLSv1.3' },
    });
    const server = await startServer(sni);
    track(sni, server);
    const certificateBuilds = () =>
      build.mock.calls.filter(([options]) => typeof options?.key === 'string');

    const names = ['a.ctx.example', 'b.ctx.example', 'c.ctx.example'];
    for (let round = 0; round < 10; round++) {
      const results = await Promise.all(
        names.map((name) => handshake(server.port, name, ca.caPem)),
      );
      expect(results.every((result) => result.ok)).toBe(true);
    }
    expect(certificateBuilds()).toHaveLength(3);
    expect(certificateBuilds().every(([options]) => options?.minVersion === 'TLSv1.3')).toBe(true);

    await sni.provider.refresh('a.ctx.example'); // a new certificate: one more context
    for (let round = 0; round < 5; round++) {
      expect((await handshake(server.port, 'a.ctx.example', ca.caPem)).ok).toBe(true);
    }
    expect(certificateBuilds()).toHaveLength(4);
  });
});

describe('createSniCallback without sockets', () => {
  it('fails invalid servernames at once (empty, 300 characters, IPv4, IPv6) with no allow() call and no mint', async () => {
    const { mint, calls } = countingMint();
    const allow = vi.fn(() => true);
    const sni = createSniCallback({ certificates: mint, allow });
    track(sni);
    for (const servername of ['', 'a'.repeat(300), '192.168.0.1', '::1', '[2001:db8::1]']) {
      const { error } = await callDirect(sni, servername);
      expect(isTlsError(error, 'SLUICE_TLS_SERVERNAME_INVALID')).toBe(true);
    }
    expect(allow).not.toHaveBeenCalled();
    expect(calls).toEqual([]);
  });

  it('bounds a slow allow() by the handshake deadline and mints nothing', async () => {
    const { mint, calls } = countingMint();
    let seen: AbortSignal | undefined;
    const sni = createSniCallback({
      certificates: mint,
      allow: (_servername, { signal }) => {
        seen = signal;
        return new Promise<boolean>(() => {});
      },
      handshakeTimeoutMs: 100,
    });
    track(sni);
    const { error, latencyMs } = await callDirect(sni, 'slow.example');
    expect(isTlsError(error, 'SLUICE_TLS_HANDSHAKE_TIMEOUT')).toBe(true);
    expect(latencyMs).toBeGreaterThanOrEqual(95);
    expect(seen?.aborted).toBe(true);
    expect(calls).toEqual([]);
  });

  it('treats only `true` from allow() as allowed; a throwing allow() fails the handshake with its error', async () => {
    const { mint, calls } = countingMint();
    const boom = new Error('policy store down');
    const answers: Record<string, () => unknown> = {
      'yes.example': () => true,
      'async.example': () => Promise.resolve(true),
      'truthy.example': () => 'yes',
      'no.example': () => Promise.resolve(false),
      'throws.example': () => {
        throw boom;
      },
    };
    const sni = createSniCallback({
      certificates: mint,
      allow: (name) => answers[name]?.() as boolean,
    });
    track(sni);
    expect((await callDirect(sni, 'yes.example')).error).toBeNull();
    expect((await callDirect(sni, 'async.example')).error).toBeNull();
    const truthy = await callDirect(sni, 'truthy.example');
    expect(isTlsError(truthy.error, 'SLUICE_TLS_SERVERNAME_REFUSED')).toBe(true);
    expect(isTlsError((await callDirect(sni, 'no.example')).error)).toBe(true);
    expect((await callDirect(sni, 'throws.example')).error).toBe(boom);
    expect(calls).toEqual(['yes.example', 'async.example']);
  });

  it('with a shared breaker, one failing issuer fails every name fast', async () => {
    let mints = 0;
    const down = new Error('issuer down');
    const sni = createSniCallback({
      certificates: async () => {
        mints += 1;
        throw down;
      },
      allow: () => true,
      breakerScope: 'shared',
      breaker: { failureThreshold: 2, cooldownMs: 60_000 },
    });
    track(sni);
    expect((await callDirect(sni, 'a.shared.example')).error).toBe(down);
    expect((await callDirect(sni, 'b.shared.example')).error).toBe(down);
    const third = await callDirect(sni, 'c.shared.example');
    expect(isSluiceError(third.error, 'SLUICE_BREAKER_OPEN')).toBe(true);
    expect(mints).toBe(2);
  });

  it('with a per-key breaker, a failing name does not fail the others', async () => {
    const down = new Error('challenge failed');
    const sni = createSniCallback({
      certificates: async (name) => {
        if (name.startsWith('broken.')) throw down;
        const leaf = await ca.issue(name);
        return { value: leaf.certificate, expiresAt: Date.now() + 3_600_000 };
      },
      allow: () => true,
      breaker: { failureThreshold: 1, cooldownMs: 60_000 },
    });
    track(sni);
    expect((await callDirect(sni, 'broken.example')).error).toBe(down);
    const again = await callDirect(sni, 'broken.example');
    expect(isSluiceError(again.error, 'SLUICE_BREAKER_OPEN')).toBe(true);
    expect((await callDirect(sni, 'fine.example')).error).toBeNull();
  });

  it('never serves a leaf past its notAfter, even from a provider whose credential never expires', async () => {
    const leaf = await ca.issue('stale.example', -30_000); // notAfter is in the past
    let mints = 0;
    const provider = createKeyedProvider<string, TlsCertificate>({
      mint: () => {
        mints += 1;
        return { value: leaf.certificate }; // no expiresAt
      },
    });
    const sni = createSniCallback({ certificates: provider });
    track(sni);
    cleanups.push(() => provider.close());
    const { error } = await callDirect(sni, 'stale.example');
    expect(isTlsError(error, 'SLUICE_TLS_CERTIFICATE_EXPIRED')).toBe(true);
    expect(provider.snapshot('stale.example')?.status).toBe('empty'); // invalidated
    await callDirect(sni, 'stale.example');
    expect(mints).toBe(2);
  });

  it('a freshly minted leaf that is not valid yet fails the mint and is never served', async () => {
    const leaf = await ca.issue('future.example', 3_600_000, Date.now() + 600_000);
    const failures: string[] = [];
    const sni = createSniCallback({
      certificates: async () => ({ value: leaf.certificate }),
      allow: () => true,
      reporter: { onRefreshFailure: (event) => failures.push(String(event.code)) },
    });
    track(sni);
    const { error, context } = await callDirect(sni, 'future.example');
    expect(context).toBeUndefined();
    expect(isTlsError(error, 'SLUICE_TLS_CERTIFICATE_NOT_YET_VALID')).toBe(true);
    expect((error as unknown as { notBefore: number }).notBefore).toBe(
      Math.floor((Date.now() + 600_000) / 1000) * 1000,
    );
    expect(failures).toEqual(['SLUICE_TLS_CERTIFICATE_NOT_YET_VALID']);
    expect(sni.provider.snapshot('future.example')?.breaker.failures).toBe(1);
  });

  it('a cached leaf is not served once the clock steps back before its notBefore: it is invalidated', async () => {
    const leaf = await ca.issue('stepped.example', 3_600_000);
    let offsetMs = 0;
    const now = () => Date.now() + offsetMs;
    let mints = 0;
    const provider = createKeyedProvider<string, TlsCertificate>({
      now,
      mint: () => {
        mints += 1;
        return { value: leaf.certificate, expiresAt: now() + 3_000_000 };
      },
    });
    cleanups.push(() => provider.close());
    const sni = createSniCallback({ certificates: provider, now });
    track(sni);
    expect((await callDirect(sni, 'stepped.example')).error).toBeNull();
    offsetMs = -3_600_000; // the server's clock steps back an hour, before the leaf's start
    for (let attempt = 0; attempt < 3; attempt++) {
      const { error, context } = await callDirect(sni, 'stepped.example');
      expect(context).toBeUndefined();
      expect(isTlsError(error, 'SLUICE_TLS_CERTIFICATE_NOT_YET_VALID')).toBe(true);
    }
    // Each refusal invalidated the cached leaf, so each later handshake minted again.
    expect(mints).toBeGreaterThan(1);
  });

  it("clamps a minted credential's expiresAt to the leaf's notAfter, and a key that does not load is a mint failure", async () => {
    const leaf = await ca.issue('clamp.example', 60_000);
    const sni = createSniCallback({
      certificates: async (name) =>
        name === 'clamp.example'
          ? { value: leaf.certificate } // claims to never expire
          : { value: { key: 'not a key', cert: leaf.certificate.cert } },
      allow: () => true,
    });
    track(sni);
    expect((await callDirect(sni, 'clamp.example')).error).toBeNull();
    const credential = sni.provider.peek('clamp.example') as Credential<TlsCertificate>;
    expect(credential.expiresAt).toBe(leaf.notAfter);

    const bad = await callDirect(sni, 'bad-key.example');
    expect(bad.error).toBeInstanceOf(Error);
    expect(sni.provider.snapshot('bad-key.example')?.lastError).not.toBeNull();
  });

  it('close() fails later handshakes and closes a provider it built, but not one it was given', async () => {
    const { mint } = countingMint();
    const owned = createSniCallback({ certificates: mint, allow: () => true });
    expect((await callDirect(owned, 'x.close.example')).error).toBeNull();
    owned.close();
    owned.close();
    expect((await callDirect(owned, 'x.close.example')).error).toBeInstanceOf(ProviderClosedError);
    await expect(owned.provider.getCredential('x.close.example')).rejects.toBeInstanceOf(
      ProviderClosedError,
    );

    const provider = createKeyedProvider<string, TlsCertificate>({
      mint: (name) => mint(name, {} as never),
    });
    cleanups.push(() => provider.close());
    {
      using given = createSniCallback({ certificates: provider });
      expect(given.provider).toBe(provider);
    }
    expect((await provider.getCredential('y.close.example')).value.cert).toContain('CERTIFICATE');
  });

  it('reports handshake failures with the servername and code but never key material', async () => {
    const failures: HandshakeFailureEvent[] = [];
    const refusals: ServernameRefusedEvent[] = [];
    const leaf = await ca.issue('r.example');
    const sni = createSniCallback({
      certificates: async (name) => {
        if (name === 'r.example') return { value: leaf.certificate, expiresAt: Date.now() + 1e6 };
        throw Object.assign(new Error('nope'), { code: 'E_ISSUER' });
      },
      allow: () => true,
      reporter: {
        onHandshakeFailure: (event) => failures.push(event),
        onServernameRefused: (event) => {
          refusals.push(event);
          throw new Error('a broken reporter changes nothing');
        },
        onRefreshSuccess: () => {
          throw new Error('neither does a broken core hook');
        },
      },
    });
    track(sni);
    expect((await callDirect(sni, 'r.example')).error).toBeNull();
    expect((await callDirect(sni, 'q.example')).error?.message).toBe('nope');
    expect(isTlsError((await callDirect(sni, 'bad_name.example')).error)).toBe(true);
    expect(failures).toEqual([
      expect.objectContaining({ name: 'sluice-tls', servername: 'q.example', code: 'E_ISSUER' }),
    ]);
    expect(refusals).toHaveLength(1);
    const printed = JSON.stringify([failures, refusals]);
    expect(printed).not.toContain('PRIVATE KEY');
  });

  it('validates its options eagerly', () => {
    const { mint } = countingMint();
    const provider = createKeyedProvider<string, TlsCertificate>({ mint: () => never() });
    cleanups.push(() => provider.close());
    const option = (build: () => unknown): string | undefined => {
      try {
        build();
      } catch (error) {
        if (error instanceof InvalidOptionError) return error.option;
        throw error;
      }
      return undefined;
    };
    expect(option(() => createSniCallback({ certificates: mint }))).toBe('allow');
    expect(option(() => createSniCallback({ certificates: provider, maxKeys: 5 }))).toBe('maxKeys');
    expect(option(() => createSniCallback({ certificates: provider, handshakeTimeoutMs: 0 }))).toBe(
      'handshakeTimeoutMs',
    );
    expect(option(() => createSniCallback({ certificates: {} as never }))).toBe('certificates');
    expect(
      option(() => createSniCallback({ certificates: mint, allow: () => true, maxKeys: 0 })),
    ).toBe('maxKeys');
    expect(option(() => createSniCallback({ certificates: provider }).close())).toBeUndefined();
  });
});

function never(): never {
  throw new Error('not called');
}
