/**
 * Adapters are thin packages over @sluice/core's PUBLIC API: no workspace package other than
 * core may import core's internals (`@sluice/core/<anything>`, or a relative path into
 * `packages/core/src`), and an adapter's third-party client is a peer dependency, never a
 * regular one.
 */

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const coreSrc = join(repoRoot, 'packages/core/src');

/**
 * Regular dependencies an adapter may have besides `@sluice/*`: small utilities that are an
 * implementation detail (the mutex of choice), never a client of the system adapted.
 */
const ALLOWED_DEPENDENCIES = new Set(['async-mutex']);

/** Every module specifier of a JS/TS text: imports, re-exports, `import()`, `require()`, type imports. */
function moduleSpecifiers(text: string): string[] {
  const info = ts.preProcessFile(text, true, true);
  const specifiers = info.importedFiles.map((file) => file.fileName);
  // `import type x = require('...')` and `typeof import('...')` in types: caught by a scan.
  for (const match of text.matchAll(/\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g)) {
    specifiers.push(match[1] as string);
  }
  return [...new Set(specifiers)];
}

/**
 * Why `specifier`, imported from `file`, reaches into core's internals; `undefined` when it
 * does not.
 */
function coreInternalImport(file: string, specifier: string): string | undefined {
  if (/^@sluice\/core\/./.test(specifier) && specifier !== '@sluice/core/package.json') {
    return 'deep import of @sluice/core (only its index is public)';
  }
  if (specifier.startsWith('.')) {
    const target = resolve(dirname(file), specifier);
    if (target === coreSrc || target.startsWith(coreSrc + sep)) {
      return 'relative import into packages/core/src';
    }
  }
  return undefined;
}

interface Workspace {
  readonly dir: string;
  readonly manifest: {
    name: string;
    private?: boolean;
    dependencies?: Record<string, string>;
    peerDependencies?: Record<string, string>;
    devDependencies?: Record<string, string>;
  };
}

/** Every workspace package (pnpm-workspace.yaml: packages/*, examples/*, test/bench). */
function workspaces(): Workspace[] {
  const dirs = [
    ...['packages', 'examples'].flatMap((parent) =>
      readdirSync(join(repoRoot, parent), { withFileTypes: true })
        .filter((entry) => entry.isDirectory())
        .map((entry) => join(repoRoot, parent, entry.name)),
    ),
    join(repoRoot, 'test/bench'),
  ];
  return dirs
    .filter((dir) => existsSync(join(dir, 'package.json')))
    .map((dir) => ({ dir, manifest: JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) }));
}

function sourceFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    if (entry.name === 'node_modules' || entry.name === 'dist') return [];
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return /\.[cm]?[jt]sx?$/.test(entry.name) && !entry.name.endsWith('.d.ts') ? [path] : [];
  });
}

/** The adapters: published packages other than core. */
function adapters(): Workspace[] {
  return workspaces().filter(
    (w) =>
      w.dir.startsWith(join(repoRoot, 'packages') + sep) &&
      w.manifest.private !== true &&
      w.manifest.name !== '@sluice/core',
  );
}

/** The problems of an adapter's manifest: third-party regular dependencies, peers missing from devDependencies. */
function manifestProblems(manifest: Workspace['manifest']): string[] {
  const problems: string[] = [];
  for (const name of Object.keys(manifest.dependencies ?? {})) {
    if (name.startsWith('@sluice/') || ALLOWED_DEPENDENCIES.has(name)) continue;
    problems.push(
      `${name} is a regular dependency: a third-party client must be a peer dependency`,
    );
  }
  for (const name of Object.keys(manifest.peerDependencies ?? {})) {
    if (manifest.devDependencies?.[name] === undefined) {
      problems.push(`peer ${name} is not in devDependencies, so its tests cannot run against it`);
    }
  }
  return problems;
}

describe('the detectors', () => {
  const file = join(repoRoot, 'packages/opentelemetry/src/x.ts');

  it('finds static, type-only, re-exported, dynamic and required specifiers', () => {
    const text = [
      "import { a } from '@sluice/core';",
      "import type { B } from '@sluice/core/internal/provider-cell.js';",
      "export { c } from '../../core/src/reporter.js';",
      "const d = await import('@sluice/core/dist/index.js');",
      "const e = require('../../core/src/internal/timers');",
      "type F = typeof import('../../core/src/errors.js');",
    ].join('\n');
    expect(moduleSpecifiers(text).sort()).toEqual(
      [
        '@sluice/core',
        '@sluice/core/internal/provider-cell.js',
        '../../core/src/reporter.js',
        '@sluice/core/dist/index.js',
        '../../core/src/internal/timers',
        '../../core/src/errors.js',
      ].sort(),
    );
  });

  it('flags deep imports of @sluice/core and relative paths into packages/core/src only', () => {
    expect(coreInternalImport(file, '@sluice/core')).toBeUndefined();
    expect(coreInternalImport(file, '@sluice/core/internal/timers.js')).toMatch(/deep import/);
    expect(coreInternalImport(file, '@sluice/core/dist/index.cjs')).toMatch(/deep import/);
    expect(coreInternalImport(file, '../../core/src/index.js')).toMatch(/packages\/core\/src/);
    expect(coreInternalImport(file, '../../core/src')).toMatch(/packages\/core\/src/);
    expect(coreInternalImport(file, './names.js')).toBeUndefined();
    expect(coreInternalImport(file, '../../core-extra/src/x.js')).toBeUndefined();
    expect(coreInternalImport(file, '../../../test/support/promtool.js')).toBeUndefined();
  });

  it('flags a third-party client listed as a regular dependency, and a peer not installed for tests', () => {
    expect(
      manifestProblems({
        name: '@sluice/x',
        dependencies: { '@sluice/core': 'workspace:^', ioredis: '^5.0.0', 'async-mutex': '0.5.0' },
        peerDependencies: { 'prom-client': '^15.1.0' },
      }),
    ).toEqual([
      'ioredis is a regular dependency: a third-party client must be a peer dependency',
      'peer prom-client is not in devDependencies, so its tests cannot run against it',
    ]);
    expect(
      manifestProblems({
        name: '@sluice/y',
        dependencies: { '@sluice/core': 'workspace:^' },
        peerDependencies: { 'prom-client': '^15.1.0' },
        devDependencies: { 'prom-client': '15.1.3' },
      }),
    ).toEqual([]);
  });
});

describe('adapter boundaries', () => {
  it('no workspace package other than core imports core internals', () => {
    const packages = workspaces().filter((w) => w.manifest.name !== '@sluice/core');
    expect(packages.length).toBeGreaterThan(2);
    const offenders = packages.flatMap((w) =>
      sourceFiles(w.dir).flatMap((file) =>
        moduleSpecifiers(readFileSync(file, 'utf8')).flatMap((specifier) => {
          const why = coreInternalImport(file, specifier);
          return why === undefined ? [] : [`${relative(repoRoot, file)}: ${specifier} (${why})`];
        }),
      ),
    );
    expect(offenders).toEqual([]);
  });

  it('every adapter depends on core and lists its third-party client as a peer only', () => {
    const all = adapters();
    expect(all.map((w) => w.manifest.name)).toEqual(
      expect.arrayContaining([
        '@sluice/aws',
        '@sluice/google',
        '@sluice/opentelemetry',
        '@sluice/prometheus',
        '@sluice/tls',
      ]),
    );
    const problems = all.flatMap((w) => [
      ...manifestProblems(w.manifest).map((p) => `${w.manifest.name}: ${p}`),
      ...(w.manifest.dependencies?.['@sluice/core'] === undefined
        ? [`${w.manifest.name}: does not depend on @sluice/core`]
        : []),
    ]);
    expect(problems).toEqual([]);
  });

  it('the telemetry adapters peer on the libraries they adapt', () => {
    const peers = Object.fromEntries(
      adapters().map((w) => [w.manifest.name, Object.keys(w.manifest.peerDependencies ?? {})]),
    );
    expect(peers['@sluice/opentelemetry']).toEqual(['@opentelemetry/api']);
    expect(peers['@sluice/prometheus']).toEqual(['prom-client']);
  });

  it('the SDK adapters peer on the SDK types and import the SDKs as types only', () => {
    const peers = Object.fromEntries(
      adapters().map((w) => [w.manifest.name, Object.keys(w.manifest.peerDependencies ?? {})]),
    );
    expect(peers['@sluice/aws']).toEqual(['@smithy/types']);
    expect(peers['@sluice/google']).toEqual(['google-auth-library']);
    const sdk = /^(@aws-sdk\/|@smithy\/|@azure\/|google-auth-library|@google-cloud\/|gaxios)/;
    const offenders = ['aws', 'google'].flatMap((dir) =>
      sourceFiles(join(repoRoot, 'packages', dir, 'src')).flatMap((file) => {
        const text = readFileSync(file, 'utf8');
        const runtime = ts
          .preProcessFile(text.replace(/^\s*import\s+type\b[^;]*;/gm, ''), true, true)
          .importedFiles.map((f) => f.fileName)
          .filter((specifier) => sdk.test(specifier));
        return runtime.map((specifier) => `${relative(repoRoot, file)}: ${specifier}`);
      }),
    );
    expect(offenders).toEqual([]);
  });
});
