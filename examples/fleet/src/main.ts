/**
 * `pnpm example:fleet`: a fleet of replicas that behaves as ONE client of its OAuth server.
 *
 * Four worker processes each hold a provider for each of ten APIs (forty providers), all
 * coordinated through one local redis-server by @sluice/redis, against the demo's real
 * OAuth server (oidc-provider, client_credentials, 5-second JWTs). The parent narrates:
 *
 *   A. Boot: all four processes start their ten providers at once: one token request per API.
 *   B. Steady state: about one token request per API per token lifetime, not one per process.
 *   C. Redis is killed: every process falls back to its own local policy (reported by the
 *      coordinator); callers never notice.
 *   D. Redis comes back, empty: the processes reconnect, resubscribe and coordinate again.
 *
 * Every claim is checked; the process exits 1 when one does not hold. Tokens are never printed.
 */

import { type ChildProcess, fork } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startOAuthServer } from '../../demo/src/oauth-server.js';
import { startLocalRedis } from './redis-server.js';
import type { WorkerReport } from './worker.js';

const WORKERS = 4;
const APIS = Array.from({ length: 10 }, (_, i) => `api-${i}`);
const TOKEN_TTL_SECONDS = 5;
const LIFETIME_MS = TOKEN_TTL_SECONDS * 1_000;
const HARD_LIMIT_MS = 150_000;

const here = path.dirname(fileURLToPath(import.meta.url));
const failures: string[] = [];
const say = (line: string): void => void process.stdout.write(`${line}\n`);
const expect = (label: string, ok: boolean, actual: string): void => {
  say(`    ${ok ? '✓' : '✗'} ${label} (${actual})`);
  if (!ok) failures.push(label);
};
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function main(): Promise<void> {
  const oauth = await startOAuthServer({ accessTokenTtlSeconds: TOKEN_TTL_SECONDS });
  const redis = await startLocalRedis();
  const workers: ChildProcess[] = [];
  const reports = new Map<number, WorkerReport>();
  const total = (field: keyof Omit<WorkerReport, 'index'>): number =>
    [...reports.values()].reduce((sum, report) => sum + report[field], 0);
  try {
    say(
      `Sluice fleet example: ${WORKERS} processes x ${APIS.length} APIs, redis-server on port ${redis.port},`,
    );
    say(`oidc-provider issuing ${TOKEN_TTL_SECONDS} s tokens at ${oauth.issuer}`);
    say('');

    const ready: Array<Promise<void>> = [];
    for (let index = 0; index < WORKERS; index++) {
      const worker = fork(path.join(here, 'worker.ts'), [], {
        execArgv: ['--import', 'tsx'],
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
        env: {
          ...process.env,
          SLUICE_FLEET_WORKER: JSON.stringify({
            index,
            redisPort: redis.port,
            issuer: oauth.issuer,
            clientId: oauth.clientId,
            clientSecret: oauth.clientSecret,
            scope: oauth.scope,
            resource: oauth.resource,
            apis: APIS,
          }),
        },
      });
      workers.push(worker);
      ready.push(
        new Promise<void>((resolve, reject) => {
          worker.on('message', (message: { type: string; report?: WorkerReport }) => {
            if (message.type === 'ready') resolve();
            if (message.type === 'report' && message.report !== undefined) {
              reports.set(message.report.index, message.report);
            }
          });
          worker.once('exit', (code) => reject(new Error(`worker ${index} exited with ${code}`)));
        }),
      );
    }
    await Promise.all(ready);

    // ------------------------------------------------------------------ A
    say('A. Boot: every process starts its ten providers at the same moment');
    for (const worker of workers) worker.send({ type: 'go' });
    await sleep(1_500);
    const bootRequests = oauth.tokenRequests();
    say(
      `    token requests at the issuer: ${bootRequests} for ${APIS.length} APIs in ${WORKERS} processes`,
    );
    expect(
      'one token request per API, not one per process',
      bootRequests === APIS.length,
      String(bootRequests),
    );

    // ------------------------------------------------------------------ B
    say('');
    say('B. Steady state: three token lifetimes');
    const perLifetime: number[] = [];
    for (let lifetime = 1; lifetime <= 3; lifetime++) {
      const before = oauth.tokenRequests();
      await sleep(LIFETIME_MS);
      const mints = oauth.tokenRequests() - before;
      perLifetime.push(mints);
      say(
        `    lifetime ${lifetime}: ${mints} token requests for ${APIS.length} APIs (${(mints / APIS.length).toFixed(2)} per API; ${WORKERS} uncoordinated processes would make about ${Math.round((WORKERS * APIS.length) / 0.885)})`,
      );
    }
    const steady = perLifetime.reduce((a, b) => a + b, 0) / perLifetime.length;
    say(
      `    processes led ${total('led')} mints and adopted ${total('adopted')} tokens from Redis`,
    );
    expect(
      'about one token request per API per lifetime (at most 1.5)',
      steady <= 1.5 * APIS.length && steady >= 0.5 * APIS.length,
      `${(steady / APIS.length).toFixed(2)} per API`,
    );
    expect('no failed get()', total('failed') === 0, String(total('failed')));

    // ------------------------------------------------------------------ C
    say('');
    say('C. Redis is killed (kill -9): each process falls back to its own local policy');
    const fallbacksBefore = total('fallbacks');
    const failedBefore = total('failed');
    await redis.kill();
    const downBefore = oauth.tokenRequests();
    await sleep(1.5 * LIFETIME_MS);
    const downRequests = oauth.tokenRequests() - downBefore;
    const fallbacks = total('fallbacks') - fallbacksBefore;
    const workersFellBack = [...reports.values()].filter((r) => r.fallbacks > 0).length;
    say(
      `    fallbacks reported by the coordinators: ${fallbacks}, in ${workersFellBack} of ${WORKERS} processes`,
    );
    say(`    token requests while Redis was away: ${downRequests} (each process for itself)`);
    expect(
      'every process reported the fallback',
      workersFellBack === WORKERS,
      `${workersFellBack}/${WORKERS}`,
    );
    expect(
      'callers never noticed: no failed get() while Redis was away',
      total('failed') === failedBefore,
      String(total('failed') - failedBefore),
    );

    // ------------------------------------------------------------------ D
    say('');
    say('D. Redis restarts, empty: the processes reconnect and coordinate again');
    await redis.restart();
    await sleep(LIFETIME_MS); // reconnect, resubscribe, and let the fallback tokens age out
    const recoveredBefore = oauth.tokenRequests();
    const fallbacksAtRecovery = total('fallbacks');
    await sleep(2 * LIFETIME_MS);
    const recovered = (oauth.tokenRequests() - recoveredBefore) / 2;
    say(`    token requests per lifetime after recovery: ${recovered} for ${APIS.length} APIs`);
    expect(
      'coordinated again: at most 1.5 token requests per API per lifetime',
      recovered <= 1.5 * APIS.length,
      `${(recovered / APIS.length).toFixed(2)} per API`,
    );
    expect(
      'no fallback once Redis is back',
      total('fallbacks') === fallbacksAtRecovery,
      String(total('fallbacks') - fallbacksAtRecovery),
    );

    for (const worker of workers) worker.send({ type: 'stop' });
    await Promise.all(
      workers.map((worker) => new Promise((resolve) => worker.once('exit', resolve))),
    );
    say('');
    say(
      `    ${total('served').toLocaleString('en')} get() calls served, ${total('failed')} failed, ${total('servedExpired')} served an expired token`,
    );
    expect('no failed get() at all', total('failed') === 0, String(total('failed')));
    expect(
      'no expired token ever served',
      total('servedExpired') === 0,
      String(total('servedExpired')),
    );
  } finally {
    for (const worker of workers) if (worker.exitCode === null) worker.kill('SIGKILL');
    await redis.stop();
    await oauth.close();
  }
}

const limit = setTimeout(() => {
  console.error(`the example did not finish within ${HARD_LIMIT_MS} ms`);
  process.exit(1);
}, HARD_LIMIT_MS);
limit.unref();

main().then(
  () => {
    say('');
    if (failures.length > 0) {
      say(`${failures.length} expectation(s) failed: ${failures.join('; ')}`);
      process.exit(1);
    }
    say('every expectation held');
    process.exit(0);
  },
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
