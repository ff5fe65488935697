/**
 * docs/testing.md quotes fake-timers.test.ts: every TypeScript block there must be one of
 * the `// #region` blocks here, and every region must be quoted, so neither drifts.
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

const regions = new Map<string, string>();
for (const m of read('./fake-timers.test.ts').matchAll(
  /^[ \t]*\/\/ #region (\S+)\n([\s\S]*?)^[ \t]*\/\/ #endregion \1\n/gm,
)) {
  regions.set(m[1] as string, dedent(m[2] as string));
}
const snippets = [...read('../../../docs/testing.md').matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map(
  (m) => m[1] as string,
);

describe('docs/testing.md', () => {
  it('quotes only code that runs in fake-timers.test.ts', () => {
    const known = new Set(regions.values());
    for (const snippet of snippets) expect(known, snippet).toContain(snippet);
  });

  it('quotes every region of fake-timers.test.ts', () => {
    expect(regions.size).toBeGreaterThan(0);
    for (const [name, code] of regions) expect(snippets, `region ${name}`).toContain(code);
  });
});
