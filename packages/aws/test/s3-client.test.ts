/**
 * The real AWS SDK v3 (`S3Client`, `fromHttp`) against loopback servers: what the SDK does
 * alone (the "today" figures of docs/sdks.md) and what it does with `awsCredentials`.
 */

import { GetObjectCommand, ListBucketsCommand, S3Client } from '@aws-sdk/client-s3';
import { fromHttp } from '@aws-sdk/credential-providers';
import type { AwsCredentialIdentityProvider } from '@smithy/types';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { awsCredentials, awsCredentialsByKey } from '../src/index.js';
import {
  accessKeyFor,
  type CredentialSource,
  type LocalS3,
  startCredentialSource,
  startLocalS3,
} from './support/local-aws.js';

let source: CredentialSource;
let s3: LocalS3;
const clients: S3Client[] = [];

beforeEach(async () => {
  source = await startCredentialSource();
  s3 = await startLocalS3();
});

afterEach(async () => {
  for (const client of clients.splice(0)) client.destroy();
  await Promise.all([source.close(), s3.close()]);
});

/** `fromHttp` against the loopback source, with no retries so every attempt is one call. */
function httpSource(): AwsCredentialIdentityProvider {
  return fromHttp({ awsContainerCredentialsFullUri: source.url, maxRetries: 0, timeout: 2_000 });
}

function s3Client(credentials: AwsCredentialIdentityProvider): S3Client {
  const client = new S3Client({
    region: 'us-east-1',
    endpoint: s3.endpoint,
    forcePathStyle: true,
    credentials,
  });
  clients.push(client);
  return client;
}

/** Sends `count` requests one after another; counts the failures. */
async function sendInTurn(
  client: S3Client,
  count: number,
): Promise<{ ok: number; failed: number }> {
  let failed = 0;
  for (let i = 0; i < count; i++) {
    try {
      await client.send(new ListBucketsCommand({}));
    } catch {
      failed += 1;
    }
  }
  return { ok: count - failed, failed };
}

/** Sends `count` requests per client, in parallel; counts the failures. */
async function sendAll(list: S3Client[], count = 1): Promise<{ ok: number; failed: number }> {
  const results = await Promise.allSettled(
    list.flatMap((client) =>
      Array.from({ length: count }, (_, i) =>
        i % 2 === 0
          ? client.send(new ListBucketsCommand({}))
          : client.send(new GetObjectCommand({ Bucket: 'reports', Key: 'day.csv' })),
      ),
    ),
  );
  const failed = results.filter((r) => r.status === 'rejected').length;
  return { ok: results.length - failed, failed };
}

describe('the AWS SDK alone (today)', () => {
  it('today: 10 S3 clients sharing one fromHttp provider call the credential source 10 times', async () => {
    const shared = httpSource();
    const ten = Array.from({ length: 10 }, () => s3Client(shared));
    expect(await sendAll(ten)).toEqual({ ok: 10, failed: 0 });
    expect(source.calls).toBe(10);
  });

  it('today: with under 5 minutes left and the source answering 429, 20 of 20 sends fail although the credential is valid', async () => {
    source.lifetimeMs = 4 * 60_000;
    const client = s3Client(httpSource());
    expect(await sendAll([client])).toEqual({ ok: 1, failed: 0 });
    source.failWith = 429;
    const before = source.calls;
    expect(await sendInTurn(client, 20)).toEqual({ ok: 0, failed: 20 });
    expect(source.calls - before).toBe(20);
  });
});

describe('awsCredentials under S3Client', () => {
  it('10 S3 clients sharing awsCredentials make 1 credential-source call', async () => {
    const credentials = awsCredentials(httpSource());
    const ten = Array.from({ length: 10 }, () => s3Client(credentials));
    expect(await sendAll(ten, 2)).toEqual({ ok: 20, failed: 0 });
    expect(source.calls).toBe(1);
    expect(new Set(s3.accessKeys)).toEqual(new Set([accessKeyFor(1)]));
    credentials.provider.close();
  });

  it('a valid credential is served while the source answers 429 near expiry: 0 of 20 sends fail, source calls at most the breaker threshold', async () => {
    source.lifetimeMs = 4 * 60_000;
    let clock = Date.now();
    const credentials = awsCredentials(httpSource(), { now: () => clock });
    const client = s3Client(credentials);
    expect(await sendAll([client])).toEqual({ ok: 1, failed: 0 });
    source.failWith = 429;
    const before = source.calls;
    // Past the due point (80 % of the 3 minutes left after the 60 s skew), still valid.
    clock += 150_000;
    expect(credentials.provider.snapshot().status).toBe('due');
    expect(await sendInTurn(client, 20)).toEqual({ ok: 20, failed: 0 });
    const calls = source.calls - before;
    expect(calls).toBeGreaterThanOrEqual(1);
    expect(calls).toBeLessThanOrEqual(5);
    expect(credentials.provider.snapshot().breaker.state).toBe('open');
    expect(new Set(s3.accessKeys)).toEqual(new Set([accessKeyFor(1)]));
    credentials.provider.close();
  });

  it('invalidate() takes effect on the next request of every client', async () => {
    const credentials = awsCredentials(httpSource());
    const [a, b] = [s3Client(credentials), s3Client(credentials)];
    await sendAll([a, b]);
    expect(credentials.provider.invalidate()).toBe(true);
    await sendAll([a]);
    await sendAll([b]);
    expect(s3.accessKeys).toEqual([
      accessKeyFor(1),
      accessKeyFor(1),
      accessKeyFor(2),
      accessKeyFor(2),
    ]);
    expect(source.calls).toBe(2);
    credentials.provider.close();
  });

  it('without memoized: true the SDK keeps its own copy and ignores invalidate() (why awsCredentials carries the flag)', async () => {
    const credentials = awsCredentials(httpSource());
    const unflagged: AwsCredentialIdentityProvider = (request) => credentials(request);
    const client = s3Client(unflagged);
    await sendAll([client]);
    credentials.provider.invalidate();
    await sendAll([client]);
    expect(s3.accessKeys).toEqual([accessKeyFor(1), accessKeyFor(1)]);
    expect(source.calls).toBe(1);
    credentials.provider.close();
  });

  it('{ forceRefresh: true } mints, and the SDK is handed expiration less the skew', async () => {
    source.lifetimeMs = 3_600_000;
    const credentials = awsCredentials(httpSource(), { expirySkewMs: 120_000 });
    const started = Date.now();
    const first = await credentials();
    const forced = await credentials({ forceRefresh: true });
    expect([first.accessKeyId, forced.accessKeyId]).toEqual([accessKeyFor(1), accessKeyFor(2)]);
    expect(source.calls).toBe(2);
    const expiresIn = (forced.expiration?.getTime() ?? 0) - started;
    expect(expiresIn).toBeGreaterThan(3_600_000 - 120_000 - 5_000);
    expect(expiresIn).toBeLessThanOrEqual(3_600_000 - 120_000 + 1_000);
    expect(credentials.provider.peek()?.expiresAt).toBe(forced.expiration?.getTime());
    credentials.provider.close();
  });
});

describe('awsCredentialsByKey under S3Client', () => {
  it('3 roles across 9 clients make 3 source calls, one per role', async () => {
    const seen: string[] = [];
    const roles = awsCredentialsByKey((role: string) => {
      seen.push(role);
      return httpSource();
    });
    const list = ['reader', 'writer', 'auditor'].flatMap((role) =>
      Array.from({ length: 3 }, () => s3Client(roles.credentials(role))),
    );
    expect(await sendAll(list, 2)).toEqual({ ok: 18, failed: 0 });
    expect(source.calls).toBe(3);
    expect(seen.sort()).toEqual(['auditor', 'reader', 'writer']);
    expect(new Set(s3.accessKeys).size).toBe(3);
    expect(roles.provider.keys().sort()).toEqual(['auditor', 'reader', 'writer']);
    expect(roles.credentials('reader').invalidate()).toBe(true);
    await sendAll([list[0] as S3Client]);
    expect(source.calls).toBe(4);
    roles.provider.close();
  });
});
