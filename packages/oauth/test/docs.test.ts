/**
 * The TypeScript examples of docs/oauth.md, the root README and this package's README
 * compile against the sources: a renamed option or export breaks this test, not a reader.
 */

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const pages = ['docs/oauth.md', 'README.md', 'packages/oauth/README.md'];

function examples(page: string): string[] {
  const text = readFileSync(join(root, page), 'utf8').replaceAll('\r\n', '\n');
  return [...text.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((match) => match[1] as string);
}

describe('documentation examples', () => {
  it('finds the three-line example in each page', () => {
    for (const page of pages) {
      expect(
        examples(page).some((code) => code.includes('createAuthFetch(tokens')),
        page,
      ).toBe(true);
    }
  });

  it('compiles every TypeScript example against the sources', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-oauth-docs-'));
    try {
      const files: string[] = [];
      for (const page of pages) {
        examples(page).forEach((code, index) => {
          const file = join(dir, `${page.replace(/\W+/g, '-')}-${index}.mts`);
          writeFileSync(file, `${code}\nexport {};\n`);
          files.push(file);
        });
      }
      const program = ts.createProgram(files, {
        module: ts.ModuleKind.NodeNext,
        moduleResolution: ts.ModuleResolutionKind.NodeNext,
        target: ts.ScriptTarget.ES2022,
        lib: ['lib.es2022.d.ts', 'lib.dom.d.ts', 'lib.esnext.disposable.d.ts'],
        strict: true,
        noEmit: true,
        skipLibCheck: true,
        types: ['node'],
        typeRoots: [join(root, 'node_modules', '@types')],
        paths: {
          '@sluice/core': [join(root, 'packages/core/src/index.ts')],
          '@sluice/oauth': [join(root, 'packages/oauth/src/index.ts')],
        },
      });
      const problems = ts
        .getPreEmitDiagnostics(program)
        .filter(
          (diagnostic) => diagnostic.file === undefined || files.includes(diagnostic.file.fileName),
        )
        .map((diagnostic) => {
          const where = diagnostic.file?.fileName.slice(dir.length + 1) ?? '';
          return `${where}: ${ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n')}`;
        });
      expect(problems).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
