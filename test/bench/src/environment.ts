/**
 * Where and when a benchmark ran: date, commit, Node version and machine, recorded with
 * every result so figures are never read without their context.
 */

import { execFileSync } from 'node:child_process';
import { availableParallelism, cpus } from 'node:os';

/** The run's context, as written to the results JSON. */
export interface Environment {
  /** ISO 8601 timestamp of the run. */
  readonly date: string;
  /** `git rev-parse --short HEAD`, or `null` outside a git checkout. */
  readonly commit: string | null;
  /** Whether the working tree had uncommitted changes (the figures may not match `commit`). */
  readonly dirty: boolean | null;
  readonly node: string;
  readonly v8: string;
  readonly platform: string;
  readonly cpu: string;
  readonly cores: number;
}

function git(args: readonly string[]): string | null {
  try {
    return execFileSync('git', args, {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  } catch {
    return null;
  }
}

/** Reads the run's context. */
export function describeEnvironment(): Environment {
  const status = git(['status', '--porcelain']);
  return {
    date: new Date().toISOString(),
    commit: git(['rev-parse', '--short', 'HEAD']),
    dirty: status === null ? null : status.length > 0,
    node: process.version,
    v8: process.versions.v8,
    platform: `${process.platform}-${process.arch}`,
    cpu: cpus()[0]?.model.trim() ?? 'unknown',
    cores: availableParallelism(),
  };
}
