/**
 * Forks the fleet children of the SDK tests (`packages/aws/test/support/fleet-child.ts`,
 * `packages/google/test/support/fleet-child.ts`): TypeScript through tsx, the `@sluice/*`
 * packages mapped to their sources. A child builds its SDK client and a Redis coordinator,
 * says `ready`, sends one request on `go` and answers `done` with what it saw. Children are
 * stopped by PID, also when a test fails or the test process exits early.
 */

import { type ChildProcess, fork } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '../..');
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/** A forked fleet member. */
export interface FleetChild {
  readonly pid: number;
  /** Sends one request through the child's SDK client; resolves with the child's answer. */
  go(): Promise<string>;
  /** Asks it to exit, SIGKILL after 3 s; idempotent. */
  stop(): Promise<void>;
}

/** Forks `script` (a path from the repository root) with `config` and waits for `ready`. */
export function forkFleetChild(script: string, config: object): Promise<FleetChild> {
  const child = fork(path.join(repoRoot, script), [], {
    cwd: repoRoot,
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: {
      ...process.env,
      TSX_TSCONFIG_PATH: path.join(here, 'sdk-child.tsconfig.json'),
      SLUICE_FLEET_CHILD: JSON.stringify(config),
    },
  });
  live.add(child);
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      live.delete(child);
      resolve();
    }),
  );
  const answers: Array<{ resolve: (value: string) => void; reject: (error: Error) => void }> = [];
  let stopping: Promise<void> | undefined;
  const member: FleetChild = {
    pid: child.pid as number,
    go() {
      return new Promise<string>((resolve, reject) => {
        answers.push({ resolve, reject });
        child.send({ type: 'go' });
      });
    },
    stop() {
      stopping ??= (async () => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        try {
          child.send({ type: 'exit' });
        } catch {
          // already gone
        }
        const timer = setTimeout(() => child.kill('SIGKILL'), 3_000);
        await exited;
        clearTimeout(timer);
      })();
      return stopping;
    },
  };
  return new Promise<FleetChild>((resolve, reject) => {
    child.once('exit', (code, signal) => {
      reject(new Error(`fleet child exited early (${code}, ${signal})`));
      for (const answer of answers.splice(0)) answer.reject(new Error('fleet child exited'));
    });
    child.on('message', (message: { type: string; value?: string; message?: string }) => {
      if (message.type === 'ready') resolve(member);
      else if (message.type === 'done') answers.shift()?.resolve(String(message.value));
      else if (message.type === 'error')
        answers.shift()?.reject(new Error(String(message.message)));
    });
  });
}

/** The child side: reads the config, wires `go` and `exit`, says `ready`. */
export function serveFleetChild<C>(
  start: (config: C) => Promise<{ go(): Promise<string>; close(): Promise<void> }>,
): void {
  const config = JSON.parse(process.env.SLUICE_FLEET_CHILD ?? '{}') as C;
  void start(config).then(
    (member) => {
      process.on('message', (message: { type: string }) => {
        if (message.type === 'go') {
          member.go().then(
            (value) => process.send?.({ type: 'done', value }),
            (error: unknown) => process.send?.({ type: 'error', message: String(error) }),
          );
        } else if (message.type === 'exit') {
          void member.close().finally(() => process.exit(0));
        }
      });
      process.send?.({ type: 'ready' });
    },
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
