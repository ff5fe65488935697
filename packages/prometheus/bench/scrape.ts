/**
 * `pnpm bench:prometheus`: one scrape of a keyed provider with 100,000 keys, `includeKey`
 * on, every key minted once (a success, its duration and waiters, its last success). Prints
 * the median wall and CPU time of `registry.metrics()` over a few scrapes (on a shared
 * machine the CPU time is the steadier figure), the series count, the series
 * per key and the exposition's size. Keys set with `SLUICE_BENCH_KEYS`.
 *
 * Machine-dependent: the figure to compare is the one in docs/observability.md, measured
 * on the same machine.
 */

import { createKeyedProvider } from '@sluice/core';
import { Registry } from 'prom-client';
import { createPrometheusReporter } from '../src/index.js';

const KEYS = Number(process.env.SLUICE_BENCH_KEYS ?? 100_000);
const SCRAPES = 5;

const registry = new Registry();
const metrics = createPrometheusReporter({ registry, includeKey: true });
const keyed = createKeyedProvider<string, string>({
  name: 'tenants',
  maxKeys: KEYS,
  mint: (key) => ({ value: key, expiresAt: Date.now() + 3_600_000 }),
  reporter: metrics,
});
metrics.observe(keyed);
for (let i = 0; i < KEYS; i += 1) await keyed.get(`tenant-${i}`);

const times: number[] = [];
const cpuTimes: number[] = [];
let text = '';
for (let i = 0; i < SCRAPES; i += 1) {
  const started = performance.now();
  const cpu = process.cpuUsage();
  text = await registry.metrics();
  const used = process.cpuUsage(cpu);
  times.push(performance.now() - started);
  cpuTimes.push((used.user + used.system) / 1000);
}
times.sort((a, b) => a - b);
cpuTimes.sort((a, b) => a - b);
const samples = text.split('\n').filter((line) => line !== '' && !line.startsWith('#'));
const keyedSamples = samples.filter((line) => line.includes('key="tenant-')).length;
console.log(
  JSON.stringify(
    {
      keys: KEYS,
      scrapeMsMedian: Math.round(times[Math.floor(times.length / 2)] as number),
      scrapeMsMax: Math.round(times.at(-1) as number),
      scrapeCpuMsMedian: Math.round(cpuTimes[Math.floor(cpuTimes.length / 2)] as number),
      samples: samples.length,
      seriesPerKey: keyedSamples / KEYS,
      expositionMiB: Number((Buffer.byteLength(text) / 2 ** 20).toFixed(1)),
      heapUsedMiB: Math.round(process.memoryUsage().heapUsed / 2 ** 20),
    },
    null,
    2,
  ),
);
keyed.close();
metrics.unregister();
