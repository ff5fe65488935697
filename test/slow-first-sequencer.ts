/**
 * The order test files start in: slowest first, so the long ones overlap the many short ones
 * instead of forming a tail at the end of the run.
 *
 * vitest already orders by the durations of the previous run, but it keeps them in
 * node_modules/.vite, so a fresh clone (the README's test line) has none and vitest falls
 * back to "larger files first": the Redis Cluster scenario, the Azure child processes and the
 * TypeDoc checks are short files and started last, ~20 s each after everything else. This
 * sequencer uses the previous run's duration when there is one and otherwise the committed
 * estimate in test/slow-files.json (`pnpm test:timing --write-slow-files` refreshes it).
 */

import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

const HINTS_FILE = new URL('./slow-files.json', import.meta.url);

/** Committed estimates: repository-relative test file path -> milliseconds. */
function readHints(): Record<string, number> {
  try {
    const parsed = JSON.parse(readFileSync(HINTS_FILE, 'utf8')) as { files?: unknown };
    return typeof parsed.files === 'object' && parsed.files !== null
      ? (parsed.files as Record<string, number>)
      : {};
  } catch {
    return {};
  }
}

export class SlowFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    // vitest's own order (failed first, then by the cached duration or the file size) breaks ties.
    const base = await super.sort(files);
    const hints = readHints();
    const root = this.ctx.config.root;
    const estimate = (spec: TestSpecification): number => {
      const path = relative(root, spec.moduleId);
      const cached = this.ctx.cache.getFileTestResults(`${spec.project.name}:${path}`);
      if (cached?.failed) return Number.POSITIVE_INFINITY;
      return cached?.duration ?? hints[path] ?? 0;
    };
    const rank = new Map(base.map((spec) => [spec, estimate(spec)]));
    return base
      .map((spec, index) => ({ spec, index }))
      .sort((a, b) => (rank.get(b.spec) ?? 0) - (rank.get(a.spec) ?? 0) || a.index - b.index)
      .map(({ spec }) => spec);
  }
}
