import { describe, expect, it } from 'vitest';
import type { TestSpecification, Vitest } from 'vitest/node';
// @ts-expect-error: a plain ESM script without type declarations
import { slowFiles } from '../scripts/test-timing.mjs';
import slowFilesJson from './slow-files.json' with { type: 'json' };
import { SlowFirstSequencer } from './slow-first-sequencer.js';

const ROOT = '/repo';
const project = { name: '', config: { isolate: true, sequence: { groupOrder: 0 } } };
const spec = (path: string) => ({ moduleId: `${ROOT}/${path}`, project }) as TestSpecification;

/** A sequencer over a vitest cache holding `cached` (path -> { duration, failed }). */
function sequencer(cached: Record<string, { duration: number; failed: boolean }>) {
  const ctx = {
    config: { root: ROOT },
    cache: {
      getFileTestResults: (key: string) => cached[key.slice(1)],
      getFileStats: () => ({ size: 1 }),
    },
  };
  return new SlowFirstSequencer(ctx as unknown as Vitest);
}

const order = async (cached: Parameters<typeof sequencer>[0], paths: string[]) =>
  (await sequencer(cached).sort(paths.map(spec))).map((s) => s.moduleId.slice(ROOT.length + 1));

describe('the slow-first test order', () => {
  const slowest = Object.keys(slowFilesJson.files)[0] as string;

  it('starts the committed slowest file first when vitest has no cache (a fresh clone)', async () => {
    expect(await order({}, ['a.test.ts', slowest, 'b.test.ts'])).toEqual([
      slowest,
      'a.test.ts',
      'b.test.ts',
    ]);
  });

  it("prefers the previous run's durations, and runs a file that failed last time first", async () => {
    const cached = {
      'a.test.ts': { duration: 1, failed: false },
      'b.test.ts': { duration: 90_000_000, failed: false },
      'c.test.ts': { duration: 5, failed: true },
      [slowest]: { duration: 2, failed: false },
    };
    expect(await order(cached, ['a.test.ts', slowest, 'b.test.ts', 'c.test.ts'])).toEqual([
      'c.test.ts',
      'b.test.ts',
      slowest,
      'a.test.ts',
    ]);
  });

  it('lists files of at least 2 s in test/slow-files.json, in milliseconds', () => {
    const rows = [
      { file: 'x.test.ts', ms: 12_345.6, tests: 1, skipped: 0 },
      { file: 'y.test.ts', ms: 1_999, tests: 1, skipped: 0 },
    ];
    expect(slowFiles(rows).files).toEqual({ 'x.test.ts': 12_346 });
  });
});
