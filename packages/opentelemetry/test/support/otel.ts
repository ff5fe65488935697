/**
 * OpenTelemetry SDK pieces for the tests: a meter provider read by a timer-free reader, a
 * tracer provider exporting to memory, and the async-hooks context manager.
 */

import { context } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  AggregationTemporality,
  type DataPoint,
  type Histogram,
  MeterProvider,
  type MetricData,
  MetricReader,
} from '@opentelemetry/sdk-metrics';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';

/** A reader with no timer: it collects only when the test calls `collect()`. */
export class ManualReader extends MetricReader {
  constructor(temporality: AggregationTemporality = AggregationTemporality.CUMULATIVE) {
    super({ aggregationTemporalitySelector: () => temporality });
  }

  protected override onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
  protected override onShutdown(): Promise<void> {
    return Promise.resolve();
  }
}

/** A meter provider with a {@link ManualReader}, and helpers to read what it collected. */
export function createMetrics(
  temporality: AggregationTemporality = AggregationTemporality.CUMULATIVE,
) {
  const reader = new ManualReader(temporality);
  const meterProvider = new MeterProvider({ readers: [reader] });
  const collect = async (): Promise<MetricData[]> => {
    const { resourceMetrics, errors } = await reader.collect();
    if (errors.length > 0) throw new AggregateError(errors, 'metric collection failed');
    return resourceMetrics.scopeMetrics.flatMap((scope) => scope.metrics);
  };
  const points = async <V = number>(name: string): Promise<DataPoint<V>[]> => {
    const metric = (await collect()).find((m) => m.descriptor.name === name);
    return (metric?.dataPoints ?? []) as DataPoint<V>[];
  };
  return {
    reader,
    meterProvider,
    collect,
    points,
    histogram: (name: string) => points<Histogram>(name),
  };
}

/** A tracer provider that exports every ended span to memory, synchronously. */
export function createTracing() {
  const exporter = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  const spans = (name?: string): ReadableSpan[] =>
    exporter.getFinishedSpans().filter((span) => name === undefined || span.name === name);
  return { exporter, tracerProvider, spans };
}

/** Installs the AsyncLocalStorage context manager; returns its uninstaller. */
export function installContextManager(): () => void {
  const manager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(manager);
  return () => {
    manager.disable();
    context.disable();
  };
}

/** The parent span id of a span (sdk-trace-base 2.x: `parentSpanContext`). */
export function parentSpanId(span: ReadableSpan): string | undefined {
  return span.parentSpanContext?.spanId;
}
