/**
 * Core's layout: the contract types live in `src/contracts/`, so the implementation in
 * `src/internal/` never imports a face module (a factory that itself imports `internal/`),
 * and no source file takes part in an import circle.
 */

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const srcDir = fileURLToPath(new URL('../src', import.meta.url));

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return path.endsWith('.ts') && !path.endsWith('.d.ts') ? [path] : [];
  });
}

/** The relative imports and re-exports of each source file, as absolute `.ts` paths. */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of sourceFiles(srcDir)) {
    const text = readFileSync(file, 'utf8');
    const specifiers = [...text.matchAll(/\b(?:import|export)\s[^'"`;]*?\bfrom\s*'(\.[^']+)'/g)];
    graph.set(
      file,
      specifiers.map((match) =>
        resolve(dirname(file), (match[1] as string).replace(/\.js$/, '.ts')),
      ),
    );
  }
  return graph;
}

/** Every import circle, as `a.ts -> b.ts -> a.ts`. */
function circles(graph: Map<string, string[]>): string[] {
  const found: string[] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (file: string): void => {
    state.set(file, 'open');
    stack.push(file);
    for (const dep of graph.get(file) ?? []) {
      if (state.get(dep) === 'open') {
        const loop = [...stack.slice(stack.indexOf(dep)), dep];
        found.push(loop.map((f) => relative(srcDir, f)).join(' -> '));
      } else if (state.get(dep) === undefined && graph.has(dep)) {
        visit(dep);
      }
    }
    stack.pop();
    state.set(file, 'done');
  };
  for (const file of graph.keys()) if (state.get(file) === undefined) visit(file);
  return found;
}

describe("core's module graph", () => {
  const graph = importGraph();

  it('has no import circles', () => {
    expect(circles(graph)).toEqual([]);
  });

  it('internal/ never imports a face module (one that imports internal/ itself), only contracts and leaves', () => {
    const internalDir = join(srcDir, 'internal');
    const importsInternal = (file: string) =>
      (graph.get(file) ?? []).some((dep) => dep.startsWith(internalDir));
    const offenders: string[] = [];
    for (const [file, deps] of graph) {
      if (!file.startsWith(internalDir)) continue;
      for (const dep of deps) {
        if (dep.startsWith(internalDir) || !importsInternal(dep)) continue;
        // single-flight.ts is a building block (not public), used by the provider cell.
        if (relative(srcDir, dep) === 'single-flight.ts') continue;
        offenders.push(`${relative(srcDir, file)} -> ${relative(srcDir, dep)}`);
      }
    }
    expect(offenders).toEqual([]);
  });

  it('the check sees a circle when there is one', () => {
    const a = join(srcDir, 'a.ts');
    const b = join(srcDir, 'b.ts');
    expect(
      circles(
        new Map([
          [a, [b]],
          [b, [a]],
        ]),
      ),
    ).toEqual(['a.ts -> b.ts -> a.ts']);
  });
});
