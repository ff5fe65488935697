#!/usr/bin/env node
/**
 * `pnpm docs:samples`: every `ts` block of README.md and docs/*.md (docs/api excluded) is
 * code. Each block is written out as a module of its own in a scratch folder inside the
 * private workspace package test/doc-samples, which depends on the published packages the
 * way a user's project does (their built `dist` types, through their `exports` maps), and the
 * lot is type-checked with `strict` and without `skipLibCheck`. Blocks marked to run are
 * then executed against local servers.
 *
 * Markers, on the line before the fence (an HTML comment, invisible on GitHub):
 *   <!-- sample: run -->      the block also runs (node + tsx), with the environment of
 *                             the local servers (see startServers: OAUTH_ISSUER,
 *                             OAUTH_CLIENT_ID, OAUTH_CLIENT_SECRET, OAUTH_SCOPE,
 *                             OAUTH_RESOURCE, API_URL, KEYS_URL, SLUICE_SAMPLE_LOCAL=1);
 *                             it must exit 0, having closed what it opened
 *   <!-- sample: continue --> the block continues the previous block of the same file (one
 *                             module, as when prose interrupts a program); its imports are
 *                             the earlier block's
 *   <!-- sample: partial -->  a deliberate fragment (a quote from a test, a diff): skipped
 *
 * Usage: node --import tsx scripts/doc-samples.mjs [--no-run] [--root DIR] [FILE.md ...]
 * Exits 1 naming `file:line` of every sample that fails to compile or run.
 */

import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const PACKAGE_DIR = join(REPO, 'test', 'doc-samples');
const FENCE = /^(\s*)```(ts|typescript)\s*$/;
const MARKER = /^<!--\s*sample:\s*(run|partial|continue)\s*-->\s*$/;
/** The longest one runnable sample may take, in milliseconds. */
const RUN_TIMEOUT_MS = 60_000;

/** The markdown files whose samples are checked under `root`. */
export function sampleFiles(root) {
  const files = [];
  if (existsSync(join(root, 'README.md'))) files.push(join(root, 'README.md'));
  const docs = join(root, 'docs');
  if (existsSync(docs)) {
    for (const name of readdirSync(docs).sort()) {
      if (name.endsWith('.md')) files.push(join(docs, name));
    }
  }
  return files;
}

/**
 * The `ts` blocks of one markdown text: `{ line, code, mode }`, where `line` is the 1-based
 * line of the first code line and `mode` is `check`, `run` or `partial`.
 */
export function extractSamples(text) {
  const lines = text.split('\n');
  const samples = [];
  for (let i = 0; i < lines.length; i++) {
    const open = FENCE.exec(lines[i]);
    if (!open) continue;
    let mode = 'check';
    for (let j = i - 1; j >= 0; j--) {
      if (lines[j].trim() === '') continue;
      const marker = MARKER.exec(lines[j].trim());
      if (marker) mode = marker[1];
      break;
    }
    const indent = open[1].length;
    const body = [];
    let k = i + 1;
    for (; k < lines.length && !/^\s*```\s*$/.test(lines[k]); k++)
      body.push(lines[k].slice(indent));
    samples.push({ line: i + 2, code: `${body.join('\n')}\n`, mode });
    i = k;
  }
  return samples;
}

/** A file name for a sample: its document and line, readable in compiler output. */
function moduleName(root, file, line) {
  return `${relative(root, file).replace(/[\\/]/g, '__').replace(/\.md$/, '')}_L${line}.ts`;
}

/**
 * Writes the samples of `files` into a fresh scratch folder of the doc-samples package and
 * type-checks them. Returns `{ problems, checked, skipped, runnable }`.
 */
export function checkSamples(root, files, { scratchName = `gen-${process.pid}` } = {}) {
  const scratch = join(PACKAGE_DIR, '.scratch', scratchName);
  rmSync(scratch, { recursive: true, force: true });
  mkdirSync(scratch, { recursive: true });
  const origin = new Map();
  const runnable = [];
  let skipped = 0;
  const modules = [];
  for (const file of files) {
    let previous;
    for (const sample of extractSamples(readFileSync(file, 'utf8'))) {
      if (sample.mode === 'partial') {
        skipped++;
        continue;
      }
      if (sample.mode === 'continue' && previous !== undefined) {
        previous.parts.push(sample);
        continue;
      }
      const name = moduleName(root, file, sample.line);
      previous = { name, file: relative(root, file), parts: [sample] };
      modules.push(previous);
      if (sample.mode === 'run')
        runnable.push({ where: `${previous.file}:${sample.line}`, path: join(scratch, name) });
    }
  }
  for (const module of modules) {
    // Each part's lines are mapped back to the document; `export {}` keeps a block without
    // imports a module of its own.
    const lines = [];
    const map = [];
    for (const part of module.parts) {
      const partLines = part.code.replace(/\n$/, '').split('\n');
      partLines.forEach((text, index) => {
        lines.push(text);
        map.push(part.line + index);
      });
    }
    writeFileSync(join(scratch, module.name), `${lines.join('\n')}\nexport {};\n`);
    origin.set(module.name, { file: module.file, map, line: module.parts[0].line });
  }
  writeFileSync(
    join(scratch, 'tsconfig.json'),
    `${JSON.stringify({ extends: '../../tsconfig.samples.json', include: ['*.ts'] }, null, 2)}\n`,
  );
  const problems = [];
  /** Errors inside a third-party package's own declarations, counted per package. */
  const ignored = new Map();
  if (origin.size > 0) {
    const tsc = createRequire(join(PACKAGE_DIR, 'package.json')).resolve('typescript/bin/tsc');
    const result = spawnSync(
      process.execPath,
      [tsc, '-p', join(scratch, 'tsconfig.json'), '--pretty', 'false'],
      {
        cwd: scratch,
        encoding: 'utf8',
      },
    );
    const output = `${result.stdout}${result.stderr}`;
    for (const raw of output.split('\n')) {
      const match = /^(.*?)\((\d+),(\d+)\): (error .*)$/.exec(raw.trim());
      if (!match) {
        if (raw.trim() !== '' && result.status !== 0 && /error TS/.test(raw))
          problems.push(raw.trim());
        continue;
      }
      const foreign = thirdPartyPackage(match[1]);
      if (foreign !== undefined) {
        ignored.set(foreign, (ignored.get(foreign) ?? 0) + 1);
        continue;
      }
      const base = match[1].split(/[\\/]/).pop();
      const known = origin.get(base);
      problems.push(
        known
          ? `${known.file}:${known.map[Number(match[2]) - 1] ?? known.line}: ${match[4]}`
          : `${match[1]}:${match[2]}: ${match[4]}`,
      );
    }
    if (result.status !== 0 && problems.length === 0 && ignored.size === 0) {
      problems.push(`tsc exited ${result.status}: ${output.trim().slice(0, 2000)}`);
    }
  }
  return { problems, checked: origin.size, skipped, runnable, scratch, ignored };
}

/**
 * The third-party package a declaration file belongs to (`effect@4.1.0`), or undefined for
 * a sample or a Sluice package (whose `dist` types must hold under `skipLibCheck: false`).
 * Some dependencies' own declarations need lib DOM (effect 4.1 names `CryptoKey` and
 * `Storage`); that is between the user and that package, so it is reported, not failed.
 */
export function thirdPartyPackage(path) {
  const normalized = path.replace(/\\/g, '/');
  const at = normalized.lastIndexOf('/node_modules/');
  if (at < 0) return undefined;
  const parts = normalized.slice(at + '/node_modules/'.length).split('/');
  const name = parts[0].startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0];
  if (name.startsWith('@sluice/')) return undefined;
  const store = /\/\.pnpm\/([^/]+)\/node_modules\//.exec(normalized);
  return store ? store[1].replace(/\+/g, '/') : name;
}

/** Starts the local servers runnable samples talk to; returns their environment. */
async function startServers() {
  const { startOAuthServer } = await import(
    join(REPO, 'examples', 'demo', 'src', 'oauth-server.ts')
  );
  const oauth = await startOAuthServer({ accessTokenTtlSeconds: 60 });
  const { startResourceServer } = await import(
    join(REPO, 'packages', 'oauth', 'test', 'support', 'resource-server.ts')
  );
  const api = await startResourceServer(oauth.issuer, oauth.resource);
  const keys = await startKeyService();
  return {
    env: {
      OAUTH_ISSUER: oauth.issuer,
      OAUTH_CLIENT_ID: oauth.clientId,
      OAUTH_CLIENT_SECRET: oauth.clientSecret,
      OAUTH_SCOPE: oauth.scope,
      OAUTH_RESOURCE: oauth.resource,
      API_URL: api.url,
      KEYS_URL: keys.url,
      SLUICE_SAMPLE_LOCAL: '1',
    },
    async close() {
      await Promise.allSettled([api.close(), oauth.close(), keys.close()]);
    },
  };
}

/**
 * The README's "any other issuer": `POST /session` answers `{ key, ttl }` with a fresh key
 * that lives an hour.
 */
async function startKeyService() {
  const { createServer } = await import('node:http');
  const { randomUUID } = await import('node:crypto');
  const server = createServer((request, response) => {
    if (request.method === 'POST' && request.url === '/session') {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ key: randomUUID(), ttl: 3600 }));
    } else {
      response.writeHead(404).end();
    }
  });
  await new Promise((resolveListen) => server.listen(0, '127.0.0.1', resolveListen));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    close: () =>
      new Promise((resolveClose) => {
        server.close(() => resolveClose());
        server.closeAllConnections();
      }),
  };
}

function runSample(path, env) {
  return new Promise((resolveRun) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path], {
      cwd: dirname(path),
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk) => {
      output += chunk;
    });
    child.stderr.on('data', (chunk) => {
      output += chunk;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), RUN_TIMEOUT_MS);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolveRun({ code, signal, output });
    });
  });
}

async function main(argv) {
  let root = REPO;
  let run = true;
  const explicit = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--no-run') run = false;
    else if (argv[i] === '--root') root = resolve(argv[++i]);
    else explicit.push(resolve(argv[i]));
  }
  const files = explicit.length > 0 ? explicit : sampleFiles(root);
  const checkResult = checkSamples(root, files);
  const { problems, checked, skipped, runnable, scratch } = checkResult;
  const { ignored } = checkResult;
  console.log(
    `docs:samples: ${checked} samples type-checked from ${files.length} files, ${skipped} marked partial`,
  );
  for (const [name, count] of ignored) {
    console.log(`  note: ${count} error(s) inside ${name}'s own declarations, not counted`);
  }
  if (run && problems.length === 0 && runnable.length > 0) {
    const servers = await startServers();
    try {
      for (const sample of runnable) {
        const result = await runSample(sample.path, servers.env);
        if (result.code === 0) console.log(`  ran ${sample.where}: ok`);
        else {
          problems.push(
            `${sample.where}: the sample exited ${result.code ?? result.signal}\n${result.output.trim().slice(-2000)}`,
          );
        }
      }
    } finally {
      await servers.close();
    }
  }
  if (problems.length > 0) {
    console.error(`docs:samples: ${problems.length} problem(s):`);
    for (const problem of problems) console.error(`  ${problem}`);
    console.error(`(generated modules kept in ${relative(REPO, scratch)})`);
    return 1;
  }
  rmSync(scratch, { recursive: true, force: true });
  console.log(`docs:samples: all samples compile${run ? ` and ${runnable.length} ran` : ''}`);
  return 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error) => {
      console.error(error);
      process.exit(1);
    },
  );
}
