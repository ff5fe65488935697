/**
 * docs/observability.md and its files stay true: the alert rules parse (`promtool check
 * rules`) and fire when they should (`promtool test rules`), the Grafana dashboard parses and
 * queries only metrics that exist with valid PromQL, and the doc names every metric and
 * attribute the packages export.
 *
 * The promtool parts are skipped without promtool (with the install hint), except under
 * `CI=true`, where they fail.
 */

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { OTEL_ATTRIBUTES, OTEL_METRIC_NAMES, REFRESH_SPAN_NAME } from '@sluice/opentelemetry';
import { PROMETHEUS_METRIC_NAMES } from '@sluice/prometheus';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  checkRules,
  findPromtool,
  PROMTOOL_INSTALL_HINT,
  PROMTOOL_REQUIRED,
  runPromtool,
} from './support/promtool.js';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const read = (path: string) => readFileSync(join(repoRoot, path), 'utf8').replaceAll('\r\n', '\n');
const doc = read('docs/observability.md');
const alertsPath = 'docs/observability/sluice-alerts.yml';
const alerts = read(alertsPath);
const dashboard = JSON.parse(read('docs/observability/grafana-dashboard.json')) as {
  title: string;
  panels: Array<{ title: string; targets?: Array<{ expr: string }> }>;
  templating: { list: Array<{ name: string; definition?: string }> };
};

const HISTOGRAMS = new Set<string>([
  PROMETHEUS_METRIC_NAMES.duration,
  PROMETHEUS_METRIC_NAMES.waiters,
]);
/** Every series name the Prometheus package exposes, histogram series included. */
const exposed = new Set<string>(
  Object.values(PROMETHEUS_METRIC_NAMES).flatMap((name) =>
    HISTOGRAMS.has(name) ? [name, `${name}_bucket`, `${name}_sum`, `${name}_count`] : [name],
  ),
);
/** The `sluice_*` metric names a PromQL text refers to. */
const metricsIn = (promql: string) => [...promql.matchAll(/\bsluice_[a-z_]+\b/g)].map((m) => m[0]);

const promtool = findPromtool();
const runPromtoolSuites = promtool !== undefined || PROMTOOL_REQUIRED;
if (!runPromtoolSuites) console.warn(`skipped: ${PROMTOOL_INSTALL_HINT}`);

describe('the alert rules', () => {
  it('are quoted in docs/observability.md exactly as in their file', () => {
    expect(doc).toContain(`\`\`\`yaml\n${alerts}\`\`\``);
  });

  it('query only metrics @sluice/prometheus exports', () => {
    const used = metricsIn(alerts);
    expect(used.length).toBeGreaterThan(4);
    expect(used.filter((name) => !exposed.has(name))).toEqual([]);
  });

  it('cover expiry within 5 minutes, a breaker open for 5 minutes and the failure ratio', () => {
    expect(alerts).toMatch(/alert: SluiceCredentialExpiringSoon\n\s+expr: .*< 5 \* 60\n/);
    expect(alerts).toMatch(/alert: SluiceBreakerOpen\n\s+expr: .*state="open".*\n\s+for: 5m\n/);
    expect(alerts).toMatch(/alert: SluiceRefreshFailureRatioHigh\n/);
  });
});

describe.skipIf(!runPromtoolSuites)('the alert rules under promtool', () => {
  let dir: string;
  beforeAll(() => {
    if (promtool === undefined)
      throw new Error(`${PROMTOOL_INSTALL_HINT} (CI=true: this suite must run)`);
    dir = mkdtempSync(join(tmpdir(), 'sluice-rules-'));
  });
  afterAll(() => {
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  /** Runs the alert cases against `rules` (the shipped file by default). */
  const testRules = async (rules: string = alerts) => {
    const rulesFile = join(dir, `rules-${Math.random().toString(36).slice(2)}.yml`);
    writeFileSync(rulesFile, rules);
    const casesFile = `${rulesFile}.cases.yml`;
    writeFileSync(
      casesFile,
      read('test/observability/alert-cases.yml').replace('RULES_FILE', rulesFile),
    );
    return runPromtool(['test', 'rules', casesFile]);
  };

  it('pass promtool check rules', async () => {
    const result = await checkRules(join(repoRoot, alertsPath));
    expect(result.output).toContain('SUCCESS: 4 rules found');
    expect(result.code).toBe(0);
  });

  it('fire, and stay quiet, at the minutes the cases expect', async () => {
    const result = await testRules();
    expect(result.output).toContain('SUCCESS');
    expect(result.code).toBe(0);
  });

  it.each([
    ['a 1-minute expiry threshold', 'time() < 5 * 60', 'time() < 60'],
    [
      'a breaker alert without its 5 minutes',
      'for: 5m\n        labels:\n          severity: warning\n        annotations:\n          summary: "Mint',
      'for: 1m\n        labels:\n          severity: warning\n        annotations:\n          summary: "Mint',
    ],
    ['a failure ratio alert without the minimum count', '>= 3', '>= 0'],
  ])('would catch %s (the cases can fail)', async (_label, from, to) => {
    expect(alerts).toContain(from);
    const result = await testRules(alerts.replace(from, to));
    expect(result.code).not.toBe(0);
    expect(result.output).toMatch(/FAILED/);
  });
});

describe('the Grafana dashboard', () => {
  const targets = dashboard.panels.flatMap((panel) =>
    (panel.targets ?? []).map((target) => ({ panel: panel.title, expr: target.expr })),
  );

  it('parses, has panels with queries and a provider selector', () => {
    expect(dashboard.title).toBe('Sluice credentials');
    expect(dashboard.panels.length).toBeGreaterThanOrEqual(6);
    for (const panel of dashboard.panels)
      expect(panel.targets?.length, panel.title).toBeGreaterThan(0);
    expect(dashboard.templating.list.map((v) => v.name)).toEqual(['datasource', 'name']);
  });

  it('queries only metrics @sluice/prometheus exports, and shows most of them', () => {
    const used = new Set(targets.flatMap((t) => metricsIn(t.expr)));
    const variable = dashboard.templating.list.find((v) => v.name === 'name')?.definition ?? '';
    for (const name of metricsIn(variable)) used.add(name);
    expect([...used].filter((name) => !exposed.has(name))).toEqual([]);
    const base = new Set([...used].map((name) => name.replace(/_(bucket|sum|count)$/, '')));
    expect(Object.values(PROMETHEUS_METRIC_NAMES).filter((name) => !base.has(name))).toEqual([]);
  });

  it.skipIf(!runPromtoolSuites)('has only valid PromQL (promtool parses each query)', async () => {
    if (promtool === undefined)
      throw new Error(`${PROMTOOL_INSTALL_HINT} (CI=true: this must run)`);
    // Grafana's variables become what Grafana substitutes, then each query a recording rule.
    const rules = targets.map((t, i) => {
      const expr = t.expr.replaceAll('$__rate_interval', '5m').replaceAll('$name', '.+');
      return `      - record: sluice:dashboard:${i}\n        expr: ${JSON.stringify(expr)}\n`;
    });
    const dir = mkdtempSync(join(tmpdir(), 'sluice-dashboard-'));
    try {
      const file = join(dir, 'dashboard-queries.yml');
      writeFileSync(file, `groups:\n  - name: dashboard\n    rules:\n${rules.join('')}`);
      const result = await checkRules(file);
      expect(result.output).toContain(`SUCCESS: ${targets.length} rules found`);
      writeFileSync(
        file,
        `groups:\n  - name: dashboard\n    rules:\n      - record: x\n        expr: "sum(rate(sluice_refreshes_total[5m])"\n`,
      );
      expect((await checkRules(file)).code).not.toBe(0); // the parser rejects a broken query
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('docs/observability.md', () => {
  it('names every metric, attribute and the span the packages emit', () => {
    const names = [
      ...Object.values(PROMETHEUS_METRIC_NAMES),
      ...Object.values(OTEL_METRIC_NAMES),
      ...Object.values(OTEL_ATTRIBUTES),
      REFRESH_SPAN_NAME,
    ];
    expect(names.filter((name) => !doc.includes(`\`${name}\``))).toEqual([]);
  });

  it('documents no Prometheus metric in its table that does not exist', () => {
    const rows = [...doc.matchAll(/^\| `(sluice_[a-z_]+)` \|/gm)].map((m) => m[1] as string);
    expect(rows.sort()).toEqual(Object.values(PROMETHEUS_METRIC_NAMES).sort());
  });

  it('documents no OpenTelemetry instrument or attribute in its tables that does not exist', () => {
    const rows = [...doc.matchAll(/^\| `((?:sluice|error)\.[a-z_.]+)` \|/gm)].map(
      (m) => m[1] as string,
    );
    const known = new Set<string>([
      ...Object.values(OTEL_METRIC_NAMES),
      ...Object.values(OTEL_ATTRIBUTES),
    ]);
    expect(rows.filter((name) => !known.has(name))).toEqual([]);
    expect(rows.length).toBe(known.size);
  });
});
