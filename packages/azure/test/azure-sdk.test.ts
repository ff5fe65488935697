/**
 * The real Azure SDK clients, offline: `ManagedIdentityCredential` (App Service source, through
 * `IDENTITY_ENDPOINT` / `IDENTITY_HEADER`) against a local identity endpoint, and
 * `BlobServiceClient` against a local HTTPS Blob service. Each scenario measures the bare SDK
 * ("today") next to the same clients sharing a `refreshingTokenCredential`.
 *
 * Only `Date` is faked (fixed start, moved by hand): the SDK, MSAL and Sluice all read
 * `Date.now`, while sockets and the SDK's own waits keep real timers. MSAL caches managed
 * identity tokens process-wide unless they expire within 5 minutes, so the tokens here live
 * 240 s (every `ManagedIdentityCredential.getToken` reaches the endpoint) unless a test says.
 */

import { ManagedIdentityCredential } from '@azure/identity';
import type { BlobServiceClient } from '@azure/storage-blob';
import { refreshingTokenCredential } from '@sluice/azure';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  IDENTITY_HEADER,
  type IdentityEndpoint,
  type StorageServer,
  startIdentityEndpoint,
  startStorageServer,
} from './support/azure-endpoints.js';

const SCOPE = 'https://storage.azure.com/.default';
const START = Date.UTC(2026, 0, 5, 9, 0, 0);
const LIFETIME_S = 240;

let identity: IdentityEndpoint;
let storage: StorageServer;

beforeAll(async () => {
  identity = await startIdentityEndpoint({ lifetimeSeconds: LIFETIME_S });
  storage = await startStorageServer();
  // MSAL picks the managed identity source once per process, from these.
  process.env.IDENTITY_ENDPOINT = identity.url;
  process.env.IDENTITY_HEADER = IDENTITY_HEADER;
});

afterAll(async () => {
  await identity?.close();
  await storage?.close();
});

let clock = START;
beforeEach(() => {
  clock += 7 * 86_400_000; // a new week per test: nothing MSAL cached is still valid
  vi.useFakeTimers({ toFake: ['Date'], now: clock });
  identity.calls.length = 0;
  identity.behaviour.status = 'ok';
  identity.behaviour.lifetimeSeconds = LIFETIME_S;
  storage.requests.length = 0;
  storage.revoked.clear();
});
afterEach(() => {
  vi.useRealTimers();
});

const advance = (ms: number) => vi.setSystemTime(Date.now() + ms);

/** One Blob request per client, all at once; resolves with how many failed. */
async function requestAll(clients: readonly BlobServiceClient[]): Promise<number> {
  const results = await Promise.allSettled(
    clients.map((client) => client.getContainerClient('c').getProperties()),
  );
  return results.filter((result) => result.status === 'rejected').length;
}

/**
 * A `ManagedIdentityCredential` with the SDK's HTTP retries off, so a failing endpoint
 * answers at once (each attempt would otherwise add up to 3 retries, 0.8 s to 6.4 s apart).
 * Every credential of this file is built alike: MSAL keeps the managed identity source, and
 * the HTTP client of the first credential that used it, process-wide.
 */
const msi = () => new ManagedIdentityCredential({ retryOptions: { maxRetries: 0 } });

describe('10 clients, 1 identity call', () => {
  it('today: 10 cold BlobServiceClients sharing one ManagedIdentityCredential make 10 identity calls', async () => {
    const credential = msi();
    const clients = Array.from({ length: 10 }, () => storage.blobClient(credential));
    expect(await requestAll(clients)).toBe(0);
    expect(identity.calls).toHaveLength(10);
  });

  it('10 cold clients sharing one refreshingTokenCredential make 1 identity call', async () => {
    using credential = refreshingTokenCredential(msi());
    const clients = Array.from({ length: 10 }, () => storage.blobClient(credential));
    expect(await requestAll(clients)).toBe(0);
    expect(identity.calls).toHaveLength(1);
    const token = identity.calls[0]?.token;
    expect(storage.requests.map((request) => request.token)).toEqual(Array(10).fill(token));
    // And the next round of requests costs nothing.
    expect(await requestAll(clients)).toBe(0);
    expect(identity.calls).toHaveLength(1);
  });
});

describe('the valid token served while the endpoint fails near expiry', () => {
  it('0 failed requests and identity calls at most the breaker threshold, over 5 rounds of 10 clients', async () => {
    using credential = refreshingTokenCredential(msi(), {
      breaker: { failureThreshold: 3, cooldownMs: 60_000 },
    });
    const clients = Array.from({ length: 10 }, () => storage.blobClient(credential));
    expect(await requestAll(clients)).toBe(0);
    identity.behaviour.status = 503;
    advance(200_000); // 40 s left: inside the SDK's 2-minute window, past Sluice's due point
    let failed = 0;
    for (let round = 0; round < 5; round += 1) {
      failed += await requestAll(clients);
      await vi.waitFor(() => expect(credential.snapshot(SCOPE)?.mintInFlight).toBe(false));
      advance(1_000);
    }
    expect(failed).toBe(0);
    const failures = identity.calls.filter((call) => call.token === null).length;
    expect(failures).toBeGreaterThanOrEqual(1);
    expect(failures).toBeLessThanOrEqual(3);
    expect(credential.snapshot(SCOPE, { enableCae: true })?.breaker.state).toBe('open');
  });
});

describe('invalidate()', () => {
  it('invalidate() takes effect on the next request of every client', async () => {
    using credential = refreshingTokenCredential(msi());
    const clients = Array.from({ length: 3 }, () => storage.blobClient(credential));
    expect(await requestAll(clients)).toBe(0);
    const first = identity.calls[0]?.token;
    expect(credential.invalidate(SCOPE)).toBe(true);
    expect(await requestAll(clients)).toBe(0);
    expect(identity.calls).toHaveLength(2);
    const second = identity.calls[1]?.token;
    expect(second).not.toBe(first);
    expect(storage.requests.slice(3).map((request) => request.token)).toEqual([
      second,
      second,
      second,
    ]);
  });

  it("with reportedExpiry 'actual', a client keeps its token after invalidate() until the SDK's 2-minute window", async () => {
    // The bare SDK has no invalidate(): this is what reporting the real expiry costs.
    using credential = refreshingTokenCredential(msi(), {
      reportedExpiry: 'actual',
    });
    const client = storage.blobClient(credential);
    expect(await requestAll([client])).toBe(0);
    credential.invalidate(SCOPE);
    expect(await requestAll([client])).toBe(0);
    expect(identity.calls).toHaveLength(1);
    expect(storage.requests[1]?.token).toBe(identity.calls[0]?.token);
  });
});

describe("the issuer's refreshAfterTimestamp", () => {
  it('a 24 h token is refreshed at ~12 h (MSAL refresh_in), not at 80 % (19 h)', async () => {
    identity.behaviour.lifetimeSeconds = 24 * 3600;
    using credential = refreshingTokenCredential(msi());
    const client = storage.blobClient(credential);
    expect(await requestAll([client])).toBe(0);
    expect(identity.calls).toHaveLength(1);
    const minted = Date.now();
    // Sluice's own policy would say 80 % less jitter: 16.8 h to 19.2 h.
    const due = credential.snapshot(SCOPE)?.refreshDueAt ?? Number.NaN;
    expect(due).toBeGreaterThanOrEqual(minted + 12 * 3_600_000);
    // Jitter only delays it, by up to 10 % of the 12 h: 13.2 h at most (policy.md).
    expect(due).toBeLessThanOrEqual(minted + 13.2 * 3_600_000 + 1_000);
    vi.setSystemTime(due - 60_000);
    expect(await requestAll([client])).toBe(0);
    expect(identity.calls).toHaveLength(1);
    vi.setSystemTime(due + 1_000);
    expect(await requestAll([client])).toBe(0);
    await vi.waitFor(() => expect(identity.calls).toHaveLength(2));
    expect(storage.requests.filter((request) => request.status !== 200)).toHaveLength(0);
  });
});

describe('a CAE claims challenge with ManagedIdentityCredential', () => {
  it('ManagedIdentityCredential 4.13.1 drops the claims: one identity call, carrying none, and the request re-sent', async () => {
    using credential = refreshingTokenCredential(msi());
    const client = storage.blobClient(credential);
    expect(await requestAll([client])).toBe(0);
    storage.revoked.add(identity.calls[0]?.token ?? '');
    expect(await requestAll([client])).toBe(0);
    expect(identity.calls).toHaveLength(2);
    expect(Object.keys(identity.calls[1]?.query ?? {}).sort()).toEqual(['api-version', 'resource']);
    expect(storage.requests.map((request) => request.status)).toEqual([200, 401, 200]);
  });
});

describe('a null from the inner credential', () => {
  it('is a typed mint error (SLUICE_AZURE_NULL_TOKEN) and a Blob request fails with it, nothing pending', async () => {
    using credential = refreshingTokenCredential({ getToken: async () => null });
    const client = storage.blobClient(credential);
    await expect(client.getContainerClient('c').getProperties()).rejects.toMatchObject({
      code: 'SLUICE_AZURE_NULL_TOKEN',
    });
    expect(storage.requests).toHaveLength(0);
    expect(credential.snapshot(SCOPE)?.waiters ?? 0).toBe(0);
  });
});

describe('the retry cadence inside the SDK window', () => {
  it('today: one client retries a failing endpoint every 3 s, without backoff, until expiry', async () => {
    vi.useFakeTimers({ toFake: ['Date', 'setTimeout', 'clearTimeout'], now: Date.now() });
    const credential = msi();
    const client = storage.blobClient(credential);
    expect(await requestAll([client])).toBe(0);
    identity.behaviour.status = 503;
    advance(200_000); // 40 s left
    expect(await requestAll([client])).toBe(0); // starts the background refresh
    await vi.waitFor(() => expect(identity.calls).toHaveLength(2));
    for (let second = 3; second <= 30; second += 3) {
      await vi.advanceTimersByTimeAsync(3_000);
      await vi.waitFor(() => expect(identity.calls).toHaveLength(2 + second / 3));
    }
    identity.behaviour.status = 'ok';
    await vi.advanceTimersByTimeAsync(3_000);
    await vi.waitFor(() => expect(identity.calls.at(-1)?.token).not.toBeNull());
  });

  it('refreshingTokenCredential: a request every second for 30 s costs at most the breaker threshold', async () => {
    vi.useFakeTimers({ toFake: ['Date', 'setTimeout', 'clearTimeout'], now: Date.now() });
    using credential = refreshingTokenCredential(msi(), {
      breaker: { failureThreshold: 3, cooldownMs: 60_000 },
    });
    const client = storage.blobClient(credential);
    expect(await requestAll([client])).toBe(0);
    identity.behaviour.status = 503;
    advance(200_000);
    let failed = 0;
    for (let second = 0; second < 30; second += 1) {
      failed += await requestAll([client]);
      await vi.advanceTimersByTimeAsync(1_000);
    }
    expect(failed).toBe(0);
    expect(identity.calls.length - 1).toBeGreaterThanOrEqual(1);
    expect(identity.calls.length - 1).toBeLessThanOrEqual(3);
  });
});

// Last in the file: the bare SDK's background refreshes keep retrying every 3 s (real time)
// after the test; they find the endpoint healthy again and stop.
describe('today: a failing endpoint near expiry', () => {
  it('today: every client calls the failing endpoint from its own background refresh (10 clients, 10 calls per round)', async () => {
    const credential = msi();
    const clients = Array.from({ length: 10 }, () => storage.blobClient(credential));
    expect(await requestAll(clients)).toBe(0);
    expect(identity.calls).toHaveLength(10);
    identity.behaviour.status = 503;
    advance(200_000);
    expect(await requestAll(clients)).toBe(0);
    await vi.waitFor(() => expect(identity.calls).toHaveLength(20));
    identity.behaviour.status = 'ok';
  });
});
