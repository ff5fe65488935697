/**
 * Unknown option keys are refused by createPrometheusReporter (issue 17 §4), naming the key
 * and the nearest valid one, never its value.
 */

import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { expectUnknownOption } from '../../../test/support/unknown-option.js';
import { createPrometheusReporter } from '../src/index.js';

const SECRET = 'tok_9Qx2Lw7Rt4ZpVb3N';

describe('unknown option keys', () => {
  it('refuses an unknown option key, naming it and the nearest valid one, without its value (createPrometheusReporter)', async () => {
    const registry = new Registry();
    await expectUnknownOption(
      () => createPrometheusReporter({ registry, includeKeys: SECRET } as never),
      'includeKeys',
      'includeKey',
      SECRET,
    );
    await expectUnknownOption(
      () => createPrometheusReporter({ registry, prefix: SECRET } as never),
      'prefix',
      undefined,
      SECRET,
    );
    // Nothing was registered by the refused calls: a valid reporter still registers.
    const reporter = createPrometheusReporter({ registry, includeKey: true, now: () => 1 });
    expect(registry.getMetricsAsArray().length).toBeGreaterThan(0);
    reporter.unregister();
  });
});
