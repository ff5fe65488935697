/**
 * The error `@sluice/prometheus` raises itself.
 */

import { SluiceError } from '@sluice/core';

/**
 * A metric this package registers already exists in the registry: another reporter was
 * created for it (or another library uses the name). Create ONE reporter per registry and
 * pass it to every provider, or call `unregister()` on the old reporter first.
 * Code `SLUICE_PROMETHEUS_ALREADY_REGISTERED`.
 *
 * @example
 * ```ts
 * try {
 *   createPrometheusReporter({ registry });
 * } catch (error) {
 *   if (isSluiceError(error, 'SLUICE_PROMETHEUS_ALREADY_REGISTERED')) console.error(error.message);
 * }
 * ```
 */
export class MetricAlreadyRegisteredError extends SluiceError<'SLUICE_PROMETHEUS_ALREADY_REGISTERED'> {
  /** The metric name found in the registry. */
  readonly metric: string;

  constructor(metric: string) {
    super(
      'SLUICE_PROMETHEUS_ALREADY_REGISTERED',
      `the registry already has a metric named ${metric}: create one Sluice Prometheus reporter ` +
        'per registry and share it between providers (or call unregister() on the previous one)',
    );
    this.metric = metric;
  }
}
