/**
 * @sluice/core runs on every JS runtime: no runtime dependencies, no `node:` or bare Node
 * builtin imports (in the sources and in the built bundles), and a tsconfig that does not
 * load Node's types.
 */

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const coreDir = join(repoRoot, 'packages/core');
const srcDir = join(coreDir, 'src');

const builtins = new Set(builtinModules.flatMap((name) => [name, name.replace(/^node:/, '')]));

/** Every module specifier a JS/TS text imports, re-exports, `import()`s or `require()`s. */
function moduleSpecifiers(text: string): string[] {
  const patterns = [
    /\b(?:import|export)\s[^'"`;]*?\bfrom\s*['"]([^'"]+)['"]/g,
    /\bimport\s*['"]([^'"]+)['"]/g,
    /\bimport\s*\(\s*['"]([^'"]+)['"]\s*[,)]/g,
    /\brequire\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
    /\/\/\/\s*<reference\s+types\s*=\s*['"]([^'"]+)['"]/g,
  ];
  return patterns.flatMap((pattern) => [...text.matchAll(pattern)].map((match) => match[1]!));
}

/** The specifiers of `text` that name a Node builtin (`node:fs`, `fs`, `fs/promises`, ...) or Node's types. */
function nodeImports(text: string): string[] {
  return moduleSpecifiers(text).filter(
    (specifier) =>
      specifier.startsWith('node:') ||
      builtins.has(specifier) ||
      builtins.has(specifier.split('/')[0]!) ||
      // `/// <reference types="node" />` pulls in Node's globals.
      specifier === 'node' ||
      specifier === '@types/node',
  );
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return /\.[cm]?[jt]sx?$/.test(entry.name) ? [path] : [];
  });
}

describe('node-import detector', () => {
  it('flags node: imports, bare builtins, require, dynamic import and Node type references', () => {
    const text = [
      "import { setTimeout } from 'node:timers/promises';",
      'import { EventEmitter } from "events";',
      "export { createHash } from 'crypto';",
      "import 'node:process';",
      "const fs = require('fs/promises');",
      "const os = await import('node:os');",
      '/// <reference types="node" />',
    ].join('\n');
    expect(nodeImports(text)).toEqual([
      'node:timers/promises',
      'events',
      'crypto',
      'node:process',
      'node:os',
      'fs/promises',
      'node',
    ]);
  });

  it('ignores relative imports that share a builtin name and mentions outside imports', () => {
    const text = [
      "import { startTimer } from './internal/timers.js';",
      "export * from './events.js';",
      '// uses timers; never imports node:timers',
      "const label = 'node:fs';",
    ].join('\n');
    expect(nodeImports(text)).toEqual([]);
  });
});

describe('@sluice/core portability', () => {
  it('declares no runtime dependencies of any kind', () => {
    const manifest = JSON.parse(readFileSync(join(coreDir, 'package.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    for (const field of [
      'dependencies',
      'peerDependencies',
      'optionalDependencies',
      'bundleDependencies',
      'bundledDependencies',
    ]) {
      const value = manifest[field];
      const names = value && typeof value === 'object' ? Object.keys(value) : [];
      expect(names, `packages/core/package.json ${field}`).toEqual([]);
    }
  });

  it('imports no Node builtin anywhere in packages/core/src', () => {
    const files = sourceFiles(srcDir);
    expect(files.length).toBeGreaterThan(0);
    const offenders = files.flatMap((file) =>
      nodeImports(readFileSync(file, 'utf8')).map(
        (specifier) => `${relative(repoRoot, file)}: ${specifier}`,
      ),
    );
    expect(offenders).toEqual([]);
  });

  it('imports nothing but relative modules in packages/core/src (TSDoc examples aside)', () => {
    // A block comment's `@example` imports the public package name, as users write it.
    const withoutBlockComments = (text: string) => text.replace(/\/\*[\s\S]*?\*\//g, '');
    const offenders = sourceFiles(srcDir).flatMap((file) =>
      moduleSpecifiers(withoutBlockComments(readFileSync(file, 'utf8')))
        .filter((specifier) => !specifier.startsWith('./') && !specifier.startsWith('../'))
        .map((specifier) => `${relative(repoRoot, file)}: ${specifier}`),
    );
    expect(offenders).toEqual([]);
  });

  const bundles = ['dist/index.js', 'dist/index.cjs'].map((file) => join(coreDir, file));

  it.skipIf(!bundles.some((file) => existsSync(file)))(
    'builds bundles that require and import no Node builtin (when built)',
    () => {
      for (const file of bundles.filter((bundle) => existsSync(bundle))) {
        const text = readFileSync(file, 'utf8');
        expect(text, relative(repoRoot, file)).not.toMatch(/\b(?:require\(|from\s*)["']node:/);
        expect(nodeImports(text), relative(repoRoot, file)).toEqual([]);
      }
    },
  );

  it('type-checks without Node types and without the DOM lib', () => {
    const configPath = join(coreDir, 'tsconfig.json');
    const { config, error } = ts.readConfigFile(configPath, ts.sys.readFile);
    expect(error).toBeUndefined();
    const options = (config as { compilerOptions?: { types?: unknown; lib?: unknown } })
      .compilerOptions;
    expect(options?.types).toEqual([]);

    // The resolved lib (after `extends`) holds no DOM / WebWorker declarations.
    const parsed = ts.parseJsonConfigFileContent(config, ts.sys, coreDir);
    const libs = (parsed.options.lib ?? []).map((lib) => lib.toLowerCase());
    expect(libs.filter((lib) => /dom|webworker/.test(lib))).toEqual([]);
    expect(parsed.options.types).toEqual([]);
  });
});
