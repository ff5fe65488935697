/**
 * What Sluice's timers do to a real Node process: a caller waiting on a mint keeps the
 * process alive until the mint's deadline (so a script awaiting `get()` on a hung issuer gets
 * `MintTimeoutError`, not exit code 13 with the promise unsettled), while a background
 * refresh nobody waits for never keeps it alive. Each case runs in a child process.
 */

import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const core = fileURLToPath(new URL('../packages/core/src/index.ts', import.meta.url));

/** Runs an ES module body in a child Node (TypeScript through tsx); resolves its exit. */
function runScript(body: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '--eval', body],
      { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk;
    });
    const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(killer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('process lifetime', () => {
  it('a script awaiting get() on a hung mint gets MintTimeoutError instead of exiting with the promise unsettled', async () => {
    const result = await runScript(`
      const { createRefreshingProvider } = await import(${JSON.stringify(core)});
      const provider = await createRefreshingProvider({
        mint: () => new Promise(() => {}), // the issuer never answers
        lazy: true,
        mintTimeoutMs: 300,
      });
      try {
        await provider.get();
        console.log('resolved?');
      } catch (error) {
        console.log(error.code);
      }
    `);
    expect(result.stderr).toBe('');
    expect(result.stdout.trim()).toBe('SLUICE_MINT_TIMEOUT');
    expect(result.code).toBe(0);
  });

  it('a hung background refresh nobody waits for never keeps the process alive', async () => {
    const result = await runScript(`
      const { createRefreshingProvider } = await import(${JSON.stringify(core)});
      let mints = 0;
      const provider = await createRefreshingProvider({
        mint: () => (mints++ === 0
          ? { value: 'token', expiresAt: Date.now() + 60_000 }
          : new Promise(() => {})), // the refresh hangs
        refreshAt: 0.001,
        refreshFloorMs: 0,
        mintTimeoutMs: 600_000, // ten minutes: the test would time out if this kept it alive
      });
      await new Promise((resolve) => setTimeout(resolve, 100));
      console.log(await provider.get(), mints); // served; the background refresh hangs
    `);
    expect(result.stderr).toBe('');
    expect(result.stdout.trim()).toBe('token 2');
    expect(result.code).toBe(0);
  });
});
