/**
 * `pnpm example:telemetry`: prints the Sluice metrics Prometheus would scrape during a token
 * endpoint outage, the OpenTelemetry view of the same provider, and the refresh spans.
 * Exits 1 when something the docs promise is missing.
 */

import { runTelemetryExample } from './telemetry.js';

const summary = await runTelemetryExample();
const pick = (text: string, pattern: RegExp) =>
  text.split('\n').filter((line) => pattern.test(line) && !line.startsWith('#'));

console.log('prom-client /metrics during the outage (selected series):');
for (const line of pick(
  summary.prometheus,
  /^sluice_(breaker_state|refresh_failures_total|refreshes_total|credential_expiration_timestamp_seconds|breaker_transitions_total)\b/,
)) {
  console.log(`  ${line}`);
}
console.log('\nOpenTelemetry (its Prometheus exporter), after recovery (selected series):');
for (const line of pick(
  summary.opentelemetry,
  /^sluice_(breaker_status|breaker_transitions_total)\b/,
)) {
  console.log(`  ${line.replace(/,?otel_scope_(name|version)="[^"]*"/g, '')}`);
}
console.log('\nspans:');
for (const span of summary.spans) {
  const attributes = Object.entries(span.attributes)
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(' ');
  console.log(`  ${span.name} (parent: ${span.parent ?? 'none'}) ${attributes}`);
}

const problems: string[] = [];
if (!/^sluice_breaker_state\{name="billing-api",state="open"\} 1$/m.test(summary.prometheus)) {
  problems.push('the breaker is not reported open during the outage');
}
if (
  !/^sluice_refresh_failures_total\{[^}]*error_type="HTTP_503"[^}]*\} 2$/m.test(summary.prometheus)
) {
  problems.push('the two HTTP 503 failures are not counted');
}
const refreshes = summary.spans.filter((s) => s.name === 'sluice.refresh');
if (!summary.spans.some((s) => s.name === 'POST /token' && s.parent === 'sluice.refresh')) {
  problems.push('no token endpoint span is a child of sluice.refresh');
}
if (!refreshes.some((s) => s.parent === 'POST /reports')) {
  problems.push('the forced refresh span is not a child of its caller');
}
if (problems.length > 0) {
  console.error(`\nFAILED:\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
console.log(
  `\nok: ${summary.tokenRequests} token requests, ${refreshes.length} sluice.refresh spans`,
);
