/**
 * The real google-auth-library 10 and @google-cloud/storage 7 (which bundles
 * google-auth-library 9) against a loopback metadata server and Storage API: what they do
 * alone (the "today" figures of docs/sdks.md) and with `googleTokens`.
 */

import { createRequire } from 'node:module';
import { Storage, type StorageOptions } from '@google-cloud/storage';
import { Compute, OAuth2Client } from 'google-auth-library';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { type GoogleTokens, googleTokens } from '../src/index.js';
import {
  type LocalStorageApi,
  type MetadataServer,
  startMetadataServer,
  startStorageApi,
  tokenFor,
} from './support/local-google.js';

/** The google-auth-library 9 that @google-cloud/storage 7 bundles, as its users reach it. */
const v9 = createRequire(createRequire(import.meta.url).resolve('@google-cloud/storage'))(
  'google-auth-library',
) as typeof import('google-auth-library');

/**
 * An OAuth2Client of Storage's own google-auth-library 9 with the handler attached (typed for
 * Storage's options: this file's types come from google-auth-library 10).
 */
function v9Auth(tokens: GoogleTokens): NonNullable<StorageOptions['authClient']> {
  return tokens.attach(new v9.OAuth2Client()) as unknown as NonNullable<
    StorageOptions['authClient']
  >;
}

let metadata: MetadataServer;
let api: LocalStorageApi;
const ENV_KEYS = [
  'GOOGLE_APPLICATION_CREDENTIALS',
  'CLOUDSDK_CONFIG',
  'GCE_METADATA_HOST',
] as const;
const saved = Object.fromEntries(ENV_KEYS.map((key) => [key, process.env[key]]));

beforeAll(() => {
  // No credentials file or gcloud config may win over the metadata server.
  delete process.env.GOOGLE_APPLICATION_CREDENTIALS;
  process.env.CLOUDSDK_CONFIG = '/nonexistent-sluice-gcloud';
});

afterAll(() => {
  for (const key of ENV_KEYS) {
    const value = saved[key];
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
});

beforeEach(async () => {
  metadata = await startMetadataServer();
  api = await startStorageApi();
  process.env.GCE_METADATA_HOST = metadata.host;
});

afterEach(async () => {
  await Promise.all([metadata.close(), api.close()]);
});

function storage(options: ConstructorParameters<typeof Storage>[0] = {}): Storage {
  return new Storage({
    apiEndpoint: api.endpoint,
    useAuthWithCustomEndpoint: true,
    projectId: 'sluice-test',
    retryOptions: { autoRetry: false },
    ...options,
  });
}

/** One bucket metadata request per client, in parallel; counts the failures. */
async function requestAll(list: Storage[]): Promise<{ ok: number; failed: number }> {
  const results = await Promise.allSettled(list.map((s) => s.bucket('reports').getMetadata()));
  const failed = results.filter((r) => r.status === 'rejected').length;
  return { ok: results.length - failed, failed };
}

async function requestInTurn(
  client: Storage,
  count: number,
): Promise<{ ok: number; failed: number }> {
  let failed = 0;
  for (let i = 0; i < count; i++) {
    try {
      await client.bucket('reports').getMetadata();
    } catch {
      failed += 1;
    }
  }
  return { ok: count - failed, failed };
}

describe('google-auth-library and Storage alone (today)', () => {
  it('today: 10 new Storage() clients make 10 metadata token calls', async () => {
    const ten = Array.from({ length: 10 }, () => storage());
    expect(await requestAll(ten)).toEqual({ ok: 10, failed: 0 });
    expect(metadata.calls).toBe(10);
  });

  it('today: inside the 5-minute eager window, a metadata server answering 503 fails 5 of 5 requests although the token is valid', async () => {
    metadata.lifetimeSeconds = 240;
    const client = storage();
    expect(await requestInTurn(client, 1)).toEqual({ ok: 1, failed: 0 });
    metadata.failWith = 503;
    const before = metadata.calls;
    expect(await requestInTurn(client, 5)).toEqual({ ok: 0, failed: 5 });
    // gcp-metadata retries a 503 three times (with backoff) inside each request.
    expect(metadata.calls - before).toBe(20);
  }, 60_000);

  it('today: an OAuth2Client from google-auth-library 10 handed to Storage 7 sends no Authorization header', async () => {
    const auth = new OAuth2Client();
    auth.setCredentials({ access_token: 'ya29.v10', expiry_date: Date.now() + 3_600_000 });
    expect(await requestAll([storage({ authClient: auth as never })])).toEqual({
      ok: 1,
      failed: 0,
    });
    expect(api.tokens).toEqual(['(none)']);
  });
});

describe('googleTokens under Storage', () => {
  it('10 Storage clients sharing googleTokens make 1 metadata token call', async () => {
    const tokens = googleTokens(new Compute());
    const ten = Array.from({ length: 10 }, () => storage({ authClient: v9Auth(tokens) }));
    expect(await requestAll(ten)).toEqual({ ok: 10, failed: 0 });
    expect(await requestAll(ten)).toEqual({ ok: 10, failed: 0 });
    expect(metadata.calls).toBe(1);
    expect(new Set(api.tokens)).toEqual(new Set([tokenFor(1)]));
    tokens.provider.close();
  });

  it('the valid token is served while the metadata server answers 503 near expiry: 0 of 20 requests fail, token calls at most the breaker threshold', async () => {
    // Only Date is faked: the clients and Sluice read one clock; sockets and timers are real.
    vi.useFakeTimers({ toFake: ['Date'], now: new Date('2026-06-01T00:00:00Z') });
    try {
      metadata.lifetimeSeconds = 240;
      const tokens = googleTokens(new Compute());
      const client = storage({ authClient: v9Auth(tokens) });
      expect(await requestInTurn(client, 1)).toEqual({ ok: 1, failed: 0 });
      metadata.failWith = 503;
      const before = metadata.calls;
      // Past the due point (80 % of the 3 minutes left after the 60 s skew), still valid.
      vi.setSystemTime(Date.now() + 150_000);
      expect(tokens.provider.snapshot().status).toBe('due');
      expect(await requestInTurn(client, 20)).toEqual({ ok: 20, failed: 0 });
      const calls = metadata.calls - before;
      expect(calls).toBeGreaterThanOrEqual(1);
      expect(calls).toBeLessThanOrEqual(5);
      expect(new Set(api.tokens)).toEqual(new Set([tokenFor(1)]));
      tokens.provider.close();
    } finally {
      vi.useRealTimers();
    }
  });

  it('invalidate() takes effect on the next request of every attached client', async () => {
    const tokens = googleTokens(new Compute());
    const [a, b] = [
      storage({ authClient: v9Auth(tokens) }),
      storage({ authClient: v9Auth(tokens) }),
    ];
    await requestAll([a, b]);
    expect(tokens.invalidate()).toBe(true);
    await requestAll([a]);
    await requestAll([b]);
    expect(api.tokens).toEqual([tokenFor(1), tokenFor(1), tokenFor(2), tokenFor(2)]);
    expect(metadata.calls).toBe(2);
    tokens.provider.close();
  });

  it('works the same for an OAuth2Client of google-auth-library 10 sending its own requests', async () => {
    const tokens = googleTokens(new Compute());
    const clients = Array.from({ length: 3 }, () => tokens.attach(new OAuth2Client()));
    for (const client of clients) {
      await client.request({ url: `${api.endpoint}/storage/v1/b/reports` });
    }
    expect(api.tokens).toEqual([tokenFor(1), tokenFor(1), tokenFor(1)]);
    expect(metadata.calls).toBe(1);
    tokens.provider.close();
  });
});
