/**
 * `pnpm docs:samples` (scripts/doc-samples.mjs): the markers are read as documented, and the
 * type-check fails naming `file:line` of a broken sample while a good one passes. One tsc run
 * over tiny samples that need no built package.
 */

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
// @ts-expect-error: a plain ESM script without type declarations
import { checkSamples, extractSamples, thirdPartyPackage } from '../../scripts/doc-samples.mjs';

interface Sample {
  line: number;
  code: string;
  mode: 'check' | 'run' | 'continue' | 'partial';
}

const fence = '```';

describe('extractSamples', () => {
  it('reads the marker on the line before the fence, blank lines allowed between', () => {
    const text = [
      '# Page', //                               1
      '', //                                     2
      `${fence}ts`, //                           3
      'const a = 1;', //                         4
      fence, //                                  5
      '<!-- sample: run -->', //                 6
      `${fence}ts`, //                           7
      'const b = 2;', //                         8
      fence, //                                  9
      '<!-- sample: continue -->', //            10
      '', //                                     11
      `${fence}typescript`, //                   12
      'const c = a + b;', //                     13
      fence, //                                  14
      '<!--   sample:   partial   -->', //       15
      `${fence}ts`, //                           16
      'yield* fragment;', //                     17
      fence, //                                  18
    ].join('\n');
    const samples: Sample[] = extractSamples(text);
    expect(samples.map((s) => [s.line, s.mode, s.code])).toEqual([
      [4, 'check', 'const a = 1;\n'],
      [8, 'run', 'const b = 2;\n'],
      [13, 'continue', 'const c = a + b;\n'],
      [17, 'partial', 'yield* fragment;\n'],
    ]);
  });

  it('ignores a marker separated from the fence by prose, and fences of other languages', () => {
    const text = [
      '<!-- sample: partial -->',
      'Some prose.',
      `${fence}ts`,
      'const a = 1;',
      fence,
      '<!-- sample: run -->',
      `${fence}sh`,
      'pnpm docs:samples',
      fence,
      '<!-- sample: nonsense -->',
      `${fence}ts`,
      'const b = 1;',
      fence,
    ].join('\n');
    const samples: Sample[] = extractSamples(text);
    expect(samples.map((s) => s.mode)).toEqual(['check', 'check']);
  });

  it('strips the indentation of a block nested in a list item', () => {
    const text = [
      '- step one:',
      '',
      `  ${fence}ts`,
      '  if (x) {',
      '    y();',
      '  }',
      `  ${fence}`,
    ].join('\n');
    const samples: Sample[] = extractSamples(text);
    expect(samples).toEqual([{ line: 4, code: 'if (x) {\n  y();\n}\n', mode: 'check' }]);
  });
});

describe('thirdPartyPackage', () => {
  it("names a dependency's own declaration file, never a Sluice package's or a sample's", () => {
    expect(
      thirdPartyPackage(
        '../../../../node_modules/.pnpm/effect@4.1.0/node_modules/effect/dist/crypto/Aead.d.ts',
      ),
    ).toBe('effect@4.1.0');
    expect(thirdPartyPackage('/app/node_modules/@types/node/crypto.d.ts')).toBe('@types/node');
    expect(thirdPartyPackage('../../../../packages/oauth/dist/index.d.ts')).toBeUndefined();
    expect(thirdPartyPackage('/app/node_modules/@sluice/oauth/dist/index.d.ts')).toBeUndefined();
    expect(thirdPartyPackage('README_L79.ts')).toBeUndefined();
  });
});

describe('checkSamples', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-doc-samples-'));
  let scratch: string | undefined;
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
    if (scratch !== undefined) rmSync(scratch, { recursive: true, force: true });
  });

  it('fails naming file:line of a broken sample, passes a good one, skips a partial one', () => {
    const good = join(dir, 'good.md');
    writeFileSync(
      good,
      [
        '# Good',
        '<!-- sample: run -->',
        `${fence}ts`,
        "import { join } from 'node:path';",
        "const where: string = join('a', 'b');",
        fence,
        'Prose between the two halves of one program.',
        '<!-- sample: continue -->',
        `${fence}ts`,
        'const again: string = where;',
        fence,
        '<!-- sample: partial -->',
        `${fence}ts`,
        'const notChecked: number = yield* nothing;',
        fence,
      ].join('\n'),
    );
    const broken = join(dir, 'broken.md');
    writeFileSync(
      broken,
      [
        '# Broken',
        `${fence}ts`,
        'const count = 1;',
        fence,
        '<!-- sample: continue -->',
        `${fence}ts`,
        'const label: string = count;', // line 7: TS2322
        fence,
        `${fence}ts`,
        'const stray = count;', // line 10: `count` is another block's (TS2304)
        fence,
      ].join('\n'),
    );
    const result = checkSamples(dir, [good, broken], { scratchName: `test-${process.pid}` });
    scratch = result.scratch;
    // tsc reports by module file, in name order: the continued block's error comes after.
    expect(result.problems).toEqual([
      expect.stringMatching(/^broken\.md:10: error TS2304: Cannot find name 'count'/),
      expect.stringMatching(/^broken\.md:7: error TS2322: /),
    ]);
    expect(result.checked).toBe(3); // good.md as one module, broken.md as two
    expect(result.skipped).toBe(1);
    expect(result.runnable.map((r: { where: string }) => r.where)).toEqual(['good.md:4']);
  }, 60_000);
});
