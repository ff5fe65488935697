/**
 * @sluice/azure under the real Azure SDK, against local endpoints: ten `BlobServiceClient`s
 * sharing one `ManagedIdentityCredential` through `refreshingTokenCredential`.
 */

import { ManagedIdentityCredential } from '@azure/identity';
import { azureTokenKey, refreshingTokenCredential } from '@sluice/azure';
import { errorType } from '@sluice/core';
import { IDENTITY_HEADER, startLocalBlobService, startLocalIdentity } from './azure-local.js';

const SCOPE = 'https://storage.azure.com/.default';

/**
 * Runs the Azure section: one identity call for ten clients, the valid token served while
 * the identity endpoint fails, and `invalidate()` reaching every client on its next request.
 * Throws when any of these does not hold.
 */
export async function runAzure(log: (line: string) => void = console.log): Promise<void> {
  // Tokens shorter than 5 minutes: MSAL then asks the endpoint on every mint.
  const identity = await startLocalIdentity(240);
  const blobs = await startLocalBlobService();
  process.env.IDENTITY_ENDPOINT = identity.url;
  process.env.IDENTITY_HEADER = IDENTITY_HEADER;
  const credential = refreshingTokenCredential(
    new ManagedIdentityCredential({ retryOptions: { maxRetries: 0 } }),
    {
      name: 'example-msi',
      breaker: { failureThreshold: 3, cooldownMs: 60_000 },
      reporter: {
        onRefreshFailure: (event) =>
          log(
            `refresh failed (${errorType(event.error, event.code)}), ${Math.round(event.cachedRemainingLifetimeSeconds ?? 0)} s of validity left`,
          ),
      },
    },
  );
  try {
    const clients = Array.from({ length: 10 }, () => blobs.client(credential));
    const requestAll = () =>
      Promise.all(clients.map((client) => client.getContainerClient('c').getProperties()));

    await requestAll();
    log(`10 cold clients, ${identity.calls} identity call (the bare SDK makes 10)`);
    assert(identity.calls === 1, 'one identity call for ten clients');

    identity.failing = true;
    // A refresh now fails (the reporter says so), and every request still gets the cached,
    // valid token: nothing fails until the token would expire.
    const key = azureTokenKey(SCOPE, { enableCae: true }); // what the SDK clients ask for
    await credential.provider.refresh(key).catch(() => undefined);
    await requestAll();
    log('identity endpoint down: 10 requests served with the cached token');
    identity.failing = false;

    const before = identity.calls;
    credential.invalidate(SCOPE);
    await requestAll();
    const latest = blobs.tokens.slice(-10);
    log(
      `after invalidate(): ${identity.calls - before} identity call, 10 requests with the new token`,
    );
    assert(new Set(latest).size === 1 && latest[0] !== blobs.tokens[0], 'new token everywhere');
  } finally {
    credential.close();
    await identity.close();
    await blobs.close();
  }
}

function assert(condition: boolean, what: string): asserts condition {
  if (!condition) throw new Error(`expected: ${what}`);
}

/** The section runner of examples/sdks/src/main.ts. */
export const run = runAzure;
