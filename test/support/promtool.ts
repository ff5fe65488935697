/**
 * Finds and runs Prometheus's `promtool` for the tests that lint metrics output and alert
 * rules. `bash .ci/fetch-promtool` puts it at `.tmp/promtool/promtool` (from Debian's
 * `prometheus` package, unpacked, nothing installed); `SLUICE_PROMTOOL` overrides the path,
 * and a `promtool` on `PATH` is used last.
 *
 * Suites that need it skip with {@link PROMTOOL_INSTALL_HINT} when it is missing, except
 * under `CI=true`, where they fail: CI must never pass without linting.
 */

import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

/** The hint printed (or thrown under `CI=true`) when promtool is missing. */
export const PROMTOOL_INSTALL_HINT =
  'promtool not found: run `bash .ci/fetch-promtool` (apt-get download prometheus && dpkg -x ' +
  'into .tmp/promtool), or set SLUICE_PROMTOOL=/path/to/promtool';

/** Whether suites that need promtool must run (and fail without it) rather than skip. */
export const PROMTOOL_REQUIRED = process.env.CI === 'true';

function executable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The promtool to run, or `undefined` when none is found. */
export function findPromtool(): string | undefined {
  const fromEnv = process.env.SLUICE_PROMTOOL;
  if (fromEnv !== undefined && fromEnv !== '') return executable(fromEnv) ? fromEnv : undefined;
  const fetched = path.join(repoRoot, '.tmp/promtool/promtool');
  if (executable(fetched)) return fetched;
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (dir !== '' && executable(path.join(dir, 'promtool'))) return path.join(dir, 'promtool');
  }
  return undefined;
}

/** What one promtool run printed and how it exited. */
export interface PromtoolResult {
  /** The exit code (0: no problem; `check metrics` exits 3 for lint problems, 1 for errors). */
  readonly code: number | null;
  /** stdout and stderr together. */
  readonly output: string;
}

/**
 * Runs promtool with `args`, writing `stdin` to it. Kills it after `timeoutMs`.
 * @throws when promtool is missing (with the install hint).
 */
export function runPromtool(
  args: readonly string[],
  stdin = '',
  timeoutMs = 20_000,
): Promise<PromtoolResult> {
  const bin = findPromtool();
  if (bin === undefined) return Promise.reject(new Error(PROMTOOL_INSTALL_HINT));
  return new Promise((resolve, reject) => {
    const child = spawn(bin, [...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output: output.trim() });
    });
    child.stdin.on('error', () => {}); // promtool may exit before reading everything
    child.stdin.end(stdin);
  });
}

/** `promtool check metrics` over an exposition text (read from stdin). */
export function checkMetrics(exposition: string): Promise<PromtoolResult> {
  return runPromtool(['check', 'metrics'], exposition);
}

/** `promtool check rules FILE...`. */
export function checkRules(...files: string[]): Promise<PromtoolResult> {
  return runPromtool(['check', 'rules', ...files]);
}
