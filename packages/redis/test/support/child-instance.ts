/**
 * The parent side of `instance-process.ts`: forks an instance process (TypeScript through
 * tsx, `@sluice/core` mapped to its sources), answers or withholds its mints, and stops it by
 * PID even when a test fails.
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

/** A mint request from a child. */
export interface MintRequest {
  readonly child: ChildInstance;
  readonly id: number;
  readonly reason: string;
  answer(value: string, lifetimeMs: number): void;
  fail(): void;
}

/** Options of {@link forkInstance}. */
export interface ChildOptions {
  readonly port: number;
  readonly keyPrefix: string;
  readonly leaseMs: number;
  readonly pollMaxMs?: number;
  /** How long the child holds a minted credential before handing it to the coordinator. */
  readonly holdAfterMintMs?: number;
  /** Called for every mint request. */
  readonly onMint: (request: MintRequest) => void;
  /** Called when the child reports it is holding a minted credential. */
  readonly onHolding?: (child: ChildInstance) => void;
}

/** A forked instance. */
export interface ChildInstance {
  readonly pid: number;
  /** Asks the child's provider for its token; resolves with what it served. */
  get(): Promise<string>;
  /** The child's reporter events so far. */
  events(): Promise<Array<{ hook: string; event: Record<string, unknown> }>>;
  pause(): void;
  resume(): void;
  /** kill -9. */
  kill(): void;
  /** Asks it to exit, then SIGKILL after 2 s; idempotent. */
  stop(): Promise<void>;
  readonly exited: Promise<void>;
}

/** Forks an instance process and resolves once its Redis connection is ready. */
export function forkInstance(options: ChildOptions): Promise<ChildInstance> {
  const child = fork(path.join(here, 'instance-process.ts'), [], {
    cwd: repoRoot,
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: {
      ...process.env,
      TSX_TSCONFIG_PATH: path.join(here, 'child.tsconfig.json'),
      SLUICE_INSTANCE: JSON.stringify({
        port: options.port,
        keyPrefix: options.keyPrefix,
        leaseMs: options.leaseMs,
        pollMaxMs: options.pollMaxMs ?? 200,
        holdAfterMintMs: options.holdAfterMintMs ?? 0,
      }),
    },
  });
  live.add(child);
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      live.delete(child);
      resolve();
    }),
  );
  const served: Array<(value: string) => void> = [];
  const failed: Array<(error: Error) => void> = [];
  const eventWaiters: Array<
    (events: Array<{ hook: string; event: Record<string, unknown> }>) => void
  > = [];
  let stopping: Promise<void> | undefined;
  const instance: ChildInstance = {
    pid: child.pid as number,
    exited,
    get() {
      return new Promise<string>((resolve, reject) => {
        served.push(resolve);
        failed.push(reject);
        child.send({ type: 'get' });
      });
    },
    events() {
      return new Promise((resolve) => {
        eventWaiters.push(resolve);
        child.send({ type: 'events' });
      });
    },
    pause: () => void process.kill(child.pid as number, 'SIGSTOP'),
    resume: () => void process.kill(child.pid as number, 'SIGCONT'),
    kill: () => void child.kill('SIGKILL'),
    stop() {
      stopping ??= (async () => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        try {
          process.kill(child.pid as number, 'SIGCONT');
          child.send({ type: 'exit' });
        } catch {
          // already gone
        }
        const timer = setTimeout(() => child.kill('SIGKILL'), 2_000);
        await exited;
        clearTimeout(timer);
      })();
      return stopping;
    },
  };
  return new Promise<ChildInstance>((resolve, reject) => {
    child.once('exit', (code, signal) =>
      reject(new Error(`instance exited early (${code}, ${signal})`)),
    );
    child.on(
      'message',
      (message: { type: string; id?: number; value?: string; reason?: string; events?: [] }) => {
        switch (message.type) {
          case 'ready':
            resolve(instance);
            break;
          case 'mint': {
            const id = message.id as number;
            options.onMint({
              child: instance,
              id,
              reason: message.reason ?? '',
              answer: (value, lifetimeMs) => child.send({ type: 'minted', id, value, lifetimeMs }),
              fail: () => child.send({ type: 'failed', id }),
            });
            break;
          }
          case 'holding':
            options.onHolding?.(instance);
            break;
          case 'served':
            failed.shift();
            served.shift()?.(message.value as string);
            break;
          case 'error':
            served.shift();
            failed.shift()?.(new Error(String((message as { message?: string }).message)));
            break;
          case 'events':
            eventWaiters.shift()?.(message.events ?? []);
            break;
        }
      },
    );
  });
}
