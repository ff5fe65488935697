/**
 * @sluice/aws under the real S3Client: credentials from `fromHttp` (a loopback
 * container-credentials endpoint) and a loopback S3 answering ListBuckets.
 */

import { ListBucketsCommand, S3Client } from '@aws-sdk/client-s3';
import { fromHttp } from '@aws-sdk/credential-providers';
import { awsCredentials } from '@sluice/aws';
import { failures, serve, sleep } from './local-http.js';

export async function run(log: (line: string) => void): Promise<void> {
  let calls = 0;
  let failWith: number | undefined;
  const source = await serve((req, res) => {
    calls += 1;
    req.resume();
    if (failWith !== undefined) {
      res.writeHead(failWith).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(
      JSON.stringify({
        AccessKeyId: `AKIDEXAMPLE${calls}`,
        SecretAccessKey: 'example-secret',
        Token: 'example-session',
        Expiration: new Date(Date.now() + 4 * 60_000).toISOString(),
      }),
    );
  });
  const signedWith: string[] = [];
  const s3 = await serve((req, res) => {
    req.resume();
    signedWith.push(/Credential=([^/]+)/.exec(req.headers.authorization ?? '')?.[1] ?? '-');
    res.writeHead(200, { 'content-type': 'application/xml' });
    res.end('<ListAllMyBucketsResult><Buckets></Buckets></ListAllMyBucketsResult>');
  });
  // A credential with 4 minutes left; `refreshAt: 0.01` makes it due after about 2 s, so the
  // outage below happens inside the refresh window without waiting minutes.
  const credentials = awsCredentials(
    fromHttp({ awsContainerCredentialsFullUri: `${source.url}/creds`, maxRetries: 0 }),
    { refreshAt: 0.01, jitter: 0 },
  );
  const clients = Array.from(
    { length: 10 },
    () =>
      new S3Client({ region: 'us-east-1', endpoint: s3.url, forcePathStyle: true, credentials }),
  );
  try {
    await Promise.all(clients.map((client) => client.send(new ListBucketsCommand({}))));
    log(`10 S3 clients, 1 credentials value: ${calls} credential-source call(s)`);

    const first = clients[0] as S3Client;
    credentials.provider.invalidate();
    await first.send(new ListBucketsCommand({}));
    log(`after invalidate(): the next request is signed with ${signedWith.at(-1)}`);

    await sleep(2_000);
    failWith = 429;
    const before = calls;
    const failed = await failures(20, () => first.send(new ListBucketsCommand({})));
    const snapshot = credentials.provider.snapshot();
    log(
      `source answering 429 in the refresh window: ${failed} of 20 sends failed, ` +
        `${calls - before} source call(s), breaker ${snapshot.breaker.state}`,
    );
  } finally {
    for (const client of clients) client.destroy();
    credentials.provider.close();
    await Promise.all([source.close(), s3.close()]);
  }
}
