/**
 * The documentation checks CI runs: the API reference (every export documented, docs/api up
 * to date) and the relative-link checker, each shown to fail on the mistake it exists for.
 */

import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
// @ts-expect-error: a plain ESM script without type declarations
import { brokenLinks, filesToCheck, slug } from '../../scripts/check-doc-links.mjs';

const script = fileURLToPath(new URL('../../scripts/api-reference.mjs', import.meta.url));
const scratches: string[] = [];
afterEach(() => {
  for (const dir of scratches.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A scratch checkout holding `files` (path -> content). */
function scratch(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-docs-test-'));
  scratches.push(dir);
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  return dir;
}

describe('check-doc-links', () => {
  it("computes GitHub's anchors for headings, TypeDoc's included", () => {
    expect(slug('Options')).toBe('options');
    expect(slug('`get`, `getCredential` and `refresh`')).toBe('get-getcredential-and-refresh');
    expect(slug('Class: MintFailed\\<E\\>')).toBe('class-mintfailede');
    expect(slug('[Resource.auto](https://effect.website) vs. Sluice')).toBe(
      'resourceauto-vs-sluice',
    );
    expect(slug('snake_case stays')).toBe('snake_case-stays');
  });

  it('reports a missing file and a missing anchor, and accepts headings, repeats and ids', () => {
    const root = scratch({
      'README.md': [
        '# Project',
        '[ok](docs/guide.md) [ok](docs/guide.md#setup) [ok](docs/guide.md#setup-1)',
        '[ok](docs/guide.md#custom-id) [ok](#project) [site](https://example.com/x.md)',
        '[gone](docs/missing.md) [bad anchor](docs/guide.md#nowhere)',
        '`[in code](docs/nope.md)`',
        '```md',
        '[in a fence](docs/nope.md)',
        '```',
      ].join('\n'),
      'docs/guide.md':
        '# Guide\n## Setup\n## Setup\n<a id="custom-id"></a>\n[back](../README.md#project)\n',
    });
    const { problems, checked } = brokenLinks(root, filesToCheck(root));
    expect(checked).toBe(8);
    expect(problems).toEqual([
      'README.md:4: docs/missing.md: no such file',
      'README.md:4: docs/guide.md#nowhere: no heading or id "nowhere" in docs/guide.md',
    ]);
  });

  it('passes on this repository', () => {
    const root = fileURLToPath(new URL('../..', import.meta.url));
    expect(brokenLinks(root, filesToCheck(root)).problems).toEqual([]);
  });
});

describe('api-reference', () => {
  const tsconfig = JSON.stringify({
    compilerOptions: {
      target: 'ES2022',
      // Without `lib`, TypeScript loads lib.dom.d.ts too: a third of each of the six TypeDoc
      // runs below, for a scratch package that uses no DOM type.
      lib: ['ES2022'],
      module: 'NodeNext',
      moduleResolution: 'NodeNext',
      strict: true,
      skipLibCheck: true,
      types: [],
    },
    include: ['src'],
  });
  const documented = `/**\n * A demo package.\n *\n * @packageDocumentation\n */\n\n/** Adds one. */\nexport function inc(n: number): number {\n  return n + 1;\n}\n`;
  const run = (root: string, ...args: string[]) => {
    try {
      const output = execFileSync(process.execPath, [script, ...args], {
        env: { ...process.env, SLUICE_DOCS_ROOT: root, FORCE_COLOR: '0', NO_COLOR: '1' },
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      return { ok: true, output };
    } catch (error) {
      const e = error as { stdout?: string; stderr?: string };
      return { ok: false, output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
    }
  };

  it('fails --check on an undocumented export and on a stale docs/api, and passes once regenerated', () => {
    const root = scratch({
      'packages/demo/package.json': JSON.stringify({ name: '@scratch/demo', version: '0.0.0' }),
      'packages/demo/tsconfig.json': tsconfig,
      'packages/demo/src/index.ts': documented,
      'packages/private/package.json': JSON.stringify({ name: '@scratch/private', private: true }),
      'packages/private/tsconfig.json': tsconfig,
      'packages/private/src/index.ts': 'export const undocumented = 1;\n',
    });
    const generated = run(root);
    expect(generated.ok, generated.output).toBe(true);
    expect(run(root, '--check')).toMatchObject({ ok: true });

    writeFileSync(
      join(root, 'packages/demo/src/index.ts'),
      `${documented}\nexport const bare = 2;\n`,
    );
    const undocumented = run(root, '--check');
    expect(undocumented.ok).toBe(false);
    expect(undocumented.output).toContain(
      'bare (Variable), defined in @scratch/demo/src/index.ts, does not have any documentation',
    );

    writeFileSync(
      join(root, 'packages/demo/src/index.ts'),
      documented.replace('Adds one.', 'Adds one to `n`.'),
    );
    const stale = run(root, '--check');
    expect(stale.ok).toBe(false);
    expect(stale.output).toContain('docs/api is stale');
    expect(stale.output).toContain('out of date: docs/api/');

    expect(run(root).ok).toBe(true);
    expect(run(root, '--check')).toMatchObject({ ok: true });
  }, 120_000);
});
