#!/usr/bin/env node
// Packed-artifact check: what users install is what we test.
//
// For every non-private package under packages/: `pnpm pack` it, check the tarball's file
// list (no sources, no tests, README.md shipped when the package has one), install the
// tarball into a scratch npm project under the OS temp dir (with the adapters' peer
// dependencies at the versions their tests use), and run an ESM and a CJS consumer that build
// a provider through the public entry point and get its value; the Prometheus and
// OpenTelemetry adapters are used for real (a provider reporting to them), and so is the Redis
// coordinator (falling back with no Redis behind its client); others must load.
// @sluice/aws and @sluice/google are used for real too (a credentials value minting from a
// plain async source; a refresh handler over an AuthClient-shaped source), without their SDKs.
// Deep imports of `internal/*` must not resolve. Needs a prior `pnpm build`.
//
// A package whose exports map has no `require` condition is ESM only (@sluice/effect, like
// `effect` 4 itself): its CJS files and CJS consumer are skipped, and the skip is printed.
// Peer dependencies are installed beside them (see peerInstalls).
// @sluice/oauth is used for real too: ESM and CJS scripts mint a token from a loopback token
// endpoint and fetch a resource through createAuthFetch (its CJS build `require`s the
// ESM-only oauth4webapi, which needs Node >= 20.19), and check that its errors are
// SluiceErrors of the same core copy. Every package's types are then compiled from a
// CommonJS (.cts) and an ES module (.mts) TypeScript consumer under `module: node16`.
//
// Plain Node ESM with no dependencies. Exits 1 when any check fails.
// Usage: node test/packaging/check-packed.mjs

import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';

const repoRoot = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const packagesDir = join(repoRoot, 'packages');
const keepTemp = process.env.SLUICE_KEEP_PACKED === '1';

/** @type {string[]} */
const failures = [];
let checks = 0;

function check(ok, label, detail = '') {
  checks += 1;
  if (ok) {
    console.log(`  ok    ${label}`);
  } else {
    failures.push(`${label}${detail ? `: ${detail}` : ''}`);
    console.log(
      `  FAIL  ${label}${detail ? `\n        ${detail.split('\n').join('\n        ')}` : ''}`,
    );
  }
}

function run(command, args, cwd) {
  return execFileSync(command, args, {
    cwd,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, npm_config_update_notifier: 'false' },
  });
}

/** Runs a command; returns { ok, output } instead of throwing. */
function attempt(command, args, cwd) {
  try {
    return { ok: true, output: run(command, args, cwd) };
  } catch (error) {
    const e = /** @type {{ stdout?: string, stderr?: string, message: string }} */ (error);
    return { ok: false, output: `${e.stdout ?? ''}${e.stderr ?? ''}`.trim() || e.message };
  }
}

/**
 * Lists the entries of a .tgz (ustar, with pax `path` overrides) without a tar binary.
 * @param {string} file
 * @returns {string[]}
 */
function listTarball(file) {
  const data = gunzipSync(readFileSync(file));
  const names = [];
  let offset = 0;
  let paxPath;
  while (offset + 512 <= data.length) {
    const header = data.subarray(offset, offset + 512);
    if (header.every((byte) => byte === 0)) break;
    const field = (start, length) =>
      header
        .subarray(start, start + length)
        .toString('utf8')
        .replace(/\0.*$/s, '');
    const size = Number.parseInt(field(124, 12).trim() || '0', 8);
    const type = field(156, 1);
    const body = data.subarray(offset + 512, offset + 512 + size);
    if (type === 'x') {
      const match = /\d+ path=([^\n]*)\n/.exec(body.toString('utf8'));
      paxPath = match?.[1];
    } else if (type !== 'g') {
      const prefix = field(345, 155);
      const name = paxPath ?? (prefix ? `${prefix}/${field(0, 100)}` : field(0, 100));
      if (type === '0' || type === '' || type === '7') names.push(name);
      paxPath = undefined;
    }
    offset += 512 + Math.ceil(size / 512) * 512;
  }
  // npm/pnpm tarballs put everything under `package/`.
  return names.map((name) => name.replace(/^package\//, ''));
}

const esmConsumer = (name) => `
import { createRefreshingProvider, isSluiceError } from '${name}';
const provider = await createRefreshingProvider({
  name: 'packed-esm',
  mint: () => ({ value: 'esm-token', expiresAt: Date.now() + 60_000 }),
});
const value = await provider.get();
provider.close();
if (value !== 'esm-token') throw new Error('ESM consumer got ' + JSON.stringify(value));
if (typeof isSluiceError !== 'function') throw new Error('isSluiceError missing from ESM entry');
console.log('esm ok');
`;

const cjsConsumer = (name) => `
const core = require('${name}');
(async () => {
  const provider = await core.createRefreshingProvider({
    name: 'packed-cjs',
    mint: async () => ({ value: 'cjs-token', expiresAt: Date.now() + 60_000 }),
  });
  const value = await provider.get();
  provider.close();
  if (value !== 'cjs-token') throw new Error('CJS consumer got ' + JSON.stringify(value));
  console.log('cjs ok');
})().catch((error) => {
  console.error(error);
  process.exit(1);
});
`;

// The telemetry adapters, used for real from each module system: a provider reporting to
// them (prom-client's exposition checked; OpenTelemetry with the API alone, whose no-op meter
// and tracer must still let the provider and the traced mint work).
const prometheusConsumer = (name, kind) => `
${kind === 'esm' ? `import { createRefreshingProvider } from '@sluice/core';\nimport { createPrometheusReporter } from '${name}';\nimport { Registry } from 'prom-client';` : `const { createRefreshingProvider } = require('@sluice/core');\nconst { createPrometheusReporter } = require('${name}');\nconst { Registry } = require('prom-client');`}
(async () => {
  const registry = new Registry();
  const metrics = createPrometheusReporter({ registry });
  const provider = await createRefreshingProvider({
    name: 'packed-${kind}',
    mint: () => ({ value: 'token', expiresAt: Date.now() + 60_000 }),
    reporter: metrics,
  });
  metrics.observe(provider);
  const text = await registry.metrics();
  provider.close();
  for (const line of ['sluice_refreshes_total{name="packed-${kind}",reason="initial"} 1', 'sluice_breaker_state{name="packed-${kind}",state="closed"} 1']) {
    if (!text.includes(line)) throw new Error('${kind}: missing ' + line + ' in \\n' + text);
  }
  console.log('${kind} ok');
})().catch((error) => {
  console.error(error);
  process.exit(1);
});
`;

const openTelemetryConsumer = (name, kind) => `
${kind === 'esm' ? `import { createRefreshingProvider } from '@sluice/core';\nimport { createOpenTelemetryReporter, traceMint, REFRESH_SPAN_NAME } from '${name}';` : `const { createRefreshingProvider } = require('@sluice/core');\nconst { createOpenTelemetryReporter, traceMint, REFRESH_SPAN_NAME } = require('${name}');`}
(async () => {
  const telemetry = createOpenTelemetryReporter();
  const provider = await createRefreshingProvider({
    name: 'packed-${kind}',
    mint: traceMint(async () => ({ value: 'token' }), { name: 'packed-${kind}', reporter: telemetry }),
    reporter: telemetry,
  });
  telemetry.observe(provider);
  const value = await provider.get();
  provider.close();
  telemetry.shutdown();
  if (value !== 'token' || REFRESH_SPAN_NAME !== 'sluice.refresh') throw new Error('${kind}: got ' + value);
  console.log('${kind} ok');
})().catch((error) => {
  console.error(error);
  process.exit(1);
});
`;

// The fleet coordinator with a real ioredis client and no Redis behind it: the wrapped mint
// must fall back to the local policy (and report it), and close() must leave nothing open.
const redisConsumer = (name, kind) => `
${kind === 'esm' ? `import { createRefreshingProvider } from '@sluice/core';\nimport { createRedisCoordinator } from '${name}';\nimport { Redis } from 'ioredis';` : `const { createRefreshingProvider } = require('@sluice/core');\nconst { createRedisCoordinator } = require('${name}');\nconst { Redis } = require('ioredis');`}
(async () => {
  const redis = new Redis({ port: 1, host: '127.0.0.1', lazyConnect: true, retryStrategy: () => null });
  redis.on('error', () => {});
  const fallbacks = [];
  const fleet = createRedisCoordinator({
    redis,
    connectTimeoutMs: 200,
    reporter: { onFallback: (event) => fallbacks.push(event.reason) },
  });
  const provider = await createRefreshingProvider({
    name: 'packed-${kind}',
    mint: fleet.wrap('packed-${kind}', () => ({ value: 'token', expiresAt: Date.now() + 60_000 })),
  });
  const value = await provider.get();
  provider.close();
  await fleet.close();
  redis.disconnect();
  if (value !== 'token' || fallbacks[0] !== 'store-unavailable') {
    throw new Error('${kind}: got ' + value + ' with fallbacks ' + JSON.stringify(fallbacks));
  }
  if (fleet.snapshot().timers !== 0) throw new Error('${kind}: timers left after close()');
  console.log('${kind} ok');
})().catch((error) => {
  console.error(error);
  process.exit(1);
});
`;

// @sluice/effect is ESM only (like effect 4), so it has no CJS consumer.
const effectConsumer = (name) => `
import { makeCredentialProvider, MintFailed } from '${name}';
import { Effect } from 'effect';
const value = await Effect.runPromise(
  Effect.scoped(
    Effect.gen(function* () {
      const tokens = yield* makeCredentialProvider({
        name: 'packed-effect',
        mint: () => Effect.succeed({ value: 'effect-token', expiresAt: Date.now() + 60_000 }),
      });
      return yield* tokens.get;
    }),
  ),
);
if (value !== 'effect-token') throw new Error('Effect consumer got ' + JSON.stringify(value));
if (typeof MintFailed !== 'function') throw new Error('MintFailed missing from the entry');
console.log('esm ok');
`;

// @sluice/oauth against a loopback token endpoint and resource server, from ESM or CJS.
const oauthConsumerBody = (kind) => `
const requests = [];
let issued = 0;
const server = http.createServer((req, res) => {
  let body = '';
  req.on('data', (chunk) => { body += chunk; });
  req.on('end', () => {
    if (req.url === '/token') {
      const expected = 'Basic ' + Buffer.from('packedclient:packedsecret').toString('base64');
      if (req.headers.authorization !== expected) {
        res.writeHead(401, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: 'invalid_client' }));
        return;
      }
      issued += 1;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ access_token: 'token-' + issued, token_type: 'Bearer', expires_in: 300 }));
      return;
    }
    requests.push(req.headers.authorization);
    if (req.headers.authorization === 'Bearer token-1') {
      res.writeHead(401, { 'www-authenticate': 'Bearer error="invalid_token"' });
      res.end();
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('resource for ' + req.headers.authorization);
  });
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const base = 'http://127.0.0.1:' + server.address().port;
const options = (clientSecret) => ({
  authorizationServer: { issuer: base, token_endpoint: base + '/token' },
  clientId: 'packedclient',
  clientAuth: { method: 'client_secret_basic', clientSecret },
  allowInsecureRequests: true,
});
try {
  const tokens = await core.createRefreshingProvider({ mint: oauth.clientCredentialsMint(options('packedsecret')) });
  const api = oauth.createAuthFetch(tokens, { allowInsecureRequests: true });
  const response = await api(base + '/resource');
  const text = await response.text();
  tokens.close();
  if (response.status !== 200 || text !== 'resource for Bearer token-2' || requests.length !== 2) {
    throw new Error('${kind} createAuthFetch got ' + response.status + ' ' + JSON.stringify(text) + ' after ' + requests.length + ' request(s)');
  }
  let error;
  try {
    await oauth.clientCredentialsMint(options('wrong'))({ signal: AbortSignal.timeout(5000), reason: 'initial' });
  } catch (caught) {
    error = caught;
  }
  if (!(error instanceof core.SluiceError) || !oauth.isOAuthError(error, 'SLUICE_OAUTH_TOKEN_ENDPOINT') || error.status !== 401) {
    throw new Error('${kind}: a refused mint should be a TokenEndpointError of the same core: ' + error);
  }
  if (JSON.stringify(tokens).includes('token-')) throw new Error('${kind}: a snapshot shows a token');
} finally {
  server.close();
}
console.log('${kind} ok');
`;

const oauthConsumer = (name, kind) =>
  kind === 'esm'
    ? `
import http from 'node:http';
import * as core from '@sluice/core';
import * as oauth from '${name}';
${oauthConsumerBody('esm')}`
    : `
const http = require('node:http');
const core = require('@sluice/core');
const oauth = require('${name}');
(async () => {
${oauthConsumerBody('cjs')}
})().catch((error) => {
  console.error(error);
  process.exit(1);
});
`;

// @sluice/aws: the credentials value a client would call, from any AWS credential provider
// (a plain async function here: the package has no runtime dependency on the SDK).
const awsConsumer = (name, kind) => `
${kind === 'esm' ? `import { awsCredentials, awsCredentialCodec } from '${name}';` : `const { awsCredentials, awsCredentialCodec } = require('${name}');`}
(async () => {
  let calls = 0;
  const expires = Date.now() + 3_600_000;
  const credentials = awsCredentials(async () => {
    calls += 1;
    return { accessKeyId: 'AKID' + calls, secretAccessKey: 'secret', expiration: new Date(expires) };
  });
  const [a, b] = await Promise.all([credentials(), credentials()]);
  const forced = await credentials({ forceRefresh: true });
  credentials.provider.close();
  const back = awsCredentialCodec.decode(awsCredentialCodec.encode(a));
  if (credentials.memoized !== true || calls !== 2 || a.accessKeyId !== 'AKID1' || b.accessKeyId !== 'AKID1' || forced.accessKeyId !== 'AKID2') {
    throw new Error('${kind}: got ' + JSON.stringify({ calls, a: a.accessKeyId, forced: forced.accessKeyId }));
  }
  if (!(a.expiration instanceof Date) || a.expiration.getTime() !== expires - 60_000 || !(back.expiration instanceof Date)) {
    throw new Error('${kind}: expiration ' + a.expiration);
  }
  console.log('${kind} ok');
})().catch((error) => {
  console.error(error);
  process.exit(1);
});
`;

// @sluice/google: the refresh handler over an AuthClient-shaped source (no SDK at run time).
const googleConsumer = (name, kind) => `
${kind === 'esm' ? `import { googleTokens } from '${name}';` : `const { googleTokens } = require('${name}');`}
(async () => {
  let calls = 0;
  const source = {
    eagerRefreshThresholdMillis: 0,
    credentials: {},
    async getAccessToken() {
      calls += 1;
      source.credentials = { access_token: 'ya29.' + calls, expiry_date: Date.now() + 3_600_000 };
      return { token: source.credentials.access_token };
    },
  };
  const tokens = googleTokens(source);
  const client = tokens.attach({ credentials: {}, eagerRefreshThresholdMillis: 300_000 });
  const [a, b] = await Promise.all([client.refreshHandler(), tokens.refreshHandler()]);
  tokens.provider.close();
  if (calls !== 1 || a.access_token !== 'ya29.1' || b.access_token !== 'ya29.1' || client.eagerRefreshThresholdMillis !== 0 || !(a.expiry_date > Date.now())) {
    throw new Error('${kind}: got ' + JSON.stringify({ calls, a, b }));
  }
  console.log('${kind} ok');
})().catch((error) => {
  console.error(error);
  process.exit(1);
});
`;

// @sluice/azure over a scripted TokenCredential (no Azure SDK at runtime): one inner call for
// two callers, and a null token a SluiceError of the same core.
const azureConsumer = (name, kind) => `
${kind === 'esm' ? `import * as core from '@sluice/core';\nimport * as azure from '${name}';` : `const core = require('@sluice/core');\nconst azure = require('${name}');`}
(async () => {
  let calls = 0;
  const credential = azure.refreshingTokenCredential({
    async getToken() {
      calls += 1;
      return { token: 'packed-token', expiresOnTimestamp: Date.now() + 3_600_000 };
    },
  });
  const [a, b] = await Promise.all([credential.getToken('s'), credential.getToken(['s', 's'])]);
  if (a.token !== 'packed-token' || b.token !== a.token || calls !== 1) throw new Error('${kind}: one call, one token');
  if (azure.accessTokenCodec.decode(azure.accessTokenCodec.encode(a)).token !== a.token) throw new Error('${kind}: codec');
  credential.close();
  const nulls = azure.refreshingTokenCredential({ getToken: async () => null });
  const error = await nulls.getToken('s').catch((caught) => caught);
  if (!(error instanceof core.SluiceError) || !core.isSluiceError(error, 'SLUICE_AZURE_NULL_TOKEN')) throw new Error('${kind}: null token error: ' + error);
  nulls.close();
  console.log('${kind} ok');
})().catch((error) => {
  console.error(error);
  process.exit(1);
});
`;

/** Consumers that use an adapter for real, by package name (others get the generic probe). */
const adapterConsumers = {
  '@sluice/prometheus': prometheusConsumer,
  '@sluice/opentelemetry': openTelemetryConsumer,
  '@sluice/redis': redisConsumer,
  '@sluice/effect': effectConsumer,
  '@sluice/oauth': oauthConsumer,
  '@sluice/aws': awsConsumer,
  '@sluice/google': googleConsumer,
  '@sluice/azure': azureConsumer,
};

// Both resolvers must refuse the deep import: the exports map blocks `./internal/*`.
const deepImportProbe = (name) => `
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
const results = [];
for (const specifier of ['${name}/internal/timers', '${name}/internal/timers.js', '${name}/dist/index.js']) {
  let esm = 'resolved';
  try { import.meta.resolve(specifier); } catch (error) { esm = error.code ?? 'error'; }
  let cjs = 'resolved';
  try { require.resolve(specifier); } catch (error) { cjs = error.code ?? 'error'; }
  results.push({ specifier, esm, cjs });
}
console.log(JSON.stringify(results));
`;

/** Whether the package in `dir` ships no CommonJS entry (no `require` in its exports map). */
function isEsmOnly(dir) {
  const { exports } = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  const root = exports?.['.'];
  return typeof root === 'object' && root !== null && !('require' in root);
}

/**
 * Packs one package and checks the tarball's contents.
 * @returns {{ name: string, tarballPath: string } | undefined}
 */
function packPackage(dir, packDir) {
  const { name } = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  console.log(`\n${name} (${dir.slice(repoRoot.length + 1)}): pack`);
  if (!existsSync(join(dir, 'dist'))) {
    check(false, `${name}: dist/ exists`, 'run `pnpm build` first');
    return undefined;
  }
  const before = new Set(existsSync(packDir) ? readdirSync(packDir) : []);
  const packed = attempt('pnpm', ['pack', '--pack-destination', packDir], dir);
  check(packed.ok, `${name}: pnpm pack`, packed.ok ? '' : packed.output);
  if (!packed.ok) return undefined;
  const tarball = readdirSync(packDir).find((file) => file.endsWith('.tgz') && !before.has(file));
  check(tarball !== undefined, `${name}: tarball written`);
  if (tarball === undefined) return undefined;
  const tarballPath = join(packDir, tarball);

  const files = listTarball(tarballPath);
  console.log(`  ${tarball}: ${files.length} files: ${files.join(', ')}`);
  check(files.includes('package.json'), `${name}: tarball has package.json`);
  const sources = files.filter(
    (file) => /^src\//.test(file) || /\.[cm]?tsx?$/.test(file.replace(/\.d\.[cm]?ts$/, '')),
  );
  check(
    sources.length === 0,
    `${name}: tarball has no src/ or TypeScript sources`,
    sources.join(', '),
  );
  const tests = files.filter(
    (file) =>
      /(^|\/)(test|tests|__tests__)\//.test(file) || /\.(test|spec)\.[cm]?[jt]sx?$/.test(file),
  );
  check(tests.length === 0, `${name}: tarball has no test files`, tests.join(', '));
  const stray = files.filter((file) => /(^|\/)(tsconfig[^/]*\.json|tsup\.config\.ts)$/.test(file));
  check(stray.length === 0, `${name}: tarball has no build config`, stray.join(', '));
  if (existsSync(join(dir, 'README.md'))) {
    check(files.includes('README.md'), `${name}: tarball has README.md`);
  }
  const esmOnly = isEsmOnly(dir);
  const entries = esmOnly
    ? ['dist/index.js', 'dist/index.d.ts']
    : ['dist/index.js', 'dist/index.cjs', 'dist/index.d.ts', 'dist/index.d.cts'];
  for (const entry of entries) check(files.includes(entry), `${name}: tarball has ${entry}`);
  if (esmOnly) {
    console.log(
      `  skip  ${name}: dist/index.cjs, dist/index.d.cts: ESM only (no \`require\` export)`,
    );
    const cjs = files.filter((file) => /\.c[jt]s$/.test(file));
    check(cjs.length === 0, `${name}: ESM-only tarball has no CommonJS files`, cjs.join(', '));
  }
  return { name, tarballPath, esmOnly };
}

/**
 * The peer dependencies of the packed packages, at the exact versions their own tests run
 * against (their devDependencies), so a consumer gets what users install beside them.
 */
function peerInstalls(dirs) {
  const peers = new Map();
  for (const dir of dirs) {
    const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    for (const peer of Object.keys(manifest.peerDependencies ?? {})) {
      const version = manifest.devDependencies?.[peer];
      peers.set(peer, version === undefined ? peer : `${peer}@${version}`);
    }
  }
  return [...peers.values()].sort();
}

/** Installs every tarball together (adapters need the packed core, not the registry's). */
function installTarballs(project, tarballPaths, peers) {
  run('npm', ['init', '-y'], project);
  const flags = ['--no-audit', '--no-fund', '--no-package-lock', '--loglevel=error'];
  // Offline first: @sluice/core has no dependencies, and adapter peers may be in npm's cache.
  let installed = attempt(
    'npm',
    ['install', ...flags, '--offline', ...tarballPaths, ...peers],
    project,
  );
  if (!installed.ok) {
    console.log('  (offline install failed, retrying online)');
    installed = attempt('npm', ['install', ...flags, ...tarballPaths, ...peers], project);
  }
  check(
    installed.ok,
    `npm install ${tarballPaths.length} tarball(s) into a scratch project`,
    installed.ok ? '' : installed.output,
  );
  return installed.ok;
}

/** Runs the consumer scripts of one installed package. */
function checkConsumer(project, name, esmOnly) {
  console.log(`\n${name}: consume`);
  const slug = name.replace(/[^a-z0-9]+/gi, '-').replace(/^-+/, '');
  const adapterConsumer = adapterConsumers[name];
  if (name === '@sluice/core') {
    writeFileSync(join(project, `${slug}.mjs`), esmConsumer(name));
    writeFileSync(join(project, `${slug}.cjs`), cjsConsumer(name));
  } else if (adapterConsumer !== undefined) {
    writeFileSync(join(project, `${slug}.mjs`), adapterConsumer(name, 'esm'));
    writeFileSync(join(project, `${slug}.cjs`), adapterConsumer(name, 'cjs'));
  } else {
    // Adapters: both entry points load and export something.
    const probe = (load, kind) =>
      `${load}\nif (Object.keys(mod).length === 0) throw new Error('no exports');\nconsole.log('${kind} ok');\n`;
    writeFileSync(join(project, `${slug}.mjs`), probe(`import * as mod from '${name}';`, 'esm'));
    writeFileSync(join(project, `${slug}.cjs`), probe(`const mod = require('${name}');`, 'cjs'));
  }
  writeFileSync(join(project, `${slug}-deep.mjs`), deepImportProbe(name));

  const used =
    name === '@sluice/core' || adapterConsumer !== undefined ? ' + a provider using it' : '';
  const esm = attempt(process.execPath, [`./${slug}.mjs`], project);
  check(esm.ok && esm.output.includes('esm ok'), `${name}: ESM import${used} works`, esm.output);
  if (esmOnly) {
    console.log(`  skip  ${name}: CJS require: ESM only (no \`require\` export)`);
  } else {
    const cjs = attempt(process.execPath, [`./${slug}.cjs`], project);
    check(cjs.ok && cjs.output.includes('cjs ok'), `${name}: CJS require${used} works`, cjs.output);
  }

  const deep = attempt(process.execPath, [`./${slug}-deep.mjs`], project);
  if (!deep.ok) {
    check(false, `${name}: deep-import probe ran`, deep.output);
    return;
  }
  for (const { specifier, esm: esmCode, cjs: cjsCode } of JSON.parse(deep.output)) {
    check(
      esmCode !== 'resolved' && cjsCode !== 'resolved',
      `${specifier} is not resolvable`,
      `import: ${esmCode}, require: ${cjsCode}`,
    );
  }
}

/**
 * Compiles a CommonJS (.cts) and an ES module (.mts) TypeScript consumer of every installed
 * package with the repository's TypeScript, `module: node16` and full library checking: a
 * declaration file that `import`s an ESM-only package from its CJS types fails here.
 */
/** Compiles every package's types for ES module consumers, and `cjsNames`' for CommonJS ones. */
function checkTypes(project, names, cjsNames) {
  console.log('\ntypes');
  const tsc = join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc');
  if (!existsSync(tsc)) {
    check(false, 'TypeScript found for the types check', tsc);
    return;
  }
  const importsOf = (list) =>
    list
      .map(
        (name, i) => `import * as p${i} from '${name}';\nexport const k${i} = Object.keys(p${i});`,
      )
      .join('\n');
  // An ESM-only package cannot be required, so a CommonJS consumer leaves it out.
  writeFileSync(join(project, 'types-consumer.cts'), `${importsOf(cjsNames)}\n`);
  writeFileSync(join(project, 'types-consumer.mts'), `${importsOf(names)}\n`);
  const args = [
    tsc,
    '--module',
    'node16',
    '--moduleResolution',
    'node16',
    '--target',
    'es2022',
    '--lib',
    'es2022,dom,esnext.disposable',
    '--types',
    'node',
    '--typeRoots',
    join(repoRoot, 'node_modules', '@types'),
    '--strict',
    '--noEmit',
    '--skipLibCheck',
    'false',
  ];
  for (const file of ['types-consumer.cts', 'types-consumer.mts']) {
    const compiled = attempt(process.execPath, [...args, file], project);
    check(
      compiled.ok,
      `types of ${file.endsWith('.cts') ? cjsNames.length : names.length} package(s) compile for a ${file.endsWith('.cts') ? 'CommonJS' : 'ES module'} consumer (node16)`,
      compiled.output,
    );
  }
}

const publishable = readdirSync(packagesDir, { withFileTypes: true })
  .filter(
    (entry) => entry.isDirectory() && existsSync(join(packagesDir, entry.name, 'package.json')),
  )
  .map((entry) => join(packagesDir, entry.name))
  .filter((dir) => JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).private !== true)
  .sort();

if (publishable.length === 0) {
  console.error('check-packed: no publishable packages found under packages/');
  process.exit(1);
}
const work = mkdtempSync(join(tmpdir(), 'sluice-packed-'));
try {
  const packDir = join(work, 'pack');
  const packed = publishable.map((dir) => packPackage(dir, packDir));
  const ready = packed.filter((entry) => entry !== undefined);
  if (ready.length > 0) {
    const project = join(work, 'consumer');
    mkdirSync(project);
    console.log('\ninstall');
    const peers = peerInstalls(publishable);
    if (peers.length > 0) console.log(`  peers: ${peers.join(', ')}`);
    if (
      installTarballs(
        project,
        ready.map((entry) => entry.tarballPath),
        peers,
      )
    ) {
      for (const { name, esmOnly } of ready) checkConsumer(project, name, esmOnly);
      checkTypes(
        project,
        ready.map((entry) => entry.name),
        ready.filter((entry) => !entry.esmOnly).map((entry) => entry.name),
      );
    }
  }
} finally {
  if (keepTemp) console.log(`\nkept ${work}`);
  else rmSync(work, { recursive: true, force: true });
}

console.log(
  failures.length === 0
    ? `\ncheck-packed: OK (${publishable.length} package(s), ${checks} checks)`
    : `\ncheck-packed: FAILED ${failures.length} of ${checks} checks:\n${failures.map((f) => `  - ${f}`).join('\n')}`,
);
process.exit(failures.length === 0 ? 0 : 1);
