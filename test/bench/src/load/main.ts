/**
 * `pnpm bench:load` (full tier, about 1.5 minutes) and `pnpm bench:load:short` (a few
 * seconds per scenario, for CI): load scenarios with threshold contracts. Writes
 * bench-results/load.json and load.md at the repository root, prints the markdown, and
 * exits 1 when any threshold is broken.
 *
 * Flags: `--short` (the short tier), `--only=<id>[,<id>]` (token-storm, outage, handshake).
 */

import { describeEnvironment } from '../environment.js';
import { runHandshakeStorm } from './handshake-storm.js';
import { startOAuthServer } from './oauth.js';
import { runOutage } from './outage-recovery.js';
import { renderMarkdown, writeRun } from './report.js';
import type { ScenarioResult } from './scenario.js';
import { TIERS, type TierName } from './thresholds.js';
import { runTokenStorm } from './token-storm.js';

const args = process.argv.slice(2);
const tierName: TierName = args.includes('--short') ? 'short' : 'full';
const onlyArg = args.find((arg) => arg.startsWith('--only='));
const only = onlyArg === undefined ? undefined : new Set(onlyArg.slice(7).split(','));
const wanted = (id: string): boolean => only === undefined || only.has(id);
const tier = TIERS[tierName];

const started = performance.now();
const scenarios: ScenarioResult[] = [];
const skipped: { id: string; reason: string }[] = [];
const log = (line: string): void => {
  process.stderr.write(`[load ${tierName}] ${line}\n`);
};

if (wanted('token-storm') || wanted('outage')) {
  // One server per OAuth scenario, so counts and the outage switch never leak across them.
  if (wanted('token-storm')) {
    const server = await startOAuthServer({
      accessTokenTtlSeconds: tier.tokenStorm.tokenTtlSeconds,
    });
    try {
      log('token storm');
      scenarios.push(await runTokenStorm(server, tier.tokenStorm));
    } finally {
      await server.close();
    }
  }
  if (wanted('outage')) {
    const server = await startOAuthServer({ accessTokenTtlSeconds: tier.outage.tokenTtlSeconds });
    try {
      log('outage and recovery');
      scenarios.push(await runOutage(server, tier.outage));
    } finally {
      await server.close();
    }
  }
}
if (wanted('handshake')) {
  log('handshake storm');
  scenarios.push(await runHandshakeStorm(tier.handshake));
}

const pass = scenarios.every((scenario) => scenario.thresholds.every((t) => t.pass));
const run = {
  tier: tierName,
  command: tierName === 'short' ? 'pnpm bench:load:short' : 'pnpm bench:load',
  environment: describeEnvironment(),
  wallSeconds: (performance.now() - started) / 1000,
  pass,
  scenarios,
  skipped,
};
const written = writeRun(run, tierName === 'short' ? '-short' : '');
process.stdout.write(renderMarkdown(run));
log(`wrote ${written.json} and ${written.markdown}`);
for (const scenario of scenarios) {
  for (const t of scenario.thresholds) {
    if (!t.pass) log(`BROKEN: ${scenario.title}: ${t.metric}: ${t.measured} (contract ${t.limit})`);
  }
}
process.exitCode = pass ? 0 : 1;
