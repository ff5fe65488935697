/**
 * Adapters are thin packages over core's PUBLIC API: their sources import `@sluice/core`
 * (its index) and never core's internals, another package's files or a deep path.
 */

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const packagesDir = fileURLToPath(new URL('../packages', import.meta.url));

function sourcesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourcesUnder(path);
    return /\.[cm]?ts$/.test(name) ? [path] : [];
  });
}

/** Every module specifier a source imports or re-exports (static and dynamic). */
function specifiers(source: string): string[] {
  const found: string[] = [];
  for (const m of source.matchAll(/\b(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]/g))
    found.push(m[1] as string);
  for (const m of source.matchAll(/\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g))
    found.push(m[1] as string);
  for (const m of source.matchAll(/^\s*import\s*['"]([^'"]+)['"]/gm)) found.push(m[1] as string);
  return found;
}

const adapters = readdirSync(packagesDir).filter(
  (name) => name !== 'core' && statSync(join(packagesDir, name)).isDirectory(),
);

describe('adapters use only the public API of @sluice/core', () => {
  it('finds the adapters to check', () => {
    expect(adapters).toContain('effect');
  });

  it.each(adapters)('packages/%s/src imports no internal or out-of-package path', (adapter) => {
    const srcDir = join(packagesDir, adapter, 'src');
    const offences: string[] = [];
    for (const file of sourcesUnder(srcDir)) {
      for (const specifier of specifiers(readFileSync(file, 'utf8'))) {
        const where = `${relative(packagesDir, file)}: '${specifier}'`;
        if (/^@sluice\/[^/]+\/.+/.test(specifier)) offences.push(`${where} is a deep import`);
        if (specifier.startsWith('.')) {
          const target = resolve(file, '..', specifier);
          if (!target.startsWith(`${srcDir}/`)) offences.push(`${where} leaves the package`);
        }
      }
    }
    expect(offences).toEqual([]);
  });
});
