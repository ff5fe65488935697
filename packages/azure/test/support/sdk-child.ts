/**
 * The parent side of `sdk-process.ts`: forks it (TypeScript through tsx, the Sluice packages
 * mapped to their sources), collects its output and exit code, and kills it by PID even when a
 * test fails.
 */

import { type ChildProcess, fork } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '../../../..');
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/** A forked SDK process. */
export interface SdkChild {
  readonly process: ChildProcess;
  /** Everything written to stdout and stderr so far. */
  output(): string;
  /** Resolves with the exit code (or the signal's name). */
  readonly exited: Promise<number | string>;
  /** Resolves with the next IPC message of `type`. */
  next(type: string): Promise<Record<string, unknown>>;
  /** SIGKILL; idempotent. */
  kill(): void;
}

/** Forks `sdk-process.ts` with `config` as its scenario. */
export function forkSdkProcess(config: object): SdkChild {
  const child = fork(path.join(here, 'sdk-process.ts'), [], {
    cwd: repoRoot,
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    env: {
      ...process.env,
      TSX_TSCONFIG_PATH: path.join(here, 'child.tsconfig.json'),
      SLUICE_AZURE_CHILD: JSON.stringify(config),
    },
  });
  live.add(child);
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => {
      live.delete(child);
      resolve(code ?? signal ?? 'unknown');
    }),
  );
  const waiting: Array<{ type: string; resolve: (message: Record<string, unknown>) => void }> = [];
  child.on('message', (message: Record<string, unknown>) => {
    const index = waiting.findIndex((waiter) => waiter.type === message.type);
    if (index >= 0) waiting.splice(index, 1)[0]?.resolve(message);
  });
  return {
    process: child,
    output: () => output,
    exited,
    next: (type) =>
      new Promise((resolve, reject) => {
        waiting.push({ type, resolve });
        void exited.then((code) =>
          reject(new Error(`child exited (${code}) before "${type}":\n${output}`)),
        );
      }),
    kill: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}
