/**
 * End-to-end tests against a real ACME server: Debian's `pebble`, started on loopback by the
 * suite. Certificates are really ordered, issued, served and verified against pebble's root.
 *
 * Time: pebble issues certificates valid for two minutes and each server gets its own
 * clock (`now`), offset from real time. Jumping it forward reaches a due point or an expiry
 * without sleeping, while every TLS client still verifies the certificates at real time.
 * Background renewals are awaited through reporter events, not timeouts.
 *
 * Without `pebble` on PATH the suite is skipped (with an install hint), except under
 * `CI=true`, where it fails.
 */

import { X509Certificate } from 'node:crypto';
import type { RefreshFailureEvent, RefreshSuccessEvent } from '@sluice/core';
import {
  createSniCallback,
  type HandshakeFailureEvent,
  type ServernameRefusedEvent,
  type SniCallback,
  type SniCallbackOptions,
} from '@sluice/tls';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type AcmeMint, type AcmeMintEvent, createAcmeMint } from '../src/acme-mint.js';
import { type OnDemandServer, startOnDemandServer } from '../src/https-server.js';
import { findPebble, PEBBLE_INSTALL_HINT, type Pebble, startPebble } from '../src/pebble.js';
import { type ProbeResult, probe } from '../src/tls-probe.js';

const hasPebble = findPebble() !== undefined;
const mustRun = process.env.CI === 'true';
if (!hasPebble && !mustRun) {
  console.warn(`skipping the on-demand TLS tests against pebble: ${PEBBLE_INSTALL_HINT}`);
}

const VALIDITY_SECONDS = 120;
const REQUEST_TIMEOUT_MS = 1_000;
const BREAKER = { failureThreshold: 2, cooldownMs: 60_000 } as const;

interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** One on-demand server with its own jumpable clock and the events its reporter saw. */
interface Harness {
  readonly sni: SniCallback;
  readonly server: OnDemandServer;
  /** Moves this server's clock forward to `epochMs` (real time keeps running under it). */
  jumpTo(epochMs: number): void;
  now(): number;
  hit(servername: string): Promise<ProbeResult>;
  readonly refused: ServernameRefusedEvent[];
  readonly handshakeFailures: HandshakeFailureEvent[];
  readonly refreshFailures: RefreshFailureEvent[];
  /** Resolves with the next successful mint (initial or renewal) of `servername`. */
  nextRefresh(servername: string): Promise<RefreshSuccessEvent>;
  /** Resolves with the next failed mint of `servername`. */
  nextRefreshFailure(servername: string): Promise<RefreshFailureEvent>;
}

describe.skipIf(!hasPebble && !mustRun)('on-demand TLS against pebble', () => {
  let pebble: Pebble;
  let acmeMint: AcmeMint;
  let rootFingerprint: string;
  const mintEvents: AcmeMintEvent[] = [];
  const harnesses: Harness[] = [];

  beforeAll(async () => {
    if (!hasPebble) throw new Error(`${PEBBLE_INSTALL_HINT} (CI=true: this suite must run)`);
    pebble = await startPebble({ certificateValiditySeconds: VALIDITY_SECONDS });
    rootFingerprint = new X509Certificate(pebble.rootCaPem).fingerprint256;
    acmeMint = await createAcmeMint({
      directoryUrl: pebble.directoryUrl,
      ca: pebble.listenerCaPem,
      requestTimeoutMs: REQUEST_TIMEOUT_MS,
      onEvent: (event) => mintEvents.push(event),
    });
  });

  afterEach(async () => {
    pebble?.gate.setMode('pass');
    await Promise.all(harnesses.splice(0).map((h) => h.server.close()));
  });

  afterAll(async () => {
    acmeMint?.close();
    await pebble?.stop();
  });

  async function serve(allowed: readonly string[]): Promise<Harness> {
    let offsetMs = 0;
    const now = (): number => Date.now() + offsetMs;
    const refused: ServernameRefusedEvent[] = [];
    const handshakeFailures: HandshakeFailureEvent[] = [];
    const refreshFailures: RefreshFailureEvent[] = [];
    const successWaiters = new Map<string, Deferred<RefreshSuccessEvent>[]>();
    const failureWaiters = new Map<string, Deferred<RefreshFailureEvent>[]>();
    const settle = <T>(waiters: Map<string, Deferred<T>[]>, key: string | undefined, event: T) => {
      for (const waiter of waiters.get(key ?? '')?.splice(0) ?? []) waiter.resolve(event);
    };
    const wait = <T>(waiters: Map<string, Deferred<T>[]>, key: string): Promise<T> => {
      const waiter = deferred<T>();
      waiters.set(key, [...(waiters.get(key) ?? []), waiter]);
      return waiter.promise;
    };
    const allow = new Set(allowed);
    const options: SniCallbackOptions = {
      certificates: acmeMint.mint,
      allow: (name) => allow.has(name),
      now,
      refreshAt: 0.5,
      jitter: 0,
      refreshFloorMs: 1_000,
      mintTimeoutMs: 10_000,
      breaker: BREAKER,
      reporter: {
        onServernameRefused: (e) => refused.push(e),
        onHandshakeFailure: (e) => handshakeFailures.push(e),
        onRefreshSuccess: (e) => settle(successWaiters, e.key, e),
        onRefreshFailure: (e) => {
          refreshFailures.push(e);
          settle(failureWaiters, e.key, e);
        },
      },
    };
    const sni = createSniCallback(options);
    const server = await startOnDemandServer(sni);
    const harness: Harness = {
      sni,
      server,
      now,
      jumpTo: (epochMs) => {
        offsetMs = Math.max(offsetMs, epochMs - Date.now());
      },
      hit: (servername) => probe({ port: server.port, servername, ca: pebble.rootCaPem }),
      refused,
      handshakeFailures,
      refreshFailures,
      nextRefresh: (servername) => wait(successWaiters, servername),
      nextRefreshFailure: (servername) => wait(failureWaiters, servername),
    };
    harnesses.push(harness);
    return harness;
  }

  /** Issues `servername` on `h` with one handshake and returns the certificate's schedule. */
  async function issue(h: Harness, servername: string) {
    const first = await h.hit(servername);
    const snapshot = h.sni.provider.snapshot(servername);
    expect(snapshot?.status).toBe('fresh');
    return {
      serial: first.serialNumber,
      dueAt: snapshot!.refreshDueAt!,
      expiresAt: snapshot!.expiresAt!,
    };
  }

  it('twenty concurrent first handshakes for an allowed name cause exactly one ACME order, all chaining to pebble root', async () => {
    const h = await serve(['burst.example.test']);
    const ordersBefore = pebble.ordersReceived();

    const results = await Promise.all(
      Array.from({ length: 20 }, () => h.hit('burst.example.test')),
    );

    expect(new Set(results.map((r) => r.serialNumber)).size).toBe(1);
    expect(results.every((r) => r.rootFingerprint256 === rootFingerprint)).toBe(true);
    expect(results.every((r) => r.body === 'hello from burst.example.test\n')).toBe(true);
    expect(acmeMint.ordersFor('burst.example.test')).toBe(1);
    expect(pebble.ordersReceived() - ordersBefore).toBe(1);
  });

  it('a name outside the allow-list fails its handshake without any ACME order', async () => {
    const h = await serve(['allowed.example.test']);
    const ordersBefore = pebble.ordersReceived();

    await expect(h.hit('not-allowed.example.test')).rejects.toThrow();

    expect(h.refused).toEqual([
      expect.objectContaining({ servername: 'not-allowed.example.test', reason: 'not-allowed' }),
    ]);
    expect(acmeMint.ordersFor('not-allowed.example.test')).toBe(0);
    expect(pebble.ordersReceived()).toBe(ordersBefore);
    expect(h.server.failedHandshakes).toBe(1);
  });

  it('past the due point the cached certificate is still served while exactly one background renewal orders the next', async () => {
    const h = await serve(['renew.example.test']);
    const { serial, dueAt } = await issue(h, 'renew.example.test');
    const ordersBefore = pebble.ordersReceived();
    h.jumpTo(dueAt + 1);

    const renewed = h.nextRefresh('renew.example.test');
    const duringRenewal = await Promise.all(
      Array.from({ length: 10 }, () => h.hit('renew.example.test')),
    );
    expect(duringRenewal.every((r) => r.serialNumber === serial)).toBe(true);
    expect((await renewed).reason).not.toBe('initial');

    const after = await h.hit('renew.example.test');
    expect(after.serialNumber).not.toBe(serial);
    expect(after.rootFingerprint256).toBe(rootFingerprint);
    expect(pebble.ordersReceived() - ordersBefore).toBe(1);
    expect(acmeMint.ordersFor('renew.example.test')).toBe(2);
  });

  it('with the CA resetting or hanging connections, valid certificates keep being served, due ones included', async () => {
    const h = await serve(['outage.example.test']);
    const { serial, dueAt } = await issue(h, 'outage.example.test');
    const ordersBefore = pebble.ordersReceived();

    pebble.gate.setMode('reset');
    const fresh = await Promise.all(Array.from({ length: 5 }, () => h.hit('outage.example.test')));
    expect(fresh.every((r) => r.serialNumber === serial)).toBe(true);

    h.jumpTo(dueAt + 1);
    const failed = h.nextRefreshFailure('outage.example.test');
    const due = await h.hit('outage.example.test');
    expect(due.serialNumber).toBe(serial);
    expect((await failed).code).toBe('ECONNRESET');

    pebble.gate.setMode('hang');
    const hung = await Promise.all(Array.from({ length: 5 }, () => h.hit('outage.example.test')));
    expect(hung.every((r) => r.serialNumber === serial && r.durationMs < 1_000)).toBe(true);

    expect(pebble.ordersReceived()).toBe(ordersBefore);
    expect(h.handshakeFailures).toEqual([]);
  });

  it('with the CA hung and the certificate expired, handshakes fail, then fail fast once the breaker opens', async () => {
    const h = await serve(['expired.example.test']);
    const { expiresAt } = await issue(h, 'expired.example.test');
    pebble.gate.setMode('hang');
    h.jumpTo(expiresAt);

    const durations: number[] = [];
    for (let attempt = 0; attempt < BREAKER.failureThreshold + 3; attempt += 1) {
      const started = performance.now();
      await expect(h.hit('expired.example.test')).rejects.toThrow();
      durations.push(performance.now() - started);
    }

    const codes = h.handshakeFailures.map((e) => e.code);
    expect(codes).toEqual([
      ...Array(BREAKER.failureThreshold).fill('ETIMEDOUT'),
      ...Array(3).fill('SLUICE_BREAKER_OPEN'),
    ]);
    for (const ms of durations.slice(0, BREAKER.failureThreshold)) {
      expect(ms).toBeGreaterThanOrEqual(REQUEST_TIMEOUT_MS - 50);
    }
    // The breaker's refusals need no mint and no wait: the codes above prove it (the latency
    // is measured by pnpm bench:tls, never asserted here).
    expect(h.sni.provider.snapshot('expired.example.test')?.breaker.state).toBe('open');
  });

  it('mint events, reporter events and snapshots never carry private key material', () => {
    const snapshots = harnesses.map((h) => h.sni.provider.snapshot('burst.example.test'));
    const text = JSON.stringify({ mintEvents, snapshots });
    expect(mintEvents.some((e) => e.type === 'certificate-issued')).toBe(true);
    expect(text).not.toMatch(/PRIVATE KEY/);
  });
});
