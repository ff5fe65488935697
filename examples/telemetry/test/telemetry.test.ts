/**
 * Runs the telemetry example end to end (a token endpoint on loopback, prom-client scraped
 * over HTTP, the OpenTelemetry SDK) and checks what it observed, and that
 * docs/observability.md quotes its code as it is.
 */

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runTelemetryExample } from '../src/telemetry.js';

describe('the telemetry example', () => {
  it('reports the outage to Prometheus and traces every refresh under its caller', async () => {
    const summary = await runTelemetryExample();
    expect(summary.prometheus).toMatch(
      /^sluice_breaker_state\{name="billing-api",state="open"\} 1$/m,
    );
    expect(summary.prometheus).toMatch(
      /^sluice_refresh_failures_total\{name="billing-api",reason="forced",error_type="HTTP_503"\} 2$/m,
    );
    expect(summary.opentelemetry).toMatch(
      /^sluice_breaker_status\{sluice_provider_name="billing-api",sluice_breaker_state="closed",[^}]*\} 1$/m,
    );
    const refreshes = summary.spans.filter((s) => s.name === 'sluice.refresh');
    expect(refreshes.map((s) => s.attributes['error.type'])).toEqual([
      undefined,
      'HTTP_503',
      'HTTP_503',
      undefined,
    ]);
    expect(summary.spans.filter((s) => s.name === 'POST /token').map((s) => s.parent)).toEqual(
      Array(4).fill('sluice.refresh'),
    );
    expect(refreshes.at(-1)?.parent).toBe('POST /reports');
    expect(summary.tokenRequests).toBe(4);
  });
});

const read = (relative: string): string =>
  readFileSync(new URL(relative, import.meta.url), 'utf8').replaceAll('\r\n', '\n');

function dedent(text: string): string {
  const lines = text.split('\n');
  const indents = lines.filter((l) => l.trim() !== '').map((l) => /^ */.exec(l)?.[0].length ?? 0);
  const cut = Math.min(...indents);
  return lines.map((l) => l.slice(cut)).join('\n');
}

describe('docs/observability.md', () => {
  const regions = new Map<string, string>();
  for (const m of read('../src/telemetry.ts').matchAll(
    /^[ \t]*\/\/ #region (\S+)\n([\s\S]*?)^[ \t]*\/\/ #endregion \1\n/gm,
  )) {
    regions.set(m[1] as string, dedent(m[2] as string));
  }
  const snippets = [
    ...read('../../../docs/observability.md').matchAll(/^```ts\n([\s\S]*?)^```$/gm),
  ].map((m) => m[1] as string);

  it('quotes every region of the example', () => {
    expect(regions.size).toBe(4);
    for (const [name, code] of regions) expect(snippets, `region ${name}`).toContain(code);
  });

  it('quotes no TypeScript that the example does not run', () => {
    const known = new Set(regions.values());
    // A placeholder for the reader's own code (a `declare`) is the one thing not quoted.
    const placeholder = (snippet: string) =>
      snippet.split('\n').every((line) => line.trim() === '' || line.startsWith('declare '));
    for (const snippet of snippets.filter((s) => !placeholder(s))) {
      expect(known, snippet).toContain(snippet);
    }
  });
});
