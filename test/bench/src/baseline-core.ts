/**
 * A released @sluice/core, rebuilt from git history, to measure against the working tree in
 * the same process: the hot-path figures of two versions are only comparable within one run
 * (machine noise between runs is larger than the difference being measured).
 *
 * The sources at the release commit are read with `git show`, transpiled file by file with
 * TypeScript (no bundler: the sources already import with `.js` extensions) into
 * `.tmp/bench/core-<version>/`, and imported from there.
 */

import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ts from 'typescript';

/** A release of @sluice/core and the commit it was cut from. */
export interface CoreRelease {
  readonly version: string;
  readonly commit: string;
}

/** @sluice/core 0.1.0, as released (the last commit before the 0.2.0 work). */
export const CORE_0_1_0: CoreRelease = { version: '0.1.0', commit: '6659092' };

/** @sluice/core 0.2.0, as released (main before the seams and due-point work). */
export const CORE_0_2_0: CoreRelease = { version: '0.2.0', commit: '6852223' };

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

function git(args: readonly string[]): string {
  return execFileSync('git', args, { cwd: repoRoot, encoding: 'utf8', maxBuffer: 64 << 20 });
}

/**
 * Builds (once per process) and imports `release`'s public entry point. The module is typed
 * as the working tree's core: the public API of a 0.x release is a subset of it.
 * @throws when git or the commit is not available (a shallow clone, say).
 */
export function loadCoreRelease(release: CoreRelease): Promise<typeof import('@sluice/core')> {
  let loaded = releases.get(release.version);
  if (loaded === undefined) {
    loaded = buildCoreRelease(release);
    releases.set(release.version, loaded);
  }
  return loaded;
}

/** One build per release per process: a fleet scenario creates a contender per instance. */
const releases = new Map<string, Promise<typeof import('@sluice/core')>>();

async function buildCoreRelease(release: CoreRelease): Promise<typeof import('@sluice/core')> {
  const outDir = join(repoRoot, '.tmp', 'bench', `core-${release.version}`);
  const files = git(['ls-tree', '-r', '--name-only', release.commit, 'packages/core/src'])
    .split('\n')
    .filter((file) => file.endsWith('.ts') && !file.endsWith('.d.ts'));
  for (const file of files) {
    const source = git(['show', `${release.commit}:${file}`]);
    const { outputText } = ts.transpileModule(source, {
      compilerOptions: {
        target: ts.ScriptTarget.ES2022,
        module: ts.ModuleKind.ESNext,
        verbatimModuleSyntax: false,
      },
      fileName: file,
    });
    const target = join(outDir, file.replace(/^packages\/core\/src\//, '').replace(/\.ts$/, '.js'));
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, outputText);
  }
  writeFileSync(join(outDir, 'package.json'), '{ "type": "module" }\n');
  return import(pathToFileURL(join(outDir, 'index.js')).href);
}
