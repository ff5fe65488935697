/**
 * docs/effect.md quotes this example: every TypeScript block there must be one of the
 * `// #region` blocks of its sources and tests, and every region must be quoted, so neither
 * drifts from code that type-checks and runs (`pnpm example:effect`, `pnpm test`).
 */

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const read = (relative: string): string =>
  readFileSync(new URL(relative, import.meta.url), 'utf8').replaceAll('\r\n', '\n');

function dedent(text: string): string {
  const lines = text.split('\n');
  const indents = lines.filter((l) => l.trim() !== '').map((l) => /^ */.exec(l)?.[0].length ?? 0);
  const cut = Math.min(...indents);
  return lines.map((l) => l.slice(cut)).join('\n');
}

const sources = [
  '../src/token-endpoint.ts',
  '../src/api-token.ts',
  '../src/main.ts',
  './api-token.test.ts',
];
const regions = new Map<string, string>();
for (const source of sources) {
  for (const m of read(source).matchAll(
    /^[ \t]*\/\/ #region (\S+)\n([\s\S]*?)^[ \t]*\/\/ #endregion \1\n/gm,
  )) {
    regions.set(`${source}#${m[1]}`, dedent(m[2] as string));
  }
}
const snippets = [...read('../../../docs/effect.md').matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map(
  (m) => m[1] as string,
);

describe('docs/effect.md', () => {
  it('quotes only code that runs in examples/effect', () => {
    const known = new Set(regions.values());
    expect(snippets.length).toBeGreaterThan(0);
    for (const snippet of snippets) expect(known, snippet).toContain(snippet);
  });

  it('quotes every region of examples/effect', () => {
    expect(regions.size).toBeGreaterThan(0);
    for (const [name, code] of regions) expect(snippets, `region ${name}`).toContain(code);
  });
});
