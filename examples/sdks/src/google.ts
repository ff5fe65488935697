/**
 * @sluice/google under the real @google-cloud/storage 7: tokens from `Compute` (a loopback
 * metadata server through GCE_METADATA_HOST) presented by OAuth2Clients of the
 * google-auth-library 9 that Storage bundles, against a loopback Storage API.
 */

import { createRequire } from 'node:module';
import { Storage, type StorageOptions } from '@google-cloud/storage';
import { googleTokens } from '@sluice/google';
import { Compute } from 'google-auth-library';
import { failures, serve, sleep } from './local-http.js';

/** Storage 7's own google-auth-library (9): its OAuth2Client is the one Storage can use. */
const storageAuthLibrary = createRequire(
  createRequire(import.meta.url).resolve('@google-cloud/storage'),
)('google-auth-library') as typeof import('google-auth-library');

export async function run(log: (line: string) => void): Promise<void> {
  let calls = 0;
  let failWith: number | undefined;
  const metadata = await serve((req, res) => {
    req.resume();
    const headers = { 'metadata-flavor': 'Google', 'content-type': 'application/json' };
    if (!req.url?.endsWith('/token')) {
      res.writeHead(200, headers).end('ok');
      return;
    }
    calls += 1;
    if (failWith !== undefined) {
      res.writeHead(failWith, headers).end();
      return;
    }
    res
      .writeHead(200, headers)
      .end(JSON.stringify({ access_token: `ya29.example-${calls}`, expires_in: 240 }));
  });
  const seen: string[] = [];
  const api = await serve((req, res) => {
    req.resume();
    seen.push(req.headers.authorization?.slice('Bearer '.length) ?? '-');
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"name":"reports"}');
  });
  const saved = process.env.GCE_METADATA_HOST;
  process.env.GCE_METADATA_HOST = `127.0.0.1:${metadata.port}`;
  // `refreshAt: 0.01`: due after about 2 s, so the outage happens inside the refresh window.
  const tokens = googleTokens(new Compute(), { refreshAt: 0.01, jitter: 0 });
  const storages = Array.from(
    { length: 10 },
    () =>
      new Storage({
        apiEndpoint: api.url,
        useAuthWithCustomEndpoint: true,
        projectId: 'example',
        retryOptions: { autoRetry: false },
        authClient: tokens.attach(new storageAuthLibrary.OAuth2Client()) as unknown as NonNullable<
          StorageOptions['authClient']
        >,
      }),
  );
  try {
    await Promise.all(storages.map((storage) => storage.bucket('reports').getMetadata()));
    log(`10 Storage clients, 1 googleTokens: ${calls} metadata token call(s)`);

    const first = storages[0] as Storage;
    tokens.invalidate();
    await first.bucket('reports').getMetadata();
    log(`after invalidate(): the next request carries ${seen.at(-1)}`);

    await sleep(2_000);
    failWith = 503;
    const before = calls;
    const failed = await failures(5, () => first.bucket('reports').getMetadata());
    log(
      `metadata server answering 503 in the refresh window: ${failed} of 5 requests failed, ` +
        `${calls - before} token call(s) so far`,
    );
  } finally {
    tokens.provider.close();
    if (saved === undefined) delete process.env.GCE_METADATA_HOST;
    else process.env.GCE_METADATA_HOST = saved;
    await Promise.all([metadata.close(), api.close()]);
  }
}
