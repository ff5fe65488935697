/**
 * Continuous Access Evaluation with the real SDK: `BlobServiceClient` answered 401 with a CAE
 * claims challenge (`error="insufficient_claims"`) for a revoked token, and a real
 * `ClientSecretCredential` (it forwards `claims` to Microsoft Entra ID, which
 * `ManagedIdentityCredential` 4.13.1 does not) against a local Entra endpoint.
 */

import { ClientSecretCredential } from '@azure/identity';
import type { BlobServiceClient } from '@azure/storage-blob';
import { refreshingTokenCredential } from '@sluice/azure';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  CAE_CLAIMS,
  type EntraEndpoint,
  type StorageServer,
  startEntraEndpoint,
  startStorageServer,
} from './support/azure-endpoints.js';

let entra: EntraEndpoint;
let storage: StorageServer;
beforeAll(async () => {
  entra = await startEntraEndpoint();
  storage = await startStorageServer();
});
afterAll(async () => {
  await entra?.close();
  await storage?.close();
});
beforeEach(() => {
  entra.calls.length = 0;
  storage.requests.length = 0;
  storage.revoked.clear();
});

let tenant = 0;
/** A new tenant each time: MSAL's token cache is per tenant and client. */
const clientSecret = () =>
  new ClientSecretCredential(`tenant-${++tenant}`, 'client-id', 'not-a-real-secret', {
    authorityHost: entra.authorityHost,
    disableInstanceDiscovery: true,
    httpClient: entra.httpClient,
  });

async function requestAll(clients: readonly BlobServiceClient[]): Promise<number> {
  const results = await Promise.allSettled(
    clients.map((client) => client.getContainerClient('c').getProperties()),
  );
  return results.filter((result) => result.status === 'rejected').length;
}

const carriesChallenge = (claims: string | null) =>
  claims !== null && JSON.stringify(JSON.parse(claims)).includes('"nbf"');

describe('a CAE claims challenge', () => {
  it('today: 3 clients answered a claims challenge make 3 identity calls carrying the claims', async () => {
    const credential = clientSecret();
    const clients = Array.from({ length: 3 }, () => storage.blobClient(credential));
    expect(await requestAll(clients)).toBe(0);
    const warm = entra.calls.length; // 3: cold clients do not share a call either
    for (const call of entra.calls) storage.revoked.add(call.token);
    expect(await requestAll(clients)).toBe(0);
    const renewals = entra.calls.slice(warm);
    expect(renewals.filter((call) => carriesChallenge(call.claims))).toHaveLength(3);
  });

  it('exactly one identity call carrying the claims, and every request re-sent with the new token', async () => {
    using credential = refreshingTokenCredential(clientSecret());
    const clients = Array.from({ length: 3 }, () => storage.blobClient(credential));
    expect(await requestAll(clients)).toBe(0);
    expect(entra.calls).toHaveLength(1);
    const revoked = entra.calls[0]?.token ?? '';
    storage.revoked.add(revoked);
    expect(await requestAll(clients)).toBe(0);
    expect(entra.calls).toHaveLength(2);
    expect(carriesChallenge(entra.calls[1]?.claims ?? null)).toBe(true);
    expect(JSON.parse(entra.calls[1]?.claims ?? '{}')).toMatchObject(JSON.parse(CAE_CLAIMS));
    const renewed = entra.calls[1]?.token;
    const second = storage.requests.slice(3);
    expect(second.filter((request) => request.status === 401).map((r) => r.token)).toEqual([
      revoked,
      revoked,
      revoked,
    ]);
    expect(second.filter((request) => request.status === 200).map((r) => r.token)).toEqual([
      renewed,
      renewed,
      renewed,
    ]);
    // A late 401 carrying the same claims does not mint again.
    await credential.getToken('https://storage.azure.com/.default', {
      enableCae: true,
      claims: CAE_CLAIMS,
    });
    expect(entra.calls).toHaveLength(2);
  });

  it('the invalidation guard never blocks the first claims retry, even right after an invalidate()', async () => {
    using credential = refreshingTokenCredential(clientSecret(), { minRefreshIntervalMs: 60_000 });
    const client = storage.blobClient(credential);
    expect(await requestAll([client])).toBe(0);
    // An invalidation mints (MSAL hands back its cached token), and the guard then protects
    // that credential for 60 s...
    expect(credential.invalidate('https://storage.azure.com/.default')).toBe(true);
    expect(await requestAll([client])).toBe(0);
    expect(credential.invalidate('https://storage.azure.com/.default')).toBe(false);
    // ...yet a claims challenge for it is answered at once.
    const presented = storage.requests.at(-1)?.token ?? '';
    const before = entra.calls.length;
    storage.revoked.add(presented);
    expect(await requestAll([client])).toBe(0);
    expect(entra.calls).toHaveLength(before + 1);
    expect(storage.requests.at(-1)).toMatchObject({
      status: 200,
      token: entra.calls.at(-1)?.token,
    });
    expect(carriesChallenge(entra.calls.at(-1)?.claims ?? null)).toBe(true);
  });
});
