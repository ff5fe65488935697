/**
 * Runs @sluice/core on other JavaScript runtimes: the smoke suite (test/runtimes/smoke.mjs)
 * under the host Node, Node 24, Bun and Deno, and the real vitest core suite under Node 24.
 *
 * Runtimes come from the npm registry only, installed with `npm i --ignore-scripts` into
 * `.tmp/runtimes/<name>` (never into the workspace) when not already there:
 *   node24  `node-<os>-<arch>@24`, the official Node binary as an npm package;
 *   bun     `bun@1`, whose binary is its platform package `@oven/bun-<os>-<arch>` (an
 *           optional dependency; its postinstall, skipped here, only re-checks it);
 *   deno    `deno@2`, whose binary is its platform package `@deno/<os>-<arch>[-glibc]`.
 * A runtime that cannot be had (no package for this platform, registry unreachable) is
 * reported as unavailable and is not a failure; a runtime that ran and failed is.
 *
 * Usage: pnpm test:runtimes   (node test/runtimes/run.mjs [--only node24,bun,deno,host])
 * Exits 1 when a check failed. The last line is `runtimes: N passed, N failed, N skipped`.
 */

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const scratch = join(root, '.tmp/runtimes');
const smoke = relative(root, fileURLToPath(new URL('./smoke.mjs', import.meta.url)));
const coreDist = join(root, 'packages/core/dist/index.js');
const INSTALL_TIMEOUT_MS = 300_000;
const SMOKE_TIMEOUT_MS = 60_000;
const VITEST_TIMEOUT_MS = 300_000;

const env = {
  ...process.env,
  FORCE_COLOR: '0',
  NO_COLOR: '1',
  DO_NOT_TRACK: '1',
  DENO_NO_UPDATE_CHECK: '1',
  DENO_NO_PROMPT: '1',
  npm_config_update_notifier: 'false',
  npm_config_fund: 'false',
  npm_config_audit: 'false',
};

const os = process.platform;
const arch = process.arch;

/**
 * Each runtime: the npm spec to install, and where its binary lands in the scratch prefix.
 * `binary` returns undefined when this platform has no package.
 */
const runtimes = [
  {
    name: 'node24',
    spec: () => `node-${os}-${arch}@24`,
    binary: (prefix) => join(prefix, `node_modules/node-${os}-${arch}/bin/node`),
    smoke: (bin) => [bin, smoke],
    vitest: true,
  },
  {
    name: 'bun',
    spec: () => 'bun@1',
    binary: (prefix) => {
      const osName = { linux: 'linux', darwin: 'darwin' }[os];
      const archName = { x64: 'x64', arm64: 'aarch64' }[arch];
      if (osName === undefined || archName === undefined) return undefined;
      return join(prefix, `node_modules/@oven/bun-${osName}-${archName}/bin/bun`);
    },
    smoke: (bin) => [bin, smoke],
  },
  {
    name: 'deno',
    spec: () => 'deno@2',
    binary: (prefix) => {
      const dir = join(prefix, 'node_modules/@deno');
      if (!existsSync(dir)) return join(dir, 'missing/deno');
      const suffix = `${os}-${arch}`;
      const found = readdirSync(dir).find((entry) => entry.startsWith(suffix));
      return found === undefined ? join(dir, `${suffix}/deno`) : join(dir, found, 'deno');
    },
    // Read access only: the smoke file and the bundle it imports. No network, no env.
    smoke: (bin) => [bin, 'run', '--allow-read', '--no-prompt', smoke],
  },
];

function run(argv, timeoutMs, extraEnv = {}) {
  const started = performance.now();
  const result = spawnSync(argv[0], argv.slice(1), {
    cwd: root,
    env: { ...env, ...extraEnv },
    encoding: 'utf8',
    timeout: timeoutMs,
    killSignal: 'SIGKILL',
    maxBuffer: 64 * 1024 * 1024,
  });
  const seconds = (performance.now() - started) / 1000;
  const timedOut = result.error?.code === 'ETIMEDOUT' || result.signal === 'SIGKILL';
  return {
    status: result.status,
    output: `${result.stdout ?? ''}${result.stderr ?? ''}`,
    error: result.error,
    timedOut,
    seconds,
  };
}

/** The output's last lines, indented (a failing vitest run prints thousands). */
function indent(text, lastLines = 80) {
  return text
    .trimEnd()
    .split('\n')
    .slice(-lastLines)
    .map((line) => `    ${line}`)
    .join('\n');
}

/** The version a binary reports, or undefined when it does not run. */
function versionOf(bin) {
  if (bin === undefined || !existsSync(bin)) return undefined;
  const result = run([bin, '--version'], 30_000);
  return result.status === 0
    ? result.output
        .trim()
        .split('\n')[0]
        ?.replace(/ \(.*\)$/, '')
    : undefined;
}

/** Installs the runtime into its own scratch prefix unless present; returns its binary or why not. */
function provide(runtime) {
  const prefix = join(scratch, runtime.name);
  let bin = runtime.binary(prefix);
  if (bin === undefined) return { why: `no npm package of ${runtime.name} for ${os}-${arch}` };
  let version = versionOf(bin);
  if (version !== undefined) return { bin, version, installed: false };
  const spec = runtime.spec();
  console.log(`  installing ${spec} into ${relative(root, prefix)} (npm, --ignore-scripts)`);
  rmSync(prefix, { recursive: true, force: true });
  mkdirSync(prefix, { recursive: true });
  const install = run(
    [
      'npm',
      'install',
      '--prefix',
      prefix,
      '--ignore-scripts',
      '--no-save',
      '--no-package-lock',
      '--no-audit',
      '--no-fund',
      '--loglevel=error',
      spec,
    ],
    INSTALL_TIMEOUT_MS,
  );
  if (install.status !== 0) {
    const last = install.output.trim().split('\n').slice(-3).join(' | ');
    return {
      why: `npm install ${spec} failed${install.timedOut ? ' (timed out)' : ''}: ${last || install.error?.message}`,
    };
  }
  bin = runtime.binary(prefix); // the platform package's folder is known only now
  version = versionOf(bin);
  if (version === undefined) {
    return { why: `${spec} installed but ${relative(root, bin)} is missing or does not run` };
  }
  return { bin, version, installed: true, installSeconds: install.seconds };
}

/** Reads `N passed, N failed` from the smoke suite's last lines. */
function smokeCounts(output) {
  const match = /^(\d+) passed, (\d+) failed$/m.exec(output);
  return match === null ? undefined : { passed: Number(match[1]), failed: Number(match[2]) };
}

function runSmoke(runtime, bin) {
  const result = run(runtime.smoke(bin), SMOKE_TIMEOUT_MS);
  const counts = smokeCounts(result.output);
  const ok = result.status === 0 && counts !== undefined && counts.failed === 0;
  const detail =
    counts === undefined
      ? `no result line${result.timedOut ? ' (timed out)' : ''}, exit ${result.status}`
      : `${counts.passed} passed, ${counts.failed} failed`;
  return { suite: 'smoke', ok, detail, seconds: result.seconds, output: result.output };
}

function runVitest(bin) {
  const report = join(scratch, 'vitest-node24.json');
  rmSync(report, { force: true });
  const result = run(
    [
      bin,
      'node_modules/vitest/vitest.mjs',
      'run',
      '--config',
      'test/vitest.config.ts',
      '--reporter=dot',
      '--reporter=json',
      `--outputFile.json=${report}`,
      'packages/core',
    ],
    VITEST_TIMEOUT_MS,
  );
  let counts;
  if (existsSync(report)) {
    const json = JSON.parse(readFileSync(report, 'utf8'));
    counts = {
      passed: json.numPassedTests,
      failed: json.numFailedTests,
      files: json.numTotalTestSuites,
    };
  }
  const ok =
    result.status === 0 && counts !== undefined && counts.failed === 0 && counts.passed > 0;
  const detail =
    counts === undefined
      ? `no JSON report${result.timedOut ? ' (timed out)' : ''}, exit ${result.status}`
      : `${counts.passed} passed, ${counts.failed} failed`;
  return { suite: 'vitest core', ok, detail, seconds: result.seconds, output: result.output };
}

function ensureCoreBuilt() {
  if (existsSync(coreDist)) return true;
  console.log('packages/core/dist/index.js is missing: building @sluice/core');
  const build = run(['pnpm', '--dir', 'packages/core', 'run', 'build'], 300_000);
  if (build.status !== 0) console.log(indent(build.output));
  return build.status === 0 && existsSync(coreDist);
}

const onlyArg = process.argv.indexOf('--only');
const only = onlyArg === -1 ? undefined : new Set(process.argv[onlyArg + 1]?.split(','));
const wanted = (name) => only === undefined || only.has(name);

const started = performance.now();
const rows = [];
if (!ensureCoreBuilt()) {
  console.log('cannot build @sluice/core: nothing to run');
  console.log('runtimes: 0 passed, 1 failed, 0 skipped');
  process.exit(1);
}

function report(runtime, version, result) {
  rows.push({ runtime, version, ...result });
  console.log(
    `  ${result.ok ? 'PASS' : 'FAIL'} ${result.suite}: ${result.detail} (${result.seconds.toFixed(1)} s)`,
  );
  if (!result.ok) console.log(indent(result.output));
}

if (wanted('host')) {
  console.log(`\n==> host node ${process.version}`);
  report(
    'host node',
    process.version,
    runSmoke({ smoke: (bin) => [bin, smoke] }, process.execPath),
  );
}

for (const runtime of runtimes) {
  if (!wanted(runtime.name)) continue;
  console.log(`\n==> ${runtime.name}`);
  const got = provide(runtime);
  if (got.bin === undefined) {
    console.log(`  UNAVAILABLE: ${got.why}`);
    rows.push({
      runtime: runtime.name,
      version: '-',
      suite: '-',
      ok: undefined,
      detail: got.why,
      seconds: 0,
    });
    continue;
  }
  console.log(
    `  ${got.version} at ${relative(root, got.bin)}${got.installed ? ` (installed in ${got.installSeconds.toFixed(1)} s)` : ''}`,
  );
  report(runtime.name, got.version, runSmoke(runtime, got.bin));
  if (runtime.vitest) report(runtime.name, got.version, runVitest(got.bin));
}

const passed = rows.filter((row) => row.ok === true).length;
const failed = rows.filter((row) => row.ok === false).length;
const skipped = rows.filter((row) => row.ok === undefined).length;
console.log(`\n==> summary (${((performance.now() - started) / 1000).toFixed(1)} s)`);
for (const row of rows) {
  const verdict = row.ok === undefined ? 'SKIP' : row.ok ? 'PASS' : 'FAIL';
  console.log(
    `  ${verdict}  ${row.runtime.padEnd(10)} ${String(row.version).padEnd(34)} ${row.suite.padEnd(12)} ${row.detail}`,
  );
}
console.log(`runtimes: ${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed === 0 ? 0 : 1);
