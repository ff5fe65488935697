import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import { SlowFirstSequencer } from './slow-first-sequencer.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const source = (path: string) => fileURLToPath(new URL(`../packages/${path}`, import.meta.url));

/** Test files run at once: `SLUICE_TEST_WORKERS`, else twice the cores, 2 to 6. */
function workers(): number {
  const fromEnv = Number(process.env.SLUICE_TEST_WORKERS);
  if (Number.isInteger(fromEnv) && fromEnv > 0) return fromEnv;
  return Math.min(6, Math.max(2, 2 * availableParallelism()));
}

const ALL_TESTS = [
  'packages/*/test/**/*.test.ts',
  'test/**/*.test.ts',
  'examples/*/test/**/*.test.ts',
];
const EXCLUDED = ['**/node_modules/**', '**/dist/**'];

/**
 * Files that share worker processes with other files instead of getting a fresh one each
 * (`isolate: false`). A fresh process per file costs about 0.25 s of CPU: these 48 small
 * files took 24 s of CPU with a process each and 13 s sharing. Only packages whose tests leave
 * nothing behind are listed: process listeners and fake timers they install are removed,
 * globals they replace are restored, no mocked modules, no child process left running.
 * Everything else (servers, child processes, 1,000-instance fleets) keeps a process per file.
 */
const SHARED_PROCESS_TESTS = [
  'packages/core/test/**/*.test.ts',
  'packages/effect/test/**/*.test.ts',
  'packages/prometheus/test/**/*.test.ts',
  'packages/opentelemetry/test/**/*.test.ts',
  // The fleet protocol over the in-memory store: no Redis, no sockets.
  'packages/redis/test/coordination/**/*.test.ts',
];

export default defineConfig({
  root,
  resolve: {
    // Tests always exercise the sources, never a stale build.
    alias: [
      { find: /^@sluice\/core$/, replacement: source('core/src/index.ts') },
      { find: /^@sluice\/tls$/, replacement: source('tls/src/index.ts') },
      { find: /^@sluice\/redis$/, replacement: source('redis/src/index.ts') },
      { find: /^@sluice\/effect$/, replacement: source('effect/src/index.ts') },
      { find: /^@sluice\/oauth$/, replacement: source('oauth/src/index.ts') },
      { find: /^@sluice\/prometheus$/, replacement: source('prometheus/src/index.ts') },
      { find: /^@sluice\/opentelemetry$/, replacement: source('opentelemetry/src/index.ts') },
      { find: /^@sluice\/aws$/, replacement: source('aws/src/index.ts') },
      { find: /^@sluice\/google$/, replacement: source('google/src/index.ts') },
      { find: /^@sluice\/azure$/, replacement: source('azure/src/index.ts') },
    ],
  },
  test: {
    // vitest runs availableParallelism() - 1 workers by default: ONE on a 2-core machine, so
    // every file ran after the other. Most of the slow files wait on real servers (Redis,
    // OAuth, ACME, child processes), not on the CPU, so more workers than cores overlap
    // those waits (docs/testing.md has the per-file times; `pnpm test:timing` measures).
    maxWorkers: workers(),
    // Slowest files first, also on a fresh clone's first run (no vitest cache yet).
    sequence: { sequencer: SlowFirstSequencer },
    testTimeout: 30_000,
    hookTimeout: 60_000,
    projects: [
      {
        extends: true,
        test: { name: 'unit', include: SHARED_PROCESS_TESTS, exclude: EXCLUDED, isolate: false },
      },
      {
        extends: true,
        test: {
          name: 'isolated',
          include: ALL_TESTS,
          exclude: [...EXCLUDED, ...SHARED_PROCESS_TESTS],
        },
      },
    ],
  },
});
