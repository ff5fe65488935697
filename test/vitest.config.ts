import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const root = fileURLToPath(new URL('..', import.meta.url));
const source = (path: string) => fileURLToPath(new URL(`../packages/${path}`, import.meta.url));

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
      { find: /^@sluice\/azure$/, replacement: source('azure/src/index.ts') },
    ],
  },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'test/**/*.test.ts', 'examples/*/test/**/*.test.ts'],
    exclude: ['**/node_modules/**', '**/dist/**'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
