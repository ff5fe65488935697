/**
 * The on-demand TLS example, narrated: a real ACME server (Debian's pebble) on loopback, an
 * HTTPS server that orders a certificate on the first handshake for each allowed name, renews
 * it at the due point, and keeps serving through a CA outage while certificates are valid.
 *
 * Run: `pnpm example:tls` (or `pnpm --filter @sluice/example-tls-on-demand start`).
 * Exits 0 when every expectation held, 1 otherwise. Private keys are never printed.
 */

import { createSniCallback, type SniCallback } from '@sluice/tls';
import { type AcmeMint, createAcmeMint } from './acme-mint.js';
import { type OnDemandServer, startOnDemandServer } from './https-server.js';
import { findPebble, PEBBLE_INSTALL_HINT, type Pebble, startPebble } from './pebble.js';
import { type ProbeResult, probe } from './tls-probe.js';

/** Pebble's `certificateValidityPeriod`: short, so the run sees renewal and expiry. */
const CERT_VALIDITY_SECONDS = 10;
const ALLOWED = ['shop.example.test', 'blog.example.test', 'api.example.test'] as const;
const REFUSED = 'attacker-chosen.example.test';
const CONCURRENT_HANDSHAKES = 5;
const REQUEST_TIMEOUT_MS = 3_000;
const BREAKER = { failureThreshold: 2, cooldownMs: 30_000 } as const;

const startedAt = performance.now();
const failures: string[] = [];

function say(message: string): void {
  const seconds = ((performance.now() - startedAt) / 1000).toFixed(1).padStart(5);
  console.log(`[${seconds}s] ${message}`);
}

function section(title: string): void {
  console.log(`\n== ${title}`);
}

function check(ok: boolean, expectation: string): void {
  say(`${ok ? 'ok  ' : 'FAIL'} ${expectation}`);
  if (!ok) failures.push(expectation);
}

function describeError(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  const message = error instanceof Error ? error.message : String(error);
  return typeof code === 'string' ? `${code}: ${message}` : message;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}

async function main(): Promise<void> {
  if (findPebble() === undefined) {
    console.error(PEBBLE_INSTALL_HINT);
    process.exitCode = 1;
    return;
  }
  let pebble: Pebble | undefined;
  let acmeMint: AcmeMint | undefined;
  let server: OnDemandServer | undefined;
  try {
    section('Start pebble (ACME CA) behind an outage switch');
    pebble = await startPebble({ certificateValiditySeconds: CERT_VALIDITY_SECONDS });
    const running = pebble;
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      process.once(signal, () => {
        say(`${signal}: stopping pebble`);
        void running.stop().finally(() => process.exit(130));
      });
    }
    const ca = pebble.rootCaPem;
    say(
      `pebble directory ${pebble.directoryUrl} (gate in front), certificates live ${CERT_VALIDITY_SECONDS} s`,
    );

    acmeMint = await createAcmeMint({
      directoryUrl: pebble.directoryUrl,
      ca: pebble.listenerCaPem,
      requestTimeoutMs: REQUEST_TIMEOUT_MS,
      onEvent: (event) => {
        if (event.type === 'account-created') say(`acme: account ${event.accountUrl}`);
        else if (event.type === 'order-created')
          say(`acme: new order for ${event.servername} (${event.reason})`);
        else
          say(
            `acme: issued ${event.servername} serial ${event.serialNumber} in ${event.durationMs} ms`,
          );
      },
    });
    const allowList = new Set<string>(ALLOWED);
    const handshakeFailureCodes: string[] = [];
    const sni = createSniCallback({
      certificates: acmeMint.mint,
      allow: (name) => allowList.has(name),
      handshakeTimeoutMs: 10_000,
      mintTimeoutMs: 15_000,
      refreshAt: 0.5,
      jitter: 0,
      refreshFloorMs: 2_000,
      minRefreshIntervalMs: 1_000,
      breaker: BREAKER,
      reporter: {
        onRefreshFailure: (e) => say(`sni: renewal of ${e.key} failed (${e.code ?? 'no code'})`),
        onBreakerStateChange: (e) => say(`sni: breaker of ${e.key} ${e.from} -> ${e.to}`),
        onServernameRefused: (e) => say(`sni: refused ${e.servername} (${e.reason})`),
        onHandshakeFailure: (e) => {
          handshakeFailureCodes.push(e.code ?? 'no code');
          say(`sni: handshake for ${e.servername} failed after ${e.durationMs} ms: ${e.code}`);
        },
      },
    });
    server = await startOnDemandServer(sni);
    const port = server.port;
    say(`https server on 127.0.0.1:${port}, SNICallback only, allow-list: ${ALLOWED.join(', ')}`);
    const provider = sni.provider;
    const hit = (servername: string): Promise<ProbeResult> => probe({ port, servername, ca });

    section(`First handshakes: ${CONCURRENT_HANDSHAKES} concurrent per name`);
    const ordersBefore = pebble.ordersReceived();
    const first = await Promise.all(
      ALLOWED.flatMap((name) => Array.from({ length: CONCURRENT_HANDSHAKES }, () => hit(name))),
    );
    const serials = new Map<string, string>();
    for (const name of ALLOWED) {
      const seen = new Set(first.filter((r) => r.body.includes(name)).map((r) => r.serialNumber));
      check(
        seen.size === 1,
        `${name}: all ${CONCURRENT_HANDSHAKES} handshakes got one certificate`,
      );
      check(acmeMint.ordersFor(name) === 1, `${name}: exactly one ACME order`);
      serials.set(name, [...seen][0] ?? '');
    }
    check(
      pebble.ordersReceived() - ordersBefore === ALLOWED.length,
      `pebble saw ${ALLOWED.length} new-order requests (saw ${pebble.ordersReceived() - ordersBefore})`,
    );
    const slowest = Math.max(...first.map((r) => r.durationMs));
    say(`slowest first handshake ${slowest} ms (includes the ACME order)`);
    const again = await hit(ALLOWED[0]);
    say(`a later handshake for ${ALLOWED[0]}: ${again.durationMs} ms from cache`);

    section('A name outside the allow-list');
    const ordersBeforeRefused = pebble.ordersReceived();
    try {
      await hit(REFUSED);
      check(false, `${REFUSED} is refused`);
    } catch (error) {
      say(`client saw: ${describeError(error)}`);
      check(true, `${REFUSED} is refused`);
    }
    check(pebble.ordersReceived() === ordersBeforeRefused, 'no ACME order for a refused name');

    section('Renewal at the due point');
    const dueAt = Math.max(...ALLOWED.map((n) => provider.snapshot(n)?.refreshDueAt ?? 0));
    say(`certificates due in ${((dueAt - Date.now()) / 1000).toFixed(1)} s; waiting`);
    await sleep(dueAt - Date.now() + 100);
    const ordersBeforeRenewal = pebble.ordersReceived();
    const installedAt = issuedAtOf(provider, ALLOWED);
    for (const name of ALLOWED) {
      const served = await hit(name);
      check(
        served.serialNumber === serials.get(name),
        `${name}: due certificate still served at once (${served.durationMs} ms)`,
      );
    }
    await waitFor(() => renewedSince(provider, installedAt), 5_000);
    for (const name of ALLOWED) {
      const served = await hit(name);
      check(served.serialNumber !== serials.get(name), `${name}: renewed certificate served next`);
      serials.set(name, served.serialNumber);
    }
    check(
      pebble.ordersReceived() - ordersBeforeRenewal === ALLOWED.length,
      'one background renewal per name',
    );

    section('CA outage (gate resets connections) while certificates are valid');
    pebble.gate.setMode('reset');
    for (const name of ALLOWED) {
      const served = await hit(name);
      check(served.serialNumber === serials.get(name), `${name}: served during the outage`);
    }
    const dueAgain = Math.max(...ALLOWED.map((n) => provider.snapshot(n)?.refreshDueAt ?? 0));
    say(
      `waiting ${((dueAgain - Date.now()) / 1000).toFixed(1)} s until they are due; renewals will fail`,
    );
    await sleep(dueAgain - Date.now() + 100);
    for (const name of ALLOWED) {
      const served = await hit(name);
      check(
        served.serialNumber === serials.get(name),
        `${name}: due certificate served although its renewal cannot reach the CA`,
      );
    }
    await waitFor(() => ALLOWED.every((n) => provider.snapshot(n)?.mintInFlight === false), 5_000);

    section('CA back: the next handshake renews');
    pebble.gate.setMode('pass');
    const beforeRecovery = issuedAtOf(provider, ALLOWED);
    for (const name of ALLOWED) await hit(name);
    await waitFor(() => renewedSince(provider, beforeRecovery), 5_000);
    for (const name of ALLOWED) {
      const served = await hit(name);
      check(served.serialNumber !== serials.get(name), `${name}: renewed after the outage`);
    }

    section('CA hangs and a certificate expires: the breaker fails handshakes fast');
    pebble.gate.setMode('hang');
    const name = ALLOWED[0];
    const expiresAt = provider.snapshot(name)?.expiresAt ?? Date.now();
    say(`waiting ${((expiresAt - Date.now()) / 1000).toFixed(1)} s for ${name} to expire`);
    await sleep(expiresAt - Date.now() + 200);
    const durations: number[] = [];
    for (let attempt = 1; attempt <= BREAKER.failureThreshold + 2; attempt += 1) {
      const t0 = performance.now();
      try {
        await hit(name);
        check(false, `${name}: expired and CA hung, handshake ${attempt} fails`);
      } catch (error) {
        const ms = Math.round(performance.now() - t0);
        durations.push(ms);
        say(`client: handshake ${attempt} failed after ${ms} ms (${describeError(error)})`);
      }
    }
    const state = provider.snapshot(name)?.breaker;
    say(`breaker of ${name}: ${JSON.stringify(state)}`);
    check(
      handshakeFailureCodes.slice(-2).every((code) => code === 'SLUICE_BREAKER_OPEN'),
      `the last handshakes failed with SLUICE_BREAKER_OPEN (server saw ${handshakeFailureCodes.join(', ')})`,
    );
    const lastTwo = durations.slice(-2);
    check(
      lastTwo.length === 2 && lastTwo.every((ms) => ms < 500),
      'once the breaker is open, handshakes fail in under 500 ms',
    );
    check(
      durations.every((ms) => ms < REQUEST_TIMEOUT_MS + 2_000),
      'no handshake waited past the request timeout',
    );
    pebble.gate.setMode('pass');
  } catch (error) {
    failures.push(`unexpected error: ${describeError(error)}`);
    console.error(error instanceof Error ? error.stack : error);
  } finally {
    const cleanupStartedAt = performance.now();
    await server?.close();
    acmeMint?.close();
    await pebble?.stop();
    say(`stopped the server and pebble in ${Math.round(performance.now() - cleanupStartedAt)} ms`);
  }

  const seconds = ((performance.now() - startedAt) / 1000).toFixed(1);
  if (failures.length === 0) {
    console.log(`\nAll expectations held (${seconds} s).`);
  } else {
    console.log(`\n${failures.length} expectation(s) failed (${seconds} s):`);
    for (const failure of failures) console.log(`  - ${failure}`);
    process.exitCode = 1;
  }
}

/** When each name's cached certificate was installed. */
function issuedAtOf(
  provider: SniCallback['provider'],
  names: readonly string[],
): Map<string, number> {
  return new Map(names.map((n) => [n, provider.snapshot(n)?.issuedAt ?? 0]));
}

/** True once every name has a certificate installed after the recorded time. */
function renewedSince(provider: SniCallback['provider'], before: Map<string, number>): boolean {
  return [...before].every(([n, at]) => (provider.snapshot(n)?.issuedAt ?? 0) > at);
}

/** Resolves once `condition()` holds, checking every 50 ms; rejects after `timeoutMs`. */
async function waitFor(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await sleep(50);
  }
}

await main();
