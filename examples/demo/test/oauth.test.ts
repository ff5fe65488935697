/**
 * Integration tests against the real oidc-provider server on loopback. The provider and the
 * mint share an injected clock, so the token's lifetime passes without sleeping; the server
 * itself runs on real time (its tokens live far longer than these tests).
 */

import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import {
  createRefreshingProvider,
  isSluiceError,
  type RefreshFailureEvent,
  type RefreshingProvider,
} from '@sluice/core';
import {
  type AccessToken,
  type ClientCredentialsMintOptions,
  clientCredentialsMint,
  TokenEndpointError,
} from '@sluice/oauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type OAuthServer, startOAuthServer } from '../src/oauth-server.js';

const TTL_SECONDS = 30;
const START = 1_700_000_000_000;
const BREAKER = { failureThreshold: 2, cooldownMs: 3_000 };
/** What the server issues: a compact JWS (the demo's output must never contain one). */
const JWT = /eyJ[\w-]+\.[\w-]+\.[\w-]+/;

let server: OAuthServer;

beforeAll(async () => {
  server = await startOAuthServer({ accessTokenTtlSeconds: TTL_SECONDS });
});

afterAll(async () => {
  await server?.close();
});

function fakeClock(): { now: () => number; advance: (ms: number) => void } {
  let time = START;
  return {
    now: () => time,
    advance: (ms) => {
      time += ms;
    },
  };
}

/** The demo server's client, for `clientCredentialsMint`. */
function demoClient(now?: () => number): ClientCredentialsMintOptions {
  return {
    issuer: server.issuer,
    clientId: server.clientId,
    clientAuth: { method: 'client_secret_basic', clientSecret: server.clientSecret },
    allowInsecureRequests: true,
    ...(now === undefined ? {} : { now }),
  };
}

interface Harness {
  provider: RefreshingProvider<AccessToken>;
  clock: ReturnType<typeof fakeClock>;
  failures: RefreshFailureEvent[];
  transitions: string[];
  /** Resolves with the next refresh failure reported. */
  nextFailure(): Promise<RefreshFailureEvent>;
}

async function lazyProvider(): Promise<Harness> {
  const clock = fakeClock();
  const failures: RefreshFailureEvent[] = [];
  const transitions: string[] = [];
  let waiting: ((event: RefreshFailureEvent) => void) | undefined;
  const provider = await createRefreshingProvider({
    name: 'test',
    lazy: true,
    mint: clientCredentialsMint(demoClient(clock.now)),
    now: clock.now,
    refreshAt: 0.5,
    jitter: 0,
    refreshFloorMs: 1_000,
    breaker: BREAKER,
    reporter: {
      onRefreshFailure: (event) => {
        failures.push(event);
        waiting?.(event);
        waiting = undefined;
      },
      onBreakerStateChange: (event) => {
        transitions.push(`${event.from}→${event.to}`);
      },
    },
  });
  return {
    provider,
    clock,
    failures,
    transitions,
    nextFailure: () =>
      new Promise((resolve) => {
        waiting = resolve;
      }),
  };
}

/** Runs `body` with the server's token endpoint answering 503; switches it back after. */
async function duringOutage<T>(body: () => Promise<T>): Promise<T> {
  server.setOutage(true);
  try {
    return await body();
  } finally {
    server.setOutage(false);
  }
}

/** A provider whose token has expired during an outage and whose breaker is open. */
async function expiredWithOpenBreaker(): Promise<Harness & { first: AccessToken }> {
  const harness = await lazyProvider();
  const first = await harness.provider.get();
  server.setOutage(true);
  harness.clock.advance(TTL_SECONDS * 1_000);
  // The outage answers 503 with Retry-After: 1, a retry hint: the first failure opens the
  // breaker at once (core 0.3.0), without waiting for failureThreshold failures.
  const error = await harness.provider.get().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(TokenEndpointError);
  expect((error as TokenEndpointError).retryAfterMs).toBe(1_000);
  expect(harness.provider.snapshot().breaker.state).toBe('open');
  return { ...harness, first };
}

describe("@sluice/oauth's clientCredentialsMint against the demo's oidc-provider", () => {
  it('returns the access token with expiresAt = now + expires_in on the injected clock', async () => {
    const clock = fakeClock();
    const mint = clientCredentialsMint(demoClient(clock.now));
    const before = server.tokenRequests();

    const credential = await mint({ signal: AbortSignal.timeout(5_000), reason: 'initial' });

    expect(server.tokenRequests() - before).toBe(1);
    expect(credential.value.token).toMatch(JWT);
    expect(credential.expiresAt).toBeGreaterThanOrEqual(START + (TTL_SECONDS - 1) * 1_000);
    expect(credential.expiresAt).toBeLessThanOrEqual(START + TTL_SECONDS * 1_000);
  });

  it('rejects with TokenEndpointError naming HTTP 503 while the outage switch is on', async () => {
    const mint = clientCredentialsMint(demoClient());
    const error = await duringOutage(() =>
      Promise.resolve(mint({ signal: AbortSignal.timeout(5_000), reason: 'initial' })).then(
        () => undefined,
        (e: unknown) => e,
      ),
    );
    expect(error).toBeInstanceOf(TokenEndpointError);
    expect((error as TokenEndpointError).status).toBe(503);
    expect((error as TokenEndpointError).transient).toBe(true);
    expect((error as Error).message).toMatch(/HTTP 503 temporarily_unavailable/);
  });
});

describe('a refreshing provider against oidc-provider', () => {
  it('serves 200 concurrent get calls on a cold lazy provider with exactly one token request', async () => {
    const { provider } = await lazyProvider();
    const before = server.tokenRequests();

    const values = await Promise.all(Array.from({ length: 200 }, () => provider.get()));

    expect(server.tokenRequests() - before).toBe(1);
    expect(new Set(values.map((value) => value.token)).size).toBe(1);
    provider.close();
  });

  it('keeps serving the still-valid token during an outage and reports the failed refresh', async () => {
    const { provider, clock, nextFailure } = await lazyProvider();
    const token = await provider.get();
    clock.advance((TTL_SECONDS / 2) * 1_000 + 1); // past the due point, well before expiry

    await duringOutage(async () => {
      const before = server.tokenRequests();
      const failure = nextFailure();
      await expect(provider.get()).resolves.toBe(token); // served, and starts the refresh
      const event = await failure;
      expect(event.reason).toBe('proactive');
      expect(event.code).toBe('SLUICE_OAUTH_TOKEN_ENDPOINT');
      expect(event.cachedRemainingLifetimeSeconds).toBeCloseTo(TTL_SECONDS / 2, 1);
      expect(server.tokenRequests() - before).toBe(1);
      await expect(provider.get()).resolves.toBe(token);
    });
    provider.close();
  });

  it('rejects with SLUICE_BREAKER_OPEN once expired with the breaker open, without a server request', async () => {
    const { provider, transitions } = await expiredWithOpenBreaker();
    try {
      const before = server.tokenRequests();
      const error = await provider.get().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isSluiceError(error, 'SLUICE_BREAKER_OPEN')).toBe(true);
      expect(server.tokenRequests()).toBe(before);
      expect(transitions).toEqual(['closed→open']);
    } finally {
      server.setOutage(false);
      provider.close();
    }
  });

  it('admits one half-open probe after the cooldown once the server recovers, and serves again', async () => {
    const { provider, clock, first, transitions } = await expiredWithOpenBreaker();
    server.setOutage(false);
    try {
      const before = server.tokenRequests();
      await expect(provider.get()).rejects.toMatchObject({ code: 'SLUICE_BREAKER_OPEN' });
      expect(server.tokenRequests()).toBe(before); // still cooling down: no request

      clock.advance(BREAKER.cooldownMs);
      const values = await Promise.all(Array.from({ length: 20 }, () => provider.get()));

      expect(server.tokenRequests() - before).toBe(1);
      expect(new Set(values.map((value) => value.token)).size).toBe(1);
      expect(values[0]?.token).not.toBe(first.token);
      expect(transitions).toEqual(['closed→open', 'open→half-open', 'half-open→closed']);
      expect(provider.snapshot().breaker.state).toBe('closed');
    } finally {
      provider.close();
    }
  });
});

describe('pnpm demo', () => {
  it('runs the whole narrative, exits 0 by itself and never prints a token', async () => {
    const cwd = fileURLToPath(new URL('..', import.meta.url));
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      cwd,
      env: { ...process.env, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));

    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    for (const marker of ['Phase A:', 'Phase B:', 'Phase C:', 'Phase D:', 'Summary']) {
      expect(stdout).toContain(marker);
    }
    expect(stdout).toContain('token requests at the server: 1;');
    expect(stdout).toMatch(/All \d+ expectations held\./);
    expect(stdout).not.toMatch(JWT);
    expect(stdout).not.toContain('\x1b['); // not a TTY: no colours
  }, 50_000);
});
